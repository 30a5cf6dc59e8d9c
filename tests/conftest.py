"""Shared fixtures: the personas (alice and bob are students, charlie is an instructor)
and small `make_*` helpers for course content."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth import get_user_model

from courseserver.celery import app as celery_app
from exercises.models import Exercise, Module, Part, ProblemSet, Submission

_counter = itertools.count(1)


def make_module(**kwargs) -> Module:
    n = next(_counter)
    kwargs.setdefault("slug", f"module-{n}")
    kwargs.setdefault("title", f"Module {n}")
    kwargs.setdefault("order", n)
    return Module.objects.create(**kwargs)


def make_problem_set(**kwargs) -> ProblemSet:
    n = next(_counter)
    if "module" not in kwargs:
        kwargs["module"] = make_module()
    kwargs.setdefault("slug", f"set-{n}")
    kwargs.setdefault("title", f"Problem set {n}")
    return ProblemSet.objects.create(**kwargs)


def make_exercise(parts: list[dict] | None = None, **kwargs) -> Exercise:
    """An exercise; by default one expression part, d/dx x^2 = 2x."""
    n = next(_counter)
    if "problem_set" not in kwargs:
        kwargs["problem_set"] = make_problem_set()
    kwargs.setdefault("slug", f"exercise-{n}")
    kwargs.setdefault("title", f"Exercise {n}")
    kwargs.setdefault("prompt", "Differentiate \\(x^2\\).")
    kwargs.setdefault("solution", "The power rule gives \\(2x\\).")
    exercise = Exercise.objects.create(**kwargs)
    if parts is None:
        parts = [{"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]}]
    for order, part in enumerate(parts, start=1):
        Part.objects.create(exercise=exercise, order=order, **part)
    return exercise


# A code part: forward_difference(f, x, h), two visible tests and a hidden one worth two.
FORWARD_DIFFERENCE = {
    "function": "forward_difference",
    "signature": "forward_difference(f, x, h)",
    "starter": "def forward_difference(f, x, h):\n    return 0.0\n",
    "reference": {"routine": "forward_difference"},
    "time_limit": 10,
    "tests": [
        {"args": [{"fn": "x^2", "of": ["x"]}, 3, 0.001], "name": "x^2 at 3"},
        {"args": [{"fn": "x^3", "of": ["x"]}, -1, 0.001], "name": "x^3 at -1"},
        {"args": [{"fn": "x^2", "of": ["x"]}, 2, 0.001], "visible": False, "weight": 2},
    ],
}
RIGHT_CODE = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n"
# Wrong where x < 0: passes the first visible test and the hidden one, 3 of 4 by weight.
HALF_RIGHT_CODE = (
    "def forward_difference(f, x, h):\n"
    "    if x < 0:\n"
    "        return 0.0\n"
    "    return (f(x + h) - f(x)) / h\n"
)


def make_code_exercise(with_maths: bool = False, **kwargs) -> Exercise:
    """An exercise with the forward-difference code part `code` (and, `with_maths`,
    the default expression part `a` before it)."""
    parts = [{"key": "code", "kind": "code", "code": FORWARD_DIFFERENCE}]
    if with_maths:
        parts.insert(0, {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]})
    return make_exercise(parts, **kwargs)


def make_submission(student, exercise: Exercise, **kwargs) -> Submission:
    last = Submission.objects.filter(student=student, exercise=exercise).count()
    kwargs.setdefault("attempt", last + 1)
    kwargs.setdefault("answers", {p.key: p.expected for p in exercise.parts.all()})
    return Submission.objects.create(student=student, exercise=exercise, **kwargs)


def broker_down(monkeypatch) -> None:
    """Publishing fails as it does when Redis is unreachable (the integration tests stop a real one)."""
    from kombu.exceptions import OperationalError

    from exercises.tasks import grade_submission

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(grade_submission, "apply_async", refuse)


@pytest.fixture(autouse=True)
def _local_cache(settings):
    # Rate-limit counters live in memory in tests, apart from any Redis.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _nothing_remembered():
    """Each test starts with no API token or course outline kept by this process from
    the last one, whose rows are gone."""
    from exercises import outline, tokenauth

    outline.forget()
    tokenauth._remembered.clear()


@pytest.fixture(autouse=True)
def _no_outage():
    """Each test starts with the broker and the cache reachable, whatever the last one broke."""
    from courseserver.celery import broker_outage
    from exercises.ratelimit import cache_outage
    from exercises.verdict_wait import redis_outage

    outages = (broker_outage, cache_outage, redis_outage)
    for outage in outages:
        outage.ended()
    yield
    for outage in outages:
        outage.ended()


@pytest.fixture(autouse=True)
def _grade_in_one_go(settings):
    """`queue.grade` judges every part at once, however slow the machine; the fairness
    tests set a slice (GRADING_SLICE_SECONDS) of their own."""
    settings.GRADING_SLICE_SECONDS = float("inf")


@pytest.fixture
def eager_celery():
    """Tasks run in the test process when sent (the integration tests use a real worker)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield celery_app
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="alice-password")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", password="bob-password")


@pytest.fixture
def charlie(db):
    from exercises.management.commands.demo_accounts import instructors_group

    user = get_user_model().objects.create_user(
        "charlie", password="charlie-password", is_staff=True
    )
    user.groups.add(instructors_group())
    return user


@pytest.fixture
def exercise(db):
    return make_exercise()


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
