"""An instructor edits an exercise in the admin and previews it without saving: the
engine's reading of the expected answer beside it, two seeds' variants, and answers
tried against a variant with the verdicts beside them."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exercises import variants
from exercises.management.commands.demo_accounts import instructors_group
from exercises.models import Exercise, ProblemSet, Submission
from tests.browser.conftest import TIMEOUT_MS, screenshot
from tests.browser.test_accessibility import AXE_SOURCE, AXE_TAGS
from tests.conftest import HALF_RIGHT_CODE, RIGHT_CODE, make_code_exercise, make_exercise

pytestmark = pytest.mark.browser

MISTAKE = "Bring down the 2 as a factor."


@pytest.fixture
def exercise(course) -> Exercise:
    return make_exercise(
        problem_set=ProblemSet.objects.get(slug="quick-checks"),
        slug="authoring-slope",
        title="A slope",
        status=Exercise.Status.DRAFT,
        parameters={"a": {"int": [2, 50]}},
        prompt="Differentiate \\( {{a}}x^2 \\).",
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "expected": "{{2*a}}x",
                "variables": ["x"],
                "mistakes": [{"answer": "{{a}}x", "message": MISTAKE}],
            }
        ],
    )


def sign_in_as_instructor(page) -> None:
    teacher = get_user_model().objects.create_user(
        "author", password="author-pass-phrase", is_staff=True
    )
    teacher.groups.add(instructors_group())
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("author")
    page.get_by_label("Password").fill("author-pass-phrase")
    page.get_by_role("button", name="Log in").click()


def test_it_previews_an_exercise_being_edited_and_grades_tried_answers(page, exercise):
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{exercise.pk}/change/")
    panel = page.locator("#authoring-preview")
    expect(panel).to_have_attribute("data-state", "ok")

    # The expected answer, as typed and not saved, read by the engine beside its field.
    page.locator("#id_parts-0-expected").fill("{{3*a}}x^2")
    a0 = exercise.values_for_seed(0)["a"]
    reading = page.locator(".field-expected .authoring-reading")
    typed = variants.render_expression("{{3*a}}x^2", {"a": a0})
    expect(reading).to_contain_text(typed)
    expect(reading.locator(".katex")).to_be_visible()
    expect(page.locator(".field-mistakes .authoring-reading")).to_contain_text(MISTAKE)
    # The variant is rebuilt from the typed form.
    expect(panel.locator("code.expected")).to_have_text(typed)
    page.locator("#id_parts-0-expected").fill("{{2*a}}x")
    expect(panel.locator("code.expected")).to_have_text(
        variants.render_expression("{{2*a}}x", {"a": a0})
    )

    # Another seed, drawn by the page.
    page.get_by_role("button", name="Another seed").click()
    expect(page.locator("#authoring-seed")).not_to_have_value("0")
    drawn = page.locator("#authoring-seed").input_value()
    expect(panel.locator(".authoring-variant")).to_have_attribute("data-seed", drawn)
    a = exercise.values_for_seed(int(drawn))["a"]
    expect(panel.locator(".authoring-values")).to_contain_text(f"a = {a}")

    # Two seeds: each shows its own values.
    seeds = [1, 2]
    values = [exercise.values_for_seed(seed)["a"] for seed in seeds]
    while values[0] == values[1]:
        seeds[1] += 1
        values[1] = exercise.values_for_seed(seeds[1])["a"]
    for seed, a in zip(seeds, values, strict=True):
        page.locator("#authoring-seed").fill(str(seed))
        page.get_by_role("button", name="Show this seed").click()
        expect(panel.locator(".authoring-variant")).to_have_attribute("data-seed", str(seed))
        expect(panel.locator(".authoring-values")).to_contain_text(f"a = {a}")
        expect(panel.locator(".prompt .katex").first).to_be_visible()
    screenshot(page, "authoring-preview")

    # Answers tried against the variant shown (the last seed).
    a = values[1]
    answer = panel.locator("#try-a")
    verdict = panel.locator("#try-verdict-a")
    answer.fill(f"x*{2 * a}")
    panel.get_by_role("button", name="Try these answers").click()
    expect(verdict).to_have_attribute("data-state", "correct")
    expect(verdict).to_contain_text("Correct")

    answer.fill(f"{2 * a + 1}x")
    panel.get_by_role("button", name="Try these answers").click()
    expect(verdict).to_have_attribute("data-state", "incorrect")
    expect(verdict).to_contain_text("Not correct")

    answer.fill(f"{a}x")
    panel.get_by_role("button", name="Try these answers").click()
    expect(verdict).to_contain_text(MISTAKE)
    expect(verdict).to_contain_text("a known mistake")
    screenshot(page, "authoring-preview-tried")

    # Nothing was saved or submitted.
    exercise.refresh_from_db()
    assert exercise.version == 1
    assert not Submission.objects.filter(exercise=exercise).exists()
    assert page.js_errors == []


def test_the_staff_preview_grades_a_submitted_answer(page, exercise):
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{exercise.pk}/preview/?seed=3")
    a = exercise.values_for_seed(3)["a"]
    page.locator("#answer-a").fill(f"{a}x")
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#verdict-a")).to_contain_text("Not correct")
    expect(page.locator("#verdict-a")).to_contain_text(MISTAKE)
    expect(page.locator("#answer-a")).to_have_value(re.compile(rf"^{a}x$"))
    assert not Submission.objects.filter(exercise=exercise).exists()
    assert page.js_errors == []


def test_it_runs_a_tried_code_answer_in_the_sandbox_of_a_code_worker(page, course):
    exercise = make_code_exercise(
        problem_set=ProblemSet.objects.get(slug="quick-checks"),
        slug="authoring-code",
        status=Exercise.Status.DRAFT,
    )
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{exercise.pk}/change/")
    panel = page.locator("#authoring-preview")
    expect(panel).to_have_attribute("data-state", "ok")
    verdict = panel.locator("#try-verdict-code")

    panel.locator("#try-code").fill(HALF_RIGHT_CODE)
    panel.get_by_role("button", name="Try these answers").click()
    expect(verdict).to_have_attribute("data-state", "incorrect")
    expect(verdict.locator(".authoring-tests .failed")).to_contain_text("x^3 at -1")

    panel.locator("#try-code").fill(RIGHT_CODE)
    panel.get_by_role("button", name="Try these answers").click()
    expect(verdict).to_have_attribute("data-state", "correct")
    expect(verdict).to_contain_text("Hidden tests: 1 of 1 passed")
    assert not Submission.objects.filter(exercise=exercise).exists()
    assert page.js_errors == []


@pytest.fixture
def audited_page(browser, server_url, course):
    """A page into which axe can be put (the policy would refuse its script)."""
    context = browser.new_context(base_url=server_url, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_the_preview_passes_the_accessibility_audit(audited_page, exercise):
    page = audited_page
    sign_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{exercise.pk}/change/")
    panel = page.locator("#authoring-preview")
    expect(panel).to_have_attribute("data-state", "ok")
    panel.locator("#try-a").fill("2x")
    panel.get_by_role("button", name="Try these answers").click()
    expect(panel.locator("#try-verdict-a")).to_contain_text("Not correct")
    page.add_script_tag(content=AXE_SOURCE)
    violations = page.evaluate(
        """tags => axe.run({include: [["#authoring-preview"], [".authoring-reading"]]}, {
          runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
        }).then(r => r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
          .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", ")))""",
        AXE_TAGS,
    )
    assert violations == []
