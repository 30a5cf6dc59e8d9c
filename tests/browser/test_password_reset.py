"""A student who forgot their password resets it through the link e-mailed to them: with
no SMTP server, the console e-mail backend writes the e-mail to the web server's log."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_up, wait_for

pytestmark = pytest.mark.browser


def emailed_link(log_path, since: int, server_url: str) -> str:
    """The reset link in the first e-mail the server wrote to its log after `since`."""
    pattern = re.compile(re.escape(server_url) + r"/password-reset/[^/\s]+/[^/\s]+/")
    found: list[str] = []

    def written() -> bool:
        with open(log_path, "rb") as log:
            log.seek(since)
            found.extend(pattern.findall(log.read().decode(errors="replace")))
        return bool(found)

    wait_for(written, "the password reset e-mail in the server's log")
    return found[0]


def test_it_resets_a_forgotten_password_through_the_emailed_link(
    page, server_url, worker_logs, settings
):
    username = sign_up(page)
    page.get_by_role("button", name=f"Log out {username}").click()
    expect(page.locator("header .brand")).to_have_text(settings.SITE_NAME)

    page.get_by_role("link", name="Forgotten your password?").click()
    log_path = worker_logs / "gunicorn.log"
    since = log_path.stat().st_size
    page.get_by_label("E-mail address").fill(f"{username}@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    link = emailed_link(log_path, since, server_url)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    # The token has left the address, so that it does not leak through the Referer.
    assert "set-password" in page.url
    page.get_by_label("New password", exact=True).fill("a-new-pass-phrase-42")
    page.get_by_label("New password confirmation").fill("a-new-pass-phrase-42")
    page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()

    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("a-new-pass-phrase-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=f"Log out {username}")).to_be_visible()
    expect(page.locator("header .brand")).to_have_text(settings.SITE_NAME)

    # The link worked once.
    page.goto(link)
    expect(page.get_by_text("This link does not work any more")).to_be_visible()
    assert page.js_errors == []
