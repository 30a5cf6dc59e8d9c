"""Choices in the browser: a radio button for one answer, check boxes for several, and
a verdict that says how many choices are missing or wrong; other parts may stay blank."""

import re

import pytest
from playwright.sync_api import expect

from exercises.models import Submission
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

SUBMISSION_URL = re.compile(r"/submissions/\d+/$")


def test_it_picks_choices_and_reads_what_is_wrong(page, student):
    # Check boxes, ticked by keyboard and by pointer: two of the three right ones.
    page.goto("/exercises/antiderivative-choice/")
    boxes = page.locator("fieldset#part-a input[type=checkbox]")
    expect(boxes).to_have_count(6)
    expect(page.locator("fieldset#part-a input[type=radio]")).to_have_count(0)
    boxes.nth(0).focus()
    page.keyboard.press("Space")
    expect(boxes.nth(0)).to_be_checked()
    page.locator("fieldset#part-a label").nth(1).click()
    expect(boxes.nth(1)).to_be_checked()
    screenshot(page, "choice-boxes")
    page.get_by_role("button", name="Submit").click()

    # Back to the answers, the verdict beside the boxes; the attempt's page has it whole.
    page.wait_for_url(re.compile(r"/exercises/antiderivative-choice/#latest-attempt$"))
    expect(page.locator("#verdict-a")).to_contain_text("1 of the right choices is missing.")
    expect(page.locator("#verdict-a")).to_contain_text("Not correct")
    expect(boxes.nth(0)).to_be_checked()
    page.locator("#latest-attempt").get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(SUBMISSION_URL)
    verdict = page.locator("#verdict")
    expect(verdict.locator("[data-status]")).to_have_attribute("data-status", "graded")
    expect(verdict).to_contain_text("1 of the right choices is missing.")
    expect(verdict).to_contain_text("Score: 67%")
    submission = Submission.objects.get(student__username=student)
    assert submission.answers == {"a": "a, b"}

    # The page ticks them again for the next attempt.
    page.goto("/exercises/antiderivative-choice/")
    expect(boxes.nth(0)).to_be_checked()
    expect(boxes.nth(1)).to_be_checked()
    expect(boxes.nth(4)).not_to_be_checked()

    # A radio button, in an exercise whose other parts are left blank.
    page.goto("/exercises/quadratic-surface/")
    radios = page.locator("fieldset#part-d input[type=radio]")
    expect(radios).to_have_count(3)
    expect(page.locator("fieldset#part-d legend")).to_contain_text("Its kind")
    radios.nth(2).check()
    radios.nth(1).check()
    expect(radios.nth(2)).not_to_be_checked()
    page.get_by_role("button", name="Submit").click()

    page.wait_for_url(re.compile(r"/exercises/quadratic-surface/#latest-attempt$"))
    expect(page.locator("#verdict-d")).to_contain_text("That is not the right choice.")
    expect(page.locator("#verdict-a")).to_contain_text("Not answered")
    expect(radios.nth(1)).to_be_checked()
    screenshot(page, "choice-verdict")
    page.locator("#latest-attempt").get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(SUBMISSION_URL)
    expect(verdict.locator("[data-status]")).to_have_attribute("data-status", "graded")
    expect(verdict).to_contain_text("That is not the right choice.")
    expect(verdict).to_contain_text("Not answered")
    latest = Submission.objects.filter(student__username=student).first()
    assert latest.answers == {"d": "b"}
