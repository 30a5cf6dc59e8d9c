"""export_course: the course in the database back to YAML, a round trip with load_course."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from exercises.management.commands import load_course as loader
from exercises.management.commands.export_course import export_course
from exercises.models import Exercise, Module, Part, ProblemSet

pytestmark = pytest.mark.django_db

COURSE = Path(__file__).resolve().parents[2] / "course"


def load_course(folder: Path) -> dict:
    # One seed of question tests: the round trip is the point here, not the tests.
    return loader.load_course(folder, seeds=1)


def snapshot() -> dict:
    """Everything load_course writes, without database ids."""
    return {
        "modules": list(Module.objects.values_list("slug", "title", "summary", "order")),
        "problem_sets": sorted(
            ProblemSet.objects.values_list(
                "slug",
                "module__slug",
                "title",
                "summary",
                "order",
                "opens",
                "due",
                "late_policy",
                "late_penalty",
                "kind",
                "time_limit",
                "feedback_released",
            )
        ),
        "exercises": sorted(
            Exercise.objects.values_list(
                "slug",
                "problem_set__slug",
                "title",
                "prompt",
                "solution",
                "order",
                "status",
                "parameters",
                "constraints",
                "max_attempts",
                "retry_penalty",
                "plot",
            ),
            key=lambda row: row[0],
        ),
        "parts": sorted(
            (
                (p.exercise.slug, p.key, p.label, p.order, p.kind, p.expected)
                + (p.expected_routine, p.variables, p.domain, p.functions, p.options)
                + (p.mistakes, p.rtol, p.atol, p.weight, p.code, p.tests)
                for p in Part.objects.select_related("exercise")
            ),
            key=lambda row: (row[0], row[1]),
        ),
    }


def test_it_round_trips_the_shipped_course_without_loss(tmp_path):
    load_course(COURSE)
    Exercise.objects.filter(slug="chain-rule").update(status=Exercise.Status.DRAFT)
    Part.objects.filter(exercise__slug="rise-over-run").update(weight=2.5, atol=0.001)
    Exercise.objects.filter(slug="product-rule").update(max_attempts=3, retry_penalty=0.25)
    ProblemSet.objects.filter(slug="newton-raphson").update(
        opens=datetime(2026, 10, 5, 9, 0, tzinfo=UTC),
        due=datetime(2026, 10, 19, 17, 30, tzinfo=UTC),
        late_policy=ProblemSet.LatePolicy.PENALTY,
        late_penalty=0.5,
    )
    ProblemSet.objects.filter(slug="jacobian-chain-rule").update(
        kind=ProblemSet.Kind.QUIZ,
        time_limit=45,
        feedback_released=datetime(2026, 11, 2, 12, 0, tzinfo=UTC),
    )
    before = snapshot()

    export_course(tmp_path)
    Module.objects.all().delete()
    load_course(tmp_path)

    assert Exercise.objects.count() == len(before["exercises"])
    assert snapshot() == before


def files(folder: Path) -> dict[str, str]:
    paths = [*folder.glob("*.yaml"), *folder.glob("*/*.yaml")]
    return {p.relative_to(folder).as_posix(): p.read_text() for p in paths}


def test_it_writes_a_folder_load_course_reads_as_unchanged(tmp_path):
    load_course(COURSE)
    export_course(tmp_path / "first")
    assert load_course(tmp_path / "first")["changed"] == 0
    # And exporting what was loaded writes the same files again.
    export_course(tmp_path / "second")
    assert files(tmp_path / "first") == files(tmp_path / "second")
    assert len(files(tmp_path / "first")) == len(list(COURSE.glob("*/*.yaml"))) + 1


def test_it_writes_the_load_course_layout(tmp_path):
    load_course(COURSE)
    export_course(tmp_path)
    # One folder per module, numbered in syllabus order; one file per problem set, named
    # by its slug.
    shipped = sorted(p.parent.name for p in COURSE.glob("*/*.yaml"))
    written = sorted(p.parent.name for p in tmp_path.glob("*/*.yaml"))
    assert written == shipped
    assert (tmp_path / "03-multivariate-chain-rule" / "jacobian-chain-rule.yaml").exists()
    text = (tmp_path / "01-what-is-calculus" / "derivatives.yaml").read_text()
    assert "prompt: |" in text  # prompts as literal blocks, as authors write them


def test_it_keeps_computed_expected_answers_as_routine_calls(tmp_path):
    load_course(COURSE)
    export_course(tmp_path)
    text = (tmp_path / "05-optimisation" / "newton-raphson.yaml").read_text()
    assert "routine: newton_raphson_steps" in text


def test_it_refuses_to_write_over_a_course_unless_told(tmp_path):
    load_course(COURSE)
    export_course(tmp_path)
    stale = tmp_path / "01-what-is-calculus" / "gone.yaml"
    stale.write_text("slug: gone\n")
    with pytest.raises(CommandError, match="overwrite"):
        export_course(tmp_path)

    call_command("export_course", str(tmp_path), "--overwrite")

    assert not stale.exists()
    assert (tmp_path / "course.yaml").exists()


def test_it_refuses_to_load_malformed_parameters(tmp_path):
    load_course(COURSE)
    export_course(tmp_path)
    path = next(tmp_path.glob("*/derivatives.yaml"))
    data = yaml.safe_load(path.read_text())
    (chain,) = [e for e in data["exercises"] if e["slug"] == "chain-rule"]
    chain["parameters"]["k"] = {"int": [9, 2]}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(CommandError, match="slug chain-rule.*low <= high"):
        load_course(tmp_path)


def test_it_refuses_to_export_an_exercise_that_does_not_validate(tmp_path):
    load_course(COURSE)
    Exercise.objects.filter(slug="chain-rule").update(parameters={"k": {"int": [9, 2]}})
    with pytest.raises(CommandError, match="chain-rule → parameters: parameter k: needs low"):
        export_course(tmp_path)
    assert not list(tmp_path.iterdir())
