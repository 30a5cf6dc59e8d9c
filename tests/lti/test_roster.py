"""Names and Role Provisioning: the roster pulled into the course's accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from lti_tool.models import LtiContext, LtiMembership

from exercises import gradebook
from lti.tool import username_for
from tests.conftest import make_exercise, make_problem_set
from tests.lti.conftest import launch
from tests.lti.emulator import INSTRUCTOR, LEARNER

User = get_user_model()


@pytest.fixture
def launched(client, platform):
    problem_set = make_problem_set()
    make_exercise(problem_set=problem_set)
    launch(client, platform, sub="teacher-1", roles=[INSTRUCTOR])
    return problem_set


def test_it_pulls_the_roster_into_accounts_and_the_gradebook(platform, launched, capsys):
    platform.members = [
        {
            "user_id": "s-1",
            "roles": [LEARNER],
            "given_name": "Emmy",
            "family_name": "Noether",
            "email": "emmy@example.edu",
            "status": "Active",
        },
        {"user_id": "s-2", "roles": [LEARNER], "name": "Left", "status": "Inactive"},
        {"user_id": "t-2", "roles": [INSTRUCTOR], "given_name": "Sofia"},
    ]
    call_command("lti_sync_roster")
    assert "2 active member(s)" in capsys.readouterr().out
    emmy = User.objects.get(username=username_for(platform.issuer, "s-1"))
    assert (emmy.first_name, emmy.last_name, emmy.email) == ("Emmy", "Noether", "emmy@example.edu")
    assert not emmy.is_staff
    sofia = User.objects.get(username=username_for(platform.issuer, "t-2"))
    assert sofia.is_staff and sofia.groups.filter(name="Instructors").exists()
    assert not User.objects.filter(username=username_for(platform.issuer, "s-2")).exists()
    assert not LtiMembership.objects.get(user__sub="s-2").is_active
    usernames = [row[0] for row in gradebook.rows(launched)[1:]]
    assert emmy.username in usernames
    # Pulled again, nobody is made twice.
    call_command("lti_sync_roster", platform.context_id)
    assert User.objects.filter(username__startswith="lti-").count() == 3


def test_it_says_which_context_it_does_not_know(platform, launched):
    with pytest.raises(CommandError, match="no-such-course"):
        call_command("lti_sync_roster", "no-such-course")


def test_it_reports_a_platform_that_refuses(platform, launched):
    platform.tool_jwks = {"keys": []}  # the platform no longer trusts the tool's key
    with pytest.raises(CommandError, match="1 roster"):
        call_command("lti_sync_roster")


def test_it_pulls_a_roster_from_the_admin(platform, launched, admin_client):
    platform.members = [{"user_id": "s-9", "roles": [LEARNER], "status": "Active"}]
    context = LtiContext.objects.get()
    response = admin_client.post(
        "/admin/lti_tool/lticontext/",
        {"action": "sync_roster", "_selected_action": [context.pk]},
        follow=True,
    )
    assert "1 active member(s)" in response.content.decode()
    assert User.objects.filter(username=username_for(platform.issuer, "s-9")).exists()
