"""Deep linking: an instructor picks course content and the platform receives a signed
response placing it."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from tests.conftest import make_exercise, make_problem_set
from tests.lti.conftest import launch
from tests.lti.emulator import DL, INSTRUCTOR, LTI

DEEP_LINK = "LtiDeepLinkingRequest"


@pytest.fixture
def problem_set(db):
    problem_set = make_problem_set()
    make_exercise(problem_set=problem_set)
    make_exercise(problem_set=problem_set)
    return problem_set


def open_picker(client, platform):
    response = launch(
        client, platform, follow=False, sub="teacher-1", roles=[INSTRUCTOR], message_type=DEEP_LINK
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/lti/deep-link/")
    return response["Location"]


def test_it_places_a_problem_set_with_a_signed_response(client, platform, problem_set):
    picker = open_picker(client, platform)
    page = Client().get(picker)  # no cookie needed: the one-time link stands for it
    assert page.status_code == 200
    assert f'value="problem_set:{problem_set.slug}"' in page.content.decode()
    assert f"frame-ancestors {platform.url}" in page["Content-Security-Policy"]
    response = Client().post(picker, {"target": f"problem_set:{problem_set.slug}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{platform.url}/deep-link-return"' in html
    assert platform.url in response["Content-Security-Policy"].split("form-action")[1]
    token = unescape(re.search(r'name="JWT" value="([^"]+)"', html).group(1))
    claims = platform.accept_deep_link(token)
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == platform.deployment_id
    assert claims[DL + "data"].startswith("opaque-")
    (item,) = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == f"http://testserver/lti/launch/?problem_set={problem_set.slug}"
    assert item["title"] == problem_set.title
    assert item["custom"] == {"problem_set": problem_set.slug}
    assert item["lineItem"]["scoreMaximum"] == 2.0
    assert item["lineItem"]["resourceId"] == f"problem-set:{problem_set.slug}"
    # The link is used up.
    assert Client().post(picker, {"target": f"problem_set:{problem_set.slug}"}).status_code == 400


def test_it_places_an_exercise_and_a_module(client, platform, problem_set):
    exercise = problem_set.exercises.first()
    for target, custom, graded in [
        (f"exercise:{exercise.slug}", {"exercise": exercise.slug}, True),
        (f"module:{problem_set.module.slug}", {"module": problem_set.module.slug}, False),
    ]:
        picker = open_picker(Client(), platform)
        html = Client().post(picker, {"target": target}).content.decode()
        token = unescape(re.search(r'name="JWT" value="([^"]+)"', html).group(1))
        (item,) = platform.accept_deep_link(token)[DL + "content_items"]
        assert item["custom"] == custom
        assert ("lineItem" in item) == graded


def test_it_asks_again_when_nothing_is_picked(client, platform, problem_set):
    picker = open_picker(client, platform)
    for target in ["", "problem_set:missing", "user:alice"]:
        response = Client().post(picker, {"target": target})
        assert response.status_code == 400
        assert "Pick a module" in response.content.decode()


def test_it_refuses_a_learner_deep_linking(client, platform, problem_set):
    response = launch(client, platform, message_type=DEEP_LINK)
    assert response.status_code == 403
    assert "Only instructors" in response.content.decode()


def test_it_refuses_a_made_up_picker_link(client, platform):
    assert client.get("/lti/deep-link/made-up/").status_code == 400
