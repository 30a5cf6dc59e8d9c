"""What a student is shown of an exercise, and when: the same rules on every surface
(the exercise page, its plot, the API, the submission page and its verdict fragment)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exercises.models import ProblemSet
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db

PLOTTED = "straight-line-fit"
WHEN = timezone.now() - timedelta(hours=1)


def make_quiz(**kwargs) -> ProblemSet:
    kwargs.setdefault("kind", ProblemSet.Kind.QUIZ)
    return make_problem_set(**kwargs)


def answered(student, exercise, correct: bool):
    """A graded attempt, right or wrong, at a fixed time (pages show the time)."""
    return make_submission(
        student,
        exercise,
        answers={"a": "2x" if correct else "x"},
        status="graded",
        score=1.0 if correct else 0.0,
        credit=1.0 if correct else 0.0,
        results={"a": {"status": "correct" if correct else "incorrect", "message": ""}},
        created=WHEN,
        graded=WHEN,
    )


def page_as(client, user, exercise) -> str:
    client.force_login(user)
    return client.get(exercise.get_absolute_url()).content.decode()


def _same_for_everyone(html: str, user) -> str:
    """The page without what differs between two students anyway: their name, the form's
    token, what they typed and the ids of their submissions."""
    html = html.replace(user.username, "STUDENT")
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    html = re.sub(r'(name="answer-[^"]*") value="[^"]*"', r"\1", html)
    return re.sub(r"/submissions/\d+/", "/submissions/N/", html)


def test_it_leaks_no_verdict_through_the_plot_in_a_held_quiz(client, alice, bob):
    exercise = make_exercise(problem_set=make_quiz(), slug=PLOTTED)
    answered(alice, exercise, correct=True)
    answered(bob, exercise, correct=False)

    right = page_as(client, alice, exercise)
    wrong = page_as(client, bob, exercise)

    assert 'class="plot"' in right
    assert 'data-series="fit"' not in right
    assert "Now that you have solved it" not in right
    assert _same_for_everyone(right, alice) == _same_for_everyone(wrong, bob)
