"""At a phone's width every page a student meets fits without scrolling sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, screenshot, sign_up

pytestmark = pytest.mark.browser


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the window."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def test_it_fits_a_phone_screen(phone_page):
    page = phone_page
    sign_up(page)
    assert page.evaluate("window.innerWidth") == PHONE["width"]
    visited = {}
    for path in [
        "/",
        "/modules/what-is-calculus/",
        "/sets/derivatives/",
        "/exercises/rise-over-run/",
        "/exercises/product-rule/",
        "/exercises/linearise-square-root/",
        "/help/",
    ]:
        page.goto(path)
        visited[path] = overflow(page)

    page.goto("/exercises/chain-rule/")
    # A long answer in the preview must wrap or scroll inside its box, not the page.
    page.locator("#answer-c").press_sequentially(
        "x/sqrt(1 + x^2) + 0*(x^2 + x^3 + x^4 + x^5 + x^6)"
    )
    expect(page.locator("#preview-c")).to_have_attribute("data-state", "ok")
    visited["an exercise with a long answer previewed"] = overflow(page)
    page.locator("#answer-c").fill("x")
    page.locator("#answer-a").fill("2x cos(x^2)")
    page.locator("#answer-b").fill("6x e^(3x^2 + 1)")
    page.locator("#answer-c").fill("x")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/exercises/chain-rule/#latest-attempt$"))
    expect(page.locator("#latest-attempt")).to_contain_text("Graded: score")
    expect(page.locator("#verdict-a")).to_contain_text("✓")
    expect(page.locator("#verdict-c")).to_contain_text("✗")
    visited["the verdicts beside the answers"] = overflow(page)
    screenshot(page, "phone-feedback")
    page.locator("#latest-attempt").get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    expect(page.locator("#verdict [data-status]")).to_have_attribute("data-status", "graded")
    visited["a graded submission"] = overflow(page)
    screenshot(page, "phone-verdict")

    assert {where: px for where, px in visited.items() if px > 0} == {}
