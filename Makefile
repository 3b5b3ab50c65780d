# LedgerX. `make demo` runs it with the TechCorp demo (`make demo PORT=8001` serves on another
# port); `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The port `make demo` serves on, at 127.0.0.1.
PORT ?= 8000
# pipefail: the install's output goes through a filter, and pip's failure must still fail make.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

# The suite runs against PostgreSQL and Redis on 127.0.0.1: local ones (started when installed but
# down), else the embedded ones from the wheels, for the run (deploy/ensure_services.sh). Override to
# point elsewhere.
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/ledgerx
TEST_REDIS_URL ?= redis://127.0.0.1:6379/1
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)

.PHONY: demo test screenshots lint bench bench-exports bench-growth bench-receipts services chromium tesseract xmlsec pgbouncer clean

# pip's output condensed to a count of the packages fetched (one updating line on a terminal, every
# tenth in a log) and the install; its warnings and errors (stderr) pass through as they are.
$(STAMP): requirements.txt requirements-dev.txt
	@echo "Installing Python packages into $(VENV) (the first run takes a few minutes)..."
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@tty=; [ -t 1 ] && tty=1; \
	$(BIN)/pip install --disable-pip-version-check --progress-bar off -r requirements-dev.txt \
		| awk -v tty=$$tty ' \
			/^Collecting / { n++; if (tty) printf "\r  fetched %d packages (%s)\033[K", n, $$2; \
				else if (n % 10 == 0) print "  fetched " n " packages..."; fflush() } \
			/^Installing collected packages/ { if (tty) printf "\n"; print "  Installing them..."; fflush() }'
	@touch $(STAMP)

# Serves on 127.0.0.1:$(PORT); `make demo PORT=8001` when 8000 is taken.
demo: $(STAMP)
	@$(BIN)/python -m ledgerx.embedded --port $(PORT)

services:
	deploy/ensure_services.sh

# The browser tests drive Debian's Chromium; installed here when missing (never a Playwright download),
# and when it cannot be, they are skipped.
chromium:
	deploy/ensure_chromium.sh

# Receipt reading runs Debian's Tesseract, and its tests render receipts in Debian's fonts: installed
# here when missing; when they cannot be, the reading tests are skipped.
tesseract:
	deploy/ensure_tesseract.sh

# SAML sign-on checks signatures with Debian's xmlsec1: installed here when missing; when it cannot be,
# the SAML tests are skipped.
xmlsec:
	deploy/ensure_xmlsec.sh

# The pooler tests run Debian's PgBouncer: installed here when missing; when it cannot be, they are skipped.
pgbouncer:
	deploy/ensure_pgbouncer.sh

test: $(STAMP) chromium tesseract xmlsec pgbouncer
	$(TEST_ENV) deploy/ensure_services.sh $(BIN)/pytest --create-db $(PYTEST_ARGS)

# The browser tests again, saving their screenshots over the ones the README shows.
screenshots: $(STAMP) chromium
	LEDGERX_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(TEST_ENV) deploy/ensure_services.sh \
		$(BIN)/pytest --create-db -m browser

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var

bench: $(STAMP) services
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The books export of a month of 100k, 500k and 1M journal lines: time and peak memory (bench/exports.py).
# `make bench-exports EXPORTS_BENCH_ARGS="--formats csv --reuse"`: options from `python -m bench.exports --help`.
bench-exports: $(STAMP) services
	$(BIN)/python -m bench.exports $(EXPORTS_BENCH_ARGS)

# A year of data for 1,000 organizations (10M entries) against an almost empty database (bench/growth.py).
# `make bench-growth GROWTH_BENCH_ARGS="--reuse --rounds 1"`: options from `python -m bench.growth --help`.
bench-growth: $(STAMP) services
	$(BIN)/python -m bench.growth $(GROWTH_BENCH_ARGS)

# Receipt reading's accuracy on generated receipts (bench/receipt_reading.py); needs no servers.
# `make bench-receipts RECEIPT_BENCH_ARGS="--seed 1 --misses"`: options from `python -m bench.receipt_reading --help`.
bench-receipts: $(STAMP) tesseract
	$(BIN)/python -m bench.receipt_reading $(RECEIPT_BENCH_ARGS)

spike: $(STAMP) services
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-load.txt
	$(BIN)/python -m bench.spike
