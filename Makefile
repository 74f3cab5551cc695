# Everything starts from a fresh machine with python3 (3.11+) and make: the first target that needs the
# environment builds it from uv.lock (uv itself is bootstrapped into .tools with pip, unless UV names one,
# as CI does with astral-sh/setup-uv). `make package` also needs Node.js >= 20.19 with npm (osls);
# `make test` runs it when they are here, else says why it skips it.
#
#   make test PYTHON=python3.13    the same on another interpreter (.venv is synced again for it)
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV ?= .tools/bin/uv
export UV
VENV := .venv
PY := $(VENV)/bin/python
# The interpreter's real path: uv is given a path, not a name. A pyenv shim for a version that is installed
# but not selected (`python3.13` under a global 3.11) fails to run; ask it through PYENV_VERSION then.
PYTHON_EXE := $(shell $(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null || \
	PYENV_VERSION="$$(pyenv whence $(PYTHON) 2>/dev/null | tail -n 1)" \
	$(PYTHON) -c 'import sys; print(sys.executable)' 2>/dev/null)
PYTHON_VERSION := $(shell "$(PYTHON_EXE)" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# .venv/.synced holds the version it was synced for: another PYTHON syncs (and so rebuilds) it.
SYNCED_FOR := $(shell cat $(VENV)/.synced 2>/dev/null)
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON_EXE)

NODE_MIN := 20.19
# Prints why `make package` cannot run on this machine; prints nothing when it can.
PACKAGE_BLOCKER = \
  command -v node >/dev/null || { echo "Node.js is not installed (osls needs Node.js >= $(NODE_MIN) and npm)"; exit; }; \
  command -v npm >/dev/null || { echo "npm is not installed (osls is installed with npm ci)"; exit; }; \
  node -e 'const w = process.argv[1].split(".").map(Number), h = process.versions.node.split(".").map(Number); \
    process.exit(h[0] > w[0] || (h[0] === w[0] && h[1] >= w[1]) ? 0 : 1)' $(NODE_MIN) \
  || echo "Node.js $$(node --version) is older than $(NODE_MIN), which osls needs"

.PHONY: install run test test-cluster lint typecheck pytest pytest-packaged chromium openvpn flowtools vendor bench load package package-or-skip layers clean FORCE

.tools/bin/uv:
	@"$(PYTHON_EXE)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "upstat needs Python 3.11 or newer as $(PYTHON) (found: $$($(PYTHON) -V 2>&1)); e.g. make PYTHON=python3.12 ..." >&2; \
	  exit 1; }
	"$(PYTHON_EXE)" -m venv .tools
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

# --locked: fail when uv.lock no longer matches pyproject.toml, instead of silently re-locking.
$(VENV)/.synced: pyproject.toml uv.lock $(if $(filter-out $(PYTHON_VERSION),$(SYNCED_FOR)),FORCE) \
		| $(filter .tools/bin/uv,$(UV))
	$(UV) sync --locked --all-extras --group dev
	@echo "$(PYTHON_VERSION)" >$@

FORCE:

install: $(VENV)/.synced

run: install
	$(PY) -m upstat.local

lint: install
	$(VENV)/bin/ruff check layers/upstat/python functions tests bench infra
	$(VENV)/bin/ruff format --check layers/upstat/python functions tests bench infra

typecheck: install
	$(VENV)/bin/mypy

# The tests of the packaged CloudFormation template (marker "packaged") run after `package` builds it.
pytest: install chromium openvpn flowtools
	$(VENV)/bin/pytest -m "not packaged" $(PYTEST_ARGS)

# The same tests against a Redis Cluster of three primaries on 127.0.0.1 (valkey-server in cluster mode,
# started by the tests: tests/cluster.py). Tests that need one server by nature (they kill, pause or fill
# it) keep one; the run ends by naming them with their reasons. CI runs it as its own job.
test-cluster: install chromium openvpn flowtools
	UPSTAT_TEST_REDIS=cluster $(VENV)/bin/pytest -m "not packaged" $(PYTEST_ARGS)

pytest-packaged: install
	$(VENV)/bin/pytest -m packaged $(PYTEST_ARGS)

# The browser tests (tests/browser) drive Debian's chromium with Playwright. Installed here with apt-get when
# missing and run as root; otherwise this says so and those tests skip, each with the reason.
chromium:
	@if command -v chromium >/dev/null; then :; \
	elif [[ "$$(id -u 2>/dev/null)" == 0 ]] && command -v apt-get >/dev/null; then \
	  echo "make: installing Debian's chromium for the browser tests (apt-get install -y chromium)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "make: chromium could not be installed: the browser tests will skip"; \
	else echo "make: chromium is not installed and this is not root with apt-get: the browser tests will skip"; fi

# The OpenVPN dialect's agent tests (tests/vpn/test_real_openvpn.py) run Debian's openvpn server and clients on
# 127.0.0.1. Installed here with apt-get when missing and run as root; otherwise this says so and they skip.
openvpn:
	@if command -v openvpn >/dev/null || [[ -x /usr/sbin/openvpn ]]; then :; \
	elif [[ "$$(id -u 2>/dev/null)" == 0 ]] && command -v apt-get >/dev/null; then \
	  echo "make: installing Debian's openvpn for the OpenVPN agent tests (apt-get install -y openvpn)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openvpn >/dev/null; } \
	  || echo "make: openvpn could not be installed: the OpenVPN agent tests will skip"; \
	else echo "make: openvpn is not installed and this is not root with apt-get: the OpenVPN agent tests will skip"; fi

# The Netflow agent tests (tests/dialects/test_netflow_agents.py) replay a capture through Debian's
# softflowd into nfcapd and read it back with nfdump (packages softflowd and nfdump; on a machine running
# systemd the nfdump package also enables its own nfcapd service). Installed like chromium; otherwise
# those tests skip.
flowtools:
	@if command -v softflowd >/dev/null && command -v nfdump >/dev/null; then :; \
	elif [[ "$$(id -u 2>/dev/null)" == 0 ]] && command -v apt-get >/dev/null; then \
	  echo "make: installing Debian's softflowd and nfdump for the Netflow agent tests (apt-get install -y softflowd nfdump)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq softflowd nfdump >/dev/null; } \
	  || echo "make: softflowd and nfdump could not be installed: the Netflow agent tests will skip"; \
	else echo "make: softflowd or nfdump is not installed and this is not root with apt-get: the Netflow agent tests will skip"; fi

# The status page's chart library, committed under web/static/vendor; this refreshes it from the npm registry.
UPLOT_VERSION := 1.6.32
VENDOR := layers/upstat/python/upstat/web/static/vendor
vendor:
	@command -v npm >/dev/null || { echo "make vendor: npm is needed (npm pack uplot@$(UPLOT_VERSION))" >&2; exit 1; }
	tmp="$$(mktemp -d)" && (cd "$$tmp" && npm pack -s "uplot@$(UPLOT_VERSION)" >/dev/null && tar xzf "uplot-$(UPLOT_VERSION).tgz") \
	  && cp "$$tmp/package/dist/uPlot.iife.min.js" $(VENDOR)/uplot.min.js \
	  && cp "$$tmp/package/dist/uPlot.min.css" $(VENDOR)/uplot.min.css \
	  && cp "$$tmp/package/LICENSE" $(VENDOR)/uplot.LICENSE && rm -rf "$$tmp"

test: lint typecheck pytest package-or-skip

bench: install
	$(PY) -m bench

# The load test (bench/load.py): every ingest route and chart queries at once against a local server for
# DURATION seconds (60 unless set: `make load DURATION=10`); fails when any request failed.
DURATION ?= 60
load: install
	DURATION=$(DURATION) $(PY) -m bench.load

package: install
	@reason="$$($(PACKAGE_BLOCKER))"; if [[ -n "$$reason" ]]; then echo "make package: $$reason" >&2; exit 1; fi
	bash infra/package.sh

# `make test`'s last step: the package and the tests of its template when this machine can build it, else
# the reason it is skipped.
package-or-skip: install
	@reason="$$($(PACKAGE_BLOCKER))"; \
	if [[ -n "$$reason" ]]; then echo "make test: make package skipped: $$reason"; \
	else $(MAKE) --no-print-directory package pytest-packaged; fi

layers: install
	bash infra/build-layers.sh

clean:
	rm -rf $(VENV) .tools .serverless layers/deps/python
