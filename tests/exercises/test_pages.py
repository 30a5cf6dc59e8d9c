"""The course, module and problem-set pages, sign-up and log-in."""

import re

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import make_exercise, make_submission

pytestmark = pytest.mark.django_db


def test_it_shows_progress_on_the_course_page(alice_client, alice):
    solved = make_exercise(title="Solved one")
    ps = solved.problem_set
    tried = make_exercise(problem_set=ps, title="Tried one")
    make_exercise(problem_set=ps, title="New one")
    make_submission(alice, solved, status="graded", score=1.0)
    make_submission(alice, tried, status="graded", score=0.0)
    response = alice_client.get("/")
    assert response.status_code == 200
    assert b"1 of 3 exercises solved" in response.content
    page = alice_client.get(f"/sets/{ps.slug}/").content.decode()
    assert 'Solved one</a>\n    <span class="badge">solved' in page
    assert 'Tried one</a>\n    <span class="badge">tried' in page
    assert 'New one</a>\n    <span class="badge">not tried' in page


def test_it_counts_only_the_students_own_work(client, alice, bob):
    exercise = make_exercise()
    make_submission(alice, exercise, status="graded", score=1.0)
    client.force_login(bob)
    assert b"0 of 1 exercises solved" in client.get("/").content


def test_it_lists_a_modules_problem_sets(alice_client):
    exercise = make_exercise()
    module = exercise.problem_set.module
    response = alice_client.get(f"/modules/{module.slug}/")
    assert exercise.problem_set.title.encode() in response.content
    assert alice_client.get("/modules/nope/").status_code == 404


def test_it_signs_up_and_logs_in(client):
    response = client.post(
        "/signup/",
        {
            "username": "dora",
            "email": "dora@example.org",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        },
    )
    assert response.status_code == 302
    assert get_user_model().objects.filter(username="dora").exists()
    assert client.get("/").status_code == 200


def test_it_refuses_a_mismatched_password_at_sign_up(client):
    response = client.post(
        "/signup/", {"username": "dora", "password1": "a-long-pass-phrase", "password2": "other"}
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="dora").exists()


def test_it_throttles_logins(client, alice, settings):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 3
    for _ in range(3):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"username": "alice", "password": "alice-password"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_shows_the_attempt_history_on_the_exercise(alice_client, alice, bob):
    exercise = make_exercise()
    make_submission(alice, exercise, status="graded", score=1.0)
    make_submission(bob, exercise, status="graded", score=0.0, answers={"a": "bobs-answer"})
    response = alice_client.get(f"/exercises/{exercise.slug}/")
    assert b"#1" in response.content
    assert b"100%" in response.content
    assert b"bobs-answer" not in response.content
    # Solved: the worked solution is shown.
    assert b"Worked solution" in response.content


def test_it_serves_the_help_page(client):
    assert b"How to type answers" in client.get("/help/").content


def test_it_throttles_by_the_forwarded_address_behind_a_proxy(client, alice, settings):
    settings.LOGIN_ATTEMPTS_PER_15_MINUTES = 2
    settings.TRUSTED_PROXIES = 1
    for _ in range(2):
        client.post(
            "/login/", {"username": "alice", "password": "x"}, HTTP_X_FORWARDED_FOR="10.0.0.1"
        )
    blocked = client.post(
        "/login/", {"username": "alice", "password": "x"}, HTTP_X_FORWARDED_FOR="10.0.0.1"
    )
    other = client.post(
        "/login/", {"username": "alice", "password": "x"}, HTTP_X_FORWARDED_FOR="10.0.0.2"
    )
    assert blocked.status_code == 429
    assert other.status_code == 200


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: sources for name, *sources in (d.split() for d in header.split(";") if d.strip())}


def test_it_sends_a_content_security_policy_with_no_inline_script(client, alice, charlie):
    exercise = make_exercise()
    submission = make_submission(alice, exercise, status="graded", score=1.0)
    anonymous = ["/login/", "/signup/", "/help/", "/health/", "/admin/login/", "/no-such-page/"]
    student = ["/", f"/exercises/{exercise.slug}/", f"/submissions/{submission.pk}/"]
    responses = [client.get(url) for url in anonymous]
    client.force_login(alice)
    responses += [client.get(url) for url in student]
    responses.append(client.post("/api/auth/token/", "{", content_type="application/json"))
    client.force_login(charlie)
    responses.append(client.get(f"/admin/exercises/exercise/{exercise.pk}/change/"))
    for response in responses:
        policy = csp_of(response)
        assert policy["script-src"] == ["'self'"], response.request["PATH_INFO"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in policy["default-src"]


@pytest.mark.parametrize(
    "url", ["/", "/exercises/{slug}/", "/help/", "/login/", "/signup/", "/admin/login/"]
)
def test_its_pages_hold_no_inline_script_or_event_handler(client, alice, url):
    exercise = make_exercise()
    if url in {"/", "/exercises/{slug}/"}:
        client.force_login(alice)
    response = client.get(url.format(slug=exercise.slug))
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>", html)
    assert all("src=" in attributes or "application/json" in attributes for attributes in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "javascript:" not in html


def test_it_refuses_a_nul_in_the_sign_up_and_log_in_forms(client, alice):
    password = "a-long-Pass\x00word-1"
    response = client.post(
        "/signup/", {"username": "bo\x00b", "password1": password, "password2": password}
    )
    assert response.status_code == 200
    assert b"Null characters are not allowed" in response.content
    assert not get_user_model().objects.filter(username__startswith="bo").exists()
    for url in ["/login/", "/admin/login/"]:
        response = client.post(url, {"username": "al\x00ice", "password": "alice-password"})
        assert response.status_code == 200
        assert b"Null characters are not allowed" in response.content
        assert "_auth_user_id" not in client.session


def test_it_refuses_a_form_too_large_with_a_message(alice_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    exercise = make_exercise()
    response = alice_client.post(f"/exercises/{exercise.slug}/", {"answer-a": "x" * 2000})
    assert response.status_code == 400
    assert b"too large" in response.content
    assert not exercise.submissions.exists()
