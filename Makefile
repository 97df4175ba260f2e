# Switchboard developer commands. `make run` and `make test` are all a newcomer needs; `make help` lists the rest.
PYTHON ?= python3.11
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
# `make lock` resolves with uv, kept in its own small virtualenv (not part of the project's environment).
UV_VERSION := 0.13.9
UV := build/lock-tool/bin/uv
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"
# Passed on to the local stack by `run` and `reset` (their environment variables work too: PORT, LOCAL_DIR, ...).
ARGS ?=
STATE_DIR_ARG = $(if $(LOCAL_DIR),--state-dir $(LOCAL_DIR))
REPLAY_DIR_ARG = $(if $(LOCAL_DIR),--local-dir $(LOCAL_DIR))

.DEFAULT_GOAL := help
.PHONY: help run reset test unit integration security lint sam-check bench bench-faults replay clean lock dashboard

## List the targets.
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-z-]+:/{if (doc) printf "  make %-11s %s\n", substr($$1,1,length($$1)-1), doc; doc=""}' $(MAKEFILE_LIST)

# The dev environment is exactly requirements.lock (hash-checked), plus this project in editable mode.
# The stamp's name is a checksum of the dependency files: a change to them reinstalls; a newer file time
# alone (a fresh clone, a checkout) does not.
$(STAMP):
	@echo "Setting up $(VENV) with $(PYTHON): installing Switchboard and its dev tools (boto3, moto, cfn-lint, the"
	@echo "Vonage SDK, ...) from requirements.lock. The first time this downloads about 80 packages and takes"
	@echo "3-4 minutes; pip's progress follows. Later runs skip it until pyproject.toml or requirements.lock change."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off --require-hashes -r requirements.lock | { grep --line-buffered -E '^(Collecting|Successfully)' || true; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@
	@echo "$(VENV) is ready."

## Start the whole local stack in the foreground (Ctrl-C stops it and saves its state). ARGS='--port 3100 --fresh' passes options.
run: $(STAMP)
	$(BIN)/python -m local_stack $(STATE_DIR_ARG) $(ARGS)

## Forget the local stack's saved state (accounts, messages, keys, logs): the next `make run` starts fresh.
reset: $(STAMP)
	$(BIN)/python -m local_stack --reset $(STATE_DIR_ARG)

## Template lint and the whole test suite (unit, then integration and attack suites on one local stack the tests start).
test: $(STAMP) lint
	$(BIN)/python -m pytest -p no:cacheprovider -n auto --dist loadgroup tests

## Unit tests only (moto in process, no local stack).
unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n auto tests/unit

## Integration tests only (they start their own local stack on free ports).
integration: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/integration

## The attack suite alone (docs/security.md): hostile tenants, forged webhooks, SSRF, bad input against a local stack.
security: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/security

## cfn-lint on the SAM template (make test also lints its offline CloudFormation translation: tests/unit/test_template.py),
## then the import contracts of [tool.importlinter] in pyproject.toml (the package layering).
lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	PYTHONPATH=layers:. $(BIN)/lint-imports --no-cache

## Regenerate template.yaml's CloudWatch dashboard and metric alarms from layers/switchboard/metric_catalog.py.
dashboard: $(STAMP)
	PYTHONPATH=layers:. $(BIN)/python -m tools.dashboard

## Needs the AWS SAM CLI on PATH (pip install aws-sam-cli) and python3.11: validate with its linter, then build
## (for the Architecture in samconfig.toml; docs/deploy.md).
sam-check:
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} sam validate --lint
	sam build

## Benchmarks: prints a table and writes bench/results.json (about 7 minutes; see README).
bench: $(STAMP)
	$(BIN)/python -m bench

## Only the load run under faults (slow and reset provider answers, failing DynamoDB writes): bench/results-faults.json.
bench-faults: $(STAMP)
	$(BIN)/python -m bench --only load_faults --output bench/results-faults.json

## Remove build output and the local stack's state directory (.local) altogether.
clean:
	rm -rf .aws-sam .local build

## Re-pin after editing dependencies in pyproject.toml (UPGRADE=1 also moves to newer releases): requirements.lock
## for the dev environment, then its runtime part, layers/requirements.txt, which `sam build` puts in the layer.
lock: $(UV)
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --extra dev $(if $(UPGRADE),--upgrade) -o requirements.lock
	$(UV) pip compile pyproject.toml $(LOCK_FLAGS) --constraint requirements.lock -o layers/requirements.txt

$(UV):
	$(PYTHON) -m venv build/lock-tool
	build/lock-tool/bin/python -m pip install --quiet uv==$(UV_VERSION)

## Sign a provider webhook for the running local stack and send it: make replay EVENT=events/webhooks_messenger_text.json [MESSAGE=<message_uuid>]
replay: $(STAMP)
	@test -n "$(EVENT)" || { echo "usage: make replay EVENT=events/webhooks_<event>.json [MESSAGE=<message_uuid>] [ARGS=--new-ids]" >&2; exit 2; }
	$(BIN)/python -m local_stack.replay $(EVENT) $(if $(MESSAGE),--message $(MESSAGE)) $(REPLAY_DIR_ARG) $(ARGS)
