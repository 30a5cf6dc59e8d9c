"""An LTI launch in headless Chromium, from the emulated platform's course page, the
course in its iframe on another site: the new-window way in, a verdict, its score."""

import re

import pytest
from playwright.sync_api import expect

from tests.lti.emulator import Platform

pytestmark = pytest.mark.browser


@pytest.fixture
def platform(server_url, course):
    from lti_tool.models import Key, LtiDeployment, LtiRegistration

    from lti.tool import ensure_key

    # `localhost` against the server's `127.0.0.1`: two sites, so that the course's
    # cookies in the frame are third-party ones.
    emulator = Platform(host="localhost", tool=server_url)
    # The tool's key set as a platform keeps it: read once, not during a launch (the
    # server's two synchronous workers may both be busy then, one with the launch).
    ensure_key()
    emulator.tool_jwks = Key.objects.as_jwks()
    registration = LtiRegistration.objects.create(
        name="Emulated LMS",
        issuer=emulator.issuer,
        client_id=emulator.client_id,
        auth_url=emulator.auth_url,
        token_url=emulator.token_url,
        keyset_url=emulator.keyset_url,
    )
    LtiDeployment.objects.create(
        registration=registration, deployment_id=emulator.deployment_id, is_active=True
    )
    yield emulator
    emulator.close()


def test_it_opens_in_a_new_window_and_sends_the_score(context, page, platform, course):
    from lti import grades
    from lti.models import ScorePost

    page.goto(f"{platform.url}/course?user=learner-1&target=problem_set:quick-checks")
    frame = page.frame_locator("#tool")
    expect(frame.get_by_role("heading", name="Open the course in a new window")).to_be_visible()
    # The launch made the problem set's column in the platform's gradebook.
    (item,) = platform.line_items.values()
    assert item["resourceId"] == "problem-set:quick-checks"

    with context.expect_page() as opened:
        frame.get_by_role("link", name="Open in a new window").click()
    window = opened.value
    expect(window).to_have_url(re.compile(r"/sets/quick-checks/$"))
    expect(window.get_by_role("button", name=re.compile("^Log out lti-"))).to_be_visible()

    window.goto(course["quick"].get_absolute_url())
    window.locator("#answer-a").fill("2x")
    window.get_by_role("button", name="Submit").click()
    expect(window.locator("#latest-attempt")).to_contain_text("Graded: score 100%")

    # The worker that stored the verdict recorded the post; it is sent here (the
    # housekeeping queue has no worker in the browser tests).
    post = ScorePost.objects.get(student__username__startswith="lti-")
    assert grades.send(post.pk) == "sent"
    (score,) = platform.scores
    assert score["userId"] == "learner-1" and score["scoreGiven"] == 1.0


def test_the_lti_pages_pass_the_accessibility_audit(browser, server_url, platform):
    from tests.browser.test_accessibility import AXE_SOURCE, AXE_TAGS, FAILING_IMPACTS, RUN_AXE

    # axe goes in as a script the pages' Content-Security-Policy would refuse.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    found = {}

    def audit_frame(name: str) -> None:
        (frame,) = [f for f in page.frames if f != page.main_frame]
        frame.wait_for_load_state("load")
        frame.add_script_tag(content=AXE_SOURCE)
        violations = frame.evaluate(RUN_AXE, AXE_TAGS)
        found[name] = [v for v in violations if v["impact"] in FAILING_IMPACTS]

    try:
        page.goto(f"{platform.url}/course?user=learner-2&target=problem_set:quick-checks")
        expect(
            page.frame_locator("#tool").get_by_role("link", name="Open in a new window")
        ).to_be_visible()
        audit_frame("open in a new window")
        page.goto(f"{platform.url}/course?user=teacher-1&target=deep-link")
        expect(page.frame_locator("#tool").get_by_role("button", name="Place it")).to_be_visible()
        audit_frame("deep-linking picker")
        page.goto(f"{platform.url}/course?user=learner-3&target=problem_set:no-such-set")
        expect(page.frame_locator("#tool").locator(".lti-refused")).to_be_visible()
        audit_frame("refused launch")
    finally:
        context.close()
    assert found == {name: [] for name in found}, found


def test_it_lands_signed_in_when_the_platform_opens_a_window(context, page, platform, course):
    page.goto(f"{platform.url}/course?user=learner-4&target=exercise:quick-power-rule&window=1")
    with context.expect_page() as opened:
        page.get_by_role("link", name="Open the course server").click()
    window = opened.value
    # No stop on the way: the site's own cookie is first-party in a window of its own.
    expect(window).to_have_url(re.compile(r"/exercises/quick-power-rule/$"))
    expect(window.locator("#answer-a")).to_be_editable()
    expect(window.get_by_role("button", name=re.compile("^Log out lti-"))).to_be_visible()
