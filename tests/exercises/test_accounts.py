"""Accounts: signing up with an e-mail address, resetting a password by e-mail, and the
course's name in the header of every page."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-pass-phrase"


def sign_up(client, **fields):
    data = {
        "username": "dora",
        "email": "dora@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **fields,
    }
    return client.post("/signup/", data)


def reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match[1]


# ---------------------------------------------------------------- sign-up


def test_it_keeps_the_email_given_at_sign_up(client):
    response = sign_up(client, email="  Dora@Example.org ")

    assert response.status_code == 302
    # Django keeps the part before the @ as typed and lowercases the domain.
    assert get_user_model().objects.get(username="dora").email == "Dora@example.org"


def test_it_refuses_a_sign_up_without_an_email(client):
    response = sign_up(client, email="")

    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="dora").exists()
    assert response.context["form"].has_error("email", "required")


def test_it_refuses_an_email_another_account_has_in_any_case(client, alice):
    alice.email = "alice@example.org"
    alice.save()

    response = sign_up(client, email="ALICE@example.ORG")

    assert response.status_code == 200
    assert response.context["form"].has_error("email", "duplicate_email")
    assert not get_user_model().objects.filter(username="dora").exists()


def test_it_shows_sign_up_errors_as_errors_apart_from_the_rules(client):
    response = sign_up(client, password1="1234", password2="1234")
    html = response.content.decode()

    assert response.status_code == 200
    # The error is marked as one, tied to the input, and is not inside the rules' text.
    error = re.search(r'<div class="error" id="id_password2_error">(.*?)</div>', html, re.S)
    assert error and "too short" in error[1]
    assert re.search(r'<input[^>]*name="password2"[^>]*aria-invalid="true"', html)
    assert 'aria-describedby="id_password2_helptext id_password2_error"' in html
    rules = re.search(r'<div class="hint" id="id_password1_helptext">(.*?)</div>', html, re.S)
    assert rules and "too short" not in rules[1]
    assert 'role="alert"' in html


# ---------------------------------------------------------------- password reset


def test_it_resets_a_password_through_the_emailed_link(client, alice):
    alice.email = "alice@example.org"
    alice.save()

    asked = client.post("/password-reset/", {"email": "Alice@Example.org"})
    assert asked.status_code == 302 and asked.url == reverse("ex-password-reset-sent")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "Reset your password for Multivariate Calculus"
    assert "alice" in message.body

    form = client.get(reset_link(message), follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-phrase", "new_password2": "brand-new-pass-phrase"},
    )
    assert done.status_code == 302 and done.url == reverse("ex-password-reset-complete")

    alice.refresh_from_db()
    assert alice.check_password("brand-new-pass-phrase")
    assert not alice.check_password("alice-password")
    signed_in = client.post(
        "/login/", {"username": "alice", "password": "brand-new-pass-phrase"}, follow=True
    )
    assert signed_in.context["user"] == alice


def test_it_accepts_a_reset_link_once(client, alice):
    alice.email = "alice@example.org"
    alice.save()
    client.post("/password-reset/", {"email": "alice@example.org"})
    link = reset_link(mail.outbox[0])
    form = client.get(link, follow=True)
    new = {"new_password1": "brand-new-pass-phrase", "new_password2": "brand-new-pass-phrase"}
    client.post(form.redirect_chain[-1][0], new)

    again = client.get(link, follow=True)

    assert again.status_code == 200
    assert not again.context["validlink"]
    assert b"does not work any more" in again.content


def test_it_says_the_same_and_sends_nothing_for_an_unknown_address(client, alice):
    response = client.post("/password-reset/", {"email": "nobody@example.org"})

    assert response.status_code == 302 and response.url == reverse("ex-password-reset-sent")
    assert mail.outbox == []


def test_it_refuses_a_malformed_address_with_a_message(client):
    response = client.post("/password-reset/", {"email": "not an address"})

    assert response.status_code == 200
    assert response.context["form"].has_error("email")
    assert mail.outbox == []


def test_it_counts_reset_requests_against_the_sign_in_budget(client, alice, settings):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 2
    alice.email = "alice@example.org"
    alice.save()

    codes = [
        client.post("/password-reset/", {"email": "alice@example.org"}).status_code
        for _ in range(3)
    ]

    assert codes == [302, 302, 429]
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    "url",
    ["/password-reset/", "/password-reset/sent/", "/password-reset/done/"],
)
def test_it_refuses_other_methods_on_the_reset_pages(client, url):
    assert client.put(url).status_code == 405


def test_it_refuses_a_bad_reset_link_without_an_error(client):
    response = client.get("/password-reset/%00%ff/not-a-token/", follow=True)

    assert response.status_code == 200
    assert not response.context["validlink"]


def test_it_gives_the_demo_student_an_address_to_reset_its_password(client, settings):
    from django.core.management import call_command

    settings.DEMO_ACCOUNTS = True
    call_command("demo_accounts", stdout=io.StringIO())

    client.post("/password-reset/", {"email": "student@example.org"})

    assert [m.to for m in mail.outbox] == [["student@example.org"]]


# ---------------------------------------------------------------- the course's name


@pytest.mark.parametrize(
    "url",
    [
        "/login/",
        "/signup/",
        "/password-reset/",
        "/password-reset/sent/",
        "/password-reset/done/",
        "/password-reset/MQ/bad-token/",
        "/help/",
    ],
)
def test_it_names_the_course_in_the_header_of_the_account_pages(client, url, settings):
    settings.SITE_NAME = "Calculus for Machine Learning"

    html = client.get(url, follow=True).content.decode()

    brand = re.search(r'<a class="brand"[^>]*>(.*?)</a>', html)
    assert brand and brand[1] == "Calculus for Machine Learning"
    assert "testserver" not in html


def test_it_names_the_course_in_the_header_of_a_students_page(alice_client, settings):
    settings.SITE_NAME = "Calculus for Machine Learning"
    exercise = make_exercise()

    for url in ["/", exercise.get_absolute_url()]:
        html = alice_client.get(url).content.decode()
        assert re.search(r'<a class="brand"[^>]*>Calculus for Machine Learning</a>', html)


# ---------------------------------------------------------------- settings


def email_settings(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    code = (
        "from courseserver import settings as s; "
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL,"
        " s.DEFAULT_FROM_EMAIL)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
    )


def test_it_prints_emails_on_the_console_without_an_smtp_server():
    result = email_settings()

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.core.mail.backends.console.EmailBackend"


def test_it_sends_emails_through_the_smtp_server_the_environment_names():
    result = email_settings(
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="465",
        EMAIL_USE_SSL="true",
        DEFAULT_FROM_EMAIL="course@example.org",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "465",
        "False",
        "True",
        "course@example.org",
    ]


def test_it_refuses_both_kinds_of_tls_at_once():
    result = email_settings(EMAIL_HOST="smtp.example.org", EMAIL_USE_SSL="1", EMAIL_USE_TLS="1")

    assert result.returncode != 0
    assert "EMAIL_USE_SSL and EMAIL_USE_TLS" in result.stderr
