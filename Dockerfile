# syntax=docker/dockerfile:1.19
# Taqsit web image: gunicorn serving taqsit.wsgi. Configuration comes from the environment at run time
# (README.md, "Configuration"); docker-compose.yml runs it with PostgreSQL and Redis.
FROM python:3.11-slim

# PROMETHEUS_MULTIPROC_DIR: gunicorn's workers (and Celery's pool) count into files there, /metrics adds them
# up (taqsit/metrics.py); docker-compose.yml mounts a tmpfs on it, so every container start begins at zero.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    AUDIT_ARCHIVE_DIR=/var/lib/taqsit/audit-archive \
    MEDIA_ROOT=/var/lib/taqsit/media

# gunicorn keeps its control socket under the user's home: give it one it can write; the metrics folder and
# the audit-log archive and the uploaded files (volumes in docker-compose.yml, which take these folders' owner) too.
RUN groupadd --system taqsit \
    && useradd --system --gid taqsit --create-home --home-dir /home/taqsit --shell /usr/sbin/nologin taqsit \
    && install -d -o taqsit -g taqsit "$PROMETHEUS_MULTIPROC_DIR" "$AUDIT_ARCHIVE_DIR" \
    && install -d -m 700 -o taqsit -g taqsit "$MEDIA_ROOT"

WORKDIR /app

# WeasyPrint (the contracts' PDFs) loads Pango to lay text out and HarfBuzz to shape it (Arabic) and to subset the
# fonts it embeds; the fonts themselves are the project's (static/fonts). tests/system_deps.py installs the same.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays owned by root: the app user can read it, not change it. A development checkout's
# virtualenv and var/ (its database, its secret key) never enter the image.
COPY --exclude=.git --exclude=.venv --exclude=var --exclude=**/__pycache__ . .

# Settings need a SECRET_KEY and a DATABASE_URL to load: these build-time values are only parsed
# (collectstatic opens no database connection) and are not kept in the image.
RUN SECRET_KEY=collectstatic-build-only DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput

USER taqsit

EXPOSE 8000

# The process answers (no database: an outage must not get the container restarted). urllib raises on any
# answer but 2xx, or none within the timeout; the probe sends Host: localhost, which ALLOWED_HOSTS must allow
# (docker-compose.yml adds it). The worker and beat services replace this check with their own.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=5)"]

# Three workers share one cache (rate-limit counts, statistics): Redis when CACHE_URL names it, else by default
# a table in PostgreSQL (created by migrate), never each worker's own memory.
CMD ["gunicorn", "taqsit.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
