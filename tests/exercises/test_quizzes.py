"""Quizzes: a time limit from the student's start, a fixed number of attempts, and
feedback held back until the instructor releases it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from exercises import queue, quiz, tasks
from exercises.models import Accommodation, ProblemSet, QuizDraft, QuizStart, Submission
from exercises.quiz import finish, finish_due
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db


def make_quiz(**kwargs) -> ProblemSet:
    kwargs.setdefault("kind", ProblemSet.Kind.QUIZ)
    return make_problem_set(**kwargs)


def graded(student, exercise, answer: str) -> Submission:
    submission = queue.submit(student, exercise, {"a": answer})
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def test_it_starts_an_untimed_quiz_when_a_student_opens_an_exercise(alice_client, alice):
    exercise = make_exercise(problem_set=make_quiz())

    alice_client.get(exercise.get_absolute_url())
    first = QuizStart.objects.get(student=alice)
    alice_client.get(exercise.get_absolute_url())

    assert QuizStart.objects.get(student=alice).started == first.started
    assert exercise.problem_set.ends_for(alice) is None


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


# ---------------------------------------------------------------- starting a timed quiz


def start_url(quiz: ProblemSet) -> str:
    return reverse("ex-quiz-start", args=[quiz.slug])


def started(student, quiz: ProblemSet, minutes_ago: float = 0) -> QuizStart:
    return QuizStart.objects.create(
        student=student, problem_set=quiz, started=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_it_does_not_start_a_timed_quiz_when_an_exercise_is_opened(alice_client, alice):
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz, prompt="Differentiate SECRET.")

    response = alice_client.get(exercise.get_absolute_url(), follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(f"{quiz.get_absolute_url()}#quiz", 302)]
    assert "This quiz is timed: start it here when you are ready." in page
    assert "SECRET" not in page
    assert not QuizStart.objects.exists()


def test_it_takes_no_answers_to_a_timed_quiz_not_started(alice_client, alice):
    exercise = make_exercise(problem_set=make_quiz(time_limit=30))

    response = alice_client.post(exercise.get_absolute_url(), {"answer-a": "2x"})

    assert response.status_code == 302
    assert not Submission.objects.exists() and not QuizStart.objects.exists()


def test_it_says_on_the_set_page_how_long_and_until_when(alice_client, alice):
    quiz = make_quiz(time_limit=30)
    make_exercise(problem_set=quiz)

    page = alice_client.get(quiz.get_absolute_url()).content.decode()

    assert "A timed quiz: 30 minutes" in page
    assert "If you start now, your time ends at" in page
    assert "Start the quiz" in page and f'action="{start_url(quiz)}"' in page
    # In the browser's zone once the page's script runs; named, in the server's, before.
    assert '<time class="local-time" datetime="' in page
    assert " UTC</time>" in page


def test_it_asks_for_confirmation_before_the_clock_starts(alice_client, alice):
    quiz = make_quiz(time_limit=30)
    make_exercise(problem_set=quiz)

    response = alice_client.post(start_url(quiz))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Start the clock now" in page and 'name="confirm" value="yes"' in page
    assert "30 minutes" in page
    assert not QuizStart.objects.exists()


def test_it_starts_the_clock_once_confirmed(alice_client, alice):
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz)
    before = timezone.now()

    response = alice_client.post(start_url(quiz), {"confirm": "yes"})
    page = alice_client.get(exercise.get_absolute_url()).content.decode()

    start = QuizStart.objects.get(student=alice)
    assert response.status_code == 302 and response["Location"] == exercise.get_absolute_url()
    assert before <= start.started <= timezone.now()
    assert quiz.ends_for(alice) == start.started + timedelta(minutes=30)
    assert f'data-ends="{start.ends().isoformat()}"' in page
    assert 'role="timer"' in page and 'role="alert"' in page
    assert f'data-draft-url="/exercises/{exercise.slug}/draft/"' in page


def test_it_keeps_the_first_start(alice_client, alice):
    quiz = make_quiz(time_limit=30)
    first = started(alice, quiz, minutes_ago=10)

    response = alice_client.post(start_url(quiz), {"confirm": "yes"})

    assert response.status_code == 302
    assert QuizStart.objects.get().started == first.started


def test_it_starts_only_its_own_students_clock(alice_client, alice, bob):
    quiz = make_quiz(time_limit=30)
    make_exercise(problem_set=quiz)
    started(bob, quiz, minutes_ago=5)

    page = alice_client.get(quiz.get_absolute_url()).content.decode()
    alice_client.post(start_url(quiz), {"confirm": "yes"})

    assert "Start the quiz" in page and "You started at" not in page
    assert (
        QuizStart.objects.filter(student=bob).get().started
        < QuizStart.objects.get(student=alice).started
    )


def test_it_starts_nothing_for_an_anonymous_visitor(client):
    quiz = make_quiz(time_limit=30)

    response = client.post(start_url(quiz), {"confirm": "yes"})

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not QuizStart.objects.exists()


def test_it_starts_a_quiz_by_post_only(alice_client):
    quiz = make_quiz(time_limit=30)

    response = alice_client.get(start_url(quiz))

    assert response.status_code == 405
    assert not QuizStart.objects.exists()


def test_it_answers_404_for_no_such_timed_quiz(alice_client):
    practice = make_problem_set()
    untimed = make_quiz()

    missing = alice_client.post("/sets/nope/start/", {"confirm": "yes"})
    not_timed = [alice_client.post(start_url(ps), {"confirm": "yes"}) for ps in (practice, untimed)]

    assert missing.status_code == 404
    assert [r.status_code for r in not_timed] == [404, 404]
    assert not QuizStart.objects.exists()


def test_it_does_not_start_a_quiz_before_it_opens_or_after_it_closes(alice_client, alice):
    later = make_quiz(time_limit=30, opens=timezone.now() + timedelta(days=1))
    closed = make_quiz(
        time_limit=30,
        due=timezone.now() - timedelta(minutes=1),
        late_policy=ProblemSet.LatePolicy.REFUSE,
    )

    alice_client.post(start_url(later), {"confirm": "yes"})
    response = alice_client.post(start_url(closed), {"confirm": "yes"}, follow=True)

    assert "it can no longer be started" in response.content.decode()
    assert not QuizStart.objects.exists()


def test_it_ends_the_time_at_a_due_date_that_refuses_late_answers(alice_client, alice):
    due = timezone.now() + timedelta(minutes=10)
    quiz = make_quiz(time_limit=30, due=due, late_policy=ProblemSet.LatePolicy.REFUSE)
    accepting = make_quiz(time_limit=30, due=due)

    page = alice_client.get(quiz.get_absolute_url()).content.decode()

    assert started(alice, quiz).ends() == due
    assert started(alice, accepting).ends() > due
    assert "you will have less than your full time" in page


def test_it_says_when_the_time_ended(alice_client, alice):
    quiz = make_quiz(time_limit=30)
    started(alice, quiz, minutes_ago=31)

    page = alice_client.get(quiz.get_absolute_url()).content.decode()

    assert "Your time ended at" in page and "Start the quiz" not in page


# ---------------------------------------------------------------- extra time


def test_it_gives_a_student_their_extra_time(alice_client, alice, bob):
    quiz = make_quiz(time_limit=30)
    Accommodation.objects.create(student=alice, problem_set=quiz, extra_minutes=15)

    page = alice_client.get(quiz.get_absolute_url()).content.decode()
    mine, theirs = started(alice, quiz), started(bob, quiz)

    assert "A timed quiz: 45 minutes" in page and "your 15 minutes of extra time" in page
    assert mine.ends() == mine.started + timedelta(minutes=45)
    assert theirs.ends() == theirs.started + timedelta(minutes=30)


def test_it_gives_time_back_to_a_student_whose_time_was_up(alice):
    quiz = make_quiz(time_limit=30)
    start = started(alice, quiz, minutes_ago=40)
    finish(start)

    Accommodation.objects.create(student=alice, problem_set=quiz, extra_minutes=20)

    start.refresh_from_db()
    assert start.finished is None and start.ends() > timezone.now()


def test_it_lets_an_instructor_give_extra_time_in_the_admin(client, charlie, alice):
    quiz = make_quiz(time_limit=30)
    alice.email = "alice@example.org"
    alice.save()
    client.force_login(charlie)
    url = reverse("admin:exercises_accommodation_add")

    form = client.get(url).content.decode()
    found = client.get(
        "/admin/students/",
        {
            "app_label": "exercises",
            "model_name": "accommodation",
            "field_name": "student",
            "term": "alice@example",
        },
    )
    response = client.post(
        url, {"student": alice.pk, "problem_set": quiz.pk, "extra_minutes": 15, "reason": "ok"}
    )

    # Picked by name or e-mail as one types: the Instructors group may not open the
    # user admin, and the form lists no students of its own.
    assert 'data-ajax--url="/admin/students/"' in form
    assert "alice@example.org" not in form
    assert [r["text"] for r in found.json()["results"]] == ["alice, alice@example.org"]
    assert response.status_code == 302
    assert quiz.minutes_for(alice.pk) == 45


def test_it_keeps_students_from_giving_themselves_extra_time(client, alice):
    quiz = make_quiz(time_limit=30)
    url = reverse("admin:exercises_accommodation_add")
    data = {"student": alice.pk, "problem_set": quiz.pk, "extra_minutes": 15}

    anonymous = client.post(url, data)
    client.force_login(alice)
    student = client.post(url, data)

    assert "/login/" in anonymous["Location"] and "/login/" in student["Location"]
    assert not Accommodation.objects.exists()


def test_it_refuses_a_second_extra_time_for_the_same_student(client, charlie, alice):
    quiz = make_quiz(time_limit=30)
    Accommodation.objects.create(student=alice, problem_set=quiz, extra_minutes=10)
    client.force_login(charlie)

    response = client.post(
        reverse("admin:exercises_accommodation_add"),
        {"student": alice.pk, "problem_set": quiz.pk, "extra_minutes": 15},
    )

    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Accommodation.objects.get().extra_minutes == 10


# ---------------------------------------------------------------- drafts


def draft_url(exercise) -> str:
    return reverse("ex-quiz-draft", args=[exercise.slug])


def post_draft(client, exercise, answers, **extra):
    return client.post(
        draft_url(exercise), json.dumps({"answers": answers}), "application/json", **extra
    )


@pytest.fixture
def timed(alice):
    """A timed quiz of 30 minutes that alice started 10 minutes ago, and its exercise."""
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz)
    started(alice, quiz, minutes_ago=10)
    return exercise


def test_it_keeps_a_draft_as_the_student_types(alice_client, alice, timed):
    response = post_draft(alice_client, timed, {"a": "2x + 1"})

    draft = QuizDraft.objects.get()
    assert response.status_code == 200 and response.json()["saved"] == draft.saved.isoformat()
    assert (draft.student, draft.exercise, draft.answers) == (alice, timed, {"a": "2x + 1"})


def test_it_keeps_one_draft_per_student_and_exercise(alice_client, timed):
    post_draft(alice_client, timed, {"a": "2"})
    post_draft(alice_client, timed, {"a": "2x"})

    assert QuizDraft.objects.get().answers == {"a": "2x"}


def test_it_puts_the_draft_back_into_the_form(alice_client, timed):
    post_draft(alice_client, timed, {"a": "2x + 1"})

    page = alice_client.get(timed.get_absolute_url()).content.decode()

    assert 'value="2x + 1"' in page


def test_it_shows_the_last_submission_rather_than_an_older_draft(alice_client, alice, timed):
    post_draft(alice_client, timed, {"a": "3x"})
    queue.submit(alice, timed, {"a": "2x"})

    page = alice_client.get(timed.get_absolute_url()).content.decode()

    assert 'value="2x"' in page and 'value="3x"' not in page


def test_it_refuses_drafts_outside_the_students_time(alice_client, alice):
    not_started = make_exercise(problem_set=make_quiz(time_limit=30))
    over = make_exercise(problem_set=make_quiz(time_limit=30))
    started(alice, over.problem_set, minutes_ago=31)
    practice = make_exercise()

    responses = [post_draft(alice_client, e, {"a": "2x"}) for e in (not_started, over, practice)]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert "Start the quiz first" in responses[0].json()["error"]
    assert "time for this quiz is up" in responses[1].json()["error"]
    assert not QuizDraft.objects.exists()


def test_it_takes_the_last_draft_sent_at_zero(alice_client, alice):
    exercise = make_exercise(problem_set=make_quiz(time_limit=30))
    # Up two seconds ago: the page's last draft is still on its way.
    started(alice, exercise.problem_set, minutes_ago=30 + 2 / 60)

    response = post_draft(alice_client, exercise, {"a": "2x"})

    assert response.status_code == 200 and QuizDraft.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["a"]',
        b'{"answers": "2x"}',
        b'{"answers": {"a": 2}}',
        b'{"answers": {"z": "1"}}',
    ],
)
def test_it_refuses_a_malformed_draft(alice_client, timed, body):
    response = alice_client.post(draft_url(timed), body, "application/json")

    assert response.status_code == 400 and response.json()["error"]
    assert not QuizDraft.objects.exists()


def test_it_refuses_a_draft_too_long(alice_client, timed):
    response = post_draft(alice_client, timed, {"a": "x" * 50_001})

    assert response.status_code == 400 and "at most" in response.json()["error"]
    assert not QuizDraft.objects.exists()


def test_it_keeps_no_draft_for_an_anonymous_visitor(client, timed):
    response = post_draft(client, timed, {"a": "2x"})

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not QuizDraft.objects.exists()


def test_it_saves_drafts_by_post_only(alice_client, timed):
    response = alice_client.get(draft_url(timed))

    assert response.status_code == 405


def test_it_answers_404_for_a_draft_of_no_such_exercise(alice_client, timed):
    response = alice_client.post("/exercises/nope/draft/", "{}", "application/json")

    assert response.status_code == 404


def test_it_needs_the_csrf_token_for_a_draft(alice, timed):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = client.get(timed.get_absolute_url())
    token = page.cookies["csrftoken"].value

    refused = post_draft(client, timed, {"a": "1"})
    accepted = post_draft(client, timed, {"a": "2x"}, HTTP_X_CSRFTOKEN=token)

    assert refused.status_code == 403 and accepted.status_code == 200
    assert QuizDraft.objects.get().answers == {"a": "2x"}


def test_it_keeps_each_students_draft_their_own(client, alice, bob, timed):
    started(bob, timed.problem_set)
    client.force_login(alice)
    post_draft(client, timed, {"a": "alice's"})
    client.force_login(bob)

    post_draft(client, timed, {"a": "bob's"})
    page = client.get(timed.get_absolute_url()).content.decode()

    assert QuizDraft.objects.get(student=alice).answers == {"a": "alice's"}
    assert "bob&#x27;s" in page and "alice" not in page.split("<form")[1].split("</form>")[0]


# ---------------------------------------------------------------- time-up


def draft(student, exercise, answers, seconds_ago: float = 60) -> QuizDraft:
    return QuizDraft.objects.create(
        student=student,
        exercise=exercise,
        answers=answers,
        saved=timezone.now() - timedelta(seconds=seconds_ago),
    )


@pytest.fixture
def up(alice):
    """A timed quiz whose 30 minutes alice started 31 minutes ago, and its exercise."""
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz)
    started(alice, quiz, minutes_ago=31)
    return exercise


def test_it_submits_the_last_draft_at_time_up_and_grades_it(
    alice, up, eager_celery, django_capture_on_commit_callbacks
):
    draft(alice, up, {"a": "2x"})

    with django_capture_on_commit_callbacks(execute=True):
        outcome = tasks.sweep_quiz_drafts.delay().get()

    submission = Submission.objects.get()
    assert outcome == {"quizzes_finished": 1, "drafts_submitted": 1}
    assert (submission.student, submission.attempt, submission.answers) == (alice, 1, {"a": "2x"})
    assert submission.status == Submission.Status.GRADED and submission.score == 1.0
    assert QuizDraft.objects.get().submission == submission
    assert QuizStart.objects.get().finished is not None


def test_it_sweeps_drafts_on_the_housekeeping_queue(settings):
    (entry,) = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("sweep_quiz_drafts")
    ]

    assert entry["options"]["queue"] == settings.HOUSEKEEPING_QUEUE
    assert entry["task"] in tasks.sweep_quiz_drafts.app.tasks


def test_it_submits_a_draft_once_however_often_time_up_runs(alice, up, eager_celery):
    draft(alice, up, {"a": "2x"})

    finish_due()
    finish_due()
    finish(QuizStart.objects.get())
    QuizStart.objects.update(finished=None)
    finish_due()

    assert Submission.objects.count() == 1


def test_it_submits_nothing_for_a_start_another_process_has_finished(alice, up):
    draft(alice, up, {"a": "2x"})
    start = QuizStart.objects.get()
    # The periodic task and the student's page reached the same start: the other won.
    QuizStart.objects.update(finished=timezone.now())

    assert finish(start) == 0
    assert not Submission.objects.exists()


def test_it_tries_a_failed_time_up_again_and_finishes_the_others(alice, bob, up, monkeypatch):
    started(bob, up.problem_set, minutes_ago=31)
    draft(alice, up, {"a": "2x"})
    draft(bob, up, {"a": "2x"})
    submit_draft = quiz.submit_draft

    def numbered_in_the_same_instant(draft, now):
        if draft.student == alice:
            raise IntegrityError("UNIQUE constraint failed: submission_attempt_unique")
        return submit_draft(draft, now)

    monkeypatch.setattr(quiz, "submit_draft", numbered_in_the_same_instant)
    finish_due()
    first = set(Submission.objects.values_list("student__username", flat=True))
    monkeypatch.undo()
    finish_due()

    assert first == {"bob"}
    assert Submission.objects.filter(student=alice).count() == 1


def test_it_does_not_submit_a_draft_older_than_the_students_own_submission(alice):
    quiz = make_quiz(time_limit=30)
    up = make_exercise(problem_set=quiz, max_attempts=2)
    started(alice, quiz, minutes_ago=31)
    draft(alice, up, {"a": "3x"}, seconds_ago=120)
    make_submission(alice, up, answers={"a": "2x"}, created=timezone.now() - timedelta(seconds=60))

    finish_due()

    assert list(Submission.objects.values_list("answers", flat=True)) == [{"a": "2x"}]
    assert QuizStart.objects.get().finished is not None


def test_it_submits_typing_newer_than_the_students_submission_when_attempts_are_left(alice):
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz, max_attempts=2)
    started(alice, quiz, minutes_ago=31)
    make_submission(
        alice, exercise, answers={"a": "x"}, created=timezone.now() - timedelta(minutes=5)
    )
    draft(alice, exercise, {"a": "2x"})

    finish_due()

    assert Submission.objects.get(attempt=2).answers == {"a": "2x"}


def test_it_does_not_submit_a_draft_without_an_attempt_left_or_as_submitted(alice, bob, up):
    make_submission(alice, up, answers={"a": "x"}, created=timezone.now() - timedelta(minutes=5))
    draft(alice, up, {"a": "2x"})
    started(bob, up.problem_set, minutes_ago=31)
    make_submission(
        bob,
        up,
        attempt=1,
        answers={"a": "2x"},
        status=Submission.Status.FAILED,
        created=timezone.now() - timedelta(minutes=5),
    )
    draft(bob, up, {"a": "2x"})

    finish_due()

    assert Submission.objects.count() == 2


def test_it_leaves_blank_parts_out_and_submits_nothing_blank(alice, bob):
    quiz = make_quiz(time_limit=30)
    two = [
        {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]},
        {"key": "b", "kind": "numeric", "expected": "3"},
    ]
    exercise = make_exercise(two, problem_set=quiz)
    started(alice, quiz, minutes_ago=31)
    started(bob, quiz, minutes_ago=31)
    draft(alice, exercise, {"a": "2x", "b": "  "})
    draft(bob, exercise, {"a": "", "b": ""})

    finish_due()

    assert list(Submission.objects.values_list("student__username", "answers")) == [
        ("alice", {"a": "2x"})
    ]


def test_it_waits_for_the_end_of_the_time_and_its_grace(alice):
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz)
    # Up one second ago: within the grace the page's last draft has to arrive.
    start = started(alice, quiz, minutes_ago=30 + 1 / 60)
    draft(alice, exercise, {"a": "2x"})

    finish_due()
    start.refresh_from_db()

    assert not Submission.objects.exists() and start.finished is None


def test_it_waits_for_a_students_extra_time(alice):
    quiz = make_quiz(time_limit=30)
    exercise = make_exercise(problem_set=quiz)
    started(alice, quiz, minutes_ago=31)
    Accommodation.objects.create(student=alice, problem_set=quiz, extra_minutes=10)
    draft(alice, exercise, {"a": "2x"})

    finish_due()
    finish_due(timezone.now() + timedelta(minutes=10))

    assert Submission.objects.count() == 1


def test_it_submits_the_draft_when_the_student_next_loads_a_page(alice_client, alice, up):
    draft(alice, up, {"a": "2x"})

    page = alice_client.get(up.problem_set.get_absolute_url()).content.decode()

    assert Submission.objects.get().answers == {"a": "2x"}
    assert "Your last drafts were submitted for you" in page


def test_it_submits_only_the_drafts_of_students_whose_time_is_up(alice, bob, up):
    started(bob, up.problem_set, minutes_ago=5)
    draft(alice, up, {"a": "2x"})
    draft(bob, up, {"a": "2x"})

    finish_due()

    assert list(Submission.objects.values_list("student__username", flat=True)) == ["alice"]
