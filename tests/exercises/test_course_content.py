"""The course as shipped in course/: its files are well formed, and every question test
an author wrote (a sample answer and the verdict it must get) holds against the engine.

Everything but the last test reads the YAML directly and needs no database.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest
import yaml

import grading
from exercises import question_tests, queue, routines, variants
from exercises.definition import PartDef
from exercises.management.commands.load_course import load_course
from exercises.models import Exercise, Module, Part, ProblemSet, QuestionTestRun
from exercises.presentation import StudentView

COURSE = Path(__file__).resolve().parents[2] / "course"

SYLLABUS = [
    "what-is-calculus",
    "multivariate-calculus",
    "multivariate-chain-rule",
    "taylor-series",
    "optimisation",
    "regression",
]
KINDS = {"expression", "numeric", "vector", "matrix", "points", "choice", "code"}
VERDICTS = {"correct", "incorrect", "invalid"}
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


@cache
def course_index() -> dict:
    return yaml.safe_load((COURSE / "course.yaml").read_text(encoding="utf-8"))


@cache
def problem_sets() -> tuple[tuple[Path, dict], ...]:
    return tuple(
        (path, yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(COURSE.glob("*/*.yaml"))
    )


def exercises() -> list[dict]:
    return [ex for _, data in problem_sets() for ex in data["exercises"]]


def parts() -> list[tuple[str, dict]]:
    return [
        (f"{ex['slug']}/{part['key']}", {**part, "exercise": ex})
        for ex in exercises()
        for part in ex["parts"]
    ]


# A randomised exercise is checked for these seeds; the admin's question tests try more.
SEEDS = range(3)
# Listed mistakes are checked for more: each must be the same slip in every variant.
MISTAKE_SEEDS = range(6)


def variants_of(part: dict, seeds=SEEDS) -> list[tuple[dict, str]]:
    """(parameter values, expected answer) for each seed tried; one when nothing is random."""
    ex = part["exercise"]
    seeds = seeds if ex.get("parameters") else [0]
    out = []
    for seed in seeds:
        values = variants.draw(ex.get("parameters") or {}, ex.get("constraints") or [], seed)
        expected = part["expected"]
        routine = expected if isinstance(expected, dict) else None
        out.append((values, routines.expected_answer(str(expected), routine, values)))
    return out


def case_for(part: dict, answer: str, values: dict, expected: str) -> dict:
    """The engine's case for a part, built by its definition as for a student."""
    definition = PartDef.model_validate({k: v for k, v in part.items() if k != "exercise"})
    return definition.case_for(variants.render_expression(answer, values), expected, values)


def grade(part: dict, answer: str, values: dict, expected: str) -> grading.Verdict:
    return grading.check(case_for(part, answer, values, expected), in_process=True)


# Maths parts have an expected answer; code parts a reference routine and tests.
PART_IDS = [name for name, part in parts() if part["kind"] != "code"]
PARTS = [part for _, part in parts() if part["kind"] != "code"]
CODE_IDS = [name for name, part in parts() if part["kind"] == "code"]
CODE_PARTS = [part for _, part in parts() if part["kind"] == "code"]


def test_it_lists_the_six_modules_in_syllabus_order():
    modules = course_index()["modules"]
    assert [m["slug"] for m in modules] == SYLLABUS
    for module in modules:
        assert module["title"].strip()
        assert module["summary"].strip()


def test_it_gives_every_module_problem_sets_with_at_least_four_exercises():
    per_module = {slug: 0 for slug in SYLLABUS}
    for path, data in problem_sets():
        assert data["module"] in per_module, path
        assert path.parent.name.endswith(data["module"]), path
        per_module[data["module"]] += len(data["exercises"])
    assert all(count >= 4 for count in per_module.values()), per_module


def test_it_gives_every_problem_set_and_exercise_the_required_fields():
    for path, data in problem_sets():
        assert isinstance(data, dict), path
        for key in ("module", "slug", "title", "order", "summary", "exercises"):
            assert data.get(key) not in (None, ""), f"{path}: {key}"
        assert SLUG.match(data["slug"]), path
        for ex in data["exercises"]:
            where = f"{path}: {ex.get('slug')}"
            for key in ("slug", "title", "prompt", "solution", "parts"):
                assert ex.get(key), f"{where}: {key}"
            assert SLUG.match(ex["slug"]), where
            assert ex["parts"], where


def test_it_uses_unique_slugs_and_part_keys():
    set_slugs = [data["slug"] for _, data in problem_sets()]
    assert len(set_slugs) == len(set(set_slugs))
    slugs = [ex["slug"] for ex in exercises()]
    assert len(slugs) == len(set(slugs)), sorted(s for s in slugs if slugs.count(s) > 1)
    for ex in exercises():
        keys = [str(part["key"]) for part in ex["parts"]]
        assert len(keys) == len(set(keys)), ex["slug"]


def test_it_writes_every_part_in_the_loaders_format():
    allowed = set(PartDef.model_fields) | {"exercise"}
    for name, part in parts():
        assert set(part) <= allowed, f"{name}: {set(part) - allowed}"
        assert part["kind"] in KINDS, name
        if part["kind"] == "code":
            assert "expected" not in part and "mistakes" not in part, name
            assert part["code"]["function"].isidentifier(), name
            assert len(part["code"]["reference"]) == 1, name
            continue
        if isinstance(part["expected"], dict):
            assert set(part["expected"]) == {"routine", "args"}, name
        else:
            assert isinstance(part["expected"], str), f"{name}: quote the expected answer"
        key = str(part["key"])
        assert SLUG.match(key) and len(key) <= 20, name
        assert len(part.get("label", "")) <= 300, name
        for tol in ("rtol", "atol"):
            # YAML reads 1e-3 (no dot) as a string: tolerances must be real numbers.
            if tol in part:
                assert isinstance(part[tol], (int, float)) and part[tol] >= 0, name
        if part["kind"] == "choice":
            option_keys = [option["key"] for option in part["options"]]
            assert len(option_keys) == len(set(option_keys)) >= 2, name
            assert all(option["text"] for option in part["options"]), name
        else:
            assert "options" not in part, name
        for mistake in part.get("mistakes", []):
            assert isinstance(mistake["answer"], str) and mistake["message"].strip(), name


def test_it_uses_every_kind_of_answer():
    assert {part["kind"] for _, part in parts()} == KINDS


def test_it_gives_every_part_sample_answers_of_each_verdict():
    for name, part in parts():
        tests = part.get("tests", [])
        assert all(t["expect"] in VERDICTS for t in tests), name
        assert all(isinstance(t["answer"], str) for t in tests), name
        expects = [t["expect"] for t in tests]
        assert expects.count("correct") >= 2, name
        assert expects.count("incorrect") >= 1, name
        assert expects.count("invalid") >= 1, name
        if part["kind"] == "code":
            # Typical wrong functions, each failing with the message meant for it.
            wrong = [t for t in tests if t["expect"] == "incorrect" and t.get("message")]
            assert len(wrong) >= 2, f"{name}: fewer than two typical wrong functions"
        else:
            assert part.get("mistakes"), f"{name}: no typical mistake listed"


def test_it_randomises_at_least_twelve_exercises():
    randomised = [ex["slug"] for ex in exercises() if ex.get("parameters")]
    assert len(randomised) >= 12, randomised
    for ex in exercises():
        if ex.get("parameters"):
            variants.check_parameters(ex["parameters"], ex.get("constraints") or [])
            values = [
                variants.draw(ex["parameters"], ex.get("constraints") or [], s) for s in SEEDS
            ]
            assert len({tuple(v.items()) for v in values}) > 1, ex["slug"]
            # Every template in the texts renders, for every seed.
            for v in values:
                for text in (
                    ex["prompt"],
                    ex["solution"],
                    *(p.get("label", "") for p in ex["parts"]),
                ):
                    variants.render_text(text, v)


@pytest.mark.parametrize("part", PARTS, ids=PART_IDS)
def test_it_grades_the_expected_answer_correct(part):
    for values, expected in variants_of(part):
        verdict = grade(part, expected, values, expected)
        assert verdict.status == "correct", (values, expected, verdict.message)


@pytest.mark.parametrize("part", PARTS, ids=PART_IDS)
def test_it_grades_every_sample_answer_as_its_author_expects(part):
    wrong = []
    for values, expected in variants_of(part):
        for t in part["tests"]:
            verdict = grade(part, t["answer"], values, expected)
            # An invalid verdict from a checker crash would pass an "invalid" test by luck.
            assert "internal_error" not in verdict.details, (t["answer"], verdict.details)
            if verdict.status != t["expect"]:
                wrong.append((values, t["answer"], t["expect"], verdict.status, verdict.message))
    assert not wrong


@pytest.mark.parametrize("part", PARTS, ids=PART_IDS)
def test_it_answers_every_listed_mistake_with_its_message(part):
    for values, expected in variants_of(part, MISTAKE_SEEDS):
        for mistake in variants.mistakes_for(part.get("mistakes", []), values):
            verdict = grade(part, mistake["answer"], values, expected)
            assert verdict.status == "incorrect", (values, mistake["answer"], verdict.message)
            assert verdict.message == mistake["message"], (values, mistake["answer"])


# ---------------------------------------------------------------- hints, slips, attempts

ALL_IDS = [name for name, _ in parts()]
ALL_PARTS = [part for _, part in parts()]


def compact(text: str) -> str:
    return re.sub(r"[\s*()]", "", text)


@pytest.mark.parametrize("part", ALL_PARTS, ids=ALL_IDS)
def test_it_gives_every_part_a_hint_that_does_not_give_the_answer_away(part):
    hint = part.get("hint", "")
    assert hint.strip(), "no hint: the page offers one after a wrong answer"
    # Maths between \( \) as in the prompts, for KaTeX.
    assert hint.count("\\(") == hint.count("\\)"), hint
    if part["kind"] == "code":
        return
    for values, expected in variants_of(part, MISTAKE_SEEDS):
        shown = variants.render_text(hint, values)
        if part["kind"] in ("expression", "vector", "matrix", "points") and len(expected) > 3:
            assert compact(expected) not in compact(shown), (values, shown)


# Each module's typical slips, typed as a student who makes them would: each one is a
# listed mistake of its part, answered with the message written for it, in every variant.
SLIPS = {
    "what-is-calculus": [
        # The chain rule without the inner derivative; the quotient rule's sign.
        ("chain-rule", "a", "cos(x^2)"),
        ("chain-rule", "b", "e^({{k}}x^2 + {{m}})"),
        ("quotient-by-product-and-chain", "a", "(x^2 - {{c}})/({{c}} + x^2)^2"),
    ],
    "multivariate-calculus": [
        # The other variable differentiated, not held constant; the Jacobian transposed.
        ("partials-with-parameters", "a", "2a x y + 3y^2 b cos(b x)"),
        ("partials-with-parameters", "b", "2a x + 3y^2 sin(b x)"),
        ("polar-jacobian", "a", "[[cos(theta), sin(theta)], [-r sin(theta), r cos(theta)]]"),
        ("linear-map-jacobian", "a", "[[{{a}}, 1, -1], [-1, 0, {{b}}], [3, 4, 0]]"),
    ],
    "multivariate-chain-rule": [
        # A factor of the chain left out; the sigmoid's derivative.
        ("chain-rule-matrix-form", "d", "2(t + t^2)(1 + 2t)"),
        ("single-neuron", "a", "2(sigma(w a0 + b) - y) a0"),
        ("sigmoid-derivative", "a", "-e^(-z)/(1 + e^(-z))^2"),
        ("sigmoid-derivative", "b", "1/2"),
    ],
    "taylor-series": [
        # The factorials left out; the expansion about the wrong point.
        ("maclaurin-cos-2x", "a", "1 - {{k^2}}x^2 + {{k^4}}x^4"),
        ("exponential-series-error", "a", "1 + 2x + 4x^2 + 8x^3"),
        ("linearise-square-root", "a", "{{m}} + x/{{2*m}}"),
        ("linearise-two-variables", "b", "{{q}} + {{2*q}}x + y"),
    ],
    "optimisation": [
        # Newton's step and gradient descent's step the wrong way; the Lagrange conditions.
        ("newton-raphson-cubic", "a", "x + (x^3 - 2x - 5)/(3x^2 - 2)"),
        ("gradient-descent-steps", "b", "[{{1.2*p}}, {{q*(1 + 0.2*c)}}]"),
        ("lagrange-product", "a", "[y - lambda, x - lambda, {{4*k}} - x - 2y]"),
        ("lagrange-circle", "c", "-1/{{2*r}}"),
    ],
    "regression": [
        # Chi-squared without the uncertainties squared; the normal equations transposed.
        ("chi-squared-uncertainties", "a", "3.1"),
        ("chi-squared-uncertainties", "a", "0.14"),
        ("normal-equations", "b", "[[2, 3, 4, 5], [3, 5, 7, 9], [4, 7, 10, 13], [5, 9, 13, 17]]"),
        ("steepest-descent-fit", "c", "1 + 0.001(4e^4 - 18e^2 - 4e)"),
    ],
}


def test_it_lists_typical_slips_for_every_module():
    assert list(SLIPS) == SYLLABUS
    modules = {ex["slug"]: data["module"] for _, data in problem_sets() for ex in data["exercises"]}
    for module, slips in SLIPS.items():
        assert all(modules[slug] == module for slug, _, _ in slips), module
        mistakes = [
            m
            for name, part in parts()
            if modules[name.split("/")[0]] == module
            for m in part.get("mistakes", [])
        ]
        assert len(mistakes) >= 10, module


@pytest.mark.parametrize("module", SYLLABUS)
def test_it_answers_each_modules_typical_slips_with_their_own_message(module):
    by_name = dict(parts())
    for slug, key, answer in SLIPS[module]:
        part = by_name[f"{slug}/{key}"]
        for values, expected in variants_of(part, MISTAKE_SEEDS):
            messages = [m["message"] for m in variants.mistakes_for(part["mistakes"], values)]
            verdict = grade(part, answer, values, expected)
            assert verdict.status == "incorrect", (slug, key, values, verdict.message)
            assert verdict.details.get("mistake") and verdict.message in messages, (
                slug,
                key,
                values,
                verdict.message,
            )


def test_it_limits_every_exercises_attempts_so_that_its_solution_can_be_earned():
    """The worked solution is shown once an exercise is solved or its attempts are used
    up: without a limit a student who is stuck would never see it."""
    for path, data in problem_sets():
        for ex in data["exercises"]:
            where = f"{path.name}: {ex['slug']}"
            limit = ex.get("max_attempts")
            assert isinstance(limit, int), f"{where}: no attempt limit"
            # Room to answer part by part and to try again after each hint.
            assert limit >= len(ex["parts"]) + 3, where
            if data.get("kind", "practice") == "practice":
                assert not ex.get("retry_penalty"), f"{where}: practice costs nothing to retry"


@pytest.mark.parametrize("part", CODE_PARTS, ids=CODE_IDS)
def test_it_runs_every_sample_function_to_the_verdict_its_author_expects(part):
    """In the sandbox, for the first seed: the question tests run more seeds."""
    ex = part["exercise"]
    values = variants.draw(ex.get("parameters") or {}, ex.get("constraints") or [], 0)
    definition = PartDef.model_validate({k: v for k, v in part.items() if k != "exercise"})
    wrong = []
    for t in part["tests"]:
        verdict = grading.check(definition.case_for(t["answer"], "", values, 0))
        feedback = question_tests._feedback_text(verdict)
        if verdict.status != t["expect"] or t.get("message", "") not in feedback:
            wrong.append((t["answer"], t["expect"], verdict.status, feedback))
    assert not wrong


@pytest.mark.django_db
def test_it_loads_the_course_into_the_database_idempotently():
    first = load_course(COURSE)
    rows = (
        Module.objects.count(),
        ProblemSet.objects.count(),
        Exercise.objects.count(),
        Part.objects.count(),
    )
    versions = dict(Exercise.objects.values_list("slug", "version"))

    second = load_course(COURSE)

    assert first["exercises"] == second["exercises"] == len(exercises())
    assert first["problem_sets"] == second["problem_sets"] == len(problem_sets())
    assert first["modules"] == second["modules"] == len(SYLLABUS)
    assert second["changed"] == 0
    assert rows == (len(SYLLABUS), len(problem_sets()), len(exercises()), len(parts()))
    assert (
        Module.objects.count(),
        ProblemSet.objects.count(),
        Exercise.objects.count(),
        Part.objects.count(),
    ) == rows
    assert dict(Exercise.objects.values_list("slug", "version")) == versions
    assert list(Module.objects.values_list("slug", flat=True)) == SYLLABUS
    part = Part.objects.get(exercise__slug="newton-raphson-cubic", key="b")
    assert (part.kind, part.expected, part.rtol) == ("numeric", "2.1", 0.0001)
    assert {"answer": "2 + 1/10", "expect": "correct"} in part.tests
    chain = Exercise.objects.get(slug="chain-rule")
    assert chain.parameters == {"k": {"int": [2, 9]}, "m": {"int": [1, 5]}}
    assert chain.status == Exercise.Status.PUBLISHED
    computed = Part.objects.get(exercise__slug="newton-square-root", key="b")
    assert computed.expected == ""
    assert computed.expected_routine["routine"] == "newton_raphson_steps"
    # Every exercise's question tests ran, as the admin runs them, and passed.
    runs = QuestionTestRun.objects.filter(status="passed", finished__isnull=False)
    assert {(r.exercise.slug, r.exercise_version) for r in runs} == set(
        Exercise.objects.values_list("slug", "version")
    )
    assert first["tests"].line() == f"{len(exercises())} exercises: {len(exercises())} passed"
    assert not Exercise.objects.exclude(status=Exercise.Status.PUBLISHED).exists()


@pytest.mark.django_db
def test_it_passes_the_admins_checks_for_every_randomised_exercise():
    load_course(COURSE, seeds=1)
    failing = {}
    for exercise in Exercise.objects.exclude(parameters={}):
        parts = list(exercise.parts.all())
        problems = question_tests.validate(exercise, parts)
        report = question_tests.run(exercise, parts, seeds=10)
        problems += [question_tests.describe(f) for f in report.failures]
        if problems:
            failing[exercise.slug] = problems[:3]
    assert not failing


@pytest.mark.django_db
def test_it_offers_a_hint_after_a_wrong_answer_and_the_solution_once_the_attempts_run_out(
    tmp_path, alice
):
    (tmp_path / "01-what-is-calculus").mkdir()
    shutil.copy(COURSE / "course.yaml", tmp_path)
    shutil.copy(
        COURSE / "01-what-is-calculus" / "derivatives.yaml", tmp_path / "01-what-is-calculus"
    )
    load_course(tmp_path, seeds=1)
    exercise = Exercise.objects.get(slug="rise-over-run")
    p = exercise.variant_for(alice).values["p"]
    fresh = StudentView.for_student(exercise, alice)
    assert [part.hint_html for part in fresh.parts] == ["", ""]
    assert fresh.solution == ""

    # The rise instead of the gradient in part (a), part (b) right, every time.
    answers = {"a": str(4 * p + 4), "b": "2.859"}
    for used in range(1, exercise.max_attempts + 1):
        submission = queue.submit(alice, exercise, answers)
        queue.grade(submission.pk)
        submission.refresh_from_db()
        assert submission.results["a"]["message"] == "That is the rise; divide it by the run."
        view = StudentView.for_student(exercise, alice)
        hint_a, hint_b = (part.hint_html for part in view.parts)
        # The hint of the part answered wrongly, for this student's variant; none for the other.
        assert f"f({p + 2})" in hint_a and hint_b == ""
        assert view.attempts_left == exercise.max_attempts - used
        if used < exercise.max_attempts:
            assert view.solution == ""

    assert view.reveals_answer
    assert f"the gradient of the chord is \\( {4 * p + 4} / 2 = {2 * p + 2} \\)" in view.solution
    with pytest.raises(queue.SubmissionRefused, match="all 6 attempts"):
        queue.submit(alice, exercise, {"a": str(2 * p + 2), "b": "2.859"})
