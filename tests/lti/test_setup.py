"""The tool's key set, its rotation, and the staff page of URLs for a platform."""

from __future__ import annotations

import jwt
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from lti_tool.models import Key

from lti.tool import ensure_key

pytestmark = pytest.mark.django_db


def test_it_serves_the_public_keys_that_sign(client):
    key = ensure_key()
    body = client.get("/lti/jwks/").json()
    (public,) = body["keys"]
    assert public["kid"] == str(key) and public["alg"] == "RS256" and public["kty"] == "RSA"
    assert "d" not in public
    token = jwt.encode({"x": 1}, key.private_key, algorithm="RS256")
    assert jwt.decode(token, jwt.PyJWK(public).key, algorithms=["RS256"]) == {"x": 1}


def test_it_rotates_keys_keeping_the_old_one_published(client):
    old = ensure_key()
    call_command("rotate_keys")
    kids = [k["kid"] for k in client.get("/lti/jwks/").json()["keys"]]
    new = Key.objects.active().latest()
    assert new != old and set(kids) == {str(old), str(new)}
    assert ensure_key() == new
    # Once older than the grace period, the old key is withdrawn.
    Key.objects.filter(pk=old.pk).update(datetime_created=old.datetime_created.replace(year=2000))
    call_command("rotate_keys", deactivate_after=7)
    assert str(old) not in [k["kid"] for k in client.get("/lti/jwks/").json()["keys"]]


def test_it_lists_the_urls_a_platform_administrator_enters(client, charlie, platform):
    client.force_login(charlie)
    page = client.get("/lti/").content.decode()
    for url in ["/lti/login/", "/lti/launch/", "/lti/jwks/"]:
        assert f"http://testserver{url}" in page
    registration = platform.registration
    assert f"http://testserver/lti/login/{registration.uuid}/" in page
    assert platform.deployment_id in page


def test_it_keeps_the_setup_page_from_students(client, alice):
    assert client.get("/lti/").status_code == 302
    client.force_login(alice)
    response = client.get("/lti/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_it_shows_instructors_score_posts_and_not_registrations(client):
    # The group as the migrations leave it.
    instructor = get_user_model().objects.create_user("dana", is_staff=True)
    instructor.groups.add(Group.objects.get(name="Instructors"))
    client.force_login(instructor)
    assert client.get("/admin/lti/scorepost/").status_code == 200
    assert client.get("/admin/lti/placement/").status_code == 200
    assert "LTI (learning platforms)" in client.get("/admin/").content.decode()
    assert client.get("/admin/lti_tool/ltiregistration/").status_code == 403
    assert client.get("/admin/lti/account/").status_code == 403
    # Staff outside the group see none of it.
    other = get_user_model().objects.create_user("erin", is_staff=True)
    client.force_login(other)
    assert client.get("/admin/lti/scorepost/").status_code == 403


def test_it_gives_canvas_its_configuration(client):
    config = client.get("/lti/canvas.json").json()
    assert config["oidc_initiation_url"] == "http://testserver/lti/login/"
    assert config["target_link_uri"] == "http://testserver/lti/launch/"
    assert config["public_jwk_url"] == "http://testserver/lti/jwks/"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    (canvas,) = config["extensions"]
    assert {p["placement"] for p in canvas["settings"]["placements"]} == {
        "link_selection",
        "assignment_selection",
    }
    assert canvas["privacy_level"] == "public"


def test_the_lti_admin_pages_answer(admin_client, client, platform):
    from tests.lti.conftest import launch

    launch(client, platform)
    for model in ["account", "placement", "scorepost"]:
        assert admin_client.get(f"/admin/lti/{model}/").status_code == 200
    for path in [
        "/admin/lti_tool/lticontext/",
        "/admin/lti_tool/key/",
        "/admin/lti_tool/ltiregistration/",
    ]:
        assert admin_client.get(path).status_code == 200
    from lti.models import Account, Placement

    assert (
        admin_client.get(f"/admin/lti/account/{Account.objects.get().pk}/change/").status_code
        == 200
    )
    assert (
        admin_client.get(f"/admin/lti/placement/{Placement.objects.get().pk}/change/").status_code
        == 200
    )
    assert (
        admin_client.get(f"/admin/lti_tool/key/{Key.objects.get().pk}/change/").status_code == 200
    )
    registration = platform.registration.pk
    assert (
        admin_client.get(f"/admin/lti_tool/ltiregistration/{registration}/change/").status_code
        == 200
    )
    assert admin_client.get("/lti/").status_code == 200


def test_it_makes_a_key_for_a_platform_reading_the_key_set_first(client):
    assert not Key.objects.exists()
    (public,) = client.get("/lti/jwks/").json()["keys"]
    assert public["kid"] == str(Key.objects.get())
