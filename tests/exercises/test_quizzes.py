"""Quizzes: a time limit from the student's start, a fixed number of attempts, and
feedback held back until the instructor releases it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exercises import queue
from exercises.models import ProblemSet, QuizStart, Submission
from tests.conftest import make_exercise, make_problem_set

pytestmark = pytest.mark.django_db


def make_quiz(**kwargs) -> ProblemSet:
    kwargs.setdefault("kind", ProblemSet.Kind.QUIZ)
    return make_problem_set(**kwargs)


def graded(student, exercise, answer: str) -> Submission:
    submission = queue.submit(student, exercise, {"a": answer})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def test_it_starts_the_quiz_when_a_student_opens_an_exercise(alice_client, alice):
    exercise = make_exercise(problem_set=make_quiz(time_limit=30))

    alice_client.get(exercise.get_absolute_url())
    first = QuizStart.objects.get(student=alice)
    alice_client.get(exercise.get_absolute_url())

    assert QuizStart.objects.get(student=alice).started == first.started
    assert exercise.problem_set.ends_for(alice) == first.started + timedelta(minutes=30)


def test_it_does_not_start_a_practice_set(alice_client, alice, exercise):
    alice_client.get(exercise.get_absolute_url())

    assert not QuizStart.objects.exists()


def test_it_refuses_answers_once_the_time_is_up(alice):
    quiz = make_quiz(time_limit=20)
    exercise = make_exercise(problem_set=quiz)
    QuizStart.objects.create(
        student=alice, problem_set=quiz, started=timezone.now() - timedelta(minutes=21)
    )

    with pytest.raises(queue.SubmissionRefused, match="time for this quiz") as refused:
        queue.submit(alice, exercise, {"a": "2x"})

    assert refused.value.http_status == 403
    assert not Submission.objects.exists()


def test_it_accepts_answers_within_the_time(alice, bob):
    quiz = make_quiz(time_limit=20)
    exercise = make_exercise(problem_set=quiz)
    QuizStart.objects.create(
        student=bob, problem_set=quiz, started=timezone.now() - timedelta(minutes=21)
    )

    submission = queue.submit(alice, exercise, {"a": "2x"})

    # Answering without opening the page first starts the clock too.
    assert submission.pk and QuizStart.objects.filter(student=alice).exists()


def test_it_gives_one_attempt_in_a_quiz_unless_the_exercise_says_more(alice, bob):
    quiz = make_quiz()
    one = make_exercise(problem_set=quiz)
    three = make_exercise(problem_set=quiz, max_attempts=3)

    queue.submit(alice, one, {"a": "x"})
    with pytest.raises(queue.SubmissionRefused, match="all 1 attempts"):
        queue.submit(alice, one, {"a": "2x"})
    for _ in range(3):
        queue.submit(bob, three, {"a": "x"})

    assert Submission.objects.filter(student=bob).count() == 3


def test_it_grades_a_quiz_at_once_but_holds_back_the_verdict(alice_client, alice):
    exercise = make_exercise(problem_set=make_quiz())
    submission = graded(alice, exercise, "x")

    page = alice_client.get(submission.get_absolute_url()).content.decode()
    api = alice_client.get(f"/api/submissions/{submission.pk}/").json()

    assert submission.status == Submission.Status.GRADED and submission.score == 0.0
    assert "feedback will be released later" in page
    assert "result-submitted" in page and "result-incorrect" not in page
    assert "Score:" not in page
    assert api["feedback_released"] is False
    assert "score" not in api and "parts" not in api and "credit" not in api
    assert api["detail"] == "Submitted: feedback will be released later."


def test_it_hides_scores_solved_marks_and_the_solution_until_release(alice_client, alice):
    quiz = make_quiz()
    exercise = make_exercise(problem_set=quiz, solution="Use the power rule: SECRET.")
    graded(alice, exercise, "2x")

    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    listing = alice_client.get(quiz.get_absolute_url()).content.decode()

    assert "SECRET" not in page and "Best score" not in page and "100%" not in page
    assert "submitted" in page
    assert "state-solved" not in listing and "state-tried" in listing


def test_it_shows_everything_once_the_feedback_is_released(alice_client, alice):
    quiz = make_quiz()
    exercise = make_exercise(problem_set=quiz, solution="Use the power rule: SECRET.")
    submission = graded(alice, exercise, "x")
    quiz.feedback_released = timezone.now() - timedelta(minutes=1)
    quiz.save()

    page = alice_client.get(submission.get_absolute_url()).content.decode()
    api = alice_client.get(f"/api/submissions/{submission.pk}/").json()
    exercise_page = alice_client.get(exercise.get_absolute_url()).content.decode()

    assert "result-incorrect" in page and "Score:" in page
    assert api["score"] == 0.0 and api["parts"]["a"]["status"] == "incorrect"
    # The solution of a quiz comes with the feedback, solved or not.
    assert "SECRET" in exercise_page


def test_it_holds_back_feedback_released_only_in_the_future(alice_client, alice):
    quiz = make_quiz(feedback_released=timezone.now() + timedelta(days=1))
    submission = graded(alice, make_exercise(problem_set=quiz), "2x")

    api = alice_client.get(f"/api/submissions/{submission.pk}/").json()

    assert api["feedback_released"] is False and "score" not in api


def test_it_keeps_practice_sets_as_they_were(alice_client, alice, exercise):
    submission = graded(alice, exercise, "2x")
    queue.submit(alice, exercise, {"a": "2x"})

    api = alice_client.get(f"/api/submissions/{submission.pk}/").json()

    assert api["score"] == 1.0 and api["feedback_released"] is True


def test_it_tells_the_api_about_the_quiz(alice_client, alice):
    exercise = make_exercise(problem_set=make_quiz(time_limit=10))

    body = alice_client.get(f"/api/exercises/{exercise.slug}/").json()

    assert body["kind"] == "quiz" and body["max_attempts"] == 1
    assert body["feedback_released"] is False and body["quiz_ends"] is not None


def test_it_refuses_a_late_submission_through_the_page_with_the_reason(alice_client, alice):
    quiz = make_quiz(time_limit=5)
    exercise = make_exercise(problem_set=quiz)
    QuizStart.objects.create(
        student=alice, problem_set=quiz, started=timezone.now() - timedelta(hours=1)
    )

    response = alice_client.post(exercise.get_absolute_url(), {"answer-a": "2x"})

    assert response.status_code == 403
    assert "time for this quiz" in response.content.decode()
    assert not Submission.objects.exists()


# ---------------------------------------------------------------- the admin


def test_it_releases_feedback_from_the_admin(client, charlie):
    quiz = make_quiz()
    practice = make_problem_set()
    client.force_login(charlie)

    client.post(
        reverse("admin:exercises_problemset_changelist"),
        {"action": "release_feedback", "_selected_action": [quiz.pk, practice.pk]},
    )

    quiz.refresh_from_db()
    practice.refresh_from_db()
    assert quiz.feedback_released is not None and quiz.shows_feedback()
    assert practice.feedback_released is None


def test_it_keeps_students_from_releasing_feedback(client, alice):
    quiz = make_quiz()
    client.force_login(alice)

    response = client.post(
        reverse("admin:exercises_problemset_changelist"),
        {"action": "release_feedback", "_selected_action": [quiz.pk]},
    )

    quiz.refresh_from_db()
    assert response.status_code == 302 and quiz.feedback_released is None


def test_it_lets_instructors_give_a_student_their_time_again(client, charlie, alice):
    quiz = make_quiz(time_limit=5)
    start = QuizStart.objects.create(student=alice, problem_set=quiz)
    client.force_login(charlie)

    response = client.post(
        reverse("admin:exercises_quizstart_delete", args=[start.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not QuizStart.objects.exists()


def test_it_keeps_another_students_quiz_submission_hidden(client, alice, bob):
    submission = graded(alice, make_exercise(problem_set=make_quiz()), "2x")
    client.force_login(bob)

    page = client.get(submission.get_absolute_url())
    api = client.get(f"/api/submissions/{submission.pk}/")

    assert page.status_code == 404 and api.status_code == 404


def test_it_keeps_students_from_resetting_their_quiz_time(client, alice):
    quiz = make_quiz(time_limit=5)
    start = QuizStart.objects.create(student=alice, problem_set=quiz)
    client.force_login(alice)

    response = client.post(
        reverse("admin:exercises_quizstart_delete", args=[start.pk]), {"post": "yes"}
    )

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert QuizStart.objects.filter(pk=start.pk).exists()


def test_it_answers_a_bad_start_id_without_an_error(client, charlie):
    client.force_login(charlie)

    response = client.get(reverse("admin:exercises_quizstart_delete", args=["nope"]))

    assert response.status_code == 302
    assert not QuizStart.objects.exists()


def test_it_lists_quiz_starts_with_when_the_time_ends(client, charlie, alice):
    quiz = make_quiz(time_limit=30, title="Week 3 quiz")
    start = QuizStart.objects.create(student=alice, problem_set=quiz)
    client.force_login(charlie)

    page = client.get(reverse("admin:exercises_quizstart_changelist")).content.decode()

    assert "Week 3 quiz" in page and "alice" in page
    assert start.ends() == start.started + timedelta(minutes=30)
