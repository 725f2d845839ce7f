# Everything a fresh Debian or Raspberry Pi OS machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo cluster test lint bench mosquitto broker clean ui chromium

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))."; exit 1; }
	@$(PYTHON) -m venv $(VENV) || \
		{ echo "Cannot create a virtual environment: install it with: $(SUDO) apt-get install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Mosquitto from Debian's packages, if it is not installed yet
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || { \
		echo "Installing Mosquitto (Debian package)..."; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto mosquitto-clients >/dev/null; }

# Debian's Chromium for the UI's browser tests (Playwright drives it; it never downloads a browser)
chromium:
	@[ -x /usr/bin/chromium ] || { \
		echo "Installing Chromium (Debian package) for the web UI tests..."; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# the web UI: ui/ (Preact, uPlot, mqtt.js) built with esbuild into plugins_core/web/ui_dist,
# which the package ships; `make demo` uses the shipped files and never needs Node.js
ui/node_modules/.installed: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

ui:
	@command -v npm >/dev/null 2>&1 || { \
		echo "npm is not installed, so the web UI cannot be rebuilt: the tests use the built UI shipped in"; \
		echo "plugins_core/web/ui_dist. Install Node.js 18+ and npm (sudo apt-get install nodejs npm) to rebuild it."; \
		exit 0; }; \
	$(MAKE) --no-print-directory ui/node_modules/.installed && cd ui && npm run --silent build >/dev/null

# a broker on localhost:1883, started only if nothing listens there yet
broker: mosquitto
	@scripts/ensure_broker.sh

demo: $(STAMP) broker
	$(BIN)/python scripts/demo.py

# a leader and two simulated workers on this machine (docs/cluster.md); Ctrl-C stops them
cluster: $(STAMP) broker
	$(BIN)/python scripts/local_cluster.py

# the tests start their own broker on a free port; four at a time (pytest-xdist): most of a test's
# time is spent waiting on processes and the broker, so this is ~2x faster even on 2 cores.
# The web UI is rebuilt first so the shipped files never go stale; its browser tests need chromium.
test: $(STAMP) mosquitto chromium ui
	$(BIN)/pytest -n 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check kernel sdk plugins_core tests benchmarks scripts
	$(BIN)/mypy kernel sdk plugins_core

bench: $(STAMP) mosquitto
	$(BIN)/python benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache build *.egg-info
