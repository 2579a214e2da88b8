# Two commands on a fresh machine: `make run` and `make test`. Each creates the virtual
# environment and installs everything from this repository's own files first.

# durable-rules 2.0.28 builds from source: it needs Python 3.11 or 3.12 and a C compiler.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test bench schemas clean check-python

check-python:
	@test -n "$(PYTHON)" || { echo "Error: Python 3.11 or 3.12 is needed (durable-rules 2.0.28 does not import on 3.13)."; exit 1; }
	@command -v cc >/dev/null || command -v gcc >/dev/null || { echo "Error: a C compiler is needed to build durable-rules (apt-get install build-essential python3-dev)."; exit 1; }

$(STAMP): pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
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

schemas: $(STAMP)
	$(BIN)/dtpa schema --out docs/schemas

clean:
	rm -rf $(VENV) .pytest_cache
