"""An instructor writes a randomised two-part exercise in the admin, with parameters, a
plot, a known mistake, sample answers and a code part, without typing any JSON."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from exercises.definition import ExerciseDef
from exercises.management.commands.demo_accounts import instructors_group
from exercises.models import Exercise, ProblemSet
from tests.browser.conftest import field, screenshot, type_code

pytestmark = pytest.mark.browser


def log_in_as_instructor(page) -> None:
    teacher = get_user_model().objects.create_user(
        "teacher", password="teacher-pass-phrase", is_staff=True
    )
    teacher.groups.add(instructors_group())
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("teacher")
    page.get_by_label("Password").fill("teacher-pass-phrase")
    page.get_by_role("button", name="Log in").click()


def test_it_writes_a_randomised_exercise_with_a_code_part_without_json(page):
    problem_set = ProblemSet.objects.get(slug="quick-checks")
    log_in_as_instructor(page)
    page.goto("/admin/exercises/exercise/add/")

    # A new exercise is a draft.
    expect(field(page, "status")).to_have_value("draft")
    field(page, "problem_set").select_option(str(problem_set.pk))
    field(page, "title").press_sequentially("The power rule, randomised")
    # The slug follows the title until changed.
    expect(field(page, "slug")).to_have_value("the-power-rule-randomised")
    field(page, "slug").fill("authored-power-rule")
    field(page, "prompt").fill("Differentiate \\( {{a}}x^2 \\), then write `double`.")
    field(page, "order").fill("7")

    # Parameters: a row filled, one added and removed again.
    page.get_by_text("Randomised values", exact=True).click()
    field(page, "parameters-0-name").fill("a")
    field(page, "parameters-0-kind").select_option("int")
    field(page, "parameters-0-values").fill("2, 9")
    page.get_by_role("button", name="Add a parameter").click()
    added = field(page, "parameters-2-name")
    expect(added).to_be_focused()
    expect(added).to_have_attribute("aria-label", "Name, row 3")
    added.fill("unused")
    page.locator("#id_parameters-rows").get_by_role("button", name="Remove row 3").click()
    expect(field(page, "parameters-2-name")).to_have_count(0)
    field(page, "constraints-0-comparison").fill("a != 5")

    # The plot: only the inputs of the chosen kind are shown.
    page.get_by_text("Plot", exact=True).click()
    expect(field(page, "plot-tangent_at")).to_be_hidden()
    field(page, "plot-kind").select_option("function")
    expect(field(page, "plot-tangent_at")).to_be_visible()
    expect(field(page, "plot-centre")).to_be_hidden()
    field(page, "plot-title").fill("The parabola")
    field(page, "plot-description").fill("The graph of the function, with its tangent at 1.")
    field(page, "plot-f").fill("{{a}}x^2")
    field(page, "plot-x").fill("-2, 2")
    field(page, "plot-y").fill("0, 40")
    field(page, "plot-tangent_at").fill("1")

    # Part a, offered on a new exercise: an expression, a variable, a known mistake and
    # sample answers.
    first = page.locator("#parts-0")
    field(first, "parts-0-key").fill("a")
    field(first, "parts-0-order").fill("1")
    field(first, "parts-0-kind").select_option("expression")
    field(first, "parts-0-expected").fill("{{2*a}}x")
    expect(first.locator("fieldset.authoring-for-code")).to_be_hidden()
    first.get_by_text("Variables, tolerances and known mistakes").click()
    field(first, "parts-0-variables-0-name").fill("x")
    field(first, "parts-0-mistakes-0-answer").fill("{{a}}x^3/3")
    field(first, "parts-0-mistakes-0-message").fill("That is an antiderivative.")
    first.get_by_text("Sample answers (question tests)").click()
    field(first, "parts-0-tests-0-answer").fill("{{2*a}}x")
    field(first, "parts-0-tests-1-answer").fill("{{a}}x")
    field(first, "parts-0-tests-1-expect").select_option("incorrect")
    field(first, "parts-0-tests-1-message").fill("That is an antiderivative.")
    # A third sample answer, in a row added for it.
    first.get_by_role("button", name="Add a sample answer").click()
    field(first, "parts-0-tests-2-answer").fill("2x +")
    field(first, "parts-0-tests-2-expect").select_option("invalid")

    # Part b: code, in the code editor, with its tests as rows.
    page.get_by_text("Add another Part").click()
    second = page.locator("#parts-1")
    field(second, "parts-1-key").fill("b")
    expect(field(second, "parts-1-order")).to_have_value("2")
    field(second, "parts-1-kind").select_option("code")
    expect(second.locator("fieldset.authoring-for-maths")).to_be_hidden()
    expect(second.locator(".form-row.field-expected")).to_be_hidden()
    second.get_by_role("heading", name="Code", exact=True).click()
    field(second, "parts-1-code-function").fill("double")
    field(second, "parts-1-code-signature").fill("double(x)")
    type_code(page, "id_parts-1-code-starter", ["def double(x):", "pass"])
    type_code(page, "id_parts-1-code-reference__source", ["def double(x):", "return 2 * x"])
    field(second, "parts-1-code-tests-0-args").fill("3")
    field(second, "parts-1-code-tests-0-name").fill("three")
    field(second, "parts-1-code-tests-1-args").fill("{{a}}")
    field(second, "parts-1-code-tests-1-hidden").check()
    field(second, "parts-1-code-tests-1-weight").fill("2")
    second.get_by_text("Sample answers (question tests)").click()
    field(second, "parts-1-tests-0-answer").fill("def double(x):\n    return x + x\n")
    screenshot(page, "authoring-form-filled")

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert page.js_errors == []

    exercise = Exercise.objects.get(slug="authored-power-rule")
    assert exercise.status == Exercise.Status.DRAFT
    data = ExerciseDef.from_model(exercise).to_data()
    assert data["parameters"] == {"a": {"int": [2, 9]}}
    assert data["constraints"] == ["a != 5"]
    assert data["plot"] == {
        "kind": "function",
        "title": "The parabola",
        "description": "The graph of the function, with its tangent at 1.",
        "x": [-2, 2],
        "y": [0, 40],
        "f": "{{a}}x^2",
        "tangent_at": 1,
    }
    a, b = data["parts"]
    assert a["expected"] == "{{2*a}}x" and a["variables"] == ["x"]
    assert a["mistakes"] == [{"answer": "{{a}}x^3/3", "message": "That is an antiderivative."}]
    assert a["tests"] == [
        {"answer": "{{2*a}}x", "expect": "correct"},
        {"answer": "{{a}}x", "expect": "incorrect", "message": "That is an antiderivative."},
        {"answer": "2x +", "expect": "invalid"},
    ]
    assert b["kind"] == "code"
    assert b["code"]["function"] == "double"
    assert b["code"]["starter"] == "def double(x):\n    pass"
    assert b["code"]["reference"] == {"source": "def double(x):\n    return 2 * x"}
    assert b["code"]["tests"] == [
        {"args": [3], "name": "three"},
        {"args": ["{{a}}"], "visible": False, "weight": 2},
    ]
    assert b["tests"] == [{"answer": "def double(x):\n    return x + x\n", "expect": "correct"}]

    # Shown again as rows, and saved again unchanged.
    expect(field(page, "parameters-0-values")).to_have_value("2, 9")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert ExerciseDef.from_model(exercise).to_data() == data


def test_it_shows_a_bad_row_beside_it_and_only_on_its_part(page):
    from tests.conftest import make_exercise

    problem_set = ProblemSet.objects.get(slug="quick-checks")
    part = {"kind": "expression", "expected": "2x", "variables": ["x"]}
    exercise = make_exercise(
        problem_set=problem_set,
        status=Exercise.Status.DRAFT,
        parts=[{**part, "key": "a"}, {**part, "key": "b"}],
    )
    log_in_as_instructor(page)
    page.goto(f"/admin/exercises/exercise/{exercise.pk}/change/")
    second = page.locator("#parts-1")
    second.get_by_text("Variables, tolerances and known mistakes").click()
    # A known mistake without its message: said beside it as soon as it is typed.
    field(second, "parts-1-mistakes-0-answer").fill("x^2")
    field(second, "parts-1-mistakes-0-answer").blur()
    live = page.locator("#parts-1 tr.authoring-row-error")
    expect(live).to_contain_text("message: must say what the student did wrong")
    field(second, "parts-1-mistakes-0-message").fill("Differentiate, do not square.")
    field(second, "parts-1-mistakes-0-message").blur()
    expect(live).to_have_count(0)
    assert exercise.parts.get(key="b").mistakes == []
    field(second, "parts-1-mistakes-0-message").fill("")
    page.get_by_role("button", name="Save and continue editing").click()

    row_error = page.locator("#parts-1 tr.authoring-row-error")
    expect(row_error).to_contain_text("must say what the student did wrong")
    expect(page.locator("#parts-0 .errorlist li")).to_have_count(0)
    expect(field(page, "parts-1-mistakes-0-answer")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "authoring-form-row-error")
    assert page.js_errors == []
