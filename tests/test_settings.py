"""Settings read from the environment, and refuse to run insecurely in production."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
    }
    code = (
        "from courseserver import settings as s; "
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CACHES['default']['LOCATION'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_it_refuses_production_with_the_default_secret():
    result = load_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is unset or insecure" in result.stderr


def test_it_refuses_a_short_secret():
    result = load_settings(DEBUG="false", SECRET_KEY="short")
    assert result.returncode != 0


def test_it_runs_production_with_a_real_secret():
    result = load_settings(
        DEBUG="false", SECRET_KEY="k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789" + "ABCDEFGHIJKLMN"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("False ")


def test_it_uses_the_embedded_defaults():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    debug, engine, broker, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker.startswith("redis+socket://") and broker.endswith("var/redis.sock")
    assert cache.startswith("unix://")


def test_it_selects_postgres_and_redis_from_urls():
    result = load_settings(
        DATABASE_URL="postgres://u@db:5432/course", REDIS_URL="redis://cache:6379/1"
    )
    assert result.returncode == 0, result.stderr
    _, engine, broker, cache = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker == cache == "redis://cache:6379/1"


def test_it_fails_loudly_on_a_bad_value():
    result = load_settings(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_it_reads_a_secret_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file-" + "x1y2z3" * 8 + "\n")
    code = "from courseserver import settings as s; print(s.SECRET_KEY)"
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY_FILE": str(secret)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == secret.read_text().strip()
