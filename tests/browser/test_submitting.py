"""Submitting answers: unreadable ones are refused on the spot; verdicts arrive in place,
beside the answers."""

import re

import pytest
from playwright.sync_api import expect

from exercises.models import Submission, Variant
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

BACK_TO_THE_ANSWERS = re.compile(r"/exercises/rise-over-run/#latest-attempt$")


def fill_rise_over_run(page, a, b: str, student: str | None = None) -> None:
    """Type answers to the rise-over-run exercise.

    The exercise is randomised (the chord runs from p to p + 2): `a` may be a function
    of the student's p, read from the variant the page has just stored for them.
    """
    page.goto("/exercises/rise-over-run/")
    if callable(a):
        variant = Variant.objects.get(student__username=student, exercise__slug="rise-over-run")
        a = a(variant.values["p"])
    page.get_by_label("Gradient of the chord").fill(a)
    page.get_by_label("Forward-difference estimate").fill(b)


def submit_and_watch_the_verdict(page, worker):
    """Submit with the worker paused, check the page waits, resume, and return the latest
    attempt's line.

    Submit leads back to the exercise page, which keeps the answers and puts the verdict
    beside them when it arrives: no reload, no other navigation.
    """
    typed = [page.locator(".answer-input").nth(i).input_value() for i in range(2)]
    with worker.paused():
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(BACK_TO_THE_ANSWERS)
        latest = page.locator("#latest-attempt")
        expect(latest).to_contain_text("is being graded")
        # Screen readers start from the attempt's line, which is live.
        expect(latest).to_be_focused()
        expect(page.locator("#verdict-a")).to_be_empty()
        for i, value in enumerate(typed):
            expect(page.locator(".answer-input").nth(i)).to_have_value(value)
        url = page.url
        navigations: list[str] = []

        def navigated(frame):
            if frame == page.main_frame:
                navigations.append(frame.url)

        page.on("framenavigated", navigated)
        # A reload would lose this.
        page.evaluate("window.sameDocument = true")
    expect(latest).to_contain_text("Graded: score")
    assert page.url == url
    assert navigations == []
    assert page.evaluate("window.sameDocument") is True
    page.remove_listener("framenavigated", navigated)
    return latest


def test_it_explains_an_unreadable_answer_and_submits_nothing(page, student):
    fill_rise_over_run(page, "2x +", "2.859")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("alert")).to_contain_text("nothing was submitted")
    answer = page.get_by_label("Gradient of the chord")
    expect(answer).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-a")).to_be_visible()
    expect(page.locator("#error-a")).not_to_be_empty()
    # The typing is kept, to be fixed rather than retyped.
    expect(answer).to_have_value("2x +")
    expect(page.get_by_label("Forward-difference estimate")).to_have_value("2.859")
    expect(page.locator("section.history")).to_contain_text("None yet.")
    assert not Submission.objects.filter(student__username=student).exists()


def test_it_names_an_unknown_variable_and_submits_nothing(page, student, course):
    page.goto(course["quick"].get_absolute_url())
    page.get_by_label("Answer a").fill("2y")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("alert")).to_contain_text("nothing was submitted")
    expect(page.locator("#error-a")).to_contain_text('"y"')
    expect(page.get_by_label("Answer a")).to_have_value("2y")
    assert not Submission.objects.filter(student__username=student).exists()


def test_it_shows_verdicts_without_reloading_and_lists_the_attempts(page, student, browser_worker):
    fill_rise_over_run(page, lambda p: f"{4 * p + 4}/2", "2.859", student)
    latest = submit_and_watch_the_verdict(page, browser_worker)
    expect(latest).to_contain_text("100%, all correct")
    expect(page.locator(".part-verdict .result-correct")).to_have_count(2)
    screenshot(page, "verdict-correct")

    # Twice the right gradient: the rise itself, a mistake the exercise names.
    fill_rise_over_run(page, lambda p: f"{4 * p + 4}", "2.859", student)
    latest = submit_and_watch_the_verdict(page, browser_worker)
    expect(latest).to_contain_text("50%")
    wrong = page.locator("#verdict-a .result-incorrect")
    expect(wrong).to_be_visible()
    expect(wrong).to_contain_text("That is the rise; divide it by the run.")
    expect(page.locator("#verdict-b .result-correct")).to_be_visible()
    screenshot(page, "verdict-incorrect")

    # The list of attempts came with the verdict.
    rows = page.locator("section.history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("#2")
    expect(rows.nth(0).locator(".attempt-partial")).to_contain_text("50%")
    expect(rows.nth(1)).to_contain_text("#1")
    expect(rows.nth(1).locator(".attempt-correct")).to_contain_text("100%")
    expect(page.locator("section.history")).to_contain_text("Best score: 100%")
    # Solved: the worked solution is there to read.
    expect(page.locator("details.solution")).to_be_visible()

    # The attempt's own page is one link away, with the same verdict.
    latest.get_by_role("link", name="Attempt 2").click()
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    verdict = page.locator("#verdict [data-status]")
    expect(verdict).to_have_attribute("data-status", "graded")
    expect(verdict.locator(".score")).to_contain_text("50%")
    expect(verdict.locator(".result-incorrect")).to_contain_text("That is the rise")
    assert page.js_errors == []
    graded = Submission.objects.filter(student__username=student).order_by("attempt")
    assert [(s.attempt, s.status, s.score) for s in graded] == [
        (1, "graded", 1.0),
        (2, "graded", 0.5),
    ]
