"""The web server's configuration (courseserver/gunicorn_conf.py), as gunicorn reads it
for the image and for `manage.py serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exercises.processes import web_command

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_config(**env) -> dict[str, str]:
    """The settings gunicorn itself reads from the configuration, in this environment."""
    base = {k: v for k, v in os.environ.items() if k not in {"WEB_CONCURRENCY", "WEB_THREADS"}}
    result = subprocess.run(
        [*web_command("127.0.0.1:0")[:5], "courseserver.wsgi", "--print-config"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            config[name.strip()] = value.strip()
    return config


def test_it_runs_a_threaded_process_per_core_plus_one_by_default():
    config = gunicorn_config()
    assert config["workers"] == str(len(os.sched_getaffinity(0)) + 1)
    assert config["worker_class"] == "gthread"
    assert config["threads"] == "4"


def test_it_takes_the_processes_and_threads_from_the_environment():
    config = gunicorn_config(WEB_CONCURRENCY="7", WEB_THREADS="2")
    assert config["workers"] == "7"
    assert config["threads"] == "2"


def test_it_runs_synchronous_workers_with_one_thread():
    assert gunicorn_config(WEB_THREADS="1")["worker_class"] == "sync"


@pytest.mark.parametrize("value", ["two", "0"])
def test_it_refuses_a_bad_worker_count(value):
    result = subprocess.run(
        [*web_command("127.0.0.1:0")[:5], "courseserver.wsgi", "--print-config"],
        cwd=ROOT,
        env={**os.environ, "WEB_CONCURRENCY": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "WEB_CONCURRENCY" in result.stderr


def test_it_is_the_configuration_serve_starts_gunicorn_with():
    command = web_command("127.0.0.1:8123")
    assert command[:3] == [sys.executable, "-m", "gunicorn"]
    assert command[command.index("--config") + 1] == "python:courseserver.gunicorn_conf"
    assert command[command.index("--bind") + 1] == "127.0.0.1:8123"
    assert "--workers" not in command
    assert web_command("127.0.0.1:8123", workers=3)[-2:] == ["--workers", "3"]
