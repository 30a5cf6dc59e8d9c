"""Every page works under the site's Content-Security-Policy: the browser blocks nothing.

A violation shows as a `securitypolicyviolation` event (reported to the console by a
script the test adds, which the policy does not cover) and as the browser's own console
error; either fails the test.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.browser.conftest import expected_answers

pytestmark = pytest.mark.browser

PLOTTED = "linearise-square-root"
CODE = "code-forward-difference"

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture
def violations(page) -> list[str]:
    """What the browser said about the policy, on every page this test opens."""
    found: list[str] = []
    page.context.add_init_script(REPORT_VIOLATIONS)

    def on_console(message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            found.append(f"{page.url}: {text}")

    page.on("console", on_console)
    return found


def test_the_students_pages_run_under_the_policy(page, student, violations, browser_worker):
    response = page.goto("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_role("link", name=re.compile("Module 1|What is calculus", re.I)).first.click()
    expect(page.locator("h1")).to_be_visible()

    # Maths: KaTeX in the prompt and in the live preview, and an SVG plot.
    page.goto(f"/exercises/{PLOTTED}/")
    expect(page.locator("figure.plot-figure svg.plot")).to_be_visible()
    expect(page.locator(".katex").first).to_be_visible()
    first = page.locator("form.answers input[id^='answer-']").first
    first.press_sequentially("x^2/2")
    expect(page.locator(".preview[data-state='ok'] .katex").first).to_be_visible()

    # Back on the exercise, the verdict put beside the answers; then the attempt's page.
    for key, answer in expected_answers(student, PLOTTED).items():
        page.locator(f"#answer-{key}").fill(answer)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(rf"/exercises/{PLOTTED}/#latest-attempt$"))
    latest = page.locator("#latest-attempt")
    expect(latest).to_contain_text("Graded: score")
    latest.get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    expect(page.locator("#verdict [data-status]")).to_have_attribute("data-status", "graded")

    # Code: the CodeMirror editor.
    page.goto(f"/exercises/{CODE}/")
    expect(page.locator(".code-editor .cm-content")).to_be_visible()
    page.locator(".code-editor .cm-content").click()
    page.keyboard.type("# a comment")

    page.goto("/help/")
    expect(page.locator(".katex").first).to_be_visible()
    assert violations == []
    assert page.js_errors == []


def test_the_admin_runs_under_the_policy(page, violations):
    get_user_model().objects.create_superuser("root", password="root-password-for-a-test")
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("root-password-for-a-test")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/exercises/exercise/")
    page.goto(f"/admin/exercises/exercise/?q={PLOTTED}")
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("#exercise_form")).to_be_visible()
    # The preview under the form: the variant with its plot, and KaTeX.
    expect(page.locator("#authoring-preview")).to_have_attribute("data-state", "ok")
    expect(page.locator("#authoring-preview figure.plot-figure svg")).to_be_visible()
    expect(page.locator("#authoring-preview .katex").first).to_be_visible()
    assert violations == []
    assert page.js_errors == []
