"""Maths in prompts, labels and verdicts is typeset by KaTeX in the browser."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

VENDOR = Path(settings.BASE_DIR) / "exercises" / "static" / "vendor"

# The text of an element with KaTeX's output taken out: any TeX delimiter left is maths
# that was not typeset.
UNTYPESET = """el => {
  const copy = el.cloneNode(true);
  copy.querySelectorAll('.katex').forEach(k => k.remove());
  return copy.textContent;
}"""


@pytest.fixture(autouse=True)
def _katex_built():
    if not list(VENDOR.glob("katex*/katex.min.js")):
        pytest.skip("KaTeX maths rendering is not built yet (no exercises/static/vendor/katex*/)")


def test_it_typesets_the_prompt_and_the_labels(page, student):
    page.goto("/exercises/rise-over-run/")
    prompt = page.locator(".prompt")
    expect(prompt.locator(".katex").first).to_be_visible()
    # The forward difference is display maths ($$ ... $$).
    expect(prompt.locator(".katex-display")).to_have_count(1)
    assert not re.search(r"\\\(|\\\)|\$\$", prompt.evaluate(UNTYPESET))

    page.goto("/exercises/chain-rule/")
    label = page.locator("label[for=answer-a]")
    expect(label.locator(".katex")).to_have_count(1)
    assert "\\(" not in label.evaluate(UNTYPESET)
    assert page.js_errors == []


def test_it_typesets_the_verdict_that_arrives_in_place(page, student, browser_worker):
    page.goto("/exercises/chain-rule/")
    page.locator("#answer-a").fill("2x cos(x^2)")
    page.locator("#answer-b").fill("6x e^(3x^2 + 1)")
    page.locator("#answer-c").fill("x/sqrt(1 + x^2)")
    with browser_worker.paused():
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(re.compile(r"/submissions/\d+/$"))
        expect(page.locator("#verdict [data-status]")).not_to_have_attribute(
            "data-status", "graded"
        )
    verdict = page.locator("#verdict")
    expect(verdict.locator("[data-status]")).to_have_attribute("data-status", "graded")
    # The labels of the three parts, put in place by the script, are typeset too.
    expect(verdict.locator(".katex")).to_have_count(3)
    assert "\\(" not in verdict.evaluate(UNTYPESET)
    assert page.js_errors == []
