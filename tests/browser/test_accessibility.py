"""Every page a student meets passes an accessibility audit, at desktop and phone width.

axe-core (tests/browser/assets/, from the npm registry) is injected into each page and
run with the WCAG 2.0 and 2.1 rules of levels A and AA; a violation of serious or critical
impact fails the test, named with its rule, the elements it found and axe's help. The
pages are the list PAGES: adding a page is adding one line to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.urls import resolve
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, TIMEOUT_MS, sign_up

pytestmark = pytest.mark.browser

(AXE,) = (Path(__file__).parent / "assets").glob("axe-core-*/axe.min.js")
AXE_SOURCE = AXE.read_text()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
RUN_AXE = """tags => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
}).then(results => results.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  targets: v.nodes.map(n => n.target.join(" ")),
})))"""


# ---------------------------------------------------------------- the pages


@dataclass
class Visit:
    """What a page's builder may use: the browser's page and the test's data."""

    page: object
    username: str | None
    quiz_slug: str
    worker: object  # the conftest's PausableWorker
    # The page being audited, what the audit found on each, and the URL names audited.
    name: str = ""
    found: dict[str, list[dict]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


def wait_for_verdict(page) -> None:
    expect(page.locator("#verdict [data-status]")).to_have_attribute("data-status", "graded")


def back_to_the_answers(page) -> None:
    """After Submit: the exercise page, at the latest attempt, until its verdict is in."""
    page.wait_for_url(re.compile(r"/exercises/[\w-]+/#latest-attempt$"))
    expect(page.locator("#latest-attempt")).to_contain_text(re.compile(r"Graded|Submitted"))


def to_the_attempt(page) -> None:
    """From the exercise page, the latest attempt's own page, graded."""
    page.locator("#latest-attempt a").click()
    page.wait_for_url(re.compile(r"/submissions/\d+/$"))
    wait_for_verdict(page)


def submit_chain_rule(visit: Visit, right: bool = False) -> None:
    """Answers chain-rule (one part wrong unless `right`): the verdicts beside the answers,
    then the attempt's page."""
    page = visit.page
    page.goto("/exercises/chain-rule/")
    answers = {"a": "2x cos(x^2)", "b": "6x e^(3x^2 + 1)", "c": "x/sqrt(1 + x^2)"}
    if not right:
        answers["c"] = "x"
    for key, text in answers.items():
        page.locator(f"#answer-{key}").fill(text)
    page.get_by_role("button", name="Submit").click()
    back_to_the_answers(page)
    audit_here(visit)
    to_the_attempt(page)


def while_grading(visit: Visit) -> None:
    """The exercise page and the verdict page before the verdict: "being graded",
    polling; then the verdict page graded."""
    with visit.worker.paused():
        page = visit.page
        page.goto("/exercises/quick-power-rule/")
        page.locator("#answer-a").fill("2x")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_url(re.compile(r"#latest-attempt$"))
        expect(page.locator("#latest-attempt")).to_contain_text("is being graded")
        audit_here(visit)
        page.locator("section.history tbody a").first.click()
        page.wait_for_url(re.compile(r"/submissions/\d+/$"))
        expect(page.locator("#verdict [data-status]")).not_to_have_attribute(
            "data-status", "graded"
        )
        audit_here(visit)
    wait_for_verdict(page)


# Typed line by line: the editor indents after the colon.
PRINTING_CODE = [
    "def forward_difference(f, x, h):",
    'print("the slope between x and x + h, " * 8)',
    "return (f(x + h) - f(x)) / h",
]


def code_run(visit: Visit) -> None:
    """A code exercise with its visible tests run, then its verdict beside the editor and
    on the attempt's page."""
    page = visit.page
    page.goto("/exercises/code-forward-difference/")
    # Code that prints a long line, which must scroll inside its box on a phone.
    page.locator("label[for=answer-code]").click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Delete")
    for n, line in enumerate(PRINTING_CODE):
        if n:
            page.keyboard.press("Enter")
        page.keyboard.type(line)
    page.get_by_role("button", name="Run the visible tests").click()
    expect(page.locator("#run-code")).to_have_attribute("data-state", "done")
    expect(page.locator("#run-code pre.code-output").first).to_be_visible()
    audit_here(visit)
    page.get_by_role("button", name="Submit").click()
    back_to_the_answers(page)
    audit_here(visit)
    to_the_attempt(page)


def typed_preview(visit: Visit) -> None:
    """An exercise with one answer previewed and one refused by the preview."""
    page = visit.page
    page.goto("/exercises/chain-rule/")
    page.locator("#answer-a").press_sequentially("2x cos(x^2)")
    expect(page.locator("#preview-a")).to_have_attribute("data-state", "ok")
    page.locator("#answer-b").press_sequentially("6x e^(3x^2 + ")
    expect(page.locator("#preview-b")).to_have_attribute("data-state", "invalid")


def refused_submission(visit: Visit) -> None:
    """The exercise page after the server refused an unreadable answer."""
    page = visit.page
    page.goto("/exercises/quick-power-rule/")
    page.locator("#answer-a").fill("2x +")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#error-a")).to_be_visible()


def after_a_verdict(visit: Visit) -> str:
    """The exercise page again once a verdict is in: attempts, feedback, hints."""
    submit_chain_rule(visit)
    return "/exercises/chain-rule/"


def start_quiz(visit: Visit) -> None:
    """The timed quiz's confirmation before its clock starts, then its first exercise
    with the countdown."""
    page = visit.page
    page.goto(f"/sets/{visit.quiz_slug}/")
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("button", name="Start the clock now")).to_be_visible()
    audit_here(visit)
    page.get_by_role("button", name="Start the clock now").click()
    page.wait_for_url(re.compile(rf"/exercises/{visit.quiz_slug}-question/$"))


def password_reset(visit: Visit) -> None:
    """The password reset: its request, the "sent" page, the e-mailed link's form; then
    the page that says it is done."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    page = visit.page
    page.goto("/password-reset/")
    audit_here(visit)
    page.get_by_label("E-mail address").fill("forgetful@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    audit_here(visit)
    # The link the e-mail carries, made as the server makes it.
    user = get_user_model().objects.create_user(
        "forgetful", "forgetful@example.org", "an-old-pass-phrase-1"
    )
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page.goto(f"/password-reset/{uid}/{default_token_generator.make_token(user)}/")
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    audit_here(visit)
    page.get_by_label("New password", exact=True).fill("a-new-pass-phrase-42")
    page.get_by_label("New password confirmation").fill("a-new-pass-phrase-42")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()


def refused_signup(visit: Visit) -> None:
    page = visit.page
    page.goto("/signup/")
    page.get_by_label("Username").fill("someone")
    page.get_by_label(re.compile(r"^Password:?$")).fill("short")
    page.get_by_label("Password confirmation").fill("other")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator(".field.has-error .error").first).to_be_visible()


def refused_login(visit: Visit) -> None:
    page = visit.page
    page.goto("/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errorlist, .errornote, .error").first).to_be_visible()


@dataclass(frozen=True)
class Page:
    name: str
    # The path to open, or a function of the Visit that returns it, or that takes the
    # page there itself (the student's actions) and returns None.
    path: str | Callable[[Visit], str | None]
    signed_in: bool = True


# Each module of the course, as the course's own list has them.
MODULES = [
    module["slug"]
    for module in yaml.safe_load((Path(settings.BASE_DIR) / "course/course.yaml").read_text())[
        "modules"
    ]
]

# Signed-out pages first, then a student signs up and sees the rest, in this order.
PAGES = [
    Page("sign in", "/login/", signed_in=False),
    Page("sign in, refused", refused_login, signed_in=False),
    Page("sign up", "/signup/", signed_in=False),
    Page("sign up, refused", refused_signup, signed_in=False),
    Page("help (signed out)", "/help/", signed_in=False),
    Page("password reset: request, sent, new password, done", password_reset, signed_in=False),
    Page("course", "/"),
    *(Page(f"module {slug}", f"/modules/{slug}/") for slug in MODULES),
    Page("problem set", "/sets/derivatives/"),
    Page("maths exercise", "/exercises/chain-rule/"),
    Page("maths exercise with a plot", "/exercises/linearise-square-root/"),
    Page("maths exercise, previews shown", typed_preview),
    Page("maths exercise, answer refused", refused_submission),
    Page("choice exercise", "/exercises/antiderivative-choice/"),
    Page("code exercise", "/exercises/code-forward-difference/"),
    Page("code exercise, tests run; its verdict beside it and on its page", code_run),
    Page("quiz set", lambda visit: f"/sets/{visit.quiz_slug}/"),
    Page("quiz start, confirmation; the quiz's exercise", start_quiz),
    Page(
        "a practice exercise placed in the quiz",
        lambda visit: f"/sets/{visit.quiz_slug}/exercises/quick-power-rule/",
    ),
    Page("exercise and verdict, while grading; verdict graded", while_grading),
    Page("verdicts beside the answers; verdict", submit_chain_rule),
    Page("maths exercise after a verdict", after_a_verdict),
    Page("solved, solution shown", lambda visit: submit_chain_rule(visit, right=True)),
    Page("help", "/help/"),
]


# ---------------------------------------------------------------- the audit


@pytest.fixture
def context(browser, server_url, course):
    """The conftest's context, but axe is put in as a script the page's
    Content-Security-Policy (script-src 'self') would otherwise refuse."""
    context = browser.new_context(base_url=server_url, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def phone_page(browser, server_url, course):
    context = browser.new_context(
        base_url=server_url, viewport=PHONE, is_mobile=True, bypass_csp=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def quiz(course) -> str:
    """A timed quiz with one question, its feedback held back."""
    from exercises.models import Module, Placement
    from tests.conftest import make_exercise, make_problem_set

    quiz = make_problem_set(
        module=Module.objects.get(slug="what-is-calculus"),
        slug="checkpoint-quiz",
        title="Checkpoint quiz",
        kind="quiz",
        time_limit=30,
        due=timezone.now() + timedelta(days=7),
        order=98,
    )
    make_exercise(problem_set=quiz, slug="checkpoint-quiz-question", title="Question")
    # A practice exercise placed in the quiz too (the question bank), after its own.
    Placement.objects.create(problem_set=quiz, exercise=course["quick"], order=5)
    return quiz.slug


def audit(page) -> list[dict]:
    """axe's serious and critical violations on the page as it stands."""
    # The page's own scripts have run and its maths is typeset before the audit.
    page.wait_for_load_state("load")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_SOURCE)
    violations = page.evaluate(RUN_AXE, AXE_TAGS)
    return [v for v in violations if v["impact"] in FAILING_IMPACTS]


def describe(name: str, violations: list[dict]) -> str:
    lines = [f"{name}:"]
    for v in violations:
        lines.append(f"  {v['impact']} {v['id']}: {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"][:5])
    return "\n".join(lines)


def audit_here(visit: Visit) -> None:
    """Audit the page as it stands, midway through a builder (a page in two states)."""
    visit.seen.add(resolve(urlsplit(visit.page.url).path).url_name)
    violations = audit(visit.page)
    if violations:
        visit.found[f"{visit.name} ({visit.page.url})"] = violations


# The site's URLs that are no page for a student to audit: the JSON API, what the pages'
# scripts fetch or post (a quiz's drafts), the health check, log-out (a POST that redirects) and the admin's.
NOT_PAGES = {
    "ex-health",
    "ex-preview",
    "ex-run",
    "ex-run-result",
    "ex-quiz-draft",
    "ex-placed-run",
    "ex-placed-quiz-draft",
    "ex-logout",
    "ex-admin-login",
}


def student_pages() -> set[str]:
    from exercises import urls

    return {
        pattern.name
        for pattern in urls.urlpatterns
        if not pattern.name.startswith("ex-api") and pattern.name not in NOT_PAGES
    }


def audit_every_page(page, quiz: str, worker) -> Visit:
    visit = Visit(page=page, username=None, quiz_slug=quiz, worker=worker)
    for entry in sorted(PAGES, key=lambda p: p.signed_in):
        if entry.signed_in and visit.username is None:
            visit.username = sign_up(page)
        visit.name = entry.name
        path = entry.path(visit) if callable(entry.path) else entry.path
        if path is not None:
            page.goto(path)
        audit_here(visit)
    return visit


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_it_finds_no_serious_violation_on_any_student_page(request, width, quiz, browser_worker):
    page = request.getfixturevalue("page" if width == "desktop" else "phone_page")
    visit = audit_every_page(page, quiz, browser_worker)
    assert not visit.found, "axe found serious or critical violations:\n" + "\n".join(
        describe(name, violations) for name, violations in visit.found.items()
    )
    # A page added to the site is audited too: a line in PAGES (or, for what is no
    # page, in NOT_PAGES).
    assert student_pages() - visit.seen == set(), "pages the audit never opened"


def test_it_fails_a_page_with_a_serious_violation(page):
    """The audit is not blind: a field without a label and grey-on-white text fail."""
    page.goto("/help/")
    page.evaluate("""() => {
      const main = document.querySelector("main");
      main.insertAdjacentHTML("beforeend",
        '<input type="text"><p style="color:#ccc;background:#fff">faint</p>');
    }""")
    ids = {v["id"] for v in audit(page)}
    assert {"label", "color-contrast"} <= ids


# ---------------------------------------------------------------- maths and code


def test_it_gives_screen_readers_the_maths_as_mathml(page, student):
    page.goto("/exercises/chain-rule/")
    prompt = page.locator(".prompt")
    expect(prompt.locator(".katex").first).to_be_visible()
    # Each formula carries MathML for screen readers beside the HTML drawn for the eye,
    # which screen readers are told to skip.
    formulas = prompt.locator(".katex")
    assert formulas.count() == prompt.locator(".katex .katex-mathml math").count() > 0
    assert prompt.locator(".katex-html[aria-hidden=true]").count() == formulas.count()
    # The preview of a typed answer too.
    page.locator("#answer-a").press_sequentially("2x cos(x^2)")
    expect(page.locator("#preview-a")).to_have_attribute("data-state", "ok")
    expect(page.locator("#preview-a .preview-maths math")).to_have_count(1)
    expect(page.locator("#preview-a annotation[encoding='application/x-tex']")).to_have_count(1)


def test_it_names_the_code_editor_for_screen_readers(phone_page):
    page = phone_page
    sign_up(page)
    page.goto("/exercises/code-forward-difference/")
    editor = page.locator(".code-editor .cm-content")
    expect(editor).to_be_visible()
    expect(editor).to_have_attribute("role", "textbox")
    label = page.locator("label[for^=answer-]").first.text_content().strip()
    assert label
    assert editor.get_attribute("aria-label").strip() == label
    assert editor.get_attribute("aria-multiline") == "true"
    # On a phone its lines scroll sideways, and the region that scrolls holds the editor,
    # which the keyboard reaches in one tab stop.
    scroller = page.locator(".code-editor .cm-scroller")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")
    assert audit(page) == []
    assert page.locator(".code-editor [tabindex]:not([tabindex='-1'])").evaluate_all(
        "els => els.map(el => el.className.split(' ')[0])"
    ) == ["cm-content"]
