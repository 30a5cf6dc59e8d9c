"""Where a student stands on every page: due dates (their own, in their own zone), the
late policy, the attempts used and left beside Submit, and Submit disabled with the
reason when no attempt is left or the set is closed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from exercises import queue
from exercises.models import Extension, ProblemSet, QuizStart, Submission
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def submit_button(html: str) -> str:
    """The exercise form's Submit button, as written in the page."""
    (button,) = re.findall(r"<button type=\"submit\"[^>]*>Submit</button>", html)
    return button


def every_page(exercise) -> list[str]:
    problem_set = exercise.problem_set
    return [
        "/",
        problem_set.module.get_absolute_url(),
        problem_set.get_absolute_url(),
        exercise.get_absolute_url(),
    ]


def test_it_renders_a_moment_with_the_servers_zone_named(settings):
    settings.TIME_ZONE = "Europe/Paris"
    moment = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)

    html = Template("{% load standing %}{% local_time when %}").render(Context({"when": moment}))

    assert html == '<time datetime="2026-12-07T16:00:00+00:00">Mon 7 Dec 2026, 17:00 CET</time>'


@pytest.mark.parametrize(
    "policy, penalty, said",
    [
        (ProblemSet.LatePolicy.ACCEPT, 0.0, "A late answer counts in full."),
        (ProblemSet.LatePolicy.PENALTY, 0.25, "A late answer loses 25% of its score."),
        (ProblemSet.LatePolicy.REFUSE, 0.0, "No answer is accepted after the due date."),
    ],
)
def test_it_shows_the_due_date_and_late_policy_on_every_page(alice_client, policy, penalty, said):
    due = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    exercise = make_exercise(
        problem_set=make_problem_set(due=due, late_policy=policy, late_penalty=penalty)
    )

    for url in every_page(exercise):
        html = page(alice_client, url)
        assert f'<time datetime="{due.isoformat()}">' in html, url
        assert f"{due:%H:%M} UTC</time>" in html, url
        assert said in html, url


def test_it_shows_the_students_own_extended_date_on_every_page(client, alice, bob):
    due = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    later = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    exercise = make_exercise(problem_set=make_problem_set(due=due))
    Extension.objects.create(student=alice, problem_set=exercise.problem_set, due=later)

    client.force_login(alice)
    # The course page names the next due date still ahead: only alice has one.
    for url in every_page(exercise):
        html = page(client, url)
        assert f'datetime="{later.isoformat()}"' in html and "your extended date" in html, url
        assert f'datetime="{due.isoformat()}"' not in html, url
    client.force_login(bob)
    for url in every_page(exercise)[1:]:
        html = page(client, url)
        assert f'datetime="{due.isoformat()}"' in html and "(passed)" in html, url
        assert "your extended date" not in html, url


def test_it_says_when_a_set_has_no_due_date(alice_client):
    exercise = make_exercise()

    assert "No due date." in page(alice_client, exercise.problem_set.get_absolute_url())


def test_it_shows_the_attempts_used_on_the_set_page(alice_client, alice):
    limited = make_exercise(max_attempts=3)
    free = make_exercise(problem_set=limited.problem_set)
    make_submission(alice, limited, status="graded", score=0.0)
    make_submission(alice, limited, status="failed")  # never graded: uses no attempt
    make_submission(alice, free, status="graded", score=0.0)

    html = page(alice_client, limited.problem_set.get_absolute_url())

    assert "1 of 3 attempts used" in html
    assert re.search(r"attempts-count\">1 attempt<", html)


def test_it_tells_the_attempts_and_the_retry_penalty_beside_submit(alice_client, alice):
    exercise = make_exercise(max_attempts=4, retry_penalty=0.2)
    queue.submit(alice, exercise, {"a": "x"})

    html = page(alice_client, exercise.get_absolute_url())

    standing = html[html.index('id="submit-standing"') :]
    assert "3 of 4 attempts left</strong> (1 used)" in standing
    assert "Each attempt after the first loses 20% of its score." in standing
    assert "This attempt can count for at most 80%." in standing
    assert "disabled" not in submit_button(html)


def test_it_counts_the_late_penalty_in_what_an_attempt_is_worth(alice_client):
    past = make_problem_set(
        due=timezone.now() - timedelta(hours=1),
        late_policy=ProblemSet.LatePolicy.PENALTY,
        late_penalty=0.5,
    )
    exercise = make_exercise(problem_set=past)

    html = page(alice_client, exercise.get_absolute_url())

    assert "This attempt can count for at most 50%: it is past the due date." in html
    assert "disabled" not in submit_button(html)


def test_it_disables_submit_with_the_reason_when_no_attempt_is_left(alice_client, alice):
    exercise = make_exercise(max_attempts=2)
    queue.submit(alice, exercise, {"a": "x"})
    html = page(alice_client, exercise.get_absolute_url())
    assert "disabled" not in submit_button(html)

    queue.submit(alice, exercise, {"a": "x"})
    html = page(alice_client, exercise.get_absolute_url())

    assert "disabled" in submit_button(html)
    assert "No attempt left: you have used all 2 attempts at this exercise." in html
    assert "0 of 2 attempts left" in html


def test_it_enables_submit_again_when_an_attempt_failed_to_be_graded(alice_client, alice):
    exercise = make_exercise(max_attempts=1)
    make_submission(alice, exercise, status=Submission.Status.FAILED)

    html = page(alice_client, exercise.get_absolute_url())

    assert "disabled" not in submit_button(html)


def test_it_disables_submit_once_a_set_refusing_late_answers_is_past_due(alice_client, alice):
    past = make_problem_set(
        due=timezone.now() - timedelta(minutes=1), late_policy=ProblemSet.LatePolicy.REFUSE
    )
    exercise = make_exercise(problem_set=past)

    html = page(alice_client, exercise.get_absolute_url())

    assert "disabled" in submit_button(html)
    assert "answers are no longer accepted" in html
    # The server refuses it all the same, whatever the page says.
    response = alice_client.post(exercise.get_absolute_url(), {"answer-a": "2x"})
    assert response.status_code == 403
    assert not Submission.objects.filter(student=alice).exists()


def test_it_disables_submit_when_the_students_quiz_time_is_up(alice_client, alice):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ, time_limit=30)
    exercise = make_exercise(problem_set=quiz)
    QuizStart.objects.create(
        student=alice, problem_set=quiz, started=timezone.now() - timedelta(minutes=31)
    )

    html = page(alice_client, exercise.get_absolute_url())

    assert "disabled" in submit_button(html)
    assert "Your time for this quiz (30 minutes" in html


def test_it_keeps_submit_enabled_for_another_student_with_an_extension(client, alice):
    past = make_problem_set(
        due=timezone.now() - timedelta(minutes=1), late_policy=ProblemSet.LatePolicy.REFUSE
    )
    exercise = make_exercise(problem_set=past)
    Extension.objects.create(
        student=alice, problem_set=past, due=timezone.now() + timedelta(days=1)
    )
    client.force_login(alice)

    assert "disabled" not in submit_button(page(client, exercise.get_absolute_url()))


def test_it_names_the_next_due_date_on_the_course_page(alice_client):
    module_set = make_problem_set(due=timezone.now() + timedelta(days=5), title="Later set")
    make_exercise(problem_set=module_set)
    sooner = make_problem_set(
        module=module_set.module, due=timezone.now() + timedelta(days=1), title="Sooner set"
    )
    make_exercise(problem_set=sooner)
    make_exercise(
        problem_set=make_problem_set(
            module=module_set.module, due=timezone.now() - timedelta(days=1), title="Past set"
        )
    )

    html = page(alice_client, "/")

    assert "Next due: Sooner set." in html
    assert f'datetime="{sooner.due.isoformat(timespec="seconds")}"' in html


def test_it_shows_each_attempt_time_as_a_moment(alice_client, alice):
    exercise = make_exercise()
    submission = make_submission(alice, exercise, status="graded", score=1.0)

    html = page(alice_client, exercise.get_absolute_url())

    assert f'<time datetime="{submission.created.isoformat(timespec="seconds")}">' in html
