# gzmem: `make demo` shows a live view of a real DPDK process, `make test` runs every test.
# Both run scripts/setup.sh first, which installs what is missing.

NODE_TEST = node --import tsx --test --test-concurrency=1 --test-reporter=spec

.PHONY: setup build native test unit integration demo bench clean

setup:
	@bash scripts/setup.sh

build:
	npx tsc -p tsconfig.json
	npm run --silent build:web

native:
	$(MAKE) -C native

test: setup
	npx tsc -p tsconfig.check.json
	$(NODE_TEST) test/unit/*.test.ts test/integration/*.test.ts test/e2e/*.test.ts

unit:
	$(NODE_TEST) test/unit/*.test.ts

integration:
	$(NODE_TEST) test/integration/*.test.ts test/e2e/*.test.ts

demo: setup
	@bash scripts/demo.sh

bench: setup
	node --import tsx bench/snapshot.ts

clean:
	rm -rf dist
	$(MAKE) -C native clean
