"""Maths in prompts, labels and verdicts is typeset by KaTeX in the browser."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import expected_answers

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
    for key, answer in expected_answers(student, "chain-rule").items():
        page.locator(f"#answer-{key}").fill(answer)
    with browser_worker.paused():
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(re.compile(r"/exercises/chain-rule/#latest-attempt$"))
        expect(page.locator("#latest-attempt")).to_contain_text("is being graded")
        expect(page.locator("#solution-slot")).to_be_empty()
    # Solved: the worked solution, put in place by the script beside the verdicts, is typeset.
    expect(page.locator("#latest-attempt")).to_contain_text("all correct")
    solution = page.locator("#solution-slot details.solution")
    solution.locator("summary").click()
    expect(solution.locator(".katex").first).to_be_visible()
    assert "\\(" not in solution.evaluate(UNTYPESET)

    # The attempt's own page: the labels of the three parts are typeset too.
    page.locator("#latest-attempt").get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    verdict = page.locator("#verdict")
    expect(verdict.locator("[data-status]")).to_have_attribute("data-status", "graded")
    expect(verdict.locator(".katex")).to_have_count(3)
    assert "\\(" not in verdict.evaluate(UNTYPESET)
    assert page.js_errors == []
