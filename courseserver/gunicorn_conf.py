"""Gunicorn's configuration: the one place that says how the web server runs, read by
the image (Dockerfile, docker-compose.yml) and by `manage.py serve` alike:

    gunicorn --config python:courseserver.gunicorn_conf courseserver.wsgi

Workers are threaded (`gthread`): a request spends part of its time waiting on
PostgreSQL and Redis, and while one thread waits another one of the same process
runs, so a process keeps its core busy without needing a process per request in
flight. One process per core, plus one, fills the cores while a process is being
replaced or blocked; a few threads each cover the waits. WEB_CONCURRENCY (processes)
and WEB_THREADS (threads per process) override the defaults; WEB_THREADS=1 gives plain
synchronous workers. Every thread holds its own database connection, so the
connections the web tier keeps open are at most processes × threads.
See docs/benchmarks.md, "Web tier", for what these defaults were chosen from.
"""

import os

from django.core.exceptions import ImproperlyConfigured


def _count(name: str, default: int) -> int:
    value = os.getenv(name, "").strip()
    if not value:
        return default
    try:
        count = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if count < 1:
        raise ImproperlyConfigured(f"{name}={value!r}: at least 1")
    return count


def default_workers() -> int:
    """One process per core the server may use, plus one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return cores + 1


workers = _count("WEB_CONCURRENCY", default_workers())
threads = _count("WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
# A browser and an API client keep their connection between polls (gthread only).
keepalive = 5
# A request that runs this long is stuck: its process is replaced.
timeout = 30
graceful_timeout = 20
# Processes are replaced now and then, at different times, so that a slow leak never
# grows and the processes never all restart at once.
max_requests = 10000
max_requests_jitter = 1000
# Heartbeat files on a tmpfs where there is one: a container's overlay filesystem can
# stall them and get workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
