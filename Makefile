# Two commands: `make start` runs cloud-pam locally, `make test` runs every test suite.
SHELL := /bin/bash
export CDK_DISABLE_CLI_TELEMETRY := true
# The project's own Node.js (devDependency `node`: 24, what Lambda runs) comes first for every recipe
# once `npm ci` (run by the machine's node) has installed it.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
NODE_VERSION = @node -e 'const m = Number(process.versions.node.split(".")[0]); console.log("$(1) on Node.js " + process.version); if (m < 24) { console.error("cloud-pam runs on Node.js 24: node_modules/.bin/node is missing or older; run npm ci"); process.exit(1); }'

.PHONY: install test start lint typecheck synth schema bench bench-lifecycle bench-start bench-cold-start bench-slack-ingress clean

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed
	@scripts/ensure-python-tools.sh

typecheck: install
	npx tsc --noEmit

lint: install
	npx biome check .

synth: install
	npx cdk synth --no-notices -q

schema: install
	npx tsx infra/config/write-json-schema.ts

test: install
	$(call NODE_VERSION,make test)
	npx tsc --noEmit
	npx biome check .
	@mkdir -p .test-results
	scripts/moto.sh npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json

bench: install
	scripts/moto.sh npx tsx bench/entitlements/run.ts
	scripts/moto.sh npx tsx bench/lifecycle/run.ts
	npx tsx bench/start/run.ts

bench-lifecycle: install
	scripts/moto.sh npx tsx bench/lifecycle/run.ts

# Time to `ready:` after the install step on a fresh clone (cold synth) and on a restart.
bench-start: install
	npx tsx bench/start/run.ts

# Each bundle's init and the first invocation of handle-api and process-command, against bare node:
# demo and 1,000-account configs (BENCH_PAIRS, default 7; BENCH_ARGS="--no-invoke" skips the invocations).
bench-cold-start: install
	npx tsx bench/cold-start/run.ts $(BENCH_ARGS)

# The Slack ingress: cold start (import + the first signed /pam request, against bare node) and warm
# acknowledgement latency (BENCH_PAIRS, default 7; BENCH_REQUESTS, default 500), moto for AWS.
bench-slack-ingress: install
	scripts/moto.sh npx tsx bench/slack-ingress/run.ts $(BENCH_ARGS)

# The whole system on this machine (moto for AWS); state lasts as long as the process. Ctrl-C stops it.
start: install
	$(call NODE_VERSION,make start)
	@npx tsx local/start.ts

clean:
	rm -rf cdk.out .test-results coverage
