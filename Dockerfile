# syntax=docker/dockerfile:1.19
# Taqsit web image: gunicorn serving taqsit.wsgi. Configuration comes from the environment at run time
# (README.md, "Configuration"); docker-compose.yml runs it with PostgreSQL and Redis.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles

# gunicorn keeps its control socket under the user's home: give it one it can write.
RUN groupadd --system taqsit \
    && useradd --system --gid taqsit --create-home --home-dir /home/taqsit --shell /usr/sbin/nologin taqsit

WORKDIR /app

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

CMD ["gunicorn", "taqsit.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
