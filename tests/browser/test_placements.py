"""The question bank in the browser: a practice exercise placed in a quiz is answered in
each set on its own."""

import re

import pytest
from playwright.sync_api import expect

from exercises.models import Placement, ProblemSet, Submission
from tests.conftest import make_problem_set

pytestmark = pytest.mark.browser


@pytest.fixture
def quiz(course) -> ProblemSet:
    """A quiz, untimed, that places the practice exercise quick-power-rule."""
    practice = course["quick"]
    quiz = make_problem_set(
        module=practice.problem_set.module, slug="bank-quiz", title="Bank quiz", kind="quiz"
    )
    Placement.objects.create(problem_set=quiz, exercise=practice, order=1)
    return quiz


def submit(page, answer: str) -> None:
    page.locator("#answer-a").fill(answer)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"#latest-attempt$"))


def test_it_keeps_the_practice_attempts_out_of_the_quiz(page, student, quiz):
    page.goto("/sets/quick-checks/")
    page.get_by_role("link", name="Power rule").click()
    page.wait_for_url(re.compile(r"/exercises/quick-power-rule/$"))
    submit(page, "3x")
    expect(page.locator("#latest-attempt")).to_contain_text("Graded: score 0")
    submit(page, "2x")
    expect(page.locator("#latest-attempt")).to_contain_text("Graded: score 100")

    page.goto("/sets/bank-quiz/")
    page.get_by_role("link", name="Power rule").click()
    page.wait_for_url(re.compile(r"/sets/bank-quiz/exercises/quick-power-rule/$"))
    # A fresh start: none of the practice attempts, and the quiz's one attempt.
    expect(page.locator("#latest-attempt")).to_be_empty()
    expect(page.locator(".attempts")).to_contain_text("1 of 1 attempt left")
    expect(page.locator("#answer-a")).to_have_value("")
    submit(page, "2x")
    expect(page.locator("#latest-attempt")).to_contain_text("Submitted")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()

    mine = Submission.objects.filter(student__username=student).order_by("pk")
    assert [(s.problem_set.slug, s.attempt) for s in mine] == [
        ("quick-checks", 1),
        ("quick-checks", 2),
        ("bank-quiz", 1),
    ]
    # The practice set still counts its own: solved there, answered in the quiz.
    page.goto("/sets/quick-checks/")
    expect(page.locator("li.state-solved")).to_have_count(1)
    page.goto("/sets/bank-quiz/")
    expect(page.locator("li.state-tried")).to_have_count(1)
