"""Cookies set inside an LMS's frame go out partitioned (CHIPS); no others do."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import Client, RequestFactory

from lti.middleware import SESSION_PARTITIONED, PartitionedCookiesMiddleware
from tests.conftest import make_exercise, make_problem_set
from tests.lti.conftest import launch

SESSION = settings.SESSION_COOKIE_NAME
CSRF = settings.CSRF_COOKIE_NAME
IN_A_FRAME = {"HTTP_SEC_FETCH_DEST": "iframe", "HTTP_SEC_FETCH_SITE": "cross-site"}


@pytest.fixture
def problem_set(db):
    problem_set = make_problem_set()
    make_exercise(problem_set=problem_set)
    return problem_set


def header(response, name: str) -> str:
    """The Set-Cookie line of cookie `name`, as the server sends it."""
    return response.cookies[name].output(header="").strip()


def is_partitioned(line: str) -> bool:
    attributes = [a.strip().lower() for a in line.split(";")[1:]]
    return "partitioned" in attributes


def enter(client, platform, problem_set, **extra):
    response = launch(client, platform, follow=False, custom={"problem_set": problem_set.slug})
    return client.get(response["Location"], secure=True, **extra)


def test_it_partitions_the_session_and_csrf_cookies_of_a_sign_in_in_a_frame(platform, problem_set):
    framed = Client()
    response = enter(framed, platform, problem_set, **IN_A_FRAME)
    assert response.status_code == 302
    for name in (SESSION, CSRF):
        line = header(response, name)
        assert is_partitioned(line), line
        assert "SameSite=None" in line and "Secure" in line, line
    assert "HttpOnly" in header(response, SESSION)
    assert framed.session[SESSION_PARTITIONED] is True
    # The cookie comes back in the frame: on to the problem set, still partitioned.
    response = framed.get(response["Location"], secure=True, follow=True, **IN_A_FRAME)
    assert response.redirect_chain[-1][0] == f"/sets/{problem_set.slug}/"
    assert response.wsgi_request.user.username.startswith("lti-")


def test_it_removes_the_partitioned_session_cookie_at_sign_out(platform, problem_set):
    framed = Client(enforce_csrf_checks=True)
    response = enter(framed, platform, problem_set, **IN_A_FRAME)
    response = framed.post(
        "/logout/",
        {"csrfmiddlewaretoken": framed.cookies[CSRF].value},
        secure=True,
        HTTP_ORIGIN="https://testserver",
        **IN_A_FRAME,
    )
    assert response.status_code == 302
    assert not response.wsgi_request.user.is_authenticated
    line = header(response, SESSION)
    assert "Max-Age=0" in line and is_partitioned(line), line


def test_it_keeps_first_party_cookies_for_a_sign_in_in_a_window(platform, problem_set):
    window = Client()
    response = enter(window, platform, problem_set, HTTP_SEC_FETCH_DEST="document")
    assert response.status_code == 302
    for name in (SESSION, CSRF):
        line = header(response, name)
        assert not is_partitioned(line), line
        assert "SameSite=Lax" in line
    assert window.session[SESSION_PARTITIONED] is False


def test_it_keeps_first_party_cookies_for_a_browser_that_names_no_destination(
    platform, problem_set
):
    response = enter(Client(), platform, problem_set)
    assert not is_partitioned(header(response, SESSION))


def test_it_keeps_first_party_cookies_for_a_password_sign_in(db, django_user_model):
    django_user_model.objects.create_user("alice", password="pw-alice-1234")
    client = Client()
    response = client.post(
        "/login/", {"username": "alice", "password": "pw-alice-1234"}, secure=True, **IN_A_FRAME
    )
    assert response.status_code == 302
    assert not is_partitioned(header(response, SESSION))
    assert "SameSite=Lax" in header(response, SESSION)


# ---------------------------------------------------------------- the middleware


def _response_with_cookies(request):
    response = HttpResponse("ok")
    response.set_cookie(SESSION, "abc", httponly=True, samesite="Lax")
    response.set_cookie(CSRF, "def", samesite="Lax")
    return response


def _request(framed: bool | None, **extra):
    request = RequestFactory().get("/", **extra)
    request.session = SessionStore()
    if framed is not None:
        request.session[SESSION_PARTITIONED] = framed
    return request


@pytest.mark.parametrize(
    "extra",
    [
        {"secure": True},
        {"SERVER_NAME": "localhost"},
        {"HTTP_HOST": "127.0.0.1:8000"},
        {"HTTP_HOST": "[::1]:8000"},
        {"HTTP_HOST": "course.localhost"},
    ],
)
def test_it_partitions_every_cookie_of_a_framed_session_in_a_secure_context(db, extra, settings):
    settings.ALLOWED_HOSTS = ["*"]
    response = PartitionedCookiesMiddleware(_response_with_cookies)(_request(True, **extra))
    for name, value in ((SESSION, "abc"), (CSRF, "def")):
        line = header(response, name)
        assert line.startswith(f"{name}={value};"), line
        assert is_partitioned(line) and "SameSite=None" in line and "Secure" in line, line
        assert "SameSite=Lax" not in line
    assert "HttpOnly" in header(response, SESSION)
    assert "HttpOnly" not in header(response, CSRF)


@pytest.mark.parametrize("framed", [None, False])
def test_it_leaves_the_cookies_of_other_sessions_alone(db, framed):
    response = PartitionedCookiesMiddleware(_response_with_cookies)(_request(framed, secure=True))
    for name in (SESSION, CSRF):
        line = header(response, name)
        assert not is_partitioned(line) and "SameSite=Lax" in line and "Secure" not in line


def test_it_leaves_the_cookies_alone_over_plain_http_to_another_host(db):
    # A Secure cookie there would be dropped by the browser, and the sign-in with it:
    # the new window is the way in.
    response = PartitionedCookiesMiddleware(_response_with_cookies)(_request(True))
    assert not is_partitioned(header(response, SESSION))


def test_it_leaves_the_cookies_alone_when_the_setting_is_off(db, settings):
    settings.LTI_PARTITIONED_COOKIES = False
    response = PartitionedCookiesMiddleware(_response_with_cookies)(_request(True, secure=True))
    assert not is_partitioned(header(response, SESSION))
    assert "SameSite=Lax" in header(response, SESSION)


def test_it_partitions_the_removal_of_a_cookie_too(db):
    # Only a removal with the attribute reaches the partitioned cookie.
    def view(request):
        response = HttpResponse("ok")
        response.delete_cookie("messages")
        return response

    response = PartitionedCookiesMiddleware(view)(_request(True, secure=True))
    line = header(response, "messages")
    assert is_partitioned(line) and "Max-Age=0" in line
