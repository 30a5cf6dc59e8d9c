"""An instructor grants an extension in the admin by typing part of the student's name:
the autocomplete finds them, though the Instructors group may not open the user admin."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exercises.management.commands.demo_accounts import instructors_group
from exercises.models import Extension, ProblemSet

pytestmark = pytest.mark.browser


def test_it_grants_an_extension_to_a_student_found_by_name(page):
    User = get_user_model()
    ada = User.objects.create_user(
        "ada", password="x", first_name="Ada", last_name="Lovelace", email="ada@example.org"
    )
    User.objects.create_user("adam", password="x", is_staff=True)
    teacher = User.objects.create_user("teacher", password="teacher-pass-phrase", is_staff=True)
    teacher.groups.add(instructors_group())
    problem_set = ProblemSet.objects.get(slug="quick-checks")

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill("teacher-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/exercises/problemset/{problem_set.pk}/change/")
    page.get_by_text("Add another Extension").click()

    # select2: open the row's picker, type, pick the one result.
    page.locator("#extensions-group .select2-selection").first.click()
    page.locator(".select2-search__field").fill("lovel")
    option = page.locator(".select2-results__option", has_text="Ada Lovelace")
    expect(option).to_have_text("Ada Lovelace (ada, ada@example.org)")
    expect(page.locator(".select2-results__option")).to_have_count(1)
    option.click()
    page.locator("#id_extensions-0-due_0").fill("2030-01-02")
    page.locator("#id_extensions-0-due_1").fill("17:00")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Extension.objects.get(problem_set=problem_set).student == ada
    assert page.js_errors == []
    # The user admin stays closed to instructors.
    assert page.goto("/admin/auth/user/").status == 403
