"""The question bank's migration: the work done so far is recorded as done in its
exercise's own set, and the limits that were per exercise become per set."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("exercises", "0014_merge_20261207_1509")]
AFTER = [("exercises", "0015_bank_placements")]


@pytest.fixture
def migrated_from_before(transactional_db):
    """Apps at the state before the migration; the migration is run by `forward`."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor.loader.project_state(BEFORE).apps
    # Leave the database as the other tests expect it.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def forward():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor.loader.build_graph()
    return executor.loader.project_state(AFTER).apps


def test_it_records_existing_work_as_done_in_the_exercises_own_set(migrated_from_before):
    old = migrated_from_before
    User = old.get_model("auth", "User")
    alice = User.objects.create(username="alice")
    module = old.get_model("exercises", "Module").objects.create(slug="m", title="M")
    ProblemSet = old.get_model("exercises", "ProblemSet")
    week1 = ProblemSet.objects.create(module=module, slug="week-1", title="Week 1")
    week2 = ProblemSet.objects.create(module=module, slug="week-2", title="Week 2")
    Exercise = old.get_model("exercises", "Exercise")
    first = Exercise.objects.create(problem_set=week1, slug="first", title="1", prompt="p")
    second = Exercise.objects.create(problem_set=week2, slug="second", title="2", prompt="p")
    variant = old.get_model("exercises", "Variant").objects.create(
        student=alice, exercise=second, seed=7, values={"k": 3}
    )
    Submission = old.get_model("exercises", "Submission")
    for exercise, attempt in [(first, 1), (first, 2), (second, 1)]:
        Submission.objects.create(
            student=alice,
            exercise=exercise,
            attempt=attempt,
            answers={"a": "2x"},
            variant=variant if exercise == second else None,
        )
    old.get_model("exercises", "QuizDraft").objects.create(
        student=alice, exercise=second, answers={"a": "x"}
    )
    old.get_model("exercises", "CodeRun").objects.create(
        student=alice, exercise=first, part_key="code", source="pass"
    )

    new = forward()

    Submission = new.get_model("exercises", "Submission")
    assert sorted(
        Submission.objects.values_list("exercise__slug", "problem_set__slug", "attempt")
    ) == [
        ("first", "week-1", 1),
        ("first", "week-1", 2),
        ("second", "week-2", 1),
    ]
    variant = new.get_model("exercises", "Variant").objects.get()
    assert (variant.problem_set_id, variant.seed, variant.values) == (week2.pk, 7, {"k": 3})
    assert new.get_model("exercises", "QuizDraft").objects.get().problem_set_id == week2.pk
    assert new.get_model("exercises", "CodeRun").objects.get().problem_set_id == week1.pk
    assert not new.get_model("exercises", "Placement").objects.exists()
