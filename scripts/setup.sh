#!/usr/bin/env bash
# Installs what gzmem needs on a Debian machine, idempotently: DPDK and a C toolchain from apt,
# node modules, 2 MiB hugepages (512) on a mounted hugetlbfs, the native build and the TypeScript build.
#   scripts/setup.sh          what gzmem and its demo need
#   scripts/setup.sh tests    also what the tests need: Prometheus, Chromium, and meson, pyelftools,
#                             an aarch64 cross compiler and qemu-user for the DPDK version matrix
# Under CI=true, hugepages that cannot be set up are a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dpdk-testpmd >/dev/null || need_apt+=(dpdk)
pkg-config --exists libdpdk 2>/dev/null || need_apt+=(dpdk-dev libdpdk-dev pkg-config)
command -v cc >/dev/null && command -v make >/dev/null || need_apt+=(build-essential)
command -v python3 >/dev/null || need_apt+=(python3)
if [ "${1:-}" = tests ]; then
  # Prometheus scrapes `gzmem serve`, Chromium drives the dashboard.
  command -v prometheus >/dev/null || need_apt+=(prometheus)
  command -v chromium >/dev/null || need_apt+=(chromium)
  # scripts/build-dpdk.sh builds the other DPDK releases (21.11 needs pyelftools), natively and for aarch64.
  command -v meson >/dev/null || need_apt+=(meson ninja-build)
  dpkg -s python3-pyelftools >/dev/null 2>&1 || need_apt+=(python3-pyelftools)
  command -v aarch64-linux-gnu-gcc >/dev/null || need_apt+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  command -v qemu-aarch64-static >/dev/null || need_apt+=(qemu-user-static)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

# Exactly the committed lock. Nothing is downloaded at install time beyond the registry's packages:
# koffi's binaries come in its per-platform npm packages, better-sqlite3 builds from source when
# no prebuilt binary can be fetched.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

want=${GZMEM_HUGEPAGES:-512}
have=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ]; then
  echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
fi
mkdir -p /dev/hugepages 2>/dev/null || true
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
  mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
fi
have=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
if [ "$have" -lt "$want" ] || ! grep -qs ' hugetlbfs ' /proc/mounts; then
  msg="setup: wanted $want hugepages of 2 MiB on a mounted hugetlbfs, have $have (run as root)"
  if [ "${CI:-}" = "true" ]; then echo "$msg" >&2; exit 1; fi
  echo "$msg; tests that need them will be skipped" >&2
fi

make -C native
npm run --silent build
