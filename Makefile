# LedgerX. `make demo` runs it with the TechCorp demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The suite runs against the local PostgreSQL and Redis; override to point elsewhere.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/ledgerx
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1

.PHONY: demo test screenshots lint bench services chromium clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m ledgerx.embedded

services:
	deploy/ensure_services.sh

# The browser tests drive Debian's Chromium; installed here when missing (never a Playwright download).
chromium:
	deploy/ensure_chromium.sh

test: $(STAMP) services chromium
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest --create-db $(PYTEST_ARGS)

# The browser tests again, saving their screenshots over the ones the README shows.
screenshots: $(STAMP) services chromium
	LEDGERX_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/pytest --create-db -m browser

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var

bench: $(STAMP) services
	$(BIN)/python -m bench.run $(BENCH_ARGS)

spike: $(STAMP) services
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-load.txt
	$(BIN)/python -m bench.spike
