#!/usr/bin/env bash
# Installs what gzmem needs on a Debian machine, idempotently: DPDK and a C toolchain from apt,
# node modules, 2 MiB hugepages (512) on a mounted hugetlbfs, the native build and the TypeScript build.
# Under CI=true, hugepages that cannot be set up are a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dpdk-testpmd >/dev/null || need_apt+=(dpdk)
pkg-config --exists libdpdk 2>/dev/null || need_apt+=(dpdk-dev libdpdk-dev pkg-config)
command -v cc >/dev/null && command -v make >/dev/null || need_apt+=(build-essential)
command -v python3 >/dev/null || need_apt+=(python3)
# For the tests: Prometheus scrapes `gzmem serve`, Chromium drives the dashboard.
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need_apt[@]}"
fi

# `npm install` with the committed lock installs the locked versions. Not `npm ci`: node-unix-socket
# lists prebuilt packages for platforms that were never published, which npm leaves out of the lock
# and `npm ci` then rejects as out of sync.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
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
npx tsc -p tsconfig.json
npm run --silent build:web
