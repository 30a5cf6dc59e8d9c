"""PostgreSQL stops under the web app: requests answer 503 with Retry-After, then recover.

A private PostgreSQL (initdb and pg_ctl in a temporary directory, on a Unix socket only)
serves a gunicorn of the app; the machine's own server is never touched.
"""

from __future__ import annotations

import glob
import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.integration.conftest import _die_with_parent, _stop_group, wait_for

pytestmark = pytest.mark.integration

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class PrivatePostgres:
    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.bin = Path(BINARIES[-1])
        # initdb refuses to run as root: the server then runs as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / command[0]), *command[1:]],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def init(self) -> None:
        if self.as_user:
            shutil.chown(self.directory, "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "start",
            "-o", f"-c listen_addresses='' -c unix_socket_directories={self.directory}",
        )  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@{urllib.parse.quote(str(self.directory), safe='')}/course"


@pytest.fixture
def postgres():
    if not BINARIES or (os.geteuid() == 0 and not shutil.which("runuser")):
        pytest.skip("no PostgreSQL server binaries to start a private one with")
    # Not under pytest's temporary directory, which the postgres user may not enter; a
    # short path, for the socket's.
    directory = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    server = PrivatePostgres(directory)
    try:
        server.init()
        server.start()
        server.run("createdb", "-h", str(server.directory), "-U", "postgres", "course")
        yield server
        server.stop()
    except subprocess.CalledProcessError:
        pass  # stopped by the test, or never started
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_env(postgres, redis_url, grading_queue, tmp_path) -> dict[str, str]:
    """The environment of the app's processes on the private PostgreSQL, migrated."""
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis_url,
        "GRADING_QUEUE": grading_queue,
        "VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        # The rate limits' counters are keyed by user id, and this database numbers its
        # users from 1 again: a cache of their own, not the one the other tests share.
        "CACHE_BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    }
    manage(env, "migrate", "-v0")
    return env


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"manage.py {command[0]} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture
def site(app_env, tmp_path):
    env = app_env
    token = manage(env, "shell", "-c", MAKE_STUDENT).strip().splitlines()[-1]
    port = free_port()
    with open(tmp_path / "gunicorn.log", "wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "courseserver.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "1"],
            cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
    site = Site(f"http://127.0.0.1:{port}", token)
    try:
        wait_for(lambda: site.get("/login/")[0] == 200, "the web app to answer")
        yield site
    finally:
        _stop_group(web, 15)


MAKE_STUDENT = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
user = get_user_model().objects.create_user("dora", password="dora-password")
print(Token.objects.create(user=user).key)
"""


class Site:
    def __init__(self, base: str, token: str):
        self.base = base
        self.token = token
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str, **headers) -> tuple[int, dict, bytes]:
        return self.request(urllib.request.Request(self.base + path, headers=headers))

    def api(self, path: str) -> tuple[int, dict, bytes]:
        return self.get(path, Authorization=f"Token {self.token}")

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Content-Type": content_type}
        )
        return self.request(request)

    def request(self, request) -> tuple[int, dict, bytes]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()
        except (urllib.error.URLError, ConnectionError):
            return 0, {}, b""


def test_it_answers_503_while_the_database_is_down_and_recovers(postgres, site):
    assert site.api("/api/modules/")[0] == 200
    token_request = json.dumps({"username": "dora", "password": "dora-password"}).encode()

    postgres.stop()
    # Not the outline, which a web process keeps for a few seconds (`exercises.outline`).
    status, headers, body = site.api("/api/submissions/1/")
    assert status == 503
    assert headers["Retry-After"] == "10"
    assert "try again" in json.loads(body)["detail"]
    status, headers, body = site.post("/api/auth/token/", token_request, "application/json")
    assert (status, headers["Retry-After"]) == (503, "10")
    status, headers, body = site.post(
        "/login/", b"username=dora&password=dora-password", "application/x-www-form-urlencoded"
    )
    assert status in {403, 503}  # no CSRF cookie yet: refused before the database
    status, headers, body = site.get("/", Cookie="sessionid=0123456789abcdef0123456789abcdef")
    assert status == 503
    assert b"Briefly unavailable" in body

    postgres.start()
    assert wait_for(lambda: site.api("/api/modules/")[0] == 200, "the app to reach the database")
    status, _, body = site.post("/api/auth/token/", token_request, "application/json")
    assert status == 200 and json.loads(body)["token"] == site.token


SUBMIT_SLOW = """
from django.contrib.auth import get_user_model
from exercises.queue import submit
from tests.conftest import make_exercise
student = get_user_model().objects.create_user("erin")
print(submit(student, make_exercise(), {"a": "x*2"}).pk)
"""


def test_it_grades_a_submission_whose_verdict_met_a_database_restart(
    postgres, app_env, start_worker
):
    start_worker(
        "database-restart",
        include=("tests.integration.slow_checks",),
        DATABASE_URL=postgres.url,
        SLOW_ANSWER="x*2",
        SLOW_SECONDS="4",
    )
    pk = int(manage(app_env, "shell", "-c", SUBMIT_SLOW).strip().splitlines()[-1])

    def row(query: str):
        try:
            with psycopg.connect(
                host=str(postgres.directory), user="postgres", dbname="course"
            ) as db:
                return db.execute(query, [pk]).fetchone()
        except psycopg.OperationalError:
            return None

    status = "SELECT status, tries FROM exercises_submission WHERE id = %s"
    wait_for(lambda: (row(status) or [""])[0] == "grading", "the worker to claim it")
    # Restarted while the worker checks the answer: its verdict meets a lost connection.
    postgres.stop()
    postgres.start()

    wait_for(lambda: (row(status) or [""])[0] == "graded", "the verdict")
    gradings = "SELECT count(*) FROM exercises_grading WHERE submission_id = %s"
    assert row(gradings) == (1,)
    assert row(status)[1] <= 2
