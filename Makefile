# Switchboard developer commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml layers/requirements.txt | cksum | cut -d' ' -f1)

.PHONY: run test unit integration lint sam-check bench replay clean

$(STAMP): pyproject.toml layers/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

## Start the whole local stack in the foreground (Ctrl-C to stop).
run: $(STAMP)
	$(BIN)/python -m local_stack

## Template lint and the whole test suite (unit + integration on a local stack the tests start).
test: $(STAMP) lint
	$(BIN)/python -m pytest -p no:cacheprovider -n auto --dist loadgroup tests

unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n auto tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/integration

## cfn-lint on the SAM template (make test also lints its offline CloudFormation translation: tests/unit/test_template.py),
## then the import contracts of [tool.importlinter] in pyproject.toml (the package layering).
lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	PYTHONPATH=layers:. $(BIN)/lint-imports --no-cache

## Needs the AWS SAM CLI on PATH (pip install aws-sam-cli) and python3.11: validate with its linter, then build (arm64).
sam-check:
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} sam validate --lint
	sam build

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf .aws-sam .local

## Sign a provider webhook for the running local stack (`make run`) and send it: make replay EVENT=events/webhooks_messenger_text.json
replay: $(STAMP)
	@test -n "$(EVENT)" || { echo "usage: make replay EVENT=events/webhooks_<event>.json [ARGS=--new-ids]" >&2; exit 2; }
	$(BIN)/python -m local_stack.replay $(EVENT) $(ARGS)
