"""Submitting answers: unreadable ones are refused on the spot; verdicts arrive in place."""

import re

import pytest
from playwright.sync_api import expect

from exercises.models import Submission, Variant
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

SUBMISSION_URL = re.compile(r"/submissions/\d+/$")


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
    """Submit with the worker paused, check the page waits, resume, and return the verdict.

    The verdict must arrive in the page that the submission led to: no reload, no
    other navigation.
    """
    with worker.paused():
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(SUBMISSION_URL)
        verdict = page.locator("#verdict [data-status]")
        expect(verdict).to_have_attribute("data-status", re.compile(r"^(queued|grading)$"))
        expect(verdict).to_contain_text("Grading")
        url = page.url
        navigations: list[str] = []

        def navigated(frame):
            if frame == page.main_frame:
                navigations.append(frame.url)

        page.on("framenavigated", navigated)
        # A reload would lose this.
        page.evaluate("window.sameDocument = true")
    expect(verdict).to_have_attribute("data-status", "graded")
    assert page.url == url
    assert navigations == []
    assert page.evaluate("window.sameDocument") is True
    page.remove_listener("framenavigated", navigated)
    return verdict


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
    verdict = submit_and_watch_the_verdict(page, browser_worker)
    expect(verdict.locator(".score")).to_contain_text("100%")
    expect(verdict.locator(".score")).to_contain_text("all correct")
    expect(verdict.locator(".result-correct")).to_have_count(2)
    screenshot(page, "verdict-correct")

    # Twice the right gradient: the rise itself, a mistake the exercise names.
    fill_rise_over_run(page, lambda p: f"{4 * p + 4}", "2.859", student)
    verdict = submit_and_watch_the_verdict(page, browser_worker)
    expect(verdict.locator(".score")).to_contain_text("50%")
    wrong = verdict.locator(".result-incorrect")
    expect(wrong).to_have_count(1)
    expect(wrong).to_contain_text("That is the rise; divide it by the run.")
    expect(verdict.locator(".result-correct")).to_have_count(1)
    screenshot(page, "verdict-incorrect")

    page.get_by_role("link", name="Back to the exercise").click()
    rows = page.locator("section.history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("#2")
    expect(rows.nth(0).locator(".attempt-partial")).to_contain_text("50%")
    expect(rows.nth(1)).to_contain_text("#1")
    expect(rows.nth(1).locator(".attempt-correct")).to_contain_text("100%")
    expect(page.locator("section.history")).to_contain_text("Best score: 100%")
    # Solved: the worked solution is there to read.
    expect(page.locator("details.solution")).to_be_visible()
    assert page.js_errors == []
    graded = Submission.objects.filter(student__username=student).order_by("attempt")
    assert [(s.attempt, s.status, s.score) for s in graded] == [
        (1, "graded", 1.0),
        (2, "graded", 0.5),
    ]
