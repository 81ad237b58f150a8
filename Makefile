# gzmem: `make demo` shows a live view of a real DPDK process, `make test` runs every test.
# Both run scripts/setup.sh first, which installs what is missing.

NODE_TEST = node --import tsx --test --test-concurrency=1 --test-reporter=spec

.PHONY: setup setup-tests build native test unit integration demo bench clean

setup:
	@bash scripts/setup.sh

setup-tests:
	@bash scripts/setup.sh tests

build:
	npm run --silent build

native:
	$(MAKE) -C native

# Unit tests, then integration tests on Debian's DPDK 22.11 and on each other DPDK of the matrix
# (built once into ~/.cache/gzmem/dpdk by scripts/build-dpdk.sh), then aarch64: see scripts/run-tests.sh.
test: setup-tests
	npx tsc -p tsconfig.check.json
	npx prettier --check --log-level warn "src/**/*.ts" "web/src/**/*.ts"
	npx knip --no-progress
	bash scripts/run-tests.sh

unit:
	$(NODE_TEST) test/unit/*.test.ts

integration:
	$(NODE_TEST) $(filter-out test/integration/aarch64.test.ts,$(wildcard test/integration/*.test.ts)) test/e2e/*.test.ts

demo: setup
	@bash scripts/demo.sh

# Every benchmark, one after the other; docs/benchmarks.md has the figures and how to read them.
bench: setup
	for b in snapshot profile startup transport overhead recorder peaks calls store dashboard; do node --import tsx bench/$$b.ts || exit 1; done

clean:
	rm -rf dist
	$(MAKE) -C native clean
