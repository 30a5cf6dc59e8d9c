"""Question tests: sample answers checked for many seeds, in the background after an
instructor saves an exercise, and as the admin's condition for publishing."""

from __future__ import annotations

import json

import pytest

from exercises import question_tests
from exercises.models import Exercise, Part, QuestionTestRun
from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db

GOOD_PART = {
    "key": "a",
    "kind": "expression",
    "expected": "{{2*a}}x",
    "variables": ["x"],
    "mistakes": [{"answer": "{{a}}x", "message": "Bring down the 2."}],
    "tests": [
        {"answer": "{{2*a}}x", "expect": "correct"},
        {"answer": "x*{{a}}*2", "expect": "correct"},
        {"answer": "{{a}}x^2", "expect": "incorrect"},
        {"answer": "{{2*a}}x +", "expect": "invalid"},
    ],
}


def make_randomised(tests=None, **kwargs) -> Exercise:
    part = dict(GOOD_PART)
    if tests is not None:
        part["tests"] = tests
    kwargs.setdefault("parameters", {"a": {"int": [2, 9]}})
    kwargs.setdefault("prompt", "Differentiate \\( {{a}}x^2 \\).")
    return make_exercise(parts=[part], **kwargs)


def change_data(exercise: Exercise, **changes) -> dict:
    """The admin change form for an exercise and its parts, as a browser posts it."""
    parts = list(exercise.parts.all())
    data = {
        "problem_set": exercise.problem_set_id,
        "slug": exercise.slug,
        "order": exercise.order,
        "status": exercise.status,
        "title": exercise.title,
        "prompt": exercise.prompt,
        "solution": exercise.solution,
        "parameters": json.dumps(exercise.parameters),
        "constraints": json.dumps(exercise.constraints),
        "max_attempts": "" if exercise.max_attempts is None else exercise.max_attempts,
        "retry_penalty": exercise.retry_penalty,
        "plot": json.dumps(exercise.plot),
        "parts-TOTAL_FORMS": len(parts),
        "parts-INITIAL_FORMS": len(parts),
        "parts-MIN_NUM_FORMS": 0,
        "parts-MAX_NUM_FORMS": 1000,
    }
    for i, part in enumerate(parts):
        row = {
            "id": part.pk,
            "exercise": exercise.pk,
            "key": part.key,
            "order": part.order,
            "kind": part.kind,
            "weight": part.weight,
            "label": part.label,
            "expected": part.expected,
            "rtol": "" if part.rtol is None else part.rtol,
            "atol": "" if part.atol is None else part.atol,
        }
        for name in (
            "expected_routine",
            "variables",
            "domain",
            "functions",
            "options",
            "mistakes",
            "code",
            "tests",
        ):
            row[name] = json.dumps(getattr(part, name))
        data.update({f"parts-{i}-{k}": v for k, v in row.items()})
    for name, value in changes.items():
        data[name] = json.dumps(value) if isinstance(value, dict | list) else value
    return data


def change_url(exercise: Exercise) -> str:
    return f"/admin/exercises/exercise/{exercise.pk}/change/"


# ---------------------------------------------------------------- the runner


def test_it_passes_an_exercise_whose_tests_hold_for_every_seed():
    exercise = make_randomised()
    report = question_tests.run(exercise, list(exercise.parts.all()), seeds=8)
    assert report.passed, report.failures
    assert report.seeds == 8
    # Per seed: the expected answer, four samples and one mistake.
    assert report.checked == 8 * 6


def test_it_names_the_seed_and_part_of_a_failing_sample():
    exercise = make_randomised(
        tests=[{"answer": "{{2*a}}x", "expect": "correct"}, {"answer": "8x", "expect": "correct"}]
    )
    report = question_tests.run(exercise, list(exercise.parts.all()), seeds=10)
    # "8x" is right only where a = 4.
    assert not report.passed
    wrong = [f for f in report.failures if f["answer"] == "8x"]
    assert {f["part"] for f in wrong} == {"a"}
    for failure in wrong:
        values = exercise.values_for_seed(failure["seed"])
        assert values["a"] != 4 and failure["values"] == values
    assert "seed" in question_tests.describe(wrong[0])


def test_it_runs_a_fixed_exercise_once(exercise):
    Part.objects.filter(exercise=exercise).update(
        tests=[{"answer": "2x", "expect": "correct"}, {"answer": "x^2", "expect": "incorrect"}]
    )
    report = question_tests.run(exercise, list(exercise.parts.all()), seeds=20)
    assert report.passed and report.seeds == 1 and report.checked == 3


def test_it_reports_an_expected_answer_undefined_for_some_seeds():
    exercise = make_exercise(
        parameters={"a": {"int": [0, 3]}},
        parts=[{"key": "a", "kind": "numeric", "expected": "{{1/(a - 1)}}"}],
    )
    problems = question_tests.validate(exercise, list(exercise.parts.all()))
    assert problems
    assert all("a = 1" in p and p.startswith("seed ") for p in problems)
    assert all(exercise.values_for_seed(int(p.split()[1].rstrip(",")))["a"] == 1 for p in problems)


def test_it_reports_an_expected_answer_the_engine_cannot_read():
    exercise = make_exercise(
        parameters={"a": {"int": [2, 3]}},
        parts=[{"key": "a", "kind": "expression", "expected": "{{a}}x +", "variables": ["x"]}],
    )
    problems = question_tests.validate(exercise, list(exercise.parts.all()))
    assert problems and "seed 0" in problems[0] and "not graded correct" in problems[0]


def test_it_records_a_background_run_once(exercise):
    Part.objects.filter(exercise=exercise).update(tests=[{"answer": "3x", "expect": "correct"}])
    run_id = question_tests.start(exercise)

    assert question_tests.perform(run_id) == "failed"
    assert question_tests.perform(run_id) == "skipped"

    run = QuestionTestRun.objects.get(pk=run_id)
    assert run.status == QuestionTestRun.Status.FAILED
    assert run.finished is not None and run.exercise_version == exercise.version
    assert [(f["seed"], f["part"], f["answer"], f["got"]) for f in run.failures] == [
        (0, "a", "3x", "incorrect")
    ]


# ---------------------------------------------------------------- the admin


def test_it_runs_the_question_tests_in_the_background_when_an_instructor_saves(
    client, charlie, eager_celery, django_capture_on_commit_callbacks
):
    exercise = make_randomised()
    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            change_url(exercise), change_data(exercise, title="Renamed", status="draft")
        )
    assert response.status_code == 302
    exercise.refresh_from_db()
    run = QuestionTestRun.objects.get(exercise=exercise)
    assert (exercise.title, exercise.version) == ("Renamed", 2)
    assert (run.status, run.exercise_version, run.seeds) == ("passed", 2, 20)
    assert run.checked == 20 * 6

    listing = client.get("/admin/exercises/exercise/").content.decode()
    page = client.get(change_url(exercise)).content.decode()
    assert "passed" in listing
    assert "passed: 120 answers over 20 seed(s)" in page


def test_it_shows_failures_with_their_seed_on_the_change_page(client, charlie, exercise):
    Part.objects.filter(exercise=exercise).update(tests=[{"answer": "3x", "expect": "correct"}])
    question_tests.perform(question_tests.start(exercise))
    client.force_login(charlie)
    page = client.get(change_url(exercise)).content.decode()
    assert "failed: 1 of 2 answers" in page
    assert f"/admin/exercises/exercise/{exercise.pk}/preview/?seed=0" in page
    assert "&#x27;3x&#x27; should be correct but is incorrect" in page


def test_it_refuses_to_publish_an_exercise_whose_question_tests_fail(client, charlie):
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    failing = [*GOOD_PART["tests"], {"answer": "8x", "expect": "correct"}]
    response = client.post(
        change_url(exercise),
        change_data(exercise, status="published", **{"parts-0-tests": failing}),
    )
    assert response.status_code == 200
    assert "cannot be published" in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.status == Exercise.Status.DRAFT
    assert exercise.parts.get().tests == GOOD_PART["tests"]
    assert not QuestionTestRun.objects.exists()


def test_it_saves_a_failing_exercise_as_a_draft(
    client, charlie, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(question_tests, "send", lambda pk: sent.append(pk) or True)
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    failing = [*GOOD_PART["tests"], {"answer": "8x", "expect": "correct"}]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            change_url(exercise), change_data(exercise, **{"parts-0-tests": failing})
        )
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.parts.get().tests == failing
    assert sent == [QuestionTestRun.objects.get(exercise=exercise).pk]


def test_it_publishes_an_exercise_whose_question_tests_pass(client, charlie, monkeypatch):
    monkeypatch.setattr(question_tests, "send", lambda pk: True)
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    response = client.post(change_url(exercise), change_data(exercise, status="published"))
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.status == Exercise.Status.PUBLISHED


def test_it_refuses_an_expected_answer_undefined_for_a_seed(client, charlie):
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    response = client.post(
        change_url(exercise),
        change_data(
            exercise,
            parameters={"a": {"int": [0, 3]}},
            **{"parts-0-expected": "x/{{a - 1}}", "parts-0-tests": []},
        ),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "seed" in body and "a = 1" in body
    exercise.refresh_from_db()
    assert exercise.parameters == {"a": {"int": [2, 9]}}


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"a": {"int": [9, 2]}}, "low &lt;= high"),
        ({"a": {"between": [1, 2]}}, "exactly one of int, decimal or choice"),
    ],
)
def test_it_refuses_malformed_parameters(client, charlie, parameters, message):
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    response = client.post(change_url(exercise), change_data(exercise, parameters=parameters))
    assert response.status_code == 200
    assert message in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.parameters == {"a": {"int": [2, 9]}}


def test_it_refuses_sample_answers_without_a_verdict(client, charlie):
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)
    response = client.post(
        change_url(exercise),
        change_data(exercise, **{"parts-0-tests": [{"answer": "2x", "expect": "right"}]}),
    )
    assert response.status_code == 200
    assert "tests[0].expect: must be one of correct, incorrect or invalid" in (
        response.content.decode()
    )
    assert exercise.parts.get().tests == GOOD_PART["tests"]


def test_it_keeps_students_and_strangers_from_editing_exercises(client, alice, exercise):
    data = change_data(exercise, title="Hacked")
    assert client.post(change_url(exercise), data).status_code == 302
    client.force_login(alice)
    response = client.post(change_url(exercise), data)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    exercise.refresh_from_db()
    assert exercise.title != "Hacked"


def test_it_answers_a_bad_exercise_id_without_saving(client, charlie, exercise):
    client.force_login(charlie)
    response = client.post("/admin/exercises/exercise/999999/change/", change_data(exercise))
    assert response.status_code == 302
    assert not QuestionTestRun.objects.exists()


def test_it_runs_the_question_tests_again_on_request(
    client, charlie, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(question_tests, "send", lambda pk: sent.append(pk) or True)
    old = QuestionTestRun.objects.create(exercise=exercise, exercise_version=exercise.version)
    client.force_login(charlie)
    assert "pending" in client.get("/admin/exercises/exercise/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/exercises/exercise/",
            {"action": "rerun_question_tests", "_selected_action": [exercise.pk]},
        )
    assert response.status_code == 302
    new = QuestionTestRun.objects.exclude(pk=old.pk).get()
    assert sent == [new.pk] and new.exercise == exercise


def test_it_marks_question_tests_of_an_older_version_in_the_list(client, charlie, exercise):
    QuestionTestRun.objects.create(
        exercise=exercise, exercise_version=exercise.version - 1, status="passed"
    )
    client.force_login(charlie)
    assert "passed (an older version)" in client.get("/admin/exercises/exercise/").content.decode()


def test_it_keeps_students_and_strangers_from_running_question_tests(client, alice, exercise):
    data = {"action": "rerun_question_tests", "_selected_action": [exercise.pk]}
    response = client.post("/admin/exercises/exercise/", data)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    response = client.post("/admin/exercises/exercise/", data)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not QuestionTestRun.objects.exists()


def test_it_reports_a_broken_template_in_a_mistake_or_an_option():
    exercise = make_exercise(
        parameters={"a": {"int": [2, 3]}},
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "expected": "{{a}}x",
                "variables": ["x"],
                "mistakes": [{"answer": "x", "message": "Not {{b}}."}],
            },
            {
                "key": "b",
                "kind": "choice",
                "expected": "p",
                "options": [{"key": "p", "text": "{{a +}}"}, {"key": "q", "text": "no"}],
            },
        ],
    )
    parts = list(exercise.parts.all())
    problems = question_tests.validate(exercise, parts)
    report = question_tests.run(exercise, parts, seeds=2)
    assert any("listed mistakes" in p and "part a" in p for p in problems)
    assert any("option p of part b" in p for p in problems)
    assert not report.passed
