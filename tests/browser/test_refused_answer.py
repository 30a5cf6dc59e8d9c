"""An answer refused as unreadable: its reason shows once under the input, not again in
the live preview; typing again hands over to the preview."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_it_shows_the_reason_an_answer_was_refused_once(page, student, course):
    page.goto(course["quick"].get_absolute_url())
    answer = page.get_by_label("Answer a")
    answer.fill("2x +")
    preview = page.locator("#preview-a")
    expect(preview).to_have_attribute("data-state", "invalid")
    message = preview.locator(".preview-message").inner_text()
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_role("alert")).to_contain_text("nothing was submitted")
    expect(page.locator("#error-a")).to_contain_text(message)
    # Whatever the preview would have fetched has come back by now.
    page.wait_for_load_state("networkidle")
    expect(preview).to_have_attribute("data-state", "empty")
    expect(page.locator("#part-a").get_by_text(message)).to_have_count(1)

    answer.press("End")
    answer.type("1")
    expect(preview).to_have_attribute("data-state", "ok")
    expect(page.locator("#error-a")).to_be_hidden()
    expect(answer).not_to_have_attribute("aria-invalid", "true")
    assert page.js_errors == []
