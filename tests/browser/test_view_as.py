"""An instructor views the course as a student sees it, in Chromium: the student's
answers in a form that cannot be used, under a banner that stops it; the page passes
the accessibility audit."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exercises.management.commands.demo_accounts import instructors_group
from exercises.models import Exercise, Submission, Variant
from tests.browser.conftest import TIMEOUT_MS
from tests.browser.test_accessibility import audit, describe

pytestmark = pytest.mark.browser


@pytest.fixture
def context(browser, server_url, course):
    # axe is put in as a script, which the page's Content-Security-Policy would refuse.
    context = browser.new_context(base_url=server_url, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def test_it_shows_the_students_answers_read_only_until_stopped(page):
    User = get_user_model()
    ada = User.objects.create_user("ada", password="x", first_name="Ada", last_name="Lovelace")
    teacher = User.objects.create_user("teacher", password="teacher-pass-phrase", is_staff=True)
    teacher.groups.add(instructors_group())
    exercise = Exercise.objects.get(slug="quick-power-rule")
    Submission.objects.create(
        student=ada,
        exercise=exercise,
        attempt=1,
        answers={"a": "3x"},
        status=Submission.Status.GRADED,
        score=0.0,
        credit=0.0,
        results={"a": {"status": "incorrect", "message": "Not quite."}},
    )

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill("teacher-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="View as a student").click()
    page.locator(".select2-selection").first.click()
    page.locator(".select2-search__field").fill("lovel")
    page.locator(".select2-results__option", has_text="Ada Lovelace").click()
    page.get_by_role("button", name="View the course as this student").click()

    banner = page.get_by_role("complementary", name="Viewing as a student")
    expect(banner).to_contain_text("Viewing as Ada Lovelace (ada) — read-only")
    page.goto(exercise.get_absolute_url())
    answer = page.locator("#answer-a")
    expect(answer).to_have_value("3x")
    expect(answer).to_be_disabled()
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    violations = audit(page)
    assert violations == [], describe("viewing as a student", violations)
    randomised = Exercise.objects.get(slug="rise-over-run")
    page.goto(randomised.get_absolute_url())
    expect(page.locator("h1")).to_have_text(randomised.title)
    assert not Variant.objects.filter(student=ada).exists()

    banner.get_by_role("button", name="Stop").click()
    expect(page.locator(".messagelist")).to_contain_text("no longer view the course as ada")
    page.goto(exercise.get_absolute_url())
    expect(page.locator("#answer-a")).to_be_enabled()
    expect(page.get_by_role("complementary", name="Viewing as a student")).to_have_count(0)
    assert page.js_errors == []
