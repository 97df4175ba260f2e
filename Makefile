# Switchboard developer commands. `make run` and `make test` are all a newcomer needs; `make help` lists the rest.
PYTHON ?= python3.11
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml layers/requirements.txt | cksum | cut -d' ' -f1)
# Passed on to the local stack by `run` and `reset` (their environment variables work too: PORT, LOCAL_DIR, ...).
ARGS ?=
STATE_DIR_ARG = $(if $(LOCAL_DIR),--state-dir $(LOCAL_DIR))
REPLAY_DIR_ARG = $(if $(LOCAL_DIR),--local-dir $(LOCAL_DIR))

.DEFAULT_GOAL := help
.PHONY: help run reset test unit integration lint sam-check bench replay clean

## List the targets.
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-z-]+:/{if (doc) printf "  make %-11s %s\n", substr($$1,1,length($$1)-1), doc; doc=""}' $(MAKEFILE_LIST)

# The stamp's name is a checksum of the dependency files: a change to them reinstalls; a newer file time
# alone (a fresh clone, a checkout) does not.
$(STAMP):
	@echo "Setting up $(VENV) with $(PYTHON): installing Switchboard and its dev tools (boto3, moto, cfn-lint, the"
	@echo "Vonage SDK, ...). The first time this downloads about 60 packages and takes 3-4 minutes; pip's"
	@echo "progress follows. Later runs skip it until pyproject.toml or layers/requirements.txt change."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar off -e ".[dev]" | { grep --line-buffered -E '^(Collecting|Successfully)' || true; }
	rm -f $(VENV)/.installed-* && touch $@
	@echo "$(VENV) is ready."

## Start the whole local stack in the foreground (Ctrl-C stops it and saves its state). ARGS='--port 3100 --fresh' passes options.
run: $(STAMP)
	$(BIN)/python -m local_stack $(STATE_DIR_ARG) $(ARGS)

## Forget the local stack's saved state (accounts, messages, keys, logs): the next `make run` starts fresh.
reset: $(STAMP)
	$(BIN)/python -m local_stack --reset $(STATE_DIR_ARG)

## Template lint and the whole test suite (unit + integration on a local stack the tests start).
test: $(STAMP) lint
	$(BIN)/python -m pytest -p no:cacheprovider -n auto --dist loadgroup tests

## Unit tests only (moto in process, no local stack).
unit: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n auto tests/unit

## Integration tests only (they start their own local stack on free ports).
integration: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider tests/integration

## cfn-lint on the SAM template (make test also lints its offline CloudFormation translation: tests/unit/test_template.py).
lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

## Needs the AWS SAM CLI on PATH (pip install aws-sam-cli) and python3.11: validate with its linter, then build (arm64).
sam-check:
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} sam validate --lint
	sam build

## Benchmarks: prints a table and writes bench/results.json (about 7 minutes; see README).
bench: $(STAMP)
	$(BIN)/python -m bench

## Remove build output and the local stack's state directory (.local) altogether.
clean:
	rm -rf .aws-sam .local

## Sign a provider webhook for the running local stack and send it: make replay EVENT=events/webhooks_messenger_text.json [MESSAGE=<message_uuid>]
replay: $(STAMP)
	@test -n "$(EVENT)" || { echo "usage: make replay EVENT=events/webhooks_<event>.json [MESSAGE=<message_uuid>] [ARGS=--new-ids]" >&2; exit 2; }
	$(BIN)/python -m local_stack.replay $(EVENT) $(if $(MESSAGE),--message $(MESSAGE)) $(REPLAY_DIR_ARG) $(ARGS)
