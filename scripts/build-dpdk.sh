#!/usr/bin/env bash
# Builds a minimal shared-library DPDK of one release into a cache outside the checkout, for the
# version matrix of the tests (testpmd, gzload and the preload of that version).
#   scripts/build-dpdk.sh 23.11.7            -> prints the install prefix on stdout
#   scripts/build-dpdk.sh 21.11.9 aarch64    -> a cross build (gcc-aarch64-linux-gnu)
# Sources: $GZMEM_DPDK_SOURCES (default ../shared/dpdk) holds dpdk-<version>.tar.xz.
# Cache:   $GZMEM_DPDK_CACHE (default ~/.cache/gzmem/dpdk); a finished build is reused as it is.
# Exit 3 when the tarball is missing, so callers can tell "no input" from "build failed".
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=${1:?usage: build-dpdk.sh <version> [x86_64|aarch64]}
arch=${2:-$(uname -m)}
sources=${GZMEM_DPDK_SOURCES:-$here/../shared/dpdk}
cache=${GZMEM_DPDK_CACHE:-$HOME/.cache/gzmem/dpdk}
tarball=$sources/dpdk-$version.tar.xz
work=$cache/$version-$arch
prefix=$work/install
# A change to how we build invalidates the cache: the stamp holds this script's hash.
stamp="$(sha256sum "$0" | cut -c1-16)"

if [ -f "$prefix/.gzmem-built" ] && [ "$(cat "$prefix/.gzmem-built")" = "$stamp" ]; then
  echo "$prefix"
  exit 0
fi
if [ ! -f "$tarball" ]; then
  echo "build-dpdk: no $tarball" >&2
  exit 3
fi

started=$(date +%s)
rm -rf "$work"
mkdir -p "$work"
tar -xJf "$tarball" -C "$work"
src=$work/dpdk-$version

# Only what the tests need: EAL, ring, mempool, mbuf, ethdev, telemetry (always built), the vdev
# and pci buses (testpmd of 21.11 links bus_pci), net/null, net/ring, mempool/ring, and testpmd.
# Shared libraries, so that a preload can interpose on rte_ring_init in testpmd too.
opts=(
  --prefix="$prefix" --libdir=lib
  -Ddefault_library=shared -Dplatform=generic -Dtests=false -Dexamples=
  -Denable_docs=false -Denable_kmods=false
  -Denable_drivers=bus/pci,bus/vdev,net/null,net/ring,mempool/ring
)
major=${version%%.*}
if [ "$major" -ge 23 ]; then
  opts+=(-Denable_apps=test-pmd -Denable_libs=ring,mempool,mbuf,ethdev,telemetry)
else
  # 21.11 and 22.11 have no enable_apps/enable_libs; drop the optional libraries we do not use.
  opts+=(-Ddisable_libs=bitratestats,gpudev,gro,gso,kni,jobstats,latencystats,pdump,power,vhost)
fi
case "$arch" in
  "$(uname -m)") ;;
  aarch64) opts+=(--cross-file "$src/config/arm/arm64_armv8_linux_gcc") ;;
  *) echo "build-dpdk: cannot build for $arch here" >&2; exit 2 ;;
esac

log=$work/build.log
echo "build-dpdk: building DPDK $version for $arch in $work (log: $log)" >&2
if ! (cd "$src" && meson setup "${opts[@]}" "$work/build" && ninja -C "$work/build" && meson install -C "$work/build" --quiet) >"$log" 2>&1; then
  tail -30 "$log" >&2
  echo "build-dpdk: DPDK $version ($arch) failed to build; see $log" >&2
  exit 1
fi
# The sources and objects are not needed once installed.
rm -rf "$src" "$work/build"
echo "$stamp" >"$prefix/.gzmem-built"
echo "build-dpdk: DPDK $version ($arch) built in $(( $(date +%s) - started )) s" >&2
echo "$prefix"
