# Everything starts from a fresh machine with python3 (3.11+) and make: the first target that needs the
# environment builds it from uv.lock (uv itself is bootstrapped into .tools with pip).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))

.PHONY: install run test lint typecheck pytest bench package layers clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras --group dev
	@touch $@

install: $(VENV)/.synced

run: install
	$(PY) -m upstat.local

lint: install
	$(VENV)/bin/ruff check layers/upstat/python functions tests bench
	$(VENV)/bin/ruff format --check layers/upstat/python functions tests bench

typecheck: install
	$(VENV)/bin/mypy

pytest: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: lint typecheck pytest package

bench: install
	$(PY) -m bench

package: install
	bash infra/package.sh

layers: install
	bash infra/build-layers.sh

clean:
	rm -rf $(VENV) .tools .serverless layers/deps/python
