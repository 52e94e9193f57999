# Portail DEFI — the README's two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app portal
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
CATALOGS := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

.PHONY: run worker test test-pg install install-test browser translations fuzz bench bench-detail drill lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes, so a second `make run` starts in seconds.
$(APP_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(APP_STAMP)

%.mo: %.po | $(APP_STAMP)
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null

install: $(APP_STAMP) $(COMPILED)
install-test: $(TEST_STAMP) $(COMPILED)

run: install
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo
	@$(FLASK) demo-logins
	@echo
	@echo "Portail DEFI : http://127.0.0.1:$(PORT)  (Ctrl+C pour arrêter)"
	@# The background worker runs next to the web server and stops with it: RQ when
	@# REDIS_URL is set, else the exports' database-polling loop (see `make worker`).
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - \
	  --logger-class portal.gunicorn_logging.RedactingLogger wsgi:app

# The background jobs alone (PDF conversions, exports, e-mails): an RQ worker when
# REDIS_URL is set, else the exports' loop on the database. Start one per worker host.
worker: install
	$(FLASK) worker

# System tools of the tests, from Debian's packages, installed when missing and root:
# Chromium drives the browser tests, LibreOffice checks that exported documents open.
SYSTEM_PACKAGES := chromium:chromium soffice:libreoffice-writer-nogui
browser:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installation des paquets Debian des tests :$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "!!! Paquets absents et installation impossible (il faut être root) :$$missing"; \
	    echo "!!! les tests qui en dépendent seront IGNORÉS (REQUIRE_BROWSER=1 les rend obligatoires)."; \
	  fi; \
	fi

# One pytest-xdist worker per CPU (`make test TEST_WORKERS=0` runs in one process), a worker
# that is done taking tests still queued for another (worksteal); each run lists its twenty
# slowest tests (where the suite's five minutes go); each
# worker has its own database, live server and Chromium.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal --durations=20

test: install-test browser
	$(PYTEST) $(PYTEST_ARGS)

# The same suite on PostgreSQL (the tests create and drop their own database).
test-pg: install-test browser
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PYTEST) $(PYTEST_ARGS)

# Issue #17: every POST route and every upload fuzzed with FUZZ_EXAMPLES generated cases per
# form (buttons fewer, uploads more); the normal suite runs a few per route. Add
# TEST_DATABASE_URL=… for PostgreSQL, FUZZ_STATS=file for a JSON line per route.
FUZZ_EXAMPLES ?= 2000
fuzz: install-test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/core/test_fuzz_forms.py tests/core/test_fuzz_uploads.py $(PYTEST_ARGS)

translations: install
	$(BIN)/pybabel extract -F portal/translations/babel.cfg -k _l -o portal/translations/messages.pot .
	$(BIN)/pybabel update -w 100 -i portal/translations/messages.pot -d portal/translations

# The load benchmark (issue #16): key pages at 100, 1,000 and 10,000 operations on SQLite
# and PostgreSQL, under gunicorn with wrk (Debian's package, installed when missing and
# root); tables in bench/results-*.md. BENCH_SIZES=100,1000 for a shorter run.
BENCH_SIZES ?= 100,1000,10000
bench: install-test
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get install -y -qq wrk >/dev/null; } || echo "!!! wrk absent : mesures sous charge ignorées"
	$(BIN)/python -m tests.bench_scale --sizes $(BENCH_SIZES)
	BENCH_DATABASE_URL=$${BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	  $(BIN)/python -m tests.bench_scale --sizes $(BENCH_SIZES)

# The earlier, narrower benchmarks: admin pages with many members, co-design save and poll
# over 300 runs, the running operation's pages, the dashboard and its exports.
bench-detail: install-test
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_design
	$(BIN)/python -m tests.bench_running
	$(BIN)/python -m tests.bench_reporting

# Issue #17's drills, full size, on SQLite then PostgreSQL (TEST_DATABASE_URL, or the local
# server): 100 kill -9 of a gunicorn worker during writes, 50 signers at once, the backup
# drill; then backup and restore timed on the demo and on a larger data set.
DRILL_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
DRILL := DRILL_ITERATIONS=100 DRILL_PARTIES=20 DRILL_SIGNERS=50 $(BIN)/pytest -p no:xdist -s -q \
  tests/drills tests/backups
drill: install-test
	$(DRILL)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(DRILL_PG)} $(DRILL)
	$(BIN)/python -m tests.bench_backup
	BENCH_DATABASE_URL=$${TEST_DATABASE_URL:-$(DRILL_PG)} $(BIN)/python -m tests.bench_backup

lint: install-test
	$(BIN)/ruff check portal tests
	$(BIN)/ruff format --check portal tests
	$(BIN)/python -m tests.licences

clean:
	rm -rf $(VENV) instance .pytest_cache
