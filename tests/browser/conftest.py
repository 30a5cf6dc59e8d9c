"""Headless Chromium against the real stack: gunicorn, a Celery worker and Redis.

The web server and the worker are subprocesses on the test database that pytest-django
created, and the worker takes tasks from a queue of this session's own (the Redis,
queue and worker helpers are the integration tests'). Both are started once for the
package; each test has the course in the (transactional) test database again, loaded
once and copied back for each test (`tests/course_snapshot.py`).

Chromium is Debian's (`/usr/bin/chromium`, or $CHROMIUM), driven by Playwright, which
never downloads a browser of its own here. Without it the tests are skipped, or, with
CI=true, fail: CI must run them. A failed test leaves a screenshot in test-artifacts/
and shows what the server and the worker logged while it ran.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration import conftest as integration
from tests.integration.conftest import Worker, _die_with_parent, _stop_group, wait_for

# The integration tests' session fixtures, shared here: the Redis, a queue of the
# session's own, and the environment of a worker on the test database.
redis_url = integration.redis_url
grading_queue = integration.grading_queue
code_queue = integration.code_queue
worker_database_url = integration.worker_database_url
worker_env = integration.worker_env
worker_logs = integration.worker_logs

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SCREENS = ARTIFACTS / "screens"
# Generous: polling is what the tests wait on, never a measured duration.
TIMEOUT_MS = 30_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 375, "height": 740}
# The server's and the worker's logs, shown with a failed test.
_logs: dict[str, Path] = {}
_log_marks = pytest.StashKey[dict]()


def find_chromium() -> str | None:
    """$CHROMIUM if set, else Debian's Chromium."""
    if os.environ.get("CHROMIUM"):
        path = os.environ["CHROMIUM"]
        return path if os.access(path, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


MISSING = "Chromium is missing"


def _missing(reason: str):
    """Skip, or fail under CI=true, where the browser tests must run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        _missing(f"{MISSING} (install Debian's `chromium` package, or set CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the Python package `playwright` is not installed")
    return path


# ---------------------------------------------------------------- the database


# The content types' keys in the session's first test, kept for the others.
_content_type_keys: dict[tuple[str, str], int] = {}


def _keep_content_type_keys() -> None:
    """The content types under the keys they had in the session's first test.

    Emptying the database after a transactional test makes them again under new keys
    (SQLite's AUTOINCREMENT), while the server's processes keep the old ones in their
    cache (`ContentTypeManager`): a later test's change in the admin would log it under a
    content type that is gone, a FOREIGN KEY error and a 500.
    """
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    current = {(ct.app_label, ct.model): ct.pk for ct in ContentType.objects.all()}
    if not _content_type_keys:
        _content_type_keys.update(current)
        return
    with transaction.atomic():  # the foreign keys are checked at the commit
        for key, pk in current.items():
            kept = _content_type_keys.get(key, pk)
            if kept != pk:
                ContentType.objects.filter(id=pk).update(id=kept)
                Permission.objects.filter(content_type_id=pk).update(content_type_id=kept)
    ContentType.objects.clear_cache()


@pytest.fixture
def course(chromium_path, transactional_db) -> dict:
    """The real course and a quick exercise, committed, for the server to see.

    The tests are transactional: the server's processes must see what they commit,
    and the database is emptied after each test.
    """
    from exercises.models import Module
    from tests.conftest import make_exercise, make_problem_set
    from tests.course_snapshot import load_course_copy

    _keep_content_type_keys()
    load_course_copy()
    # A one-part exercise beside the real ones, for what is simplest with one input.
    quick_set = make_problem_set(
        module=Module.objects.order_by("order").last(),
        slug="quick-checks",
        title="Quick checks",
        order=99,
    )
    quick = make_exercise(
        problem_set=quick_set,
        slug="quick-power-rule",
        title="Power rule",
        prompt="Differentiate \\( f(x) = x^2 \\) with respect to \\( x \\).",
    )
    return {"quick": quick}


# ---------------------------------------------------------------- the servers


class PausableWorker(Worker):
    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the worker's processes, so a submission waits in the queue; resume after.

        The tests see a verdict go from waiting to graded, whatever the machine's speed.
        """
        os.killpg(self.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(self.proc.pid, signal.SIGCONT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="package")
def browser_worker(
    chromium_path, worker_env, worker_logs, grading_queue, code_queue
) -> Iterator[PausableWorker]:
    # One worker takes both queues here: the browser tests answer maths and code.
    queues = f"{grading_queue},{code_queue}"
    worker = PausableWorker(worker_logs / "browser.log", worker_env, queues).start()
    _logs["worker"] = worker.log_path
    yield worker
    worker.stop()


@contextmanager
def running_server(env: dict, log_path: Path, *options: str) -> Iterator[str]:
    """gunicorn on the test database with `env` (and gunicorn `options`), logging to
    `log_path`: its URL once it answers /health/; stopped after."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # DEBUG on: static files come from the apps' folders, with no collectstatic. Every
    # test signs in from 127.0.0.1, dozens in a few minutes: the sign-in limit per
    # address is lifted here (tests/exercises/test_ratelimit.py tests it).
    env = {"DEBUG": "true", "LOGIN_ATTEMPTS_PER_15_MINUTES": "1000000", **env}
    command = [
        sys.executable, "-m", "gunicorn", "courseserver.wsgi",
        "--bind", f"127.0.0.1:{port}", "--access-logfile", "-", *options,
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def healthy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/health/", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        wait_for(healthy, f"gunicorn ({log_path.name}) to answer /health/")
        yield url
    finally:
        _stop_group(proc, signal.SIGTERM)


@pytest.fixture(scope="package")
def server_url(browser_worker, worker_env, worker_logs) -> Iterator[str]:
    """gunicorn on the test database, publishing to the session's queue."""
    log_path = worker_logs / "gunicorn.log"
    _logs["gunicorn"] = log_path
    with running_server(worker_env, log_path, "--workers", "2") as url:
        yield url


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="package")
def browser(chromium_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's synchronous API keeps an event loop running in this thread, where
    # Django would refuse the ORM (SynchronousOnlyOperation) that the tests' database
    # fixtures use between the browser's steps; no coroutine touches the ORM here.
    with (
        pytest.MonkeyPatch.context() as patch,
        tempfile.TemporaryDirectory(prefix="chromium-") as home,
        sync_playwright() as playwright,
    ):
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # Playwright gives each launch a fresh profile; the home directory keeps what
        # Chromium writes besides (caches, crash reports) out of the user's.
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[*CHROMIUM_ARGS, f"--crash-dumps-dir={home}"],
            env={**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home},
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def context(browser, server_url, course):
    context = browser.new_context(base_url=server_url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


@pytest.fixture
def phone_page(browser, server_url, course):
    context = browser.new_context(base_url=server_url, viewport=PHONE, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """A full-page screenshot under test-artifacts/screens/, for people to look at."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_log_marks] = {name: _log_size(path) for name, path in _logs.items()}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test leaves a screenshot of each of its pages in test-artifacts/,
    and its report shows what the server and the worker logged meanwhile."""
    report = yield
    if report.failed and report.when in {"setup", "call"}:
        marks = item.stash.get(_log_marks, {})
        for name, path in _logs.items():
            with open(path, "rb") as log:
                log.seek(marks.get(name, 0))
                text = log.read().decode(errors="replace")
            if text:
                report.sections.append((f"{name} log", text))
        pages = [
            value
            for name, value in getattr(item, "funcargs", {}).items()
            if name in {"page", "phone_page"}
        ]
        for n, page in enumerate(pages):
            name = re.sub(r"[^\w.-]+", "_", item.nodeid) + (f"-{n}" if n else "")
            path = ARTIFACTS / f"{name}.png"
            try:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path), full_page=True)
            except Exception as e:  # the page or browser may be what broke
                report.sections.append(("screenshot", f"none: {e}"))
            else:
                report.sections.append(("screenshot", f"{path} (at {page.url})"))
    return report


def pytest_terminal_summary(terminalreporter):
    """One plain line at the end of the run when no browser test ran for want of Chromium."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if MISSING in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} browser tests were SKIPPED: {MISSING} "
            "(install Debian's `chromium` package; under CI=true they fail instead).",
            yellow=True,
            bold=True,
        )


# ---------------------------------------------------------------- a student


def new_username() -> str:
    return f"student-{uuid.uuid4().hex[:10]}"


def sign_up(page, username: str | None = None) -> str:
    """Make an account through the sign-up form; the student lands on the course page."""
    from playwright.sync_api import expect

    username = username or new_username()
    password = f"pw-{uuid.uuid4().hex}"
    page.goto("/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail address").fill(f"{username}@example.org")
    # Django's form labels end in a colon.
    page.get_by_label(re.compile(r"^Password:?$")).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Welcome, {username}!")).to_be_visible()
    return username


def expected_answers(username: str, slug: str) -> dict[str, str]:
    """The right answers to an exercise for this student (their variant, if it has them)."""
    from django.contrib.auth import get_user_model

    from exercises.models import Exercise

    exercise = Exercise.objects.get(slug=slug)
    variant = exercise.variant_for(get_user_model().objects.get(username=username))
    if variant is not None:
        return variant.expected_answers()
    return {part.key: part.expected for part in exercise.parts.all()}


@pytest.fixture
def student(page) -> str:
    """A student signed up in this test's browser context."""
    return sign_up(page)


def field(scope, name: str):
    """The input named `name` in a page (or part of one)."""
    return scope.locator(f'[name="{name}"]')


def type_code(page, textarea_id: str, lines: list[str]) -> None:
    """Type into the code editor that stands for a text area, a line at a time (the
    editor indents after a colon by itself)."""
    editor = page.locator(f'.code-editor[data-for="{textarea_id}"] .cm-content')
    editor.click()
    for i, line in enumerate(lines):
        if i:
            page.keyboard.press("Enter")
        page.keyboard.type(line)
