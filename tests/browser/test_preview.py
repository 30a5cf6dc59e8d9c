"""Under each answer box, a live preview shows how the grader reads the answer."""

import pytest
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import expect

from exercises.models import Submission
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _preview_built():
    try:
        reverse("ex-preview", args=["any-exercise"])
    except NoReverseMatch:
        pytest.skip("the live preview is not built yet (no URL named ex-preview)")


def test_it_previews_a_readable_answer_as_maths(page, student, course):
    page.goto(course["quick"].get_absolute_url())
    preview = page.locator("#preview-a")
    expect(preview).to_have_attribute("data-state", "empty")

    page.locator("#answer-a").press_sequentially("x^2/2 + 2x")

    expect(preview).to_have_attribute("data-state", "ok")
    expect(preview).to_contain_text("You typed:")
    expect(preview.locator(".katex")).to_be_visible()
    # Read as the grader reads it: a fraction, not the typed slash.
    expect(preview.locator(".katex .mfrac")).to_have_count(1)
    screenshot(page, "exercise-with-preview")

    page.locator("#answer-a").fill("")
    expect(preview).to_have_attribute("data-state", "empty")
    assert page.js_errors == []


def test_it_previews_why_an_answer_cannot_be_read_before_submitting(page, student, course):
    page.goto(course["quick"].get_absolute_url())
    preview = page.locator("#preview-a")

    page.locator("#answer-a").press_sequentially("2x +")
    expect(preview).to_have_attribute("data-state", "invalid")
    expect(preview.locator(".preview-message")).not_to_be_empty()
    expect(preview).not_to_contain_text("You typed:")

    page.locator("#answer-a").fill("2y")
    expect(preview).to_have_attribute("data-state", "invalid")
    expect(preview.locator(".preview-message")).to_contain_text('"y"')
    # The marker points at the unknown name.
    expect(preview.locator(".preview-marker")).to_have_text("y")
    screenshot(page, "exercise-with-invalid-preview")

    # Previewing is not submitting.
    expect(page.locator("section.history")).to_contain_text("None yet.")
    assert not Submission.objects.filter(student__username=student).exists()
    assert page.js_errors == []


def test_it_shows_how_letters_typed_together_were_read(page, student, course):
    page.goto(course["quick"].get_absolute_url())
    preview = page.locator("#preview-a")

    page.locator("#answer-a").press_sequentially("xsin(x) + 2πx")

    expect(preview).to_have_attribute("data-state", "ok")
    reading = preview.locator(".preview-reading")
    expect(reading).to_have_text(
        "Letters typed together: xsin reads as x\u00b7sin; \u03c0x reads as \u03c0\u00b7x."
    )
    expect(preview.locator(".katex")).to_be_visible()
    screenshot(page, "exercise-preview-letter-run")

    # A product typed with a star needs no words.
    page.locator("#answer-a").fill("x*sin(x)")
    expect(preview.locator(".preview-reading")).to_have_count(0)
    assert page.js_errors == []
