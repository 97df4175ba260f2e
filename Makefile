# Switchboard developer commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | cksum | cut -d' ' -f1)
# `make lock` resolves with uv, kept in its own small virtualenv (not part of the project's environment).
UV_VERSION := 0.13.9
UV := build/lock-tool/bin/uv
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

.PHONY: run test unit integration security lint sam-check bench replay clean lock

# The dev environment is exactly requirements.lock (hash-checked), plus this project in editable mode.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

## Start the whole local stack in the foreground (Ctrl-C to stop).
run: $(STAMP)
	$(BIN)/python -m local_stack

## Template lint and the whole test suite (unit, then integration and attack suites on one local stack the tests start).
test: $(STAMP) lint
	$(BIN)/python -m pytest -p no:cacheprovider -n auto --dist loadgroup tests

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n auto tests/unit

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

## Needs the AWS SAM CLI on PATH (pip install aws-sam-cli) and python3.11: validate with its linter, then build
## (for the Architecture in samconfig.toml; docs/deploy.md).
sam-check:
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} sam validate --lint
	sam build

bench: $(STAMP)
	$(BIN)/python -m bench

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

## Sign a provider webhook for the running local stack (`make run`) and send it: make replay EVENT=events/webhooks_messenger_text.json
replay: $(STAMP)
	@test -n "$(EVENT)" || { echo "usage: make replay EVENT=events/webhooks_<event>.json [ARGS=--new-ids]" >&2; exit 2; }
	$(BIN)/python -m local_stack.replay $(EVENT) $(ARGS)
