"""Waiting for a verdict (`Prefer: wait=N`): exercises/verdict_wait.py and the API.

The tests marked `live_redis` need the Redis of REDIS_URL (run them with
REDIS_URL=redis://127.0.0.1:6379/0); without one they are skipped, and the others
check that a wait is then simply not made. Each test has a key prefix of its own.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import redis
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from exercises import queue, verdict_wait
from exercises.models import ProblemSet, Submission
from exercises.presentation import HELD_MESSAGE
from exercises.signals import verdict_stored
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def prefix(monkeypatch, settings):
    settings.VERDICT_WAIT_MAX = 2
    settings.VERDICT_WAITERS = 2
    name = f"test-verdict-{uuid.uuid4().hex}:"
    monkeypatch.setattr(verdict_wait, "PREFIX", name)
    return name


@pytest.fixture
def live_redis(settings, prefix):
    client = redis.Redis.from_url(settings.CACHE_REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        pytest.skip("no Redis at REDIS_URL")
    yield client
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


@pytest.fixture
def api(client, alice):
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def submit(api, exercise, prefer: str | None = None, url: str | None = None):
    headers = {"HTTP_PREFER": prefer} if prefer is not None else {}
    return api.post(
        url or f"/api/exercises/{exercise.slug}/submissions/",
        json.dumps({"answers": {"a": "2x"}}),
        content_type="application/json",
        **headers,
    )


def record_verdict(submission_id: int) -> None:
    """What the worker records, without the worker."""
    Submission.objects.filter(pk=submission_id).update(
        status=Submission.Status.GRADED,
        score=1.0,
        credit=1.0,
        results={"a": {"status": "correct", "message": ""}},
    )


def seated(count: int = 1, timeout: float = 10) -> None:
    """Return once `count` requests are waiting in Redis."""
    done = threading.Event()
    while not done.wait(0.01):
        if verdict_wait._waiting >= count:
            return
        timeout -= 0.01
        assert timeout > 0, "nobody started waiting"


class BlockingClient:
    """A Redis client whose blocking pop waits until `release` is set."""

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def blmove(self, *args):
        self.calls += 1
        self.release.wait(10)
        return b"1"


# ---------------------------------------------------------------- the module


def test_it_returns_at_once_when_the_verdict_is_recorded(alice, exercise, monkeypatch):
    monkeypatch.setattr(verdict_wait, "_client", lambda blocking: pytest.fail("waited"))
    graded = make_submission(alice, exercise, status=Submission.Status.GRADED)
    failed = make_submission(alice, exercise, status=Submission.Status.FAILED)

    assert verdict_wait.wait(graded.pk, 2) is True
    assert verdict_wait.wait(failed.pk, 2) is True


def test_it_is_woken_by_notify_from_another_thread(alice, exercise, live_redis):
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)
    notifier = threading.Thread(target=lambda: (seated(), verdict_wait.notify(s.pk)))
    notifier.start()

    assert verdict_wait.wait(s.pk, 2) is True
    notifier.join()


def test_it_wakes_every_waiter_with_one_notify(alice, exercise, live_redis):
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)
    woken = []
    waiters = [
        threading.Thread(target=lambda: woken.append(verdict_wait.wait(s.pk, 2, seen_pending=True)))
        for _ in range(2)
    ]
    for waiter in waiters:
        waiter.start()
    seated(2)
    verdict_wait.notify(s.pk)
    for waiter in waiters:
        waiter.join()

    assert woken == [True, True]


def test_it_finds_a_verdict_notified_before_it_waits(alice, exercise, live_redis):
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)
    verdict_wait.notify(s.pk)

    assert verdict_wait.wait(s.pk, 2, seen_pending=True) is True
    assert live_redis.ttl(f"{verdict_wait.PREFIX}{s.pk}") > 0


def test_it_times_out(alice, exercise, live_redis):
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    assert verdict_wait.wait(s.pk, 0.1) is False


def test_it_waits_no_longer_than_the_limit(alice, exercise, live_redis, settings):
    # Longer than the limit, the blocking pop would outlast its socket: None, not False.
    settings.VERDICT_WAIT_MAX = 0.1
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    assert verdict_wait.wait(s.pk, 60) is False


def test_it_does_not_wait_when_redis_is_unreachable(alice, exercise, settings, monkeypatch):
    settings.CACHE_REDIS_URL = "redis://127.0.0.1:1/0"
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    assert verdict_wait.wait(s.pk, 2) is None
    assert verdict_wait.redis_outage
    # Nor is it tried again for a while; notifying does not raise either.
    monkeypatch.setattr(verdict_wait, "_client", lambda blocking: pytest.fail("tried"))
    assert verdict_wait.wait(s.pk, 2) is None
    verdict_wait.notify(s.pk)


def test_it_does_not_wait_while_the_cache_is_down(alice, exercise, monkeypatch):
    from exercises.ratelimit import cache_outage

    monkeypatch.setattr(verdict_wait, "_client", lambda blocking: pytest.fail("tried"))
    cache_outage.began()
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    assert verdict_wait.wait(s.pk, 2) is None


def test_it_notifies_without_raising_when_redis_is_unreachable(settings):
    settings.CACHE_REDIS_URL = "redis://127.0.0.1:1/0"

    verdict_wait.notify(1)

    assert verdict_wait.redis_outage


def test_it_bounds_the_waiters_of_a_process(alice, exercise, settings, monkeypatch):
    settings.VERDICT_WAITERS = 1
    client = BlockingClient()
    monkeypatch.setattr(verdict_wait, "_client", lambda blocking: client)
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)
    first = threading.Thread(
        target=verdict_wait.wait, args=(s.pk, 2), kwargs={"seen_pending": True}
    )
    first.start()
    seated()

    assert verdict_wait.wait(s.pk, 2, seen_pending=True) is None
    client.release.set()
    first.join()
    assert client.calls == 1
    # The seat is free again.
    assert verdict_wait.wait(s.pk, 2, seen_pending=True) is True
    assert verdict_wait._waiting == 0


def test_it_never_waits_with_no_seats(alice, exercise, settings, monkeypatch):
    settings.VERDICT_WAITERS = 0  # WEB_THREADS=1: the process's one thread
    monkeypatch.setattr(verdict_wait, "_client", lambda blocking: pytest.fail("waited"))
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    assert verdict_wait.wait(s.pk, 2) is None


def test_it_notifies_once_the_verdict_commits(
    alice, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    notified = []
    monkeypatch.setattr(verdict_wait, "notify", notified.append)
    s = make_submission(alice, exercise, status=Submission.Status.GRADED)

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            verdict_stored.send(Submission, submission_id=s.pk, regrade=False)
            assert notified == []

    assert notified == [s.pk]


def test_it_notifies_when_a_submission_is_graded(
    alice, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    notified = []
    monkeypatch.setattr(verdict_wait, "notify", notified.append)
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    with django_capture_on_commit_callbacks(execute=True):
        queue.grade(s.pk)

    assert notified == [s.pk]


# ---------------------------------------------------------------- the API


@pytest.fixture
def waits(monkeypatch):
    """verdict_wait.wait, recorded: the verdict is recorded meanwhile."""
    calls = []

    def wait(submission_id, seconds, *, seen_pending=False):
        calls.append((submission_id, seconds))
        record_verdict(submission_id)
        return True

    monkeypatch.setattr(verdict_wait, "wait", wait)
    return calls


def test_it_answers_a_submit_with_the_verdict_when_asked(api, exercise, waits):
    response = submit(api, exercise, "wait=2")

    assert response.status_code == 202
    assert response["Preference-Applied"] == "wait=2"
    body = response.json()
    s = Submission.objects.get()
    assert waits == [(s.pk, 2)]
    assert body["id"] == s.pk and body["url"].endswith(f"/api/submissions/{s.pk}/")
    assert body["status"] == "graded" and body["score"] == 1.0
    assert body["parts"]["a"]["status"] == "correct"
    assert body == {**api.get(f"/api/submissions/{s.pk}/").json(), "url": body["url"]}


def test_it_answers_a_placed_submit_with_the_verdict_when_asked(api, exercise, waits):
    url = f"/api/sets/{exercise.problem_set.slug}/exercises/{exercise.slug}/submissions/"

    response = submit(api, exercise, "respond-async, wait=1", url=url)

    assert response.status_code == 202 and response["Preference-Applied"] == "wait=1"
    assert response.json()["status"] == "graded"


def test_it_caps_the_wait(api, exercise, waits, settings):
    settings.VERDICT_WAIT_MAX = 2

    response = submit(api, exercise, "wait=600")

    assert response["Preference-Applied"] == "wait=2"
    # The module caps the wait itself; the view passes on what was asked.
    assert waits[0][1] == 600


@pytest.mark.parametrize("prefer", [None, "", "wait=abc", "wait=-1", "wait=0", "wait=1.5", "wait"])
def test_it_answers_at_once_without_a_valid_wait(api, exercise, monkeypatch, prefer):
    monkeypatch.setattr(verdict_wait, "wait", lambda *a, **kw: pytest.fail("waited"))

    response = submit(api, exercise, prefer)

    assert response.status_code == 202
    assert "Preference-Applied" not in response
    s = Submission.objects.get()
    assert response.json() == {
        "id": s.pk,
        "status": "queued",
        "url": f"http://testserver/api/submissions/{s.pk}/",
    }
    response = api.get(f"/api/submissions/{s.pk}/", **({"HTTP_PREFER": prefer} if prefer else {}))
    assert response.status_code == 200 and "Preference-Applied" not in response


def test_it_answers_at_once_when_it_cannot_wait(api, exercise, monkeypatch):
    monkeypatch.setattr(verdict_wait, "wait", lambda *a, **kw: None)

    response = submit(api, exercise, "wait=2")

    assert "Preference-Applied" not in response
    assert response.json()["status"] == "queued"


def test_it_answers_with_the_status_when_the_wait_times_out(api, exercise, monkeypatch):
    monkeypatch.setattr(verdict_wait, "wait", lambda *a, **kw: False)

    response = submit(api, exercise, "wait=2")

    assert response["Preference-Applied"] == "wait=2"
    assert set(response.json()) == {"id", "status", "url"}


def test_it_holds_a_quiz_s_verdict_in_the_waited_answer(api, alice, waits):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ)
    exercise = make_exercise(problem_set=quiz)

    body = submit(api, exercise, "wait=2").json()

    assert body["status"] == "graded" and body["detail"] == HELD_MESSAGE
    assert "score" not in body and "parts" not in body
    assert body["feedback_released"] is False


def test_it_answers_a_poll_with_the_verdict_when_asked(api, alice, exercise, waits):
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    response = api.get(f"/api/submissions/{s.pk}/", HTTP_PREFER="wait=2")

    assert response["Preference-Applied"] == "wait=2"
    assert response.json()["status"] == "graded" and response.json()["score"] == 1.0


def test_it_answers_a_poll_on_a_failed_submission_at_once(api, alice, exercise, monkeypatch):
    monkeypatch.setattr(verdict_wait, "wait", lambda *a, **kw: pytest.fail("waited"))
    s = make_submission(
        alice, exercise, status=Submission.Status.FAILED, message="The grader gave up."
    )

    response = api.get(f"/api/submissions/{s.pk}/", HTTP_PREFER="wait=2")

    assert response["Preference-Applied"] == "wait=2"
    assert response.json()["status"] == "failed"
    assert response.json()["message"] == "The grader gave up."


def test_it_hides_another_students_submission_from_a_wait(api, bob, exercise, monkeypatch):
    monkeypatch.setattr(verdict_wait, "wait", lambda *a, **kw: pytest.fail("waited"))
    s = make_submission(bob, exercise, status=Submission.Status.QUEUED)

    assert api.get(f"/api/submissions/{s.pk}/", HTTP_PREFER="wait=2").status_code == 404


def test_it_polls_with_two_queries_when_the_wait_times_out(
    api, alice, exercise, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(verdict_wait, "wait", lambda *a, **kw: False)
    s = make_submission(alice, exercise, status=Submission.Status.QUEUED)

    with django_assert_num_queries(2):  # the token with its user, the submission
        response = api.get(f"/api/submissions/{s.pk}/", HTTP_PREFER="wait=2")

    assert response.json()["status"] == "queued"


@pytest.mark.django_db(transaction=True)
def test_it_answers_a_submit_once_the_worker_has_graded_it(client, alice, monkeypatch, live_redis):
    """End to end: the worker (a thread here) grades the submission the request waits for."""
    from exercises.tasks import grade_submission

    monkeypatch.setattr(grade_submission, "apply_async", lambda *a, **kw: None)
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    exercise = make_exercise()

    def worker():
        try:
            seated()
            queue.grade(Submission.objects.get().pk)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    response = submit(client, exercise, "wait=2")
    thread.join()

    assert response["Preference-Applied"] == "wait=2"
    body = response.json()
    assert body["status"] == "graded" and body["score"] == 1.0
