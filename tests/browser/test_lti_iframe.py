"""An LTI launch in headless Chromium that blocks third-party cookies, from the
emulated platform's course page, the course in its iframe on another site: the student
stays in the frame (partitioned cookies), or, where the course does not partition them,
takes the new-window way in; a verdict, its score."""

import os
import re
import tempfile

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, TIMEOUT_MS, running_server
from tests.lti.emulator import Platform

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def blocking_browser(browser, chromium_path):
    """Chromium as under Chrome's third-party cookie phase-out: a cookie of the course's
    site set in the platform's frame is kept only if it is partitioned."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as home:
        blocking = browser.browser_type.launch(
            executable_path=chromium_path,
            args=[
                *CHROMIUM_ARGS,
                "--test-third-party-cookie-phaseout",
                f"--crash-dumps-dir={home}",
            ],
            env={**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_CACHE_HOME": home},
        )
        try:
            yield blocking
        finally:
            blocking.close()


@pytest.fixture
def context(blocking_browser, server_url, course):
    context = blocking_browser.new_context(base_url=server_url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture(scope="module")
def unpartitioned_server_url(server_url, worker_env, worker_logs):
    """A second server on the same database with LTI_PARTITIONED_COOKIES off: its
    cookies in the frame are the site's first-party ones, which the browser refuses
    there, as Safari refuses the partitioned ones."""
    options = (
        "--no-control-socket",
        # Threads: a connection the browser opens ahead and leaves idle holds no one up.
        *("--workers", "1", "--threads", "4"),
    )
    log_path = worker_logs / "gunicorn-unpartitioned.log"
    env = {**worker_env, "LTI_PARTITIONED_COOKIES": "false"}
    with running_server(env, log_path, *options) as url:
        yield url


def _platform(tool_url: str) -> Platform:
    from lti_tool.models import Key, LtiDeployment, LtiRegistration

    from lti.tool import ensure_key

    # `localhost` against the server's `127.0.0.1`: two sites, so that the course's
    # cookies in the frame are third-party ones.
    emulator = Platform(host="localhost", tool=tool_url)
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
    return emulator


@pytest.fixture
def platform(server_url, course):
    emulator = _platform(server_url)
    yield emulator
    emulator.close()


@pytest.fixture
def unpartitioned_platform(unpartitioned_server_url, course):
    emulator = _platform(unpartitioned_server_url)
    yield emulator
    emulator.close()


def _send_the_score(platform: Platform, user: str) -> None:
    from lti import grades
    from lti.models import ScorePost

    # The worker that stored the verdict recorded the post; it is sent here (the
    # housekeeping queue has no worker in the browser tests).
    post = ScorePost.objects.get(student__username__startswith="lti-")
    assert grades.send(post.pk) == "sent"
    (score,) = platform.scores
    assert score["userId"] == user and score["scoreGiven"] == 1.0


def test_it_stays_in_the_frame_and_sends_the_score(context, page, platform, server_url):
    tool_responses = []
    page.on(
        "response",
        lambda r: tool_responses.append(r) if r.url.startswith(server_url) else None,
    )
    page.goto(f"{platform.url}/course?user=learner-1&target=problem_set:quick-checks")
    frame = page.frame_locator("#tool")
    expect(frame.get_by_role("heading", name="Quick checks", exact=True)).to_be_visible()
    expect(frame.get_by_role("button", name=re.compile("^Log out lti-"))).to_be_visible()
    (tool_frame,) = [f for f in page.frames if f.url.startswith(server_url)]
    assert re.search(r"/sets/quick-checks/$", tool_frame.url)
    # Plain HTTP to 127.0.0.1 is a secure context, where Secure cookies are kept.
    assert tool_frame.evaluate("isSecureContext") is True

    frame.get_by_role("link", name="Power rule").click()
    frame.locator("#answer-a").fill("2x")
    frame.get_by_role("button", name="Submit").click()
    expect(frame.locator("#latest-attempt")).to_contain_text("Graded: score 100%")
    # All of it in the frame: the platform's page is where it was, with no other window.
    assert page.url.startswith(platform.url) and context.pages == [page]

    # The sign-in's cookies went out partitioned; the pages in the frame may be framed
    # by the platform and no other site.
    (entered,) = [r for r in tool_responses if "/lti/enter/" in r.url]
    cookies = [h["value"] for h in entered.headers_array() if h["name"].lower() == "set-cookie"]
    names = {c.split("=", 1)[0] for c in cookies}
    assert {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME} <= names
    for cookie in cookies:
        assert re.search(r"; SameSite=None\b", cookie) and "; Secure" in cookie, cookie
        assert cookie.endswith("; Partitioned"), cookie
    framed = [r for r in tool_responses if r.request.resource_type == "document" and r.ok]
    assert len(framed) >= 2
    for response in framed:
        policy = response.headers["content-security-policy"]
        assert f"frame-ancestors {platform.url}" in policy.split("; "), (response.url, policy)
    # The browser keeps them in the platform's partition, and only there: the course's
    # own site, visited at the top level, has no session.
    jar = [c for c in context.cookies(server_url) if c["name"] == settings.SESSION_COOKIE_NAME]
    assert [c.get("partitionKey") for c in jar] == ["http://localhost"], jar
    top = context.new_page()
    top.goto(f"{server_url}/sets/quick-checks/")
    expect(top).to_have_url(re.compile(r"/login/"))
    # And third-party cookies are blocked indeed: an unpartitioned cookie the site sets
    # at the top level stays out of the frame, which sees its own partitioned CSRF cookie.
    top.evaluate("document.cookie = 'unpartitioned=1; Path=/; SameSite=None; Secure'")
    assert "unpartitioned=1" in top.evaluate("document.cookie")
    in_frame = tool_frame.evaluate("document.cookie")
    assert f"{settings.CSRF_COOKIE_NAME}=" in in_frame and "unpartitioned" not in in_frame
    top.close()
    _send_the_score(platform, "learner-1")


def test_it_opens_in_a_new_window_without_partitioned_cookies(
    context, page, unpartitioned_platform
):
    platform = unpartitioned_platform
    page.goto(f"{platform.url}/course?user=learner-5&target=problem_set:quick-checks")
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

    window.get_by_role("link", name="Power rule").click()
    window.locator("#answer-a").fill("2x")
    window.get_by_role("button", name="Submit").click()
    expect(window.locator("#latest-attempt")).to_contain_text("Graded: score 100%")
    _send_the_score(platform, "learner-5")


def test_the_lti_pages_pass_the_accessibility_audit(browser, unpartitioned_platform):
    platform = unpartitioned_platform
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
