"""An instructor imports a problem set in the admin: a file with mistakes shows every
problem and saves nothing; a good one shows what it will do, and saves on Confirm."""

import pytest
import yaml
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exercises.management.commands.demo_accounts import instructors_group
from exercises.models import Exercise, ProblemSet

pytestmark = pytest.mark.browser


def problem_set_file(**kwargs) -> bytes:
    data = {
        "module": ProblemSet.objects.get(slug="quick-checks").module.slug,
        "slug": "imported-checks",
        "title": "Imported checks",
        "exercises": [
            {
                "slug": "imported-cube",
                "title": "Cube",
                "prompt": "Differentiate \\( x^3 \\).",
                "parts": [
                    {"key": "a", "kind": "expression", "expected": "3x^2", "variables": ["x"]}
                ],
            }
        ],
    }
    return yaml.safe_dump({**data, **kwargs}).encode()


def test_it_shows_every_problem_then_saves_a_good_file_on_confirming(page):
    teacher = get_user_model().objects.create_user(
        "teacher", password="teacher-pass-phrase", is_staff=True
    )
    teacher.groups.add(instructors_group())
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill("teacher-pass-phrase")
    page.get_by_role("button", name="Log in").click()
    page.goto("/admin/exercises/problemset/")
    page.get_by_role("link", name="Import YAML").click()

    bad = problem_set_file(
        late_policy="later",
        exercises=[
            {
                "slug": "quick-power-rule",
                "title": "Taken",
                "prompt": "p",
                "parts": [{"key": "a", "kind": "numeric", "expected": "1", "rtol": "big"}],
            }
        ],
    )
    file_input = page.get_by_label("Problem set file (YAML)")
    file_input.set_input_files({"name": "bad.yaml", "mimeType": "text/yaml", "buffer": bad})
    page.get_by_role("button", name="Check the file").click()

    problems = page.locator("#import-problems li")
    expect(problems.first).to_be_visible()
    texts = problems.all_inner_texts()
    assert any("late_policy: must be one of" in t for t in texts)
    assert any("parts[0].rtol" in t for t in texts)
    expect(page.get_by_role("button", name="Confirm: save this problem set")).to_have_count(0)
    assert not ProblemSet.objects.filter(slug="imported-checks").exists()

    page.get_by_label("Problem set file (YAML)").set_input_files(
        {"name": "good.yaml", "mimeType": "text/yaml", "buffer": problem_set_file()}
    )
    page.get_by_role("button", name="Check the file").click()
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("A new problem set 'imported-checks'")
    expect(summary.locator("tbody tr")).to_have_count(1)
    assert not ProblemSet.objects.filter(slug="imported-checks").exists()
    page.get_by_role("button", name="Confirm: save this problem set").click()

    expect(page.locator(".messagelist .success")).to_contain_text("Imported problem set")
    assert Exercise.objects.get(slug="imported-cube").status == Exercise.Status.PUBLISHED
    assert page.js_errors == []
