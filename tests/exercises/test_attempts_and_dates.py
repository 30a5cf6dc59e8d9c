"""Attempt limits with a penalty per retry, and problem sets' opening and due dates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from exercises import queue
from exercises.models import ProblemSet, Submission
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db


def graded(submission: Submission) -> Submission:
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def test_it_refuses_an_attempt_beyond_the_limit(alice):
    exercise = make_exercise(max_attempts=2)
    queue.submit(alice, exercise, {"a": "x"})
    queue.submit(alice, exercise, {"a": "x"})
    with pytest.raises(queue.SubmissionRefused, match="all 2 attempts") as refused:
        queue.submit(alice, exercise, {"a": "2x"})
    assert refused.value.http_status == 403
    assert Submission.objects.filter(student=alice).count() == 2


def test_it_does_not_count_a_failed_submission_as_an_attempt(alice):
    exercise = make_exercise(max_attempts=1)
    make_submission(alice, exercise, status=Submission.Status.FAILED)
    submission = queue.submit(alice, exercise, {"a": "2x"})
    assert submission.attempt == 2 and submission.multiplier == 1.0


def test_it_counts_attempts_per_student(alice, bob):
    exercise = make_exercise(max_attempts=1)
    queue.submit(alice, exercise, {"a": "x"})
    assert queue.submit(bob, exercise, {"a": "2x"}).attempt == 1


def test_it_takes_the_retry_penalty_from_each_later_attempt(alice):
    exercise = make_exercise(retry_penalty=0.25)
    first = graded(queue.submit(alice, exercise, {"a": "x"}))
    second = graded(queue.submit(alice, exercise, {"a": "2x"}))
    third = graded(queue.submit(alice, exercise, {"a": "2x"}))
    assert (first.score, first.credit) == (0.0, 0.0)
    assert (second.score, second.multiplier, second.credit) == (1.0, 0.75, 0.75)
    assert (third.multiplier, third.credit) == (0.5, 0.5)
    # Solving is still solving: the penalty changes the credit, not the verdict.
    assert second.is_correct


def test_it_hides_a_problem_set_until_it_opens(alice_client, alice):
    later = make_problem_set(opens=timezone.now() + timedelta(days=1))
    exercise = make_exercise(problem_set=later)
    assert alice_client.get(exercise.get_absolute_url()).status_code == 404
    assert alice_client.get(f"/api/exercises/{exercise.slug}/").status_code == 404
    response = alice_client.post(exercise.get_absolute_url(), {"answer-a": "2x"})
    assert response.status_code == 404
    assert exercise.title not in alice_client.get(later.get_absolute_url()).content.decode()
    with pytest.raises(queue.SubmissionRefused, match="not open yet"):
        queue.submit(alice, exercise, {"a": "2x"})
    assert not Submission.objects.exists()


def test_it_shows_a_problem_set_once_it_has_opened(alice_client):
    opened = make_problem_set(opens=timezone.now() - timedelta(minutes=1))
    exercise = make_exercise(problem_set=opened)
    assert alice_client.get(exercise.get_absolute_url()).status_code == 200


def test_it_refuses_late_answers_when_the_policy_says_so(alice_client, alice):
    closed = make_problem_set(
        due=timezone.now() - timedelta(hours=1), late_policy=ProblemSet.LatePolicy.REFUSE
    )
    exercise = make_exercise(problem_set=closed)
    response = alice_client.post(
        f"/api/exercises/{exercise.slug}/submissions/",
        {"answers": {"a": "2x"}},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "due date" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_it_takes_the_late_penalty_from_a_late_answer(alice):
    past = make_problem_set(
        due=timezone.now() - timedelta(hours=1),
        late_policy=ProblemSet.LatePolicy.PENALTY,
        late_penalty=0.4,
    )
    exercise = make_exercise(problem_set=past, retry_penalty=0.5)
    first = graded(queue.submit(alice, exercise, {"a": "2x"}))
    second = graded(queue.submit(alice, exercise, {"a": "2x"}))
    assert first.late and first.credit == pytest.approx(0.6)
    assert second.credit == pytest.approx(0.3)


def test_it_accepts_late_answers_in_full_by_default(alice):
    past = make_problem_set(due=timezone.now() - timedelta(hours=1))
    submission = graded(queue.submit(alice, make_exercise(problem_set=past), {"a": "2x"}))
    assert submission.late and submission.credit == 1.0


def test_it_accepts_answers_before_the_due_date_in_full(alice):
    future = make_problem_set(
        due=timezone.now() + timedelta(hours=1),
        late_policy=ProblemSet.LatePolicy.PENALTY,
        late_penalty=0.4,
    )
    submission = graded(queue.submit(alice, make_exercise(problem_set=future), {"a": "2x"}))
    assert not submission.late and submission.credit == 1.0


def test_it_tells_the_api_caller_about_attempts_and_the_due_date(alice_client, alice):
    due = timezone.now() + timedelta(days=2)
    exercise = make_exercise(problem_set=make_problem_set(due=due), max_attempts=3)
    queue.submit(alice, exercise, {"a": "x"})
    body = alice_client.get(f"/api/exercises/{exercise.slug}/").json()
    assert (body["max_attempts"], body["attempts_used"]) == (3, 1)
    assert body["due"].startswith(due.strftime("%Y-%m-%dT%H:%M"))


def test_it_tells_the_student_on_the_page_when_attempts_are_used_up(alice_client, alice):
    exercise = make_exercise(max_attempts=1)
    queue.submit(alice, exercise, {"a": "x"})
    response = alice_client.post(exercise.get_absolute_url(), {"answer-a": "2x"})
    assert response.status_code == 403
    assert "You have used all 1 attempts" in response.content.decode()
    view = response.context["view"]
    assert (view.attempt_limit, view.attempts_used, view.attempts_left) == (1, 1, 0)
    assert Submission.objects.filter(student=alice).count() == 1


def test_it_reports_credit_and_lateness_in_the_api(alice_client, alice):
    past = make_problem_set(
        due=timezone.now() - timedelta(hours=1),
        late_policy=ProblemSet.LatePolicy.PENALTY,
        late_penalty=0.5,
    )
    submission = graded(queue.submit(alice, make_exercise(problem_set=past), {"a": "2x"}))
    body = alice_client.get(f"/api/submissions/{submission.pk}/").json()
    assert (body["score"], body["credit"], body["late"]) == (1.0, 0.5, True)


def test_it_shows_the_solution_once_the_attempts_are_used_up(client, alice):
    from tests.conftest import make_exercise, make_submission

    exercise = make_exercise(max_attempts=2)
    client.force_login(alice)
    make_submission(alice, exercise, status="graded", score=0.0, answers={"a": "x"})
    page = client.get(f"/exercises/{exercise.slug}/").content
    assert b"Worked solution" not in page
    make_submission(alice, exercise, status="graded", score=0.0, answers={"a": "x"})
    page = client.get(f"/exercises/{exercise.slug}/").content
    assert b"Worked solution" in page
    assert b"power rule gives" in page
