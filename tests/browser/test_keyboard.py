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
        page.wait_for_url(re.compile(r"/submissions/\d+/$"))
        verdict = page.locator("#verdict .verdict[data-status]")
        expect(verdict).not_to_have_attribute("data-status", "graded")

    expect(verdict).to_have_attribute("data-status", "graded")
    expect(verdict.locator(".score")).to_contain_text("all correct")
    expect(verdict.locator(".typed")).to_have_text("2x")
    # Said once to a screen reader, and the keyboard focus is on the verdict.
    expect(page.locator("#verdict-announcer")).to_have_text("Graded: score 100%, all correct.")
    expect(page.locator("#verdict")).to_be_focused()
