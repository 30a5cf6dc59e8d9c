"""Resource-link launches from the emulated platform, and launches refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from lti.models import Account, Placement
from lti.tool import username_for
from tests.conftest import make_exercise, make_problem_set
from tests.lti.conftest import launch, start_login
from tests.lti.emulator import INSTRUCTOR, new_key

User = get_user_model()


@pytest.fixture
def problem_set(db):
    problem_set = make_problem_set()
    make_exercise(problem_set=problem_set)
    return problem_set


def test_it_lands_a_learner_on_the_linked_problem_set(client, platform, problem_set):
    response = launch(client, platform, custom={"problem_set": problem_set.slug})
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/sets/{problem_set.slug}/"
    user = User.objects.get(username=username_for(platform.issuer, "learner-1"))
    assert (user.first_name, user.last_name, user.email) == (
        "Ada",
        "Lovelace",
        "learner-1@example.edu",
    )
    assert not user.is_staff and not user.has_usable_password()
    assert response.wsgi_request.user == user
    assert Placement.objects.get().problem_set == problem_set


def test_it_makes_an_instructor_staff_in_the_instructors_group(client, platform, problem_set):
    launch(
        client,
        platform,
        sub="teacher-1",
        roles=[INSTRUCTOR],
        custom={"module": problem_set.module.slug},
    )
    user = User.objects.get(username=username_for(platform.issuer, "teacher-1"))
    assert user.is_staff and not user.is_superuser
    assert user.groups.filter(name="Instructors").exists()


def test_it_finds_the_same_account_again_and_never_merges_platforms(client, platform, problem_set):
    launch(client, platform, custom={"problem_set": problem_set.slug})
    launch(Client(), platform, custom={"problem_set": problem_set.slug})
    assert Account.objects.count() == 1
    # The same subject from another issuer is another person.
    other = username_for("https://other.example", "learner-1")
    assert other != username_for(platform.issuer, "learner-1")


def test_it_lands_on_an_exercise(client, platform, problem_set):
    exercise = problem_set.exercises.get()
    response = launch(client, platform, custom={"exercise": exercise.slug})
    assert response.redirect_chain[-1][0] == f"/exercises/{exercise.slug}/"


def test_it_lets_the_platform_and_no_other_frame_the_pages(client, platform, problem_set):
    response = launch(client, platform, custom={"problem_set": problem_set.slug})
    policy = response["Content-Security-Policy"]
    assert f"frame-ancestors {platform.url}" in policy
    assert "X-Frame-Options" not in response
    # A visitor who never launched keeps the site's own policy.
    other = Client().get("/login/")
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]
    assert other["X-Frame-Options"] == "DENY"


def test_it_offers_a_new_window_when_the_cookie_does_not_come_back(platform, problem_set):
    # A browser that blocks third-party cookies in the iframe: nothing is kept.
    framed = Client()
    response = launch(framed, platform, follow=False, custom={"problem_set": problem_set.slug})
    enter = response["Location"]
    response = framed.get(enter)
    landed = response["Location"]
    framed.cookies.clear()
    response = framed.get(landed)
    assert response.status_code == 200
    assert b"Open in a new window" in response.content
    assert f'href="{enter}"'.encode() in response.content
    assert f"frame-ancestors {platform.url}" in response["Content-Security-Policy"]
    # The new window is first-party: the same one-time link signs in and lands.
    window = Client()
    response = window.get(enter, follow=True)
    assert response.redirect_chain[-1][0] == f"/sets/{problem_set.slug}/"
    assert response.wsgi_request.user.is_authenticated
    # Used up once landed.
    assert Client().get(enter).status_code == 400


def refused(response, text: str):
    assert 400 <= response.status_code < 500, response.status_code
    assert text in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_it_refuses_a_replayed_nonce(client, platform, problem_set):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"], custom={"problem_set": problem_set.slug})
    first = client.post("/lti/launch/", {"id_token": token, "state": params["state"]})
    assert first.status_code == 302
    replay = Client().post("/lti/launch/", {"id_token": token, "state": params["state"]})
    refused(replay, "already been used")


def test_it_refuses_a_nonce_it_never_issued(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce="made-up")
    refused(
        client.post("/lti/launch/", {"id_token": token, "state": params["state"]}),
        "already been used",
    )


def test_it_refuses_a_wrong_audience(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"], aud="someone-else")
    refused(
        client.post("/lti/launch/", {"id_token": token, "state": params["state"]}), "not registered"
    )


def test_it_refuses_a_wrong_issuer(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"], iss="https://impostor.example")
    refused(
        client.post("/lti/launch/", {"id_token": token, "state": params["state"]}), "not registered"
    )


def test_it_refuses_an_expired_token(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"], expires_in=-120)
    refused(client.post("/lti/launch/", {"id_token": token, "state": params["state"]}), "expired")


def test_it_refuses_a_bad_signature(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"], key=new_key())
    refused(client.post("/lti/launch/", {"id_token": token, "state": params["state"]}), "signature")


def test_it_refuses_a_state_it_never_issued(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"])
    refused(client.post("/lti/launch/", {"id_token": token, "state": "state-forged"}), "expired")


def test_it_refuses_an_inactive_deployment(client, platform, problem_set):
    platform.registration.deployments.update(is_active=False)
    response = launch(client, platform, custom={"problem_set": problem_set.slug})
    refused(response, "not activated")


def test_it_refuses_a_link_to_content_the_course_lacks(client, platform):
    refused(launch(client, platform, custom={"problem_set": "gone"}), "does not have")


def test_it_refuses_a_login_without_its_parameters(client, platform):
    refused(client.get("/lti/login/", {"iss": platform.issuer}), "login_hint")


def test_it_refuses_a_launch_without_a_token(client, platform):
    refused(client.post("/lti/launch/", {"state": "x"}), "id_token")
    assert client.get("/lti/launch/").status_code == 405


def test_it_redirects_to_the_platform_with_state_and_nonce(client, platform):
    params = start_login(client, platform)
    assert params["client_id"] == platform.client_id
    assert params["redirect_uri"] == "http://testserver/lti/launch/"
    assert params["response_mode"] == "form_post" and params["prompt"] == "none"
    assert params["state"] and params["nonce"]
    assert not urlsplit(params["redirect_uri"]).query


def test_it_never_hands_a_launch_the_account_of_someone_who_took_its_name(
    client, platform, problem_set
):
    squatter = User.objects.create_user(username_for(platform.issuer, "learner-1"), password="x")
    response = launch(client, platform, custom={"problem_set": problem_set.slug})
    assert response.status_code == 200
    account = Account.objects.get()
    assert account.user != squatter
    assert account.user.username.startswith(squatter.username + "-")
    assert response.wsgi_request.user == account.user


def test_it_refuses_claims_of_the_wrong_shape(client, platform):
    response = launch(
        client, platform, **{"https://purl.imsglobal.org/spec/lti/claim/context": "course-101"}
    )
    refused(response, "cannot read")


def test_it_takes_a_state_once(client, platform, problem_set):
    first = start_login(client, platform)
    second = start_login(client, platform)
    token = platform.id_token(nonce=first["nonce"], custom={"problem_set": problem_set.slug})
    assert (
        client.post("/lti/launch/", {"id_token": token, "state": first["state"]}).status_code == 302
    )
    # The second login's nonce, sent with the first login's state: no longer known.
    token = platform.id_token(nonce=second["nonce"])
    refused(Client().post("/lti/launch/", {"id_token": token, "state": first["state"]}), "expired")
    token = platform.id_token(nonce=second["nonce"], custom={"problem_set": problem_set.slug})
    assert (
        Client().post("/lti/launch/", {"id_token": token, "state": second["state"]}).status_code
        == 302
    )


def test_it_keeps_a_views_own_policy_but_its_frame_ancestors():
    from django.http import HttpResponse

    from lti.tool import frameable

    response = HttpResponse()
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    response["X-Frame-Options"] = "DENY"
    frameable(response, ["https://lms.example"])
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors https://lms.example"
    )
    assert "X-Frame-Options" not in response


@pytest.mark.parametrize(
    "role, teaching",
    [
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", True),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant", True),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper", True),
        ("Instructor", True),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", False),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Instructor", False),
        ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor", False),
        ("http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator", False),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor", False),
    ],
)
def test_it_reads_the_course_role_from_an_lti_role(role, teaching):
    from lti.tool import is_teaching

    assert is_teaching([role]) is teaching


def test_it_refuses_a_login_from_a_platform_it_does_not_know(client, platform):
    for iss, client_id in [
        ("https://unknown.example", platform.client_id),
        (platform.issuer, "other"),
    ]:
        response = client.post(
            "/lti/login/",
            {"iss": iss, "login_hint": "x", "target_link_uri": "http://testserver/lti/launch/",
             "client_id": client_id},
        )  # fmt: skip
        refused(response, "not registered")


@pytest.mark.parametrize(
    "make_token",
    [
        lambda platform, nonce: "not-a-jwt",
        lambda platform, nonce: "a.b.c",
        lambda platform, nonce: jwt_without_kid(platform, nonce),
        lambda platform, nonce: unsigned_jwt(platform, nonce),
    ],
    ids=["garbage", "three-parts", "no-kid", "alg-none"],
)
def test_it_refuses_malformed_tokens_with_a_page(client, platform, make_token):
    params = start_login(client, platform)
    response = client.post(
        "/lti/launch/",
        {"id_token": make_token(platform, params["nonce"]), "state": params["state"]},
    )
    assert response.status_code == 400
    assert "lti-refused" in response.content.decode()


def test_it_refuses_a_launch_when_the_platforms_keys_cannot_be_read(client, platform):
    params = start_login(client, platform)
    token = platform.id_token(nonce=params["nonce"])
    platform.close()
    response = client.post("/lti/launch/", {"id_token": token, "state": params["state"]})
    assert response.status_code == 400
    assert "lti-refused" in response.content.decode()


def jwt_without_kid(platform, nonce):
    import jwt

    claims = jwt.decode(platform.id_token(nonce=nonce), options={"verify_signature": False})
    return jwt.encode(claims, platform.key, algorithm="RS256")


def unsigned_jwt(platform, nonce):
    import base64
    import json

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    body = platform.id_token(nonce=nonce).split(".")[1]
    return f"{part({'alg': 'none', 'kid': platform.kid})}.{body}."


def test_it_lands_where_the_target_link_says_when_custom_parameters_are_dropped(
    client, platform, problem_set
):
    exercise = problem_set.exercises.get()
    response = launch(
        client,
        platform,
        **{LTI_TARGET: f"http://testserver/lti/launch/?exercise={exercise.slug}"},
    )
    assert response.redirect_chain[-1][0] == f"/exercises/{exercise.slug}/"
    assert Placement.objects.get().exercise == exercise


LTI_TARGET = "https://purl.imsglobal.org/spec/lti/claim/target_link_uri"
