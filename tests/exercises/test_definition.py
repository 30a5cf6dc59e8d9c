"""The one definition of an exercise: its fields, defaults and messages, and the loader,
exporter, admin and engine cases that go through it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from exercises import question_tests
from exercises.definition import DefinitionError, ExerciseDef, PartDef, parse
from exercises.management.commands.export_course import export_course
from exercises.management.commands.load_course import CourseError, load_course
from exercises.models import Exercise, Module, Part, QuestionTestRun
from tests.conftest import make_exercise
from tests.exercises.test_question_tests import change_data, change_url

COURSE = Path(__file__).resolve().parents[2] / "course"
SHIPPED = sorted(COURSE.glob("*/*.yaml"))

PART = {
    "key": "a",
    "kind": "expression",
    "expected": "2x",
    "variables": ["x"],
    "tests": [
        {"answer": "2x", "expect": "correct"},
        {"answer": "x*2", "expect": "correct"},
        {"answer": "3x", "expect": "incorrect"},
        {"answer": "2x +", "expect": "invalid"},
    ],
}

CODE_PART = {
    "key": "fd",
    "kind": "code",
    "label": "Write `forward_difference(f, x, h)`.",
    "code": {
        "function": "forward_difference",
        "signature": "forward_difference(f, x, h)",
        "starter": "def forward_difference(f, x, h):\n    return 0.0\n",
        "reference": {"routine": "forward_difference"},
        "tests": [
            {"args": [{"fn": "x^2", "of": ["x"]}, 3, 0.001], "name": "x^2 at 3"},
            {"args": [{"fn": "{{a}}*x^3", "of": ["x"]}, "{{x0}}", 1.0e-6]},
            {"args": [{"random": {"low": -2, "high": 2, "shape": [5]}}, 0.5]},
            {"args": [{"random": {"low": -2, "high": 2, "shape": [5]}}, 0.5], "visible": False},
        ],
    },
    "tests": [
        {
            "answer": "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n",
            "expect": "correct",
        }
    ],
}


def make_exercise_data(**kwargs) -> dict:
    data = {"slug": "double", "title": "Double", "prompt": "Differentiate x^2.", "parts": [PART]}
    return {**data, **kwargs}


def make_course(folder: Path, exercises: list[dict]) -> Path:
    """A one-module, one-problem-set course in `folder`."""
    (folder / "01-basics").mkdir(parents=True)
    modules = {"modules": [{"slug": "basics", "title": "Basics", "summary": "s"}]}
    (folder / "course.yaml").write_text(yaml.safe_dump(modules))
    problem_set = {"module": "basics", "slug": "warm-up", "title": "Warm-up", "order": 1}
    problem_set["exercises"] = exercises
    (folder / "01-basics" / "warm-up.yaml").write_text(yaml.safe_dump(problem_set))
    return folder


def messages(data: dict) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse(ExerciseDef, data)
    return caught.value.messages()


# ---------------------------------------------------------------- fields and defaults


def test_it_fills_in_the_defaults():
    exercise = parse(ExerciseDef, make_exercise_data(parts=[{"kind": "numeric", "expected": "1"}]))
    part = exercise.parts[0]
    assert (exercise.status, exercise.max_attempts, exercise.retry_penalty) == (
        "published",
        None,
        0,
    )
    assert exercise.plot is None and exercise.parameters == {} and exercise.constraints == []
    assert part.key == "1"  # its position
    assert (part.weight, part.rtol, part.atol, part.variables, part.code) == (
        1.0,
        None,
        None,
        [],
        None,
    )


def test_it_writes_only_what_differs_from_the_defaults_in_field_order():
    exercise = parse(ExerciseDef, make_exercise_data(retry_penalty=0.25))
    data = exercise.to_data()
    assert list(data) == ["slug", "title", "retry_penalty", "prompt", "parts"]
    assert list(data["parts"][0]) == ["key", "kind", "expected", "variables", "tests"]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"rtol": -1}, "parts[0].rtol: must be a number ≥ 0"),
        ({"rtol": "5e-4"}, "parts[0].rtol: must be a number ≥ 0 (write decimals"),
        ({"kind": "essay"}, "parts[0].kind: must be one of expression, numeric"),
        ({"expected": ""}, "parts[0].expected: give the expected answer"),
        ({"expected": {"routine": "guess"}}, "parts[0].expected.routine: unknown routine 'guess'"),
        ({"tests": [{"answer": "2x", "expect": "right"}]}, "parts[0].tests[0].expect: must be one"),
        ({"options": [{"key": "a", "text": "A"}]}, "parts[0].options: only a choice part"),
        ({"variables": ["2x"]}, "parts[0].variables[0]: must be a name"),
        ({"domain": {"x": [3, 1]}}, "parts[0].domain: x: give [low, high] with low < high"),
        ({"colour": "red"}, "parts[0].colour: is not a field here"),
    ],
)
def test_it_names_the_field_of_a_part_in_its_message(change, expected):
    found = messages(make_exercise_data(parts=[{**PART, **change}]))
    assert any(m.startswith(expected) for m in found), found


def test_it_names_the_fields_of_the_exercise():
    found = messages(
        make_exercise_data(
            max_attempts=0,
            retry_penalty=2,
            parameters={"k": {"int": [9, 2]}},
            status="hidden",
            parts=[PART, PART],
        )
    )
    assert "max_attempts: must be a whole number ≥ 1" in found
    assert "retry_penalty: must be a number ≥ 0 and ≤ 1" in found
    assert any(m.startswith("parameters: parameter k: needs low <= high") for m in found)
    assert "status: must be one of draft or published" in found
    assert "parts: part keys must differ: a repeated" in found


def test_it_names_the_fields_of_a_plot():
    plot = {"kind": "function", "title": "t", "description": "d", "f": "x", "x": [0, 1]}
    found = messages(make_exercise_data(plot={**plot, "tangent_at": True}))
    assert "plot.y: is required" in found
    assert any(m.startswith("plot.tangent_at: must be a number") for m in found)
    assert messages(make_exercise_data(plot={**plot, "kind": "pie"})) == [
        "plot: kind must be one of function, taylor, contour, fit"
    ]


# ---------------------------------------------------------------- code parts


def test_it_reads_a_code_part_as_agreed():
    part = parse(ExerciseDef, make_exercise_data(parts=[CODE_PART])).parts[0]
    assert part.code.function == "forward_difference"
    assert (part.code.compare.rtol, part.code.compare.atol, part.code.time_limit) == (1e-6, 1e-9, 2)
    assert part.code.tests[0].visible and part.code.tests[0].weight == 1
    assert part.expected == ""


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"function": "forward difference"}, "parts[0].code.function: must be a name"),
        (
            {"reference": {"routine": "fd", "source": "def fd(): pass"}},
            "parts[0].code.reference: give exactly one of routine and source",
        ),
        ({"reference": {}}, "parts[0].code.reference: give exactly one of routine and source"),
        ({"tests": []}, "parts[0].code.tests: needs at least 1 item(s)"),
        ({"time_limit": 11}, "parts[0].code.time_limit: must be a number > 0 and ≤ 10"),
        ({"time_limit": 0}, "parts[0].code.time_limit: must be a number > 0 and ≤ 10"),
        ({"tests": [{"args": [{"lambda": "x"}]}]}, "parts[0].code.tests[0].args: [0]: a mapping"),
        (
            {"tests": [{"args": [{"random": {"low": 0}}]}]},
            "parts[0].code.tests[0].args: [0]: random needs low and high",
        ),
        (
            {"tests": [{"args": [1], "check": {"chi_squared": {"x": 0, "y": 1, "model": "line"}}}]},
            "parts[0].code.tests[0]: check: y names argument 1, which is not given",
        ),
    ],
)
def test_it_checks_the_shape_of_a_code_part(change, expected):
    part = copy.deepcopy(CODE_PART)
    part["code"].update(change)
    found = messages(make_exercise_data(parts=[part]))
    assert any(m.startswith(expected) for m in found), found


def test_it_refuses_an_expected_answer_on_a_code_part_and_code_elsewhere():
    found = messages(make_exercise_data(parts=[{**CODE_PART, "expected": "2x"}]))
    assert any(m.startswith("parts[0].expected: a code part has no expected answer") for m in found)
    found = messages(make_exercise_data(parts=[{**PART, "code": CODE_PART["code"]}]))
    assert "parts[0].code: only a code part has a code block" in found


def test_it_builds_the_engines_case_for_a_code_part():
    exercise = parse(
        ExerciseDef,
        make_exercise_data(
            parameters={"a": {"int": [2, 2]}, "x0": {"int": [5, 5]}}, parts=[CODE_PART]
        ),
    )
    part = exercise.parts[0]
    case = part.case_for("def forward_difference(f, x, h): ...", "", {"a": 2, "x0": 5}, seed=7)
    assert case["kind"] == "code" and case["function"] == "forward_difference"
    assert case["reference"] == {"routine": "forward_difference"}
    assert case["compare"] == {"rtol": 1e-6, "atol": 1e-9} and case["time_limit"] == 2
    assert case["only_visible"] is False
    first, second, third, fourth = case["tests"]
    assert first["args"] == [{"fn": "x^2", "of": ["x"]}, 3, 0.001]
    assert first["name"] == "x^2 at 3" and first["weight"] == 1.0
    assert second["args"] == [{"fn": "(2)*x^3", "of": ["x"]}, 5, 1e-6]
    # With a shape, a float array, as {array: ...} gives.
    drawn = third["args"][0]
    assert set(drawn) == {"array"}
    assert len(drawn["array"]) == 5 and all(-2 <= v <= 2 for v in drawn["array"])
    # Drawn from the seed and the test's index: the same student gets the same values.
    again = part.case_for("", "", {"a": 2, "x0": 5}, seed=7)
    assert again["tests"][2]["args"][0] == drawn
    assert fourth["args"][0] != drawn and fourth["visible"] is False
    other = part.case_for("", "", {"a": 2, "x0": 5}, seed=8)
    assert other["tests"][2]["args"][0] != drawn


def test_it_skips_the_question_tests_of_a_code_part_where_no_sandbox_starts(monkeypatch):
    from grading.code import SandboxUnavailable

    def refuse(case):
        raise SandboxUnavailable("user namespaces are disabled")

    monkeypatch.setattr("grading.code.check_code", refuse)
    exercise = parse(ExerciseDef, make_exercise_data(parts=[PART, {**CODE_PART, "key": "b"}]))
    report = question_tests.run(exercise, seeds=2)
    assert report.passed
    assert report.skipped["b"].startswith(question_tests.CODE_NOT_CHECKED)
    assert "user namespaces are disabled" in report.skipped["b"]


def test_it_runs_the_question_tests_of_a_code_part_through_the_code_engine(monkeypatch):
    seen = []

    def check_code(case):
        seen.append(case)
        from grading import Verdict

        return Verdict("incorrect", "the value at test 1 is wrong")

    monkeypatch.setattr("grading.code.check_code", check_code)
    exercise = parse(ExerciseDef, make_exercise_data(parts=[CODE_PART]))
    report = question_tests.run(exercise, seeds=1)
    assert len(seen) == 1 and seen[0]["answer"] == CODE_PART["tests"][0]["answer"]
    assert not report.passed
    assert report.failures[0]["expect"] == "correct" and report.failures[0]["got"] == "incorrect"


# ---------------------------------------------------------------- loading and exporting


@pytest.mark.django_db
def test_a_broken_file_names_the_file_exercise_and_field_and_loads_nothing(tmp_path):
    broken = {**PART, "rtol": -0.5}
    course = make_course(
        tmp_path,
        [
            make_exercise_data(),
            make_exercise_data(slug="triple", parts=[PART, {**broken, "key": "b"}]),
        ],
    )
    with pytest.raises(CourseError) as caught:
        load_course(course, seeds=1)
    where = tmp_path / "01-basics" / "warm-up.yaml"
    assert caught.value.messages == [
        f"{where}: exercises[1] (slug triple) → parts[1].rtol: must be a number ≥ 0"
    ]
    assert not Module.objects.exists() and not Exercise.objects.exists()


@pytest.mark.django_db
def test_a_template_that_does_not_render_loads_nothing(tmp_path):
    exercise = make_exercise_data(
        parameters={"a": {"int": [2, 5]}}, prompt="Differentiate {{b}}x^2."
    )
    with pytest.raises(CourseError) as caught:
        load_course(make_course(tmp_path, [exercise]), seeds=1)
    (message,) = caught.value.messages
    assert "exercises[0] (slug double) → seed 0" in message and "prompt" in message
    assert not Exercise.objects.exists()


def test_the_load_command_exits_with_the_messages(tmp_path, capsys, db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    make_course(tmp_path, [make_exercise_data(max_attempts="three")])
    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_course", str(tmp_path))
    assert "(slug double) → max_attempts: must be a whole number ≥ 1" in capsys.readouterr().err


@pytest.mark.django_db
def test_it_publishes_only_exercises_whose_question_tests_pass(tmp_path):
    failing = {**PART, "tests": [*PART["tests"], {"answer": "2x^2", "expect": "correct"}]}
    course = make_course(
        tmp_path, [make_exercise_data(), make_exercise_data(slug="wrong", parts=[failing])]
    )
    counts = load_course(course)
    summary = counts["tests"]
    assert summary.line() == "2 exercises: 1 passed, 1 failed (left as drafts: wrong)"
    assert Exercise.objects.get(slug="double").status == Exercise.Status.PUBLISHED
    assert Exercise.objects.get(slug="wrong").status == Exercise.Status.DRAFT
    run = QuestionTestRun.objects.get(exercise__slug="wrong")
    assert (run.status, run.exercise_version, run.checked) == ("failed", 1, 6)
    assert "'2x^2' should be correct but is incorrect" in summary.failed["wrong"][0]
    assert QuestionTestRun.objects.get(exercise__slug="double").status == "passed"

    # Loading again runs nothing: the runs of these versions are kept.
    again = load_course(course)
    assert again["tests"].reused == 2
    assert QuestionTestRun.objects.count() == 2


@pytest.mark.django_db
def test_it_keeps_a_draft_a_draft(tmp_path):
    load_course(make_course(tmp_path, [make_exercise_data(status="draft")]), seeds=1)
    assert Exercise.objects.get().status == Exercise.Status.DRAFT
    assert QuestionTestRun.objects.get().status == "passed"


@pytest.mark.django_db
def test_every_shipped_file_exports_to_the_same_definition(tmp_path):
    load_course(COURSE, seeds=1)
    export_course(tmp_path)
    exported = {}
    for path in tmp_path.glob("*/*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        exported[data["slug"]] = data["exercises"]
    assert len(exported) == len(SHIPPED)
    for path in SHIPPED:
        shipped = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert definitions(exported[shipped["slug"]]) == definitions(shipped["exercises"]), path


def definitions(exercises: list[dict]) -> list[ExerciseDef]:
    return [ExerciseDef.model_validate({**e, "order": i}) for i, e in enumerate(exercises, 1)]


@pytest.mark.django_db
def test_it_stores_and_reads_back_a_code_part_and_a_plot():
    plot = {
        "kind": "fit",
        "title": "t",
        "description": "d",
        "x": [0, 5],
        "y": [0, 8],
        "data": {"x": [1, 2, 3], "y": [2, 3, 5]},
    }
    definition = parse(ExerciseDef, make_exercise_data(parts=[PART, {**CODE_PART}], plot=plot))
    exercise = make_exercise(slug="double", parts=[], title="Double", prompt="Differentiate x^2.")
    definition.apply_to_model(exercise)
    exercise.save()
    from exercises.definition import part_fields

    for order, part in enumerate(definition.parts, start=1):
        Part.objects.create(exercise=exercise, **part_fields(part, order))
    exercise.refresh_from_db()
    read = ExerciseDef.from_model(exercise)
    assert read.model_copy(update={"order": 0}) == definition.model_copy(update={"order": 0})
    assert exercise.plot["kind"] == "fit" and exercise.parts.get(key="fd").code["function"]


# ---------------------------------------------------------------- the admin


@pytest.mark.django_db
def test_the_admin_shows_the_definitions_message_on_the_field(client, charlie):
    exercise = make_exercise(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    response = client.post(change_url(exercise), change_data(exercise, **{"parts-0-rtol": -1}))
    assert response.status_code == 200
    form = response.context["inline_admin_formsets"][0].formset.forms[0]
    assert form.errors["rtol"] == ["rtol: must be a number ≥ 0"]
    assert exercise.parts.get().rtol is None


@pytest.mark.django_db
def test_the_admin_checks_a_plot_through_the_definition(client, charlie):
    exercise = make_exercise(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    response = client.post(
        change_url(exercise), change_data(exercise, plot={"kind": "pie", "title": "t"})
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["plot"] == [
        "plot: kind must be one of function, taylor, contour, fit"
    ]


def test_the_definition_of_a_part_is_the_one_the_engine_gets():
    part = PartDef.model_validate({**PART, "domain": {"x": [0, 10]}, "rtol": 0.001})
    case = part.case_for("2x", "2x", {})
    assert case == {
        "kind": "expression",
        "expected": "2x",
        "answer": "2x",
        "variables": ["x"],
        "domain": {"x": [0, 10]},
        "rtol": 0.001,
    }
