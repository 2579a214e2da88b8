# Two commands on a fresh machine: `make run` and `make test`. Each creates the virtual
# environment and installs everything from this repository's own files first.

# durable-rules 2.0.28 builds from source: it needs Python 3.11 or 3.12 and a C compiler.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test bench schemas clean check-python lock audit

check-python:
	@test -n "$(PYTHON)" || { echo "Error: Python 3.11 or 3.12 is needed (durable-rules 2.0.28 does not import on 3.13)."; exit 1; }
	@command -v cc >/dev/null || command -v gcc >/dev/null || { echo "Error: a C compiler is needed to build durable-rules (apt-get install build-essential python3-dev)."; exit 1; }

LOCK := scripts/requirements.lock

# Every package comes from the lock, checked against its hash (Python 3.11 and 3.12 alike);
# then DTPA itself, with nothing more.
$(STAMP): pyproject.toml $(LOCK) | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Listens on this machine only (127.0.0.1): put a TLS reverse proxy in front to serve others
# (README, "Serving it to others"). While the store has no account, `dtpa setup-token` prints a
# one-time token for creating the first administrator in the browser.
run: $(STAMP)
	$(BIN)/dtpa seed
	$(BIN)/dtpa setup-token
	$(BIN)/streamlit run ui/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false --client.toolbarMode minimal

test: $(STAMP)
	scripts/system-deps.sh
	$(BIN)/ruff check engine ui tests bench
	PYTHONPATH=. $(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/dtpa questions --check
	$(BIN)/dtpa rules check
	scripts/with-postgres.sh $(BIN)/pytest --ignore=tests/browser
	# The browser suite runs in a process of its own: Playwright's event loop must not be
	# running under the rest of the suite.
	$(BIN)/pytest tests/browser

bench: $(STAMP)
	$(BIN)/python bench/bench_evaluate.py
	$(BIN)/python bench/bench_exports.py
	$(BIN)/python bench/bench_load.py
	scripts/with-postgres.sh $(BIN)/python bench/bench_store.py
	# The browser: Debian's Chromium (scripts/system-deps.sh), the app on a free local port.
	$(BIN)/python bench/bench_ui.py

# After changing a dependency in pyproject.toml: pin it and everything it needs, with hashes.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--generate-hashes --no-header --quiet --output-file $(LOCK)

# Published advisories against every locked package. Needs PyPI's JSON API (not part of
# `make test`); --strict fails when a package could not be checked rather than passing it.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --disable-pip --require-hashes -r $(LOCK)

schemas: $(STAMP)
	$(BIN)/dtpa schema --out docs/schemas

clean:
	rm -rf $(VENV) .pytest_cache
