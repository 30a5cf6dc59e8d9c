"""Where a student stands and what their answers got, in the page, at desktop and phone
width: each part's ✓ or ✗ beside its answer once a real verdict arrives, Submit
disabled with its reason when no attempt is left, and dates in the student's own zone."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from exercises.models import Exercise
from tests.browser.conftest import PHONE, TIMEOUT_MS, expected_answers, screenshot, sign_up

pytestmark = pytest.mark.browser

SUBMISSION_URL = re.compile(r"/submissions/\d+/$")
BACK_TO_THE_ANSWERS = re.compile(r"/exercises/[\w-]+/#latest-attempt$")


@pytest.fixture(params=["desktop", "phone"])
def screen(request, browser, server_url, course):
    """A signed-up student's page at desktop or phone width."""
    options = {"viewport": PHONE, "is_mobile": True} if request.param == "phone" else {}
    context = browser.new_context(base_url=server_url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    page.width_name = request.param
    page.student = sign_up(page)
    yield page
    context.close()


def overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def test_it_marks_each_part_beside_its_answer_when_the_verdict_arrives(screen, browser_worker):
    page = screen
    page.goto("/exercises/chain-rule/")
    right = expected_answers(page.student, "chain-rule")
    page.locator("#answer-a").fill(right["a"])
    page.locator("#answer-b").fill(right["b"])
    page.locator("#answer-c").fill("x")

    with browser_worker.paused():
        page.get_by_role("button", name="Submit").click()
        # Back on the exercise while the attempt waits: the page says so and follows it.
        page.wait_for_url(BACK_TO_THE_ANSWERS)
        expect(page.locator("#latest-attempt")).to_contain_text("is being graded")
        expect(page.locator("#verdict-a")).to_be_empty()
        expect(page.locator("#answer-c")).to_have_value("x")
        page.evaluate("window.sameDocument = true")

    expect(page.locator("#verdict-a")).to_contain_text("✓")
    expect(page.locator("#verdict-a")).to_contain_text("Correct")
    expect(page.locator("#verdict-b")).to_contain_text("✓")
    expect(page.locator("#verdict-c")).to_contain_text("✗")
    expect(page.locator("#verdict-c")).to_contain_text("Not correct")
    expect(page.locator("#verdict-c")).to_have_attribute("role", "status")
    expect(page.locator("#latest-attempt")).to_contain_text("Graded: score")
    assert page.evaluate("window.sameDocument") is True  # no reload
    # The typed answers stay, the attempts list stays, and, the chain rule being the last
    # exercise of its set, the way back to the set is offered.
    expect(page.locator("#answer-c")).to_have_value("x")
    expect(page.locator("section.history tbody tr")).to_have_count(1)
    expect(page.locator("p.next")).to_contain_text("The last exercise of this set")
    expect(page.locator("p.next a")).to_have_attribute("href", "/sets/derivatives/")
    # Editing an answer dims the verdict that judged the one before.
    page.locator("#answer-c").fill("x/sqrt(1 + x^2)")
    expect(page.locator("#verdict-c")).to_have_class(re.compile(r"\bstale\b"))

    # On reload, the page shows the same from the server.
    page.reload()
    expect(page.locator("#verdict-a")).to_contain_text("✓")
    expect(page.locator("#verdict-c")).to_contain_text("✗")
    assert overflow(page) <= 0
    screenshot(page, f"feedback-beside-answers-{page.width_name}")
    assert page.js_errors == []


def test_it_disables_submit_with_the_reason_when_no_attempt_is_left(screen, course):
    page = screen
    quick = course["quick"]
    Exercise.objects.filter(pk=quick.pk).update(max_attempts=1)
    page.goto(quick.get_absolute_url())
    submit = page.get_by_role("button", name="Submit")
    expect(submit).to_be_enabled()
    expect(page.locator("#submit-standing")).to_contain_text("1 of 1 attempt left")

    page.get_by_label("Answer a").fill("2x")
    submit.click()
    page.wait_for_url(BACK_TO_THE_ANSWERS)

    expect(submit).to_be_disabled()
    expect(page.locator("#submit-standing")).to_contain_text(
        "No attempt left: you have used the one attempt at this exercise."
    )
    expect(page.locator("#verdict-a")).to_contain_text("✓")
    expect(page.locator(".solution summary")).to_have_text("Worked solution")
    assert overflow(page) <= 0
    screenshot(page, f"no-attempt-left-{page.width_name}")

    # The attempt's own page leads back, and on to the rest of the set.
    page.locator("#latest-attempt").get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(SUBMISSION_URL)
    expect(page.locator("#verdict [data-status]")).to_have_attribute("data-status", "graded")
    expect(page.locator("p.next")).to_contain_text(
        ["Back to the exercise", "The last exercise of this set"]
    )
    assert page.js_errors == []


def test_it_shows_dates_in_the_students_own_time_zone(browser, server_url, course):
    quick = course["quick"]
    problem_set = quick.problem_set
    problem_set.due = datetime(2036, 12, 20, 17, 0, tzinfo=UTC)
    problem_set.save()
    context = browser.new_context(
        base_url=server_url, timezone_id="America/New_York", locale="en-US"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_up(page)
        for url in [problem_set.get_absolute_url(), quick.get_absolute_url()]:
            page.goto(url)
            due = page.locator("p.terms time").first
            # 17:00 UTC is noon in New York, in winter.
            expect(due).to_contain_text(re.compile(r"Dec 20, 2036.*12:00\s?PM EST"))
            expect(due).to_have_attribute("title", "Sat 20 Dec 2036, 17:00 UTC")
            expect(due).to_have_attribute("datetime", "2036-12-20T17:00:00+00:00")

        # Without JavaScript the server's time stays, with its zone named.
        context.close()
        context = browser.new_context(base_url=server_url, java_script_enabled=False)
        page = context.new_page()
        sign_up(page)
        page.goto(quick.get_absolute_url())
        expect(page.locator("p.terms time").first).to_have_text("Sat 20 Dec 2036, 17:00 UTC")
    finally:
        context.close()
