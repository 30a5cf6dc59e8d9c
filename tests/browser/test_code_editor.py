"""The code editor, in a static page that loads only the site's stylesheet, the vendored
CodeMirror bundle and code-editor.js: no server, no database, no worker."""

from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, screenshot

pytestmark = pytest.mark.browser

STATIC = Path(settings.BASE_DIR) / "exercises/static"
BUNDLE = STATIC / "vendor/codemirror-6.0.2/codemirror.min.js"
SCRIPT = STATIC / "exercises/code-editor.js"
STYLES = STATIC / "exercises/site.css"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Code editor</title>
<link rel="stylesheet" href="{styles}">
{scripts}
</head><body><main>
<form id="form">
  <div class="part">
    <label for="answer-fd">Write forward_difference(f, x, h).</label>
    <textarea id="answer-fd" name="answer-fd" rows="12" data-code-editor
              spellcheck="false" aria-describedby="hint-fd">{starter}</textarea>
    <small id="hint-fd" class="hint">Python code</small>
  </div>
  <button type="submit" id="submit">Submit</button>
</form>
</main></body></html>
"""


def make_page(browser, tmp_path, *, bundle=True, starter=""):
    scripts = [BUNDLE, SCRIPT] if bundle else [SCRIPT]
    html = PAGE.format(
        styles=STYLES.as_uri(),
        scripts="\n".join(f'<script src="{s.as_uri()}" defer></script>' for s in scripts),
        starter=starter,
    )
    path = tmp_path / "editor.html"
    path.write_text(html)
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    page.goto(path.as_uri())
    return page


@pytest.fixture
def page(browser, tmp_path):
    """The static page with the editor (named `page` so that a failure leaves a screenshot)."""
    page = make_page(browser, tmp_path)
    yield page
    page.context.close()


def textarea_value(page) -> str:
    return page.evaluate("() => document.getElementById('answer-fd').value")


def focus_is_in_editor(page) -> bool:
    return page.evaluate("() => !!document.activeElement.closest('.cm-editor')")


def test_it_replaces_the_textarea_with_a_labelled_editor(page):
    editor = page.locator(".code-editor .cm-content")
    expect(editor).to_be_visible()
    expect(page.locator("#answer-fd")).to_be_hidden()
    expect(editor).to_have_attribute("aria-label", "Write forward_difference(f, x, h).")
    expect(editor).to_have_attribute("aria-describedby", "hint-fd answer-fd-keys")
    expect(page.locator("#answer-fd-keys")).to_have_text(
        "Tab indents. To leave the editor, press Esc then Tab."
    )
    expect(page.locator(".code-editor .cm-lineNumbers")).to_be_visible()
    assert page.js_errors == []


def test_it_indents_python_and_keeps_the_form_in_step(page):
    page.locator("label[for=answer-fd]").click()
    assert focus_is_in_editor(page)
    page.keyboard.type("def f(x):")
    page.keyboard.press("Enter")
    page.keyboard.type("return 2 * x")

    assert textarea_value(page) == "def f(x):\n    return 2 * x"
    expect(page.locator(".cm-line").nth(1)).to_have_text("    return 2 * x")
    posted = page.evaluate("() => new FormData(document.getElementById('form')).get('answer-fd')")
    assert posted == "def f(x):\n    return 2 * x"
    # Python is highlighted: the keyword is styled apart from the name.
    keyword = page.locator(".cm-line").first.locator("span", has_text="def")
    expect(keyword).to_have_count(1)
    screenshot(page, "code-editor")


def test_tab_indents_and_escape_then_tab_leaves(page):
    page.locator(".code-editor .cm-content").click()
    page.keyboard.type("x = 1")
    page.keyboard.press("Tab")
    assert focus_is_in_editor(page)
    assert textarea_value(page) == "    x = 1"

    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "submit"
    assert textarea_value(page) == "    x = 1"

    page.keyboard.press("Shift+Tab")
    assert focus_is_in_editor(page)


def test_it_starts_from_the_textareas_text(browser, tmp_path):
    page = make_page(browser, tmp_path, starter="def f(x):\n    return 0.0\n")
    try:
        expect(page.locator(".cm-line")).to_have_count(3)
        expect(page.locator(".cm-line").nth(1)).to_have_text("    return 0.0")
        assert textarea_value(page) == "def f(x):\n    return 0.0\n"
    finally:
        page.context.close()


def test_without_the_bundle_the_textarea_stays_a_plain_text_area(browser, tmp_path):
    page = make_page(browser, tmp_path, bundle=False)
    try:
        textarea = page.locator("#answer-fd")
        expect(textarea).to_be_visible()
        expect(page.locator(".code-editor")).to_have_count(0)
        font = textarea.evaluate("el => getComputedStyle(el).fontFamily")
        assert "monospace" in font
        textarea.click()
        page.keyboard.type("def f(x):")
        assert textarea_value(page) == "def f(x):"
        assert page.js_errors == []
    finally:
        page.context.close()
