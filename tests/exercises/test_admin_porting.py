"""A problem set exported from the admin as YAML, and imported: checked in full, every
problem shown, nothing saved until confirmed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from exercises import porting
from exercises.definition import ExerciseDef, parse
from exercises.models import Exercise, Module, Part, ProblemSet
from tests.conftest import make_exercise, make_module, make_problem_set

pytestmark = pytest.mark.django_db

COURSE = Path(__file__).resolve().parents[2] / "course"
SHIPPED = COURSE / "01-what-is-calculus" / "derivatives.yaml"
IMPORT_URL = "/admin/exercises/problemset/import/"


def export_url(problem_set) -> str:
    return f"/admin/exercises/problemset/{problem_set.pk}/export.yaml"


def upload(client, text: str | bytes, name: str = "set.yaml"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data)})


def confirm(client, checked):
    return client.post(IMPORT_URL, {"payload": checked.context["payload"]})


def set_file(**kwargs) -> dict:
    data = {
        "module": "basics",
        "slug": "warm-up",
        "title": "Warm-up",
        "exercises": [
            {
                "slug": "square",
                "title": "Square",
                "prompt": "Differentiate \\(x^2\\).",
                "parts": [{"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]}],
            }
        ],
    }
    return {**data, **kwargs}


def definitions(text: str) -> tuple[dict, list[dict]]:
    """A problem set file as its definitions read it: the set's fields, each exercise."""
    data = yaml.safe_load(text)
    exercises = [
        parse(ExerciseDef, {**item, "order": i + 1}).to_data()
        for i, item in enumerate(data.pop("exercises"))
    ]
    return data, exercises


@pytest.fixture
def instructor(client, charlie):
    client.force_login(charlie)
    return client


@pytest.fixture
def basics(db):
    return make_module(slug="basics", title="Basics")


def test_it_round_trips_a_shipped_problem_set_through_the_admin(instructor):
    shipped = yaml.safe_load((COURSE / "course.yaml").read_text())["modules"]
    for order, module in enumerate(shipped, start=1):
        Module.objects.create(slug=module["slug"], title=module["title"], order=order)
    text = SHIPPED.read_text(encoding="utf-8")

    checked = upload(instructor, text, "derivatives.yaml")
    assert checked.status_code == 200, checked.context["upload"].problems
    assert not ProblemSet.objects.exists()  # nothing saved before confirming
    response = confirm(instructor, checked)
    problem_set = ProblemSet.objects.get(slug="derivatives")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/exercises/problemset/{problem_set.pk}/change/"

    exported = instructor.get(export_url(problem_set))
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("application/yaml")
    assert 'filename="derivatives.yaml"' in exported["Content-Disposition"]
    first = exported.content.decode()
    assert definitions(first) == definitions(text)
    assert set(Exercise.objects.values_list("status", flat=True)) == {Exercise.Status.PUBLISHED}

    # Into a course without it: the same definition comes back.
    Exercise.objects.all().delete()
    problem_set.delete()
    confirm(instructor, upload(instructor, first, "derivatives.yaml"))
    again = instructor.get(export_url(ProblemSet.objects.get(slug="derivatives")))
    assert again.content.decode() == first


def test_it_shows_every_problem_and_saves_nothing(instructor, basics):
    other = make_problem_set(module=basics, slug="other")
    make_exercise(problem_set=other, slug="taken")
    bad = set_file(
        module="nowhere",
        late_policy="sometimes",
        exercises=[
            {**set_file()["exercises"][0], "slug": "taken"},
            {
                "slug": "broken",
                "title": "Broken",
                "prompt": "p",
                "parts": [{"key": "a", "kind": "numeric", "expected": "1", "rtol": "big"}],
            },
        ],
    )
    before = (ProblemSet.objects.count(), Exercise.objects.count(), Part.objects.count())

    response = upload(instructor, yaml.safe_dump(bad))

    assert response.status_code == 422
    problems = response.context["upload"].problems
    page = response.content.decode()
    assert any("late_policy: must be one of accept, penalty or refuse" in p for p in problems)
    assert any(
        "exercises[1] (slug broken) → parts[0].rtol: must be a number" in p for p in problems
    )
    assert "payload" not in response.context
    assert 'name="payload"' not in page
    assert "nothing was saved" in page
    for problem in problems:
        assert problem.replace("'", "&#x27;") in page

    # The module and the slugs are checked against the course once the set's fields are right.
    response = upload(instructor, yaml.safe_dump({**bad, "late_policy": "accept"}))
    problems = response.context["upload"].problems
    assert any(
        "exercises[1] (slug broken) → parts[0].rtol: must be a number" in p for p in problems
    )
    assert any("module: 'nowhere' is no module here" in p for p in problems)
    assert any("'taken' is the slug of an exercise in problem set 'other'" in p for p in problems)
    assert len(problems) == 3
    assert (ProblemSet.objects.count(), Exercise.objects.count(), Part.objects.count()) == before


def test_it_names_the_line_of_a_yaml_error(instructor, basics):
    text = "module: basics\nslug: warm-up\ntitle: 'Warm-up\nexercises: []\n"
    response = upload(instructor, text)
    assert response.status_code == 422
    (problem,) = response.context["upload"].problems
    assert problem.startswith("line 5, column 1: not valid YAML: while scanning a quoted")
    assert problem.endswith("(it began at line 3, column 8)")
    response = upload(instructor, "module: basics\n  slug: warm-up\n")
    assert response.context["upload"].problems == [
        "line 2, column 7: not valid YAML: mapping values are not allowed here"
    ]
    assert not ProblemSet.objects.exists()


def test_it_summarises_an_update_then_saves_it_on_confirming(instructor, basics):
    confirm(instructor, upload(instructor, yaml.safe_dump(set_file())))
    square = Exercise.objects.get(slug="square")
    assert square.version == 1 and square.status == Exercise.Status.PUBLISHED
    changed = set_file(title="Warm-up, again")
    changed["exercises"][0]["parts"][0]["expected"] = "2*x"
    changed["exercises"].append(
        {
            "slug": "cube",
            "title": "Cube",
            "prompt": "Differentiate \\(x^3\\).",
            "parts": [{"key": "a", "kind": "expression", "expected": "3x^2", "variables": ["x"]}],
        }
    )

    checked = upload(instructor, yaml.safe_dump(changed))

    found = checked.context["upload"]
    assert found.problems == []
    assert found.changes == ["Problem set 'warm-up' is updated: title change."]
    assert [(slug, what.split(" ")[0]) for slug, _, what in found.exercises] == [
        ("square", "changed"),
        ("cube", "new"),
    ]
    assert ProblemSet.objects.get().title == "Warm-up"
    confirm(instructor, checked)
    square.refresh_from_db()
    assert ProblemSet.objects.get().title == "Warm-up, again"
    assert square.version == 2 and square.parts.get().expected == "2*x"
    assert Exercise.objects.get(slug="cube").status == Exercise.Status.PUBLISHED


def test_it_refuses_a_file_too_large_or_not_text(instructor, basics):
    response = upload(instructor, b"#" * (porting.MAX_UPLOAD_BYTES + 1))
    assert response.status_code == 400
    assert "may be at most 512 KB" in response.content.decode()
    response = upload(instructor, b"module: \xff\xfe")
    assert response.status_code == 400
    assert "not UTF-8 text" in response.content.decode()
    assert not ProblemSet.objects.exists()


def test_it_refuses_an_altered_confirmation(instructor, basics):
    checked = upload(instructor, yaml.safe_dump(set_file()))
    payload = checked.context["payload"]
    response = instructor.post(IMPORT_URL, {"payload": payload[:-3] + "abc"})
    assert response.status_code == 400
    assert "altered" in response.content.decode()
    assert not ProblemSet.objects.exists()


def test_it_checks_again_on_confirming(instructor, basics):
    checked = upload(instructor, yaml.safe_dump(set_file()))
    # Meanwhile another problem set takes the exercise's slug.
    make_exercise(problem_set=make_problem_set(module=basics, slug="other"), slug="square")
    response = confirm(instructor, checked)
    assert response.status_code == 422
    assert not ProblemSet.objects.filter(slug="warm-up").exists()


def test_it_links_import_and_export_from_the_problem_set_pages(instructor, basics):
    problem_set = make_problem_set(module=basics)
    assert IMPORT_URL in instructor.get("/admin/exercises/problemset/").content.decode()
    page = instructor.get(f"/admin/exercises/problemset/{problem_set.pk}/change/").content.decode()
    assert export_url(problem_set) in page


def test_it_keeps_students_and_staff_without_permission_out(client, alice, basics):
    problem_set = make_problem_set(module=basics)
    for url in (IMPORT_URL, export_url(problem_set)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    assert "/admin/login/" in client.get(IMPORT_URL)["Location"]
    staff = get_user_model().objects.create_user("dora", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_problemset"))
    client.force_login(staff)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, yaml.safe_dump(set_file())).status_code == 403
    assert IMPORT_URL not in client.get("/admin/exercises/problemset/").content.decode()
    assert client.get(export_url(problem_set)).status_code == 200
    assert not ProblemSet.objects.filter(slug="warm-up").exists()
    assert client.get("/admin/exercises/problemset/x/export.yaml").status_code == 404


def test_it_warns_of_failing_question_tests_and_saves_the_exercise_as_a_draft(instructor, basics):
    data = set_file()
    data["exercises"][0]["parts"][0]["tests"] = [{"answer": "3x", "expect": "correct"}]

    checked = upload(instructor, yaml.safe_dump(data))

    found = checked.context["upload"]
    assert found.problems == []
    (warning,) = found.warnings
    assert warning.startswith("square: its question tests fail, so it will be saved as a draft")
    assert "3x" in warning and "import-warnings" in checked.content.decode()
    confirm(instructor, checked)
    assert Exercise.objects.get(slug="square").status == Exercise.Status.DRAFT


def test_it_imports_and_exports_the_exercises_placed_from_the_question_bank(instructor, basics):
    practice = make_problem_set(module=basics, slug="practice")
    make_exercise(problem_set=practice, slug="chain")
    quiz = set_file(slug="quiz", kind="quiz", place=["chain", "nowhere"])

    refused = upload(instructor, yaml.safe_dump(quiz))

    assert refused.status_code == 422
    assert any(
        "place[1] (nowhere): no exercise has this slug" in p
        for p in refused.context["upload"].problems
    )
    assert not ProblemSet.objects.filter(slug="quiz").exists()

    checked = upload(instructor, yaml.safe_dump({**quiz, "place": ["chain"]}))
    assert checked.status_code == 200
    confirm(instructor, checked)
    saved = ProblemSet.objects.get(slug="quiz")
    assert [(p.exercise.slug, p.order) for p in saved.placements.all()] == [("chain", 2)]
    exported = yaml.safe_load(instructor.get(export_url(saved)).content)
    assert exported["place"] == ["chain"]
    assert [e["slug"] for e in exported["exercises"]] == ["square"]


def test_it_round_trips_a_problem_set_with_code_parts(instructor):
    Module.objects.create(slug="what-is-calculus", title="What is calculus?")
    text = (COURSE / "01-what-is-calculus" / "programming.yaml").read_text(encoding="utf-8")

    checked = upload(instructor, text, "programming.yaml")

    assert checked.context["upload"].problems == []
    confirm(instructor, checked)
    problem_set = ProblemSet.objects.get(slug=yaml.safe_load(text)["slug"])
    assert Part.objects.filter(exercise__problem_set=problem_set, kind="code").exists()
    exported = instructor.get(export_url(problem_set)).content.decode()
    assert definitions(exported) == definitions(text)


def test_it_names_the_line_of_each_field_in_error(instructor, basics):
    text = (
        "module: basics\n"
        "slug: warm-up\n"
        "title: Warm-up\n"
        "late_policy: sometimes\n"
        "exercises:\n"
        "  - slug: broken\n"
        "    title: Broken\n"
        "    prompt: p\n"
        "    parts:\n"
        "      - key: a\n"
        "        kind: numeric\n"
        '        expected: "1"\n'
        "        rtol: big\n"
        "  - slug: untitled\n"
        "    prompt: p\n"
        '    parts: [{key: a, kind: numeric, expected: "1"}]\n'
    )

    problems = upload(instructor, text).context["upload"].problems

    assert [p.split(" → ")[0] for p in problems] == [
        "line 4: set.yaml",
        "line 13: set.yaml: exercises[0] (slug broken)",
        "line 14: set.yaml: exercises[1] (slug untitled)",
    ]
    assert " → parts[0].rtol: must be a number" in problems[1]
    assert problems[2].endswith("→ title: is required")
