"""Code submissions: refused at submit time when they do not compile, sent to the code
queue, scored by the share of tests passed, and held back (never run unsandboxed,
never failed) when no sandbox can be started."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from exercises import question_tests, queue, regrade
from exercises.models import Grading, Submission
from grading.code import SandboxUnavailable, sandbox
from tests.conftest import (
    HALF_RIGHT_CODE,
    RIGHT_CODE,
    make_code_exercise,
    make_exercise,
    make_submission,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_broker(monkeypatch):
    """The sweep finds no message in the broker (tests/integration/test_sweep.py reads a real one)."""
    monkeypatch.setattr(queue, "in_broker", lambda *args, **kwargs: {})


SYNTAX_ERROR = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) /\n"


@pytest.fixture
def published(monkeypatch):
    """What `publish` was asked to send: (task name, args, Celery queue)."""
    sent = []

    def publish(name, *args, queue=None, on_sent=None, countdown=None, on_failed=None):
        sent.append((name, args, queue))
        return True

    monkeypatch.setattr(queue, "publish", publish)
    return sent


@pytest.fixture
def no_sandbox(monkeypatch):
    """The sandbox cannot start, as on a host without user namespaces."""

    def refuse(case):
        raise SandboxUnavailable("bwrap: No permissions to create new namespace")

    monkeypatch.setattr("grading.code.check_code", refuse)


# ---------------------------------------------------------------- scores


def test_it_scores_a_code_part_by_the_weighted_share_of_tests_passed(alice):
    exercise = make_code_exercise()
    s = make_submission(alice, exercise, answers={"code": HALF_RIGHT_CODE}, queue="code")
    assert queue.grade(s.pk) == "graded"
    s.refresh_from_db()
    assert s.status == "graded"
    assert s.score == pytest.approx(0.75)
    result = s.results["code"]
    assert result["status"] == "incorrect"
    assert result["score"] == pytest.approx(0.75)
    first, second = result["details"]["tests"]
    assert (first["name"], first["passed"]) == ("x^2 at 3", True)
    assert (second["name"], second["passed"]) == ("x^3 at -1", False)
    assert second["received"] == "0.0"
    # Hidden tests are counts only: never their arguments or values.
    assert result["details"]["hidden"] == {"passed": 1, "total": 1}
    assert "2, 0.001" not in json.dumps(result)
    assert Grading.objects.get(submission=s).score == pytest.approx(0.75)


def test_it_gives_a_code_part_its_weight_beside_maths_parts(alice):
    exercise = make_code_exercise(with_maths=True)
    s = make_submission(alice, exercise, answers={"a": "3x", "code": RIGHT_CODE}, queue="code")
    assert queue.grade(s.pk) == "graded"
    s.refresh_from_db()
    assert s.results["a"]["status"] == "incorrect"
    assert s.results["code"]["status"] == "correct" and s.results["code"]["score"] == 1.0
    assert s.score == pytest.approx(0.5)
    assert "score" not in s.results["a"]


# ---------------------------------------------------------------- submit time


def test_it_refuses_code_that_does_not_compile_on_the_page(alice_client, alice, published):
    exercise = make_code_exercise()
    response = alice_client.post(
        f"/exercises/{exercise.slug}/", {"answer-code": SYNTAX_ERROR}, follow=False
    )
    assert response.status_code == 422
    assert "line 2, column" in response.content.decode()
    assert not Submission.objects.filter(student=alice).exists()
    assert published == []


def test_it_refuses_code_that_does_not_compile_in_the_api(client, alice, published):
    exercise = make_code_exercise()
    token = Token.objects.create(user=alice)
    response = client.post(
        f"/api/exercises/{exercise.slug}/submissions/",
        json.dumps({"answers": {"code": SYNTAX_ERROR}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 422
    assert response.json()["errors"]["code"].startswith("line 2, column")
    assert not Submission.objects.filter(student=alice).exists()
    assert published == []


def test_it_refuses_code_that_does_not_define_the_function(alice, published):
    exercise = make_code_exercise()
    with pytest.raises(queue.SubmissionRefused) as refused:
        queue.submit(alice, exercise, {"code": "def forward(f, x, h):\n    return 0\n"})
    assert "forward_difference" in refused.value.errors["code"]
    assert not Submission.objects.exists()


# ---------------------------------------------------------------- routing


def test_it_sends_a_code_submission_to_the_code_queue(
    alice, settings, published, django_capture_on_commit_callbacks
):
    settings.CODE_QUEUE = "code-here"
    exercise = make_code_exercise(with_maths=True)
    with django_capture_on_commit_callbacks(execute=True):
        s = queue.submit(alice, exercise, {"a": "2x", "code": RIGHT_CODE})
    assert s.queue == "code"
    assert published == [(queue.GRADE, (s.pk,), "code-here")]


def test_it_leaves_a_maths_submission_on_the_default_queue(
    alice, exercise, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        s = queue.submit(alice, exercise, {"a": "2x"})
    assert s.queue == "grading"
    assert published == [(queue.GRADE, (s.pk,), None)]


def test_it_sweeps_each_submission_to_its_own_queue(alice, settings, published):
    settings.CODE_QUEUE = "code-here"
    code = make_submission(alice, make_code_exercise(), answers={"code": RIGHT_CODE}, queue="code")
    maths = make_submission(alice, make_exercise())
    assert queue.sweep()["resent"] == 2
    assert sorted(published, key=lambda p: p[1]) == [
        (queue.GRADE, (code.pk,), "code-here"),
        (queue.GRADE, (maths.pk,), None),
    ]


# ---------------------------------------------------------------- fail closed


def test_it_delays_a_code_submission_when_no_sandbox_starts(alice, no_sandbox, caplog):
    s = make_submission(alice, make_code_exercise(), answers={"code": RIGHT_CODE}, queue="code")
    with caplog.at_level(logging.ERROR, logger="exercises.queue"):
        assert queue.grade(s.pk) == "delayed"
    s.refresh_from_db()
    assert s.status == "queued"
    assert s.tries == 0
    assert s.message == queue.DELAYED_MESSAGE
    assert "No permissions to create new namespace" in s.problem
    assert s.results == {} and s.score is None
    assert not Grading.objects.filter(submission=s).exists()
    assert s.last_sent is not None and s.lease_token is None
    assert any(
        r.levelno == logging.ERROR and "No permissions" in r.getMessage() for r in caplog.records
    )


def test_it_never_fails_a_submission_for_want_of_a_sandbox(alice, no_sandbox, settings):
    settings.GRADING_MAX_TRIES = 2
    s = make_submission(alice, make_code_exercise(), answers={"code": RIGHT_CODE}, queue="code")
    for _ in range(4):
        assert queue.grade(s.pk) == "delayed"
    s.refresh_from_db()
    assert (s.status, s.tries) == ("queued", 0)


def test_it_grades_a_delayed_submission_once_the_sandbox_works(
    alice, monkeypatch, settings, eager_celery, django_capture_on_commit_callbacks
):
    # A real sandbox that cannot start: its binary is missing.
    monkeypatch.setenv("CODE_SANDBOX_BWRAP", "/nonexistent/bwrap")
    sandbox.reset()
    s = make_submission(
        alice, make_code_exercise(), answers={"code": HALF_RIGHT_CODE}, queue="code"
    )
    assert queue.grade(s.pk) == "delayed"
    s.refresh_from_db()
    assert (s.status, s.message) == ("queued", queue.DELAYED_MESSAGE)
    assert "/nonexistent/bwrap" in s.problem

    # Not sent again before GRADING_REQUEUE_AFTER: a broken host is not hammered.
    settings.GRADING_REQUEUE_AFTER = 60
    assert queue.sweep()["resent"] == 0

    monkeypatch.delenv("CODE_SANDBOX_BWRAP")
    sandbox.reset()
    Submission.objects.filter(pk=s.pk).update(last_sent=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.sweep()["resent"] == 1
    s.refresh_from_db()
    assert s.status == "graded"
    assert s.score == pytest.approx(0.75)
    assert (s.message, s.problem, s.tries) == ("", "", 1)
    assert Grading.objects.filter(submission=s).count() == 1


def test_it_shows_staff_a_delayed_submission(client, charlie, alice, no_sandbox):
    s = make_submission(alice, make_code_exercise(), answers={"code": RIGHT_CODE}, queue="code")
    queue.grade(s.pk)
    fresh = make_submission(alice, make_exercise())
    client.force_login(charlie)
    response = client.get("/admin/exercises/submission/?attention=stuck")
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {s.pk}
    assert fresh.pk not in shown
    assert "no sandbox for code" in response.content.decode()


def test_it_lets_staff_requeue_a_delayed_submission(
    client, charlie, alice, no_sandbox, published, settings, django_capture_on_commit_callbacks
):
    settings.CODE_QUEUE = "code-here"
    s = make_submission(alice, make_code_exercise(), answers={"code": RIGHT_CODE}, queue="code")
    queue.grade(s.pk)
    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/exercises/submission/", {"action": "requeue", "_selected_action": [s.pk]}
        )
    assert response.status_code == 302
    s.refresh_from_db()
    assert (s.status, s.message, s.problem) == ("queued", "", "")
    assert published == [(queue.GRADE, (s.pk,), "code-here")]


def test_it_tells_the_student_through_the_api_that_grading_is_delayed(client, alice, no_sandbox):
    s = make_submission(alice, make_code_exercise(), answers={"code": RIGHT_CODE}, queue="code")
    queue.grade(s.pk)
    token = Token.objects.create(user=alice)
    body = client.get(f"/api/submissions/{s.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert body["status"] == "queued"
    assert body["message"] == queue.DELAYED_MESSAGE
    assert "namespace" not in json.dumps(body)


@pytest.fixture
def published_jobs(monkeypatch):
    """What regrades and question tests asked to send: (task name, args, Celery queue)."""
    sent = []

    def publish(name, *args, queue=None, on_sent=None):
        sent.append((name, args, queue))
        return True

    monkeypatch.setattr(regrade, "publish", publish)
    monkeypatch.setattr(question_tests, "publish", publish)
    return sent


def test_it_regrades_code_on_the_code_queue_where_sandboxes_start(settings, published_jobs):
    settings.CODE_QUEUE = "code-here"
    code = make_code_exercise()
    maths = make_exercise(problem_set=code.problem_set)

    code_job = regrade.start(exercise=code)
    maths_job = regrade.start(exercise=maths)
    # A problem set with one code exercise among maths ones goes to the code queue too.
    set_job = regrade.start(problem_set=code.problem_set)

    assert published_jobs == [
        (regrade.REGRADE, (code_job.pk,), "code-here"),
        (regrade.REGRADE, (maths_job.pk,), None),
        (regrade.REGRADE, (set_job.pk,), "code-here"),
    ]


def test_it_runs_the_question_tests_of_code_on_the_code_queue(settings, published_jobs):
    settings.CODE_QUEUE = "code-here"
    code, maths = make_code_exercise(), make_exercise()

    code_run, maths_run = question_tests.start(code), question_tests.start(maths)

    assert published_jobs == [
        (question_tests.RUN, (code_run,), "code-here"),
        (question_tests.RUN, (maths_run,), None),
    ]
