"""Submitting answers on the exercise page."""

import pytest

from exercises.models import Submission
from tests.conftest import broker_down, make_exercise, make_submission

pytestmark = pytest.mark.django_db


def url(exercise):
    return f"/exercises/{exercise.slug}/"


def test_it_requires_login(client, exercise):
    response = client.post(url(exercise), {"answer-a": "2x"})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not Submission.objects.exists()


def test_it_rejects_wrong_method(alice_client, exercise):
    response = alice_client.put(url(exercise))
    assert response.status_code == 405
    assert not Submission.objects.exists()


def test_it_404s_a_bad_slug(alice_client):
    response = alice_client.post("/exercises/no-such-thing/", {"answer-a": "2x"})
    assert response.status_code == 404


def test_it_shows_the_exercise(alice_client, exercise):
    response = alice_client.get(url(exercise))
    assert response.status_code == 200
    assert b"Differentiate" in response.content
    assert b'name="answer-a"' in response.content
    # The expected answer is never on the page before the student may see it.
    assert b"power rule gives" not in response.content


def test_it_queues_and_grades_a_right_answer(
    alice_client, alice, exercise, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url(exercise), {"answer-a": "x + x"})
    submission = Submission.objects.get()
    assert response.status_code == 302
    # Back to the exercise page, where the verdict goes beside the answers.
    assert response["Location"] == f"/exercises/{exercise.slug}/#latest-attempt"
    submission.refresh_from_db()
    assert submission.student == alice
    assert submission.attempt == 1
    assert submission.answers == {"a": "x + x"}
    assert submission.status == "graded"
    assert submission.score == 1.0
    assert submission.results["a"]["status"] == "correct"
    assert submission.exercise_version == exercise.version
    assert submission.engine_version


def test_it_grades_a_wrong_answer_with_a_message(
    alice_client, exercise, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url(exercise), {"answer-a": "-2x"})
    submission = Submission.objects.get()
    assert submission.status == "graded"
    assert submission.score == 0.0
    assert submission.results["a"]["status"] == "incorrect"
    assert submission.results["a"]["message"]


def test_it_refuses_an_unreadable_answer_on_the_spot(alice_client, exercise):
    response = alice_client.post(url(exercise), {"answer-a": "2x +"})
    assert response.status_code == 422
    assert not Submission.objects.exists()
    # The typed answer is kept in the box, and the message is shown.
    assert b'value="2x +"' in response.content
    assert b"nothing was submitted" in response.content


def test_it_names_an_unknown_variable(alice_client, exercise):
    response = alice_client.post(url(exercise), {"answer-a": "2z"})
    assert response.status_code == 422
    assert b"z" in response.content
    assert not Submission.objects.exists()


def test_it_refuses_an_empty_answer(alice_client, exercise):
    response = alice_client.post(url(exercise), {"answer-a": "   "})
    assert response.status_code == 422
    assert not Submission.objects.exists()


def test_it_numbers_attempts(
    alice_client, alice, exercise, eager_celery, django_capture_on_commit_callbacks
):
    for answer in ["x", "2x"]:
        with django_capture_on_commit_callbacks(execute=True):
            alice_client.post(url(exercise), {"answer-a": answer})
    attempts = list(Submission.objects.order_by("attempt").values_list("attempt", "score"))
    assert attempts == [(1, 0.0), (2, 1.0)]


def test_it_limits_submissions_in_flight(alice_client, alice, exercise, settings):
    settings.SUBMISSIONS_IN_FLIGHT = 2
    make_submission(alice, exercise, status="queued")
    make_submission(alice, exercise, status="grading")
    response = alice_client.post(url(exercise), {"answer-a": "2x"})
    assert response.status_code == 429
    assert b"still being graded" in response.content
    assert Submission.objects.count() == 2


def test_it_limits_submissions_per_minute(alice_client, alice, exercise, settings):
    settings.SUBMISSIONS_PER_MINUTE = 2
    for answer in ["x", "3x"]:
        assert alice_client.post(url(exercise), {"answer-a": answer}).status_code == 302
    response = alice_client.post(url(exercise), {"answer-a": "2x"})
    assert response.status_code == 429
    assert b"Too many submissions" in response.content
    assert Submission.objects.count() == 2


def test_it_keeps_the_receipt_when_the_broker_is_down(
    alice_client, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    broker_down(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(url(exercise), {"answer-a": "2x"})
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert submission.status == "queued"
    assert submission.last_sent is None  # the sweep will send it


def test_it_grades_several_parts_with_weights(
    alice_client, eager_celery, django_capture_on_commit_callbacks
):
    exercise = make_exercise(
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "expected": "cos(x)",
                "variables": ["x"],
                "weight": 3,
            },
            {"key": "b", "kind": "numeric", "expected": "pi/4", "rtol": 1e-3},
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url(exercise), {"answer-a": "cos(x)", "answer-b": "0.5"})
    submission = Submission.objects.get()
    assert submission.results["a"]["status"] == "correct"
    assert submission.results["b"]["status"] == "incorrect"
    assert submission.score == pytest.approx(0.75)


def test_it_submits_the_form_without_reading_the_parts_or_the_extension_apart(
    alice_client, alice, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from exercises.tasks import grade_submission

    monkeypatch.setattr(grade_submission, "apply_async", lambda *a, **kw: None)
    url = f"/exercises/{exercise.slug}/"
    alice_client.get(url)  # the exercise's parts are read once per version

    with CaptureQueriesContext(connection) as captured:
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(url, {"answer-a": "2x"})

    assert response.status_code == 302
    queries = [q["sql"] for q in captured.captured_queries]
    assert not [q for q in queries if q.startswith('SELECT "exercises_part"')]
    assert not [q for q in queries if q.startswith('SELECT "exercises_extension"')]
    # The session, its user, the exercise (with its problem set, module and the
    # student's extension); in the transaction, the student's lock, the attempts with
    # those in flight, the insert (on PostgreSQL one statement), marked sent with the
    # row: nothing more once published.
    assert len(queries) == (7 if connection.vendor == "postgresql" else 8)
    assert not [q for q in queries if q.startswith('UPDATE "exercises_submission"')]
    assert Submission.objects.get().answers == {"a": "2x"}


def test_reading_an_answer_fills_in_no_known_mistake(alice, monkeypatch):
    # The mistakes are for the worker's verdict: checking that an answer can be read at
    # submit (and in the live preview) does not render their templates.
    from exercises import variants
    from exercises.queue import submit

    exercise = make_exercise(
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "expected": "2*x",
                "variables": ["x"],
                "mistakes": [{"answer": "x^2", "message": "Differentiate, do not integrate."}],
            }
        ]
    )
    monkeypatch.setattr(variants, "mistakes_for", lambda *a, **kw: pytest.fail("rendered"))
    assert submit(alice, exercise, {"a": "2x"}).answers == {"a": "2x"}
    with pytest.raises(Exception, match="could not be read"):
        submit(alice, exercise, {"a": "2x+"})
    monkeypatch.undo()
    part = exercise.parts.get()
    assert part.case("2x")["mistakes"] and "mistakes" not in part.case("2x", mistakes=False)
