"""Code answers in the browser: a solution typed in the editor, its visible tests run
without using an attempt, a submission, and the feedback of each test."""

import json
import re

import pytest
from playwright.sync_api import expect

from exercises.models import Submission
from tests.browser.conftest import screenshot, sign_up

pytestmark = pytest.mark.browser

EXERCISE = "/exercises/code-forward-difference/"
SUBMISSION_URL = re.compile(r"/submissions/\d+/$")
BACK_TO_THE_ANSWERS = re.compile(rf"{EXERCISE}#latest-attempt$")
# The central difference over h: twice the slope, and not what the exercise asks for.
WRONG = ["def forward_difference(f, x, h):", "return (f(x + h) - f(x - h)) / h"]
RIGHT = ["def forward_difference(f, x, h):", "return (f(x + h) - f(x)) / h"]


def overflow(page) -> int:
    """How many CSS pixels the page is wider than the window."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def type_in_editor(page, lines: list[str]) -> None:
    """Replace the editor's text by typing, as a student does: the editor indents the
    line after a colon by itself."""
    # Its label leads to the editor.
    page.locator("label[for=answer-code]").click()
    assert page.evaluate("() => !!document.activeElement.closest('.cm-editor')")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Delete")
    for n, line in enumerate(lines):
        if n:
            page.keyboard.press("Enter")
        page.keyboard.type(line)


def posted_source(page) -> str:
    return page.evaluate(
        "() => new FormData(document.querySelector('form.answers')).get('answer-code')"
    )


def run_visible_tests(page):
    """Click the button and wait for the feedback under the editor."""
    output = page.locator("#run-code")
    page.get_by_role("button", name="Run the visible tests").click()
    expect(output).to_have_attribute(
        "data-state", re.compile(r"^(done|failed|delayed|invalid|paused)$")
    )
    return output


def test_it_runs_the_visible_tests_submits_and_shows_each_tests_feedback(
    page, student, browser_worker
):
    page.goto(EXERCISE)
    editor = page.locator(".code-editor .cm-content")
    expect(editor).to_be_visible()
    expect(page.locator("#answer-code")).to_be_hidden()
    # The starter is there to begin from.
    expect(editor).to_contain_text("def forward_difference(f, x, h):")

    type_in_editor(page, WRONG)
    assert posted_source(page) == "\n".join([WRONG[0], "    " + WRONG[1]])

    output = run_visible_tests(page)
    expect(output).to_have_attribute("data-state", "done")
    # Each visible test: the call, and the value expected (e^x at 1 with h = 0.1 gives
    # 2.8588...) beside the one received (5.4456...).
    expect(output).to_contain_text("forward_difference(")
    expect(output).to_contain_text("2.8588")
    expect(output).to_contain_text("5.4456")
    screenshot(page, "code-run-failing")
    # Running costs no attempt.
    assert not Submission.objects.filter(student__username=student).exists()
    expect(page.locator("section.history")).to_contain_text("None yet.")

    # Submit the wrong answer: back on the exercise, the source stays in the editor and
    # the verdict is beside it.
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(BACK_TO_THE_ANSWERS)
    latest = page.locator("#latest-attempt")
    expect(latest).to_contain_text("Graded: score 0%")
    expect(page.locator("#verdict-code")).to_contain_text("✗ Not correct")
    expect(editor).to_contain_text("f(x - h)")
    assert posted_source(page) == "\n".join([WRONG[0], "    " + WRONG[1]])
    screenshot(page, "code-feedback-incorrect")

    # The attempt's page shows each test, and the hidden ones as a count.
    latest.get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(SUBMISSION_URL)
    verdict = page.locator("#verdict .verdict")
    expect(verdict).to_have_attribute("data-status", "graded")
    wrong = verdict.locator(".results li.result-incorrect")
    expect(wrong).to_have_count(1)
    expect(wrong.locator("pre.typed-code")).to_contain_text("(f(x + h) - f(x - h)) / h")
    expect(wrong).to_contain_text("forward_difference(")
    expect(wrong).to_contain_text("2.8588")
    expect(wrong).to_contain_text(re.compile(r"hidden", re.IGNORECASE))
    screenshot(page, "code-verdict-incorrect")

    # Back to the exercise: the last source is in the editor, to be fixed.
    page.get_by_role("link", name="Back to the exercise").click()
    expect(editor).to_contain_text("f(x - h)")
    type_in_editor(page, RIGHT)
    output = run_visible_tests(page)
    expect(output).to_have_attribute("data-state", "done")
    expect(output).not_to_contain_text("5.4456")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(BACK_TO_THE_ANSWERS)
    expect(latest).to_contain_text("Graded: score 100%, all correct")
    expect(page.locator("#verdict-code")).to_contain_text("✓ Correct")
    expect(editor).to_contain_text("f(x + h) - f(x)) / h")
    latest.get_by_role("link", name="Attempt 2").click()
    page.wait_for_url(SUBMISSION_URL)
    expect(verdict).to_have_attribute("data-status", "graded")
    expect(verdict.locator(".score")).to_contain_text("100%")
    expect(verdict.locator(".results li.result-correct")).to_have_count(1)
    screenshot(page, "code-verdict-correct")

    assert page.js_errors == []
    graded = Submission.objects.filter(student__username=student).order_by("attempt")
    assert [(s.attempt, s.status, s.score) for s in graded] == [
        (1, "graded", 0.0),
        (2, "graded", 1.0),
    ]


def test_it_names_the_line_and_column_of_code_that_cannot_be_read(page, student):
    page.goto(EXERCISE)
    type_in_editor(page, ["def forward_difference(f, x, h):", "return (f(x + h) - f(x) / h"])
    output = run_visible_tests(page)
    expect(output).to_have_attribute("data-state", "invalid")
    expect(output).to_contain_text("line")
    expect(output).to_contain_text("column")
    assert not Submission.objects.filter(student__username=student).exists()


def test_it_says_when_to_run_again_after_too_many_runs(page, student):
    """The server's 429, as the contract gives it (a real one takes many runs)."""
    page.goto(EXERCISE)
    posted = []

    def refuse(route):
        posted.append(route.request.post_data_buffer)
        body = {"error": "You have run the tests often in the last minute.", "retry_after": 42}
        route.fulfill(status=429, content_type="application/json", body=json.dumps(body))

    page.route("**/run/", refuse)
    output = run_visible_tests(page)
    expect(output).to_have_attribute("data-state", "paused")
    expect(output).to_contain_text("You have run the tests often in the last minute.")
    expect(output).to_contain_text("42 seconds")
    # The form's fields went with the part's key.
    assert len(posted) == 1
    assert b'name="part"\r\n\r\ncode' in posted[0]
    assert b'name="answer-code"' in posted[0]
    assert b'name="csrfmiddlewaretoken"' in posted[0]
    expect(page.get_by_role("button", name="Run the visible tests")).to_be_enabled()


def test_it_fits_a_phone_screen_with_the_editor_and_the_feedback(phone_page):
    page = phone_page
    sign_up(page)
    page.goto(EXERCISE)
    expect(page.locator(".code-editor .cm-content")).to_be_visible()
    expect(page.get_by_role("button", name="Run the visible tests")).to_be_visible()
    assert overflow(page) <= 0
    type_in_editor(page, WRONG)
    output = run_visible_tests(page)
    expect(output).to_have_attribute("data-state", "done")
    screenshot(page, "phone-code-run")
    assert overflow(page) <= 0
