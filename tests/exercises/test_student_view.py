"""What a student is shown of an exercise, and when: the same rules on every surface
(the exercise page, its plot, the API, the submission page and its verdict fragment)."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.utils import timezone

from exercises.models import Exercise, Extension, ProblemSet, QuizStart, Variant
from exercises.presentation import StudentView
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db

PLOTTED = "straight-line-fit"
COURSE = Path(__file__).resolve().parents[2] / "course"


@cache
def course_plot(slug: str) -> dict:
    """The plot the shipped course declares for exercise `slug`."""
    for path in COURSE.glob("*/*.yaml"):
        for exercise in yaml.safe_load(path.read_text(encoding="utf-8")).get("exercises", []):
            if exercise["slug"] == slug:
                return exercise["plot"]
    raise LookupError(slug)


WHEN = timezone.now() - timedelta(hours=1)
HINT = "Bring the power down in front: HINT."
SOLUTION = "The power rule gives 2x: SOLUTION."
# What the plot of straight-line-fit draws only once the answer is revealed.
REVEALED_PLOT = 'data-series="fit"'


def make_quiz(**kwargs) -> ProblemSet:
    kwargs.setdefault("kind", ProblemSet.Kind.QUIZ)
    return make_problem_set(**kwargs)


def make_plotted(problem_set: ProblemSet, **kwargs) -> Exercise:
    """The plotted exercise, with a hint and a solution that tell themselves apart."""
    part = {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"], "hint": HINT}
    return make_exercise(
        problem_set=problem_set,
        slug=PLOTTED,
        plot=course_plot(PLOTTED),
        solution=SOLUTION,
        parts=[part],
        **kwargs,
    )


def released() -> dict:
    return {"feedback_released": timezone.now() - timedelta(minutes=1)}


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
    exercise = make_exercise(problem_set=make_quiz(), slug=PLOTTED, plot=course_plot(PLOTTED))
    answered(alice, exercise, correct=True)
    answered(bob, exercise, correct=False)

    right = page_as(client, alice, exercise)
    wrong = page_as(client, bob, exercise)

    assert 'class="plot"' in right
    assert 'data-series="fit"' not in right
    assert "Now that you have solved it" not in right
    assert _same_for_everyone(right, alice) == _same_for_everyone(wrong, bob)


# ---------------------------------------------------------------- every surface


def surface(client, user, name: str, exercise, submission) -> str:
    """What `user` is shown on one surface, as text: HTML or JSON."""
    client.force_login(user)
    if name == "page":
        url = exercise.get_absolute_url()
    elif name == "api":
        url = f"/api/exercises/{exercise.slug}/"
    else:
        url = {
            "submission": submission.get_absolute_url(),
            "fragment": f"{submission.get_absolute_url()}?fragment=1",
            "api-submission": f"/api/submissions/{submission.pk}/",
        }[name]
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _comparable(text: str, user, submission) -> str:
    """A surface without what differs between two students' attempts anyway: their name
    and token, what they typed, and the ids of their submissions."""
    text = _same_for_everyone(text, user)
    text = re.sub(r'<code class="typed">[^<]*</code>', "", text)
    text = text.replace(f'"id":{submission.pk}', '"id":N')
    return re.sub(r'"answers":\{[^}]*\}', "", text)


SURFACES = ["page", "api", "submission", "fragment", "api-submission"]


@pytest.mark.parametrize("name", SURFACES)
def test_it_shows_the_same_to_a_right_and_a_wrong_answer_in_a_held_quiz(client, alice, bob, name):
    exercise = make_plotted(make_quiz())
    right = answered(alice, exercise, correct=True)
    wrong = answered(bob, exercise, correct=False)

    seen_right = surface(client, alice, name, exercise, right)
    seen_wrong = surface(client, bob, name, exercise, wrong)

    assert _comparable(seen_right, alice, right) == _comparable(seen_wrong, bob, wrong)
    verdicts = ["100%", "Score", '"score"', "result-correct", "result-incorrect", "all correct"]
    verdicts += ["state-solved", '"solved"', "solved it", SOLUTION, HINT]
    for verdict in verdicts:
        assert verdict not in seen_right and verdict not in seen_wrong
    assert REVEALED_PLOT not in seen_right


@pytest.mark.parametrize("name", SURFACES)
def test_it_shows_the_verdict_once_the_quiz_feedback_is_released(client, alice, name):
    exercise = make_plotted(make_quiz(**released()))
    right = answered(alice, exercise, correct=True)

    seen = surface(client, alice, name, exercise, right)

    assert "feedback will be released later" not in seen
    expected = {
        "page": ["Best score", "100%", "state-solved", SOLUTION, REVEALED_PLOT, "solved it"],
        "api": ['"best_score":1.0', '"solved":true', SOLUTION],
        "submission": ["Score:", "100%", "all correct", "result-correct"],
        "fragment": ["Score:", "all correct", "result-correct"],
        "api-submission": ['"score":1.0', '"status":"correct"'],
    }[name]
    for shown in expected:
        assert shown in seen


@pytest.mark.parametrize("problem_set", ["practice", "held", "released"])
@pytest.mark.parametrize("name", ["page", "api"])
def test_it_offers_a_hint_after_a_wrong_answer_only_with_the_feedback(
    client, alice, name, problem_set
):
    kinds = {
        "practice": {},
        "held": {"kind": ProblemSet.Kind.QUIZ},
        "released": {"kind": ProblemSet.Kind.QUIZ, **released()},
    }
    exercise = make_plotted(make_problem_set(**kinds[problem_set]), max_attempts=3)
    answered(alice, exercise, correct=False)

    seen = surface(client, alice, name, exercise, None)

    assert (HINT in seen) is (problem_set != "held")


@pytest.mark.parametrize("name", ["page", "api"])
def test_it_keeps_the_solution_and_the_plots_answer_back_until_solved(client, alice, name):
    exercise = make_plotted(make_problem_set())
    assert SOLUTION not in surface(client, alice, name, exercise, None)
    answered(alice, exercise, correct=False)
    seen = surface(client, alice, name, exercise, None)
    assert SOLUTION not in seen and REVEALED_PLOT not in seen
    answered(alice, exercise, correct=True)
    assert SOLUTION in surface(client, alice, name, exercise, None)
    if name == "page":
        assert REVEALED_PLOT in surface(client, alice, name, exercise, None)


def test_it_reveals_the_solution_and_the_plots_answer_once_the_attempts_are_used_up(client, alice):
    exercise = make_plotted(make_problem_set(), max_attempts=2)
    answered(alice, exercise, correct=False)
    answered(alice, exercise, correct=False)

    page = surface(client, alice, "page", exercise, None)

    assert SOLUTION in page and REVEALED_PLOT in page
    assert "solved it" not in page  # the caption does not say it was solved
    assert "shows the answer too" in page


@pytest.mark.parametrize("name", ["page", "api"])
def test_it_tells_the_attempts_left(client, alice, name):
    exercise = make_plotted(make_problem_set(), max_attempts=3)
    answered(alice, exercise, correct=False)
    make_submission(alice, exercise, status="failed", message="not graded")

    seen = surface(client, alice, name, exercise, None)

    if name == "page":
        assert "2 of 3 attempts left" in seen
    else:
        assert '"max_attempts":3,"attempts_used":1' in seen


@pytest.mark.parametrize("name", ["page", "api"])
def test_it_tells_each_student_their_own_due_date(client, alice, bob, name):
    due = (timezone.now() - timedelta(days=1)).replace(microsecond=0)
    later = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    problem_set = make_problem_set(due=due)
    exercise = make_plotted(problem_set)
    Extension.objects.create(student=alice, problem_set=problem_set, due=later)

    mine = surface(client, alice, name, exercise, None)
    theirs = surface(client, bob, name, exercise, None)

    if name == "page":
        assert f'datetime="{later.isoformat()}"' in mine and "(passed)" not in mine
        assert f'datetime="{due.isoformat()}"' in theirs and "(passed)" in theirs
    else:
        assert '"late":false' in mine and later.isoformat().replace("+00:00", "Z") in mine
        assert '"late":true' in theirs


@pytest.mark.parametrize("name", ["page", "api"])
@pytest.mark.parametrize("hidden", ["draft", "not yet open"])
def test_it_hides_an_exercise_students_may_not_see_yet(client, alice, name, hidden):
    if hidden == "draft":
        exercise = make_plotted(make_problem_set(), status=Exercise.Status.DRAFT)
    else:
        exercise = make_plotted(make_problem_set(opens=timezone.now() + timedelta(days=1)))
    client.force_login(alice)
    url = exercise.get_absolute_url() if name == "page" else f"/api/exercises/{exercise.slug}/"

    response = client.get(url)

    assert response.status_code == 404
    assert SOLUTION not in response.content.decode()
    assert not Variant.objects.exists() and not QuizStart.objects.exists()


@pytest.mark.parametrize("name", ["page", "api"])
def test_it_never_shows_another_students_variant(client, alice, bob, name):
    exercise = make_exercise(
        slug="maclaurin-cos-2x",
        plot=course_plot("maclaurin-cos-2x"),
        parameters={"k": {"int": [2, 400]}},
        prompt="Expand \\( \\cos({{k}}x) \\) as VALUE{{k}}.",
        parts=[{"key": "a", "kind": "expression", "expected": "{{k}}x", "variables": ["x"]}],
    )
    theirs = exercise.variant_for(bob).values["k"]

    seen = surface(client, alice, name, exercise, None)

    mine = Variant.objects.get(student=alice).values["k"]
    assert mine != theirs  # the seeds of two students differ
    assert f"VALUE{mine}" in seen and f"VALUE{theirs}" not in seen
    if name == "page":
        assert f"The graph of cos({mine}x)" in seen and f"cos({theirs}x)" not in seen


def test_the_admin_preview_shows_everything_even_in_a_held_quiz(client, charlie):
    exercise = make_plotted(make_quiz())
    client.force_login(charlie)

    page = client.get(f"/admin/exercises/exercise/{exercise.pk}/preview/").content.decode()

    assert HINT in page and SOLUTION in page and REVEALED_PLOT in page
    assert '<code class="expected">2x</code>' in page
    assert "solved it" not in page
    assert not Variant.objects.exists()


def test_the_admin_preview_plots_the_seeds_values():
    exercise = make_exercise(
        slug="maclaurin-cos-2x",
        plot=course_plot("maclaurin-cos-2x"),
        parameters={"k": {"int": [2, 400]}},
    )
    k = exercise.values_for_seed(7)["k"]

    view = StudentView.for_preview(exercise, 7)

    assert f"The graph of cos({k}x)" in view.plot_svg
    assert not Variant.objects.exists()


def test_it_builds_the_view_of_a_held_quiz_without_the_verdict(alice):
    exercise = make_plotted(make_quiz(time_limit=30))
    answered(alice, exercise, correct=True)
    now = timezone.now()

    view = StudentView.opened_by(exercise, alice, now=now)

    assert not view.feedback and not view.solved and view.best is None
    assert not view.reveals_answer and view.solution == "" and view.solution_html == ""
    assert [p.hint for p in view.parts] == [""]
    assert view.plot_note == ""
    assert (view.attempt_limit, view.attempts_used, view.attempts_left) == (1, 1, 0)
    assert view.quiz_ends == now + timedelta(minutes=30)
    assert view.quiz_time_left == timedelta(minutes=30)
