"""Feedback beside the answers: after a verdict the exercise page marks each part right
or wrong with its message beside the input, keeps the typed answers, offers the next
exercise and, once earned, the worked solution; while the attempt is graded the page
polls a fragment of itself for it. Feedback a quiz holds back is never shown early."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from exercises import queue
from exercises.models import Exercise, ProblemSet, QuizStart, Submission
from exercises.presentation import HELD_MESSAGE
from tests.conftest import make_code_exercise, make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.django_db

TWO_PARTS = [
    {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]},
    {"key": "b", "kind": "expression", "expected": "3x^2", "variables": ["x"]},
]


def graded(submission: Submission) -> Submission:
    queue.grade(submission.pk)
    submission.refresh_from_db()
    return submission


def beside(html: str, key: str) -> str:
    """What the page shows beside part `key`'s input."""
    match = re.search(
        rf'<div class="part-verdict" id="verdict-{key}" role="status" aria-live="polite">(.*?)</div>',
        html,
        re.S,
    )
    assert match, f"no verdict region for part {key}"
    return match.group(1)


def page(client, exercise: Exercise, query: str = "") -> str:
    response = client.get(exercise.get_absolute_url() + query)
    assert response.status_code == 200
    return response.content.decode()


def test_it_marks_each_part_right_or_wrong_beside_its_answer(alice_client, alice):
    exercise = make_exercise(TWO_PARTS)
    submission = graded(queue.submit(alice, exercise, {"a": "2x", "b": "3x"}))

    html = page(alice_client, exercise)

    assert "✓" in beside(html, "a") and "Correct" in beside(html, "a")
    assert "✗" in beside(html, "b") and "Not correct" in beside(html, "b")
    assert "Your answer is not equal to the expected one." in beside(html, "b")
    assert "Correct." not in beside(html, "a")  # the mark says it already
    # The typed answers stay in the boxes, and the attempts list stays.
    assert 'name="answer-a" value="2x"' in html and 'name="answer-b" value="3x"' in html
    assert "Your attempts" in html and f"#{submission.attempt}</a>" in html
    assert "Attempt 1</a>: Graded: score 50%." in html


def test_it_shows_the_verdicts_message_beside_the_part(alice_client, alice):
    exercise = make_exercise(TWO_PARTS)
    make_submission(
        alice,
        exercise,
        answers={"a": "2x", "b": "-3x^2"},
        status="graded",
        score=0.5,
        results={
            "a": {"status": "correct", "message": ""},
            "b": {"status": "incorrect", "message": "Check the sign."},
        },
    )

    html = page(alice_client, exercise)

    assert "Check the sign." in beside(html, "b")
    assert "Check the sign." not in beside(html, "a")


def test_it_shows_no_verdict_beside_an_answer_it_did_not_judge(alice_client, alice):
    exercise = make_exercise(TWO_PARTS, max_attempts=1)
    graded(queue.submit(alice, exercise, {"a": "2x", "b": "3x"}))

    # A refused attempt keeps what was typed: the old verdict is not about it.
    response = alice_client.post(exercise.get_absolute_url(), {"answer-a": "2x", "answer-b": "6x"})
    html = response.content.decode()

    assert response.status_code == 403
    assert "✓" in beside(html, "a")
    assert beside(html, "b") == ""


def test_it_holds_back_the_verdicts_of_a_quiz_until_released(alice_client, alice):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ)
    exercise = make_exercise(TWO_PARTS, problem_set=quiz, max_attempts=2)
    submission = graded(queue.submit(alice, exercise, {"a": "2x", "b": "3x"}))

    html = page(alice_client, exercise)
    fragment = page(alice_client, exercise, "?fragment=feedback")

    for seen in (html, fragment):
        assert "✓" not in seen and "✗" not in seen and "Correct" not in seen
        assert HELD_MESSAGE in seen
        assert "Worked solution" not in seen
    assert beside(html, "a") == "" and beside(html, "b") == ""

    quiz.feedback_released = timezone.now() - timedelta(minutes=1)
    quiz.save()
    html = page(alice_client, exercise)
    assert "✓" in beside(html, "a") and "✗" in beside(html, "b")
    assert submission.results["b"]["status"] == "incorrect"


def test_it_polls_for_a_verdict_still_being_graded(alice_client, alice):
    exercise = make_exercise()
    submission = queue.submit(alice, exercise, {"a": "2x"})

    html = page(alice_client, exercise)
    assert f'data-poll="{exercise.get_absolute_url()}?fragment=feedback"' in html
    assert "Attempt 1 is being graded" in html
    assert beside(html, "a") == ""
    fragment = page(alice_client, exercise, "?fragment=feedback")
    assert 'data-status="queued"' in fragment and "<html" not in fragment

    graded(submission)
    fragment = page(alice_client, exercise, "?fragment=feedback")

    assert 'data-status="graded"' in fragment
    part = re.search(r'<div data-slot="verdict-a">(.*?)</div>', fragment, re.S).group(1)
    assert "✓" in part and "Correct" in part
    # Solved: the worked solution comes with the verdict.
    assert "Worked solution" in fragment and "power rule gives" in fragment
    assert "data-poll" not in page(alice_client, exercise)


def test_it_keeps_the_solution_for_when_it_is_earned(alice_client, alice):
    exercise = make_exercise()
    graded(queue.submit(alice, exercise, {"a": "x"}))

    assert "Worked solution" not in page(alice_client, exercise, "?fragment=feedback")
    assert "Worked solution" not in page(alice_client, exercise)


def test_its_fragment_starts_no_quiz_clock(alice_client, alice):
    # An untimed quiz starts when one of its exercises is opened; its fragment starts
    # nothing. (A timed quiz waits for the student's own start, fragment or not.)
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ)
    exercise = make_exercise(problem_set=quiz)

    page(alice_client, exercise, "?fragment=feedback")

    assert not QuizStart.objects.filter(student=alice).exists()
    page(alice_client, exercise)
    assert QuizStart.objects.filter(student=alice).exists()


def test_its_fragment_leaves_a_timed_quiz_waiting_for_its_start(alice_client, alice):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ, time_limit=30)
    exercise = make_exercise(problem_set=quiz)

    response = alice_client.get(exercise.get_absolute_url() + "?fragment=feedback")

    assert response.status_code == 302 and response.url.endswith("#quiz")
    assert not QuizStart.objects.filter(student=alice).exists()


def test_its_fragment_is_for_signed_in_students_only(client):
    exercise = make_exercise()

    response = client.get(exercise.get_absolute_url() + "?fragment=feedback")

    assert response.status_code == 302 and "/login/" in response.url


def test_its_fragment_shows_only_the_students_own_attempt(client, alice, bob):
    exercise = make_exercise()
    graded(queue.submit(alice, exercise, {"a": "2x"}))
    client.force_login(bob)

    fragment = page(client, exercise, "?fragment=feedback")

    assert "✓" not in fragment and "Attempt" not in fragment


def test_it_offers_the_next_exercise_in_the_set(alice_client, alice):
    problem_set = make_problem_set()
    first = make_exercise(problem_set=problem_set, order=1)
    make_exercise(problem_set=problem_set, order=2, status=Exercise.Status.DRAFT, title="Draft")
    second = make_exercise(problem_set=problem_set, order=3, title="The second")
    submission = graded(queue.submit(alice, first, {"a": "2x"}))

    for html in (
        page(alice_client, first),
        alice_client.get(submission.get_absolute_url()).content.decode(),
    ):
        assert f'Next: <a href="{second.get_absolute_url()}" rel="next">The second</a>' in html
        assert "Draft" not in html


def test_it_leads_back_to_the_set_after_its_last_exercise(alice_client, alice):
    last = make_exercise()
    submission = graded(queue.submit(alice, last, {"a": "2x"}))

    for html in (
        page(alice_client, last),
        alice_client.get(submission.get_absolute_url()).content.decode(),
    ):
        assert "Next:" not in html
        assert (
            f'The last exercise of this set: <a href="{last.problem_set.get_absolute_url()}">back to {last.problem_set.title}</a>'
            in html
        )


# ---------------------------------------------------------------- after Submit


def submit(client, exercise: Exercise, answers: dict[str, str]) -> None:
    """Submit the exercise page's form, which leads back to the page's answers."""
    response = client.post(
        exercise.get_absolute_url(), {f"answer-{k}": v for k, v in answers.items()}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{exercise.get_absolute_url()}#latest-attempt"


def test_it_brings_the_student_back_to_the_verdicts_beside_their_answers(
    alice_client, alice, eager_celery, django_capture_on_commit_callbacks
):
    exercise = make_exercise(TWO_PARTS)

    with django_capture_on_commit_callbacks(execute=True):
        submit(alice_client, exercise, {"a": "2x", "b": "3x"})
    html = page(alice_client, exercise)

    submission = Submission.objects.get(student=alice)
    # Where the browser scrolls to, and which it focuses: a screen reader reads it.
    assert (
        '<p class="latest-attempt" id="latest-attempt" role="status" aria-live="polite" tabindex="-1"'
        in html
    )
    assert 'name="answer-a" value="2x"' in html and 'name="answer-b" value="3x"' in html
    assert "✓" in beside(html, "a") and "✗" in beside(html, "b")
    # The attempt's own page stays one link away.
    assert f'<a href="{submission.get_absolute_url()}">Attempt 1</a>: Graded: score 50%.' in html


def test_it_shows_the_attempt_being_graded_after_submit(alice_client, alice, monkeypatch):
    from exercises.tasks import grade_submission

    monkeypatch.setattr(grade_submission, "apply_async", lambda *a, **kw: None)
    exercise = make_exercise(TWO_PARTS)

    submit(alice_client, exercise, {"a": "2x", "b": "3x"})
    html = page(alice_client, exercise)

    assert "Attempt 1 is being graded" in html
    assert f'data-poll="{exercise.get_absolute_url()}?fragment=feedback"' in html
    assert 'name="answer-a" value="2x"' in html and 'name="answer-b" value="3x"' in html
    assert beside(html, "a") == "" and beside(html, "b") == ""


def test_it_keeps_a_code_answer_after_submit(alice_client, alice, monkeypatch):
    from exercises.tasks import grade_submission

    monkeypatch.setattr(grade_submission, "apply_async", lambda *a, **kw: None)
    exercise = make_code_exercise(with_maths=True)
    source = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n"

    submit(alice_client, exercise, {"a": "2x", "code": source})
    html = page(alice_client, exercise)

    text = html[html.index('<textarea id="answer-code"') :]
    text = text[text.index(">") + 1 : text.index("</textarea>")]
    # HTML drops the newline right after the opening tag.
    assert unescape(text) == "\n" + source
    assert 'name="answer-a" value="2x"' in html


def test_it_holds_back_a_quizs_verdicts_after_submit(
    alice_client, alice, eager_celery, django_capture_on_commit_callbacks
):
    quiz = make_problem_set(kind=ProblemSet.Kind.QUIZ)
    exercise = make_exercise(TWO_PARTS, problem_set=quiz, max_attempts=2)

    with django_capture_on_commit_callbacks(execute=True):
        submit(alice_client, exercise, {"a": "2x", "b": "3x"})
    html = page(alice_client, exercise)

    assert Submission.objects.get(student=alice).status == "graded"
    assert f"Attempt 1</a>: {HELD_MESSAGE}" in html
    assert 'name="answer-a" value="2x"' in html and 'name="answer-b" value="3x"' in html
    assert beside(html, "a") == "" and beside(html, "b") == ""
    assert "✓" not in html and "✗" not in html and "Worked solution" not in html


def test_its_fragment_brings_the_attempts_list_up_to_date(alice_client, alice):
    exercise = make_exercise()
    submission = queue.submit(alice, exercise, {"a": "2x"})
    assert "waiting to be graded" in page(alice_client, exercise)

    graded(submission)
    fragment = page(alice_client, exercise, "?fragment=feedback")

    history = re.search(r'<div data-slot="history">(.*)</div>', fragment, re.S).group(1)
    assert f'<a href="{submission.get_absolute_url()}">#1</a>' in history
    assert "100%" in history and "Best score" in history
    assert "waiting to be graded" not in history


def test_its_fragment_brings_the_hint_of_a_part_answered_wrong(alice_client, alice):
    parts = [
        {**TWO_PARTS[0], "hint": "Differentiate term by term."},
        {**TWO_PARTS[1], "hint": "Bring the power down."},
    ]
    exercise = make_exercise(parts)
    before = page(alice_client, exercise, "?fragment=feedback")
    graded(queue.submit(alice, exercise, {"a": "2x", "b": "3x"}))

    fragment = page(alice_client, exercise, "?fragment=feedback")

    slot = re.search(r'<div data-slot="hint-slot-b">(.*?)</div>\n?  ', fragment, re.S).group(1)
    assert "Bring the power down." in slot
    # Only the part answered wrong, and only after its verdict.
    assert "Differentiate term by term." not in fragment
    assert "Bring the power down." not in before
    # The page has the slot the script fills.
    assert '<div id="hint-slot-b">' in page(alice_client, exercise)
