#!/usr/bin/env bash
# Every test: unit tests, the integration and browser tests on Debian's DPDK 22.11, then the
# integration tests once per other DPDK of the version matrix (each built by build-dpdk.sh, with
# testpmd, gzload and the preload of that version), then the aarch64 cross build under qemu-user.
# Prints one closing line that sums every run. A matrix tarball that is missing is a visible skip,
# and under CI=true a failure.
#   scripts/run-tests.sh                 everything
#   MATRIX="23.11.7" scripts/run-tests.sh   one other version only (MATRIX= for none; ARM= skips aarch64)
set -uo pipefail
cd "$(dirname "$0")/.."
matrix=${MATRIX-21.11.9 23.11.7 24.11.6}
# What each DPDK of the matrix runs: every test that reads a real process of that version.
per_version=(test/integration/{testpmd,gzload,attach,preload,lstack,orphans,layout}.test.ts)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0 failed=0 skipped=0 status=0

run() { # <label> <env...> -- <files...>
  local label=$1
  shift
  local env=()
  while [ "$1" != -- ]; do env+=("$1"); shift; done
  shift
  echo "=== $label"
  env "${env[@]}" node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # the spec reporter's summary: "ℹ pass N", "ℹ fail N", "ℹ skipped N"
  passed=$((passed + $(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -1)))
  failed=$((failed + $(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -1)))
  skipped=$((skipped + $(sed -n 's/^ℹ skipped \([0-9]*\)$/\1/p' "$log" | tail -1)))
}

skip_version() { # <why>
  if [ "${CI:-}" = true ]; then
    echo "run-tests: $1 (required under CI)" >&2
    status=1
    failed=$((failed + 1))
  else
    echo "run-tests: SKIPPED: $1"
    skipped=$((skipped + ${#per_version[@]}))
  fi
}

mapfile -t integration < <(ls test/integration/*.test.ts | grep -v '/aarch64\.test\.ts$')
run "unit, integration and browser tests on Debian's DPDK $(pkg-config --modversion libdpdk)" -- \
  test/unit/*.test.ts "${integration[@]}" test/e2e/*.test.ts

for v in $matrix; do
  prefix=$(scripts/build-dpdk.sh "$v")
  rc=$?
  if [ $rc -eq 3 ]; then skip_version "DPDK $v integration tests: no dpdk-$v.tar.xz in ${GZMEM_DPDK_SOURCES:-../shared/dpdk}"; continue; fi
  if [ $rc -ne 0 ]; then echo "run-tests: DPDK $v did not build" >&2; status=1; failed=$((failed + 1)); continue; fi
  if ! PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -C native BUILD="build/dpdk-$v"; then
    echo "run-tests: native/ does not build against DPDK $v" >&2; status=1; failed=$((failed + 1)); continue
  fi
  run "integration tests on DPDK $v" GZMEM_TEST_DPDK="$prefix" GZMEM_TEST_NATIVE="$PWD/native/build/dpdk-$v" -- "${per_version[@]}"
done

# aarch64 (openEuler on Kunpeng): DPDK and native/ cross-built, testpmd under qemu-user.
arm=${ARM-23.11.7}
if [ -n "$arm" ]; then
  prefix=$(scripts/build-dpdk.sh "$arm" aarch64)
  rc=$?
  if [ $rc -eq 3 ]; then skip_version "aarch64 test: no dpdk-$arm.tar.xz"
  elif [ $rc -ne 0 ]; then echo "run-tests: DPDK $arm for aarch64 did not build" >&2; status=1; failed=$((failed + 1))
  elif ! PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -C native CC=aarch64-linux-gnu-gcc BUILD="build/dpdk-$arm-aarch64"; then
    echo "run-tests: native/ does not cross-build for aarch64" >&2; status=1; failed=$((failed + 1))
  else
    run "aarch64 under qemu-user, DPDK $arm" GZMEM_TEST_ARM_DPDK="$prefix" GZMEM_TEST_ARM_NATIVE="$PWD/native/build/dpdk-$arm-aarch64" -- \
      test/integration/aarch64.test.ts
  fi
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
