"""A student who uses only the keyboard can answer and submit."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MAX_TABS = 40


def focused(page) -> dict:
    return page.evaluate(
        "() => ({id: document.activeElement.id, text: document.activeElement.textContent.trim()})"
    )


def test_it_submits_an_answer_with_tab_typing_and_enter(page, student, course, browser_worker):
    page.goto(course["quick"].get_absolute_url())

    page.keyboard.press("Tab")
    # The first stop lets a keyboard user jump over the site's header.
    assert focused(page)["text"] == "Skip to content"
    for _ in range(MAX_TABS):
        if focused(page)["id"] == "answer-a":
            break
        page.keyboard.press("Tab")
    assert focused(page)["id"] == "answer-a", "Tab never reached the answer box"

    page.keyboard.type("2x")
    # Paused, so that the verdict arrives while the student is on the page.
    with browser_worker.paused():
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/exercises/quick-power-rule/#latest-attempt$"))
        latest = page.locator("#latest-attempt")
        expect(latest).to_contain_text("is being graded")
        # The keyboard focus is on the attempt's line, whose region is live: a screen
        # reader reads it, and then the verdict when it comes.
        expect(latest).to_be_focused()
        expect(page.locator("#answer-a")).to_have_value("2x")

    expect(latest).to_have_text("Attempt 1: Graded: score 100%, all correct.")
    expect(latest).to_be_focused()
    expect(page.locator("#verdict-a")).to_contain_text("✓ Correct")
    # The next stops: the attempt's own page, then Submit for another try.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Attempt 1"
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Submit"
