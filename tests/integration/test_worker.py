"""A submission goes from `queued` to `graded` through a real broker and worker."""

import re

import pytest

import grading
from exercises.models import Submission
from exercises.queue import submit
from exercises.tasks import grade_submission
from tests.conftest import make_exercise, make_submission
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def verdict(submission: Submission) -> Submission | None:
    """The submission once it has left the queue, else None."""
    submission.refresh_from_db()
    return None if submission.is_pending else submission


def test_it_grades_a_correct_answer(worker, alice, exercise):
    s = submit(alice, exercise, {"a": "2x"})
    assert s.status == "queued"

    wait_for(lambda: verdict(s), "the verdict")
    assert s.status == "graded"
    assert s.score == 1
    assert s.results["a"]["status"] == "correct"
    assert s.tries == 1
    assert s.last_sent is not None
    assert s.graded is not None and s.lease_token is None
    assert s.engine_version == grading.ENGINE_VERSION


def test_it_grades_a_wrong_answer_with_a_message(worker, alice, exercise):
    s = submit(alice, exercise, {"a": "3x"})

    wait_for(lambda: verdict(s), "the verdict")
    assert s.status == "graded"
    assert s.score == 0
    assert s.results["a"]["status"] == "incorrect"
    assert s.results["a"]["message"].strip()


def test_it_grades_each_part_and_weighs_the_score(worker, alice):
    exercise = make_exercise(
        parts=[
            {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]},
            {"key": "b", "kind": "numeric", "expected": "pi/4", "rtol": 1e-4, "weight": 3},
        ]
    )
    s = submit(alice, exercise, {"a": "x^2", "b": "0.7854"})

    wait_for(lambda: verdict(s), "the verdict")
    assert s.status == "graded"
    assert s.results["a"]["status"] == "incorrect"
    assert s.results["b"]["status"] == "correct"
    assert s.score == pytest.approx(0.75)


def test_it_grades_once_when_delivered_twice(worker, alice, exercise):
    s = make_submission(alice, exercise, answers={"a": "2x"})
    first = grade_submission.apply_async(args=[s.pk])
    second = grade_submission.apply_async(args=[s.pk])

    def outcomes() -> dict[str, str] | None:
        found = {}
        for task_id in (first.id, second.id):
            match = re.search(rf"\[{task_id}\] succeeded in \S+: '([a-z-]+)'", worker.log())
            if not match:
                return None
            found[task_id] = match.group(1)
        return found

    results = wait_for(outcomes, "the worker to run both deliveries")
    assert sorted(results.values()) == ["graded", "skipped"]
    s.refresh_from_db()
    assert s.status == "graded"
    assert s.tries == 1
    assert s.results["a"]["status"] == "correct"
