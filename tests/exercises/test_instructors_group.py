"""The "Instructors" group exists on every database, with what instructors need."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from exercises.management.commands.demo_accounts import INSTRUCTOR_PERMISSIONS

pytestmark = pytest.mark.django_db


def codenames(group: Group) -> set[str]:
    return set(group.permissions.values_list("codename", flat=True))


def test_it_makes_the_group_by_migration_with_every_permission_instructors_need():
    # No demo command has run: the migrations alone made the group.
    group = Group.objects.get(name="Instructors")

    expected = {f"{a}_{m}" for m, actions in INSTRUCTOR_PERMISSIONS.items() for a in actions}
    assert codenames(group) == expected


def test_it_gives_instructors_no_power_over_students_records():
    have = codenames(Group.objects.get(name="Instructors"))

    assert "delete_submission" not in have and "add_submission" not in have
    assert not any(name.endswith("_user") or name.endswith("_group") for name in have)


def test_it_lets_a_staff_member_of_the_group_regrade_and_grant_extensions():
    user = get_user_model().objects.create_user("dora", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Instructors"))

    assert user.has_perm("exercises.add_regradejob")
    assert user.has_perm("exercises.add_extension")
    assert user.has_perm("exercises.delete_quizstart")
    assert not user.is_superuser
