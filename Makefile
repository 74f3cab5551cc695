# Everything starts from a fresh machine with python3 (3.11+) and make: the first target that needs the
# environment builds it from uv.lock (uv itself is bootstrapped into .tools with pip). `make package` also
# needs Node.js >= 20.19 with npm (osls); `make test` runs it when they are here, else says why it skips it.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(shell command -v $(PYTHON))

NODE_MIN := 20.19
# Prints why `make package` cannot run on this machine; prints nothing when it can.
PACKAGE_BLOCKER = \
  command -v node >/dev/null || { echo "Node.js is not installed (osls needs Node.js >= $(NODE_MIN) and npm)"; exit; }; \
  command -v npm >/dev/null || { echo "npm is not installed (osls is installed with npm ci)"; exit; }; \
  node -e 'const w = process.argv[1].split(".").map(Number), h = process.versions.node.split(".").map(Number); \
    process.exit(h[0] > w[0] || (h[0] === w[0] && h[1] >= w[1]) ? 0 : 1)' $(NODE_MIN) \
  || echo "Node.js $$(node --version) is older than $(NODE_MIN), which osls needs"

.PHONY: install run test lint typecheck pytest bench package package-or-skip layers clean

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "upstat needs Python 3.11 or newer as $(PYTHON) (found: $$($(PYTHON) -V 2>&1)); e.g. make PYTHON=python3.12 ..." >&2; \
	  exit 1; }
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

test: lint typecheck pytest package-or-skip

bench: install
	$(PY) -m bench

package: install
	@reason="$$($(PACKAGE_BLOCKER))"; if [[ -n "$$reason" ]]; then echo "make package: $$reason" >&2; exit 1; fi
	bash infra/package.sh

# `make test`'s last step: the package when this machine can build it, else the reason it is skipped.
package-or-skip: install
	@reason="$$($(PACKAGE_BLOCKER))"; \
	if [[ -n "$$reason" ]]; then echo "make test: make package skipped: $$reason"; \
	else $(MAKE) --no-print-directory package; fi

layers: install
	bash infra/build-layers.sh

clean:
	rm -rf $(VENV) .tools .serverless layers/deps/python
