"""A timed quiz as a new student takes it: the start they confirm, the countdown and its
warnings, drafts kept while they type, and time-up, with the browser closed before it.

Time passes in the database, not on the wall: the tests move the student's start back
(`QuizStart.started`) and reload, so a quiz of ten minutes ends within seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from exercises import quiz
from exercises.models import Module, ProblemSet, QuizDraft, QuizStart, Submission
from tests.browser.conftest import PHONE, TIMEOUT_MS, screenshot, sign_up
from tests.conftest import make_exercise, make_problem_set
from tests.integration.conftest import (
    # The test process publishes the time-up submissions to the browser tests' worker.
    _publish_to_the_test_queue,  # noqa: F401
    wait_for,
)

pytestmark = pytest.mark.browser

MINUTES = 10
PASSWORD = "a-quiz-password-1"


@pytest.fixture
def timed_quiz(course) -> ProblemSet:
    problem_set = make_problem_set(
        module=Module.objects.order_by("order").last(),
        slug="timed-quiz",
        title="Timed quiz",
        kind=ProblemSet.Kind.QUIZ,
        time_limit=MINUTES,
        order=100,
    )
    make_exercise(
        problem_set=problem_set,
        slug="timed-power-rule",
        title="Quiz: power rule",
        prompt="Differentiate \\( f(x) = x^2 \\) with respect to \\( x \\).",
    )
    return problem_set


def new_context(browser, server_url, **options):
    context = browser.new_context(base_url=server_url, timezone_id="Europe/Paris", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def seconds_left(username: str, problem_set: ProblemSet, seconds: float) -> None:
    """Move the student's start back so that `seconds` of their time are left."""
    QuizStart.objects.filter(student__username=username, problem_set=problem_set).update(
        started=timezone.now() - timedelta(minutes=MINUTES) + timedelta(seconds=seconds)
    )


def start_the_quiz(page, problem_set: ProblemSet, username: str) -> None:
    page.goto(problem_set.get_absolute_url())
    box = page.locator("#quiz")
    expect(box).to_contain_text(f"A timed quiz: {MINUTES} minutes")
    expect(box).to_contain_text("If you start now, your time ends at")
    # In the browser's zone (Paris here), named; the server writes UTC.
    expect(box.locator("time.local-time").first).to_have_text(re.compile(r"GMT\+1|CET"))
    screenshot(page, f"quiz-before-start-{page.viewport_size['width']}")
    # An exercise of the quiz is not shown before the start.
    page.goto("/exercises/timed-power-rule/")
    expect(page).to_have_url(re.compile(r"/sets/timed-quiz/#quiz$"))
    expect(page.get_by_text("This quiz is timed: start it here")).to_be_visible()

    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start Timed quiz now?")
    expect(page.locator("main time.local-time")).to_have_text(re.compile(r"GMT\+1|CET"))
    screenshot(page, f"quiz-confirm-start-{page.viewport_size['width']}")
    assert not QuizStart.objects.filter(student__username=username).exists()
    page.get_by_role("button", name="Start the clock now").click()
    expect(page).to_have_url(re.compile(r"/exercises/timed-power-rule/$"))
    assert QuizStart.objects.filter(student__username=username).exists()


def test_it_submits_the_last_draft_after_the_browser_has_gone(browser, server_url, timed_quiz):
    context = new_context(browser, server_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    username = sign_up(page)

    start_the_quiz(page, timed_quiz, username)
    clock = page.locator("#quiz-clock")
    expect(clock.get_by_role("timer")).to_have_text(re.compile(r"^(10:00|09:5\d)$"))
    expect(clock).to_contain_text("ends at")

    # Five minutes left: a warning, read out.
    seconds_left(username, timed_quiz, 5 * 60 + 2)
    page.reload()
    expect(clock.get_by_role("alert")).to_have_text(re.compile(r"^5 minutes left"))
    expect(clock).to_have_attribute("data-warning", "300")

    page.locator("#answer-a").press_sequentially("2x")
    expect(clock.locator(".quiz-draft")).to_contain_text("Draft saved at")
    assert QuizDraft.objects.get(student__username=username).answers == {"a": "2x"}
    # Kept across a reload.
    page.reload()
    expect(page.locator("#answer-a")).to_have_value("2x")
    screenshot(page, "quiz-countdown")
    assert errors == []
    context.close()

    # The browser is gone; the time runs out, and the grace after it.
    seconds_left(username, timed_quiz, -(quiz.GRACE.total_seconds() + 1))
    assert quiz.finish_due()["drafts_submitted"] == 1

    def graded() -> bool:
        return Submission.objects.filter(
            student__username=username, status=Submission.Status.GRADED
        ).exists()

    wait_for(graded, "the worker to grade the submitted draft")
    submission = Submission.objects.get(student__username=username)
    assert submission.answers == {"a": "2x"} and submission.score == 1.0

    # Back later: the set page says so, and the attempt is there.
    user = get_user_model().objects.get(username=username)
    user.set_password(PASSWORD)
    user.save()
    context = new_context(browser, server_url)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(timed_quiz.get_absolute_url())
    expect(page.locator("#quiz")).to_contain_text("Your last drafts were submitted for you")
    page.goto("/exercises/timed-power-rule/")
    expect(page.locator("section.history tbody tr")).to_have_count(1)
    context.close()


def test_it_stops_taking_answers_at_zero_on_a_phone(browser, server_url, timed_quiz):
    context = new_context(browser, server_url, viewport=PHONE, is_mobile=True)
    page = context.new_page()
    username = sign_up(page)
    start_the_quiz(page, timed_quiz, username)

    seconds_left(username, timed_quiz, 62)
    page.reload()
    clock = page.locator("#quiz-clock")
    expect(clock.get_by_role("alert")).to_have_text(re.compile(r"^1 minute left"))
    page.locator("#answer-a").press_sequentially("2x")
    expect(clock.locator(".quiz-draft")).to_contain_text("Draft saved at")
    # The countdown stays in sight while the student scrolls down to Submit.
    page.get_by_role("button", name="Submit").scroll_into_view_if_needed()
    expect(clock).to_be_in_viewport()

    seconds_left(username, timed_quiz, 2)
    page.reload()
    expect(clock).to_have_attribute("data-state", "over")
    expect(clock.get_by_role("alert")).to_have_text(re.compile(r"^Time is up"))
    expect(page.locator("#answer-a")).to_be_disabled()
    expect(page.locator("#answer-a")).to_have_value("2x")
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "quiz-time-up-phone")

    # The server refuses after the end anyway.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    late = page.request.post(
        "/exercises/timed-power-rule/",
        form={"csrfmiddlewaretoken": token, "answer-a": "2x"},
        headers={"Referer": page.url},
    )
    assert late.status == 403

    # The next page the student loads submits the draft, if the periodic task has not.
    seconds_left(username, timed_quiz, -(quiz.GRACE.total_seconds() + 1))
    page.goto(timed_quiz.get_absolute_url())
    expect(page.locator("#quiz")).to_contain_text("Your last drafts were submitted for you")
    wait_for(
        lambda: Submission.objects.filter(
            student__username=username, status=Submission.Status.GRADED
        ).exists(),
        "the worker to grade the submitted draft",
    )
    context.close()
