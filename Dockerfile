# The course server's image: the web server, the grading worker and its scheduler all
# run from it (see docker-compose.yml). Build with `docker compose build`.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=courseserver.settings

# bubblewrap: the sandbox that students' code answers run in (the code-worker service).
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, in their own layer, so that a code change does not reinstall them.
# --require-hashes: every package, dependencies included, must match the lock's hashes.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app

WORKDIR /app
# The code stays owned by root: the processes that serve students cannot rewrite it.
COPY . .

# Static files are collected into the image, so that every container serves the same
# hashed names from the manifest. The settings refuse to start with DEBUG off and no
# real key; this key exists only for this one command and is not kept in the image.
# The app user cannot write the code, so its bytecode is compiled here; var/ (VAR_DIR)
# stays writable for anything run with the local defaults, such as a bare `celery beat`.
RUN DEBUG=false SECRET_KEY=collectstatic-at-build-time-only-not-a-secret-7f3a9c \
    python manage.py collectstatic --no-input \
    && python -m compileall -q courseserver exercises grading \
    && mkdir -p /app/var \
    && chown app:app /app/var

USER 10001:10001
EXPOSE 8000

# Workers, threads, timeouts: courseserver/gunicorn_conf.py, which `manage.py serve` reads
# too (WEB_CONCURRENCY and WEB_THREADS override its defaults).
CMD ["gunicorn", "--config", "python:courseserver.gunicorn_conf", "courseserver.wsgi", "--bind", "0.0.0.0:8000"]
