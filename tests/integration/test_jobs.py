"""The admin's background jobs, run by a real worker: regrading every submission of an
exercise after a fix, the question tests started when an exercise is saved, and the
wrong-answer statistics.

Each job is started through the admin as an instructor starts it; its message goes out
when the request's transaction commits, and the test polls the database for the
outcome the worker records.
"""

from __future__ import annotations

import pytest

import grading
from exercises.models import AnswerStats, Exercise, QuestionTestRun, RegradeJob, Submission
from exercises.queue import submit
from tests.conftest import make_exercise
from tests.exercises.test_question_tests import GOOD_PART, change_data, change_url
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHANGELIST = "/admin/exercises/exercise/"


def graded(student, exercise: Exercise, answer: str) -> Submission:
    """A submission as a student makes it, once the worker has graded it."""
    submission = submit(student, exercise, {"a": answer})

    def done() -> Submission | None:
        submission.refresh_from_db()
        return None if submission.is_pending else submission

    wait_for(done, f"the verdict on {answer!r}")
    assert submission.status == Submission.Status.GRADED
    return submission


def finished_run(exercise: Exercise) -> QuestionTestRun:
    def finished() -> QuestionTestRun | None:
        run = exercise.test_runs.order_by("-pk").first()
        return run if run is not None and run.status != QuestionTestRun.Status.PENDING else None

    return wait_for(finished, "the question test run to finish")


@pytest.fixture
def instructor(client, charlie):
    client.force_login(charlie)
    return client


def test_it_regrades_every_submission_after_the_expected_answer_is_fixed(
    worker, instructor, charlie, alice, bob
):
    # The author meant d/dx x^2/2, but wrote the expected answer of d/dx x^2.
    exercise = make_exercise(prompt="Differentiate \\(x^2/2\\).")
    right_but_marked_wrong = graded(alice, exercise, "x")
    wrong_but_marked_right = graded(bob, exercise, "2*x")
    assert right_but_marked_wrong.score == 0.0
    assert wrong_but_marked_right.score == 1.0

    response = instructor.post(
        change_url(exercise), change_data(exercise, **{"parts-0-expected": "x"})
    )
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert (exercise.version, exercise.parts.get().expected) == (2, "x")

    response = instructor.post(
        CHANGELIST, {"action": "regrade_all", "_selected_action": [exercise.pk]}
    )
    assert response.status_code == 302
    job = RegradeJob.objects.get(exercise=exercise)
    assert job.requested_by == charlie

    def done() -> RegradeJob | None:
        job.refresh_from_db()
        return job if job.status in (RegradeJob.Status.DONE, RegradeJob.Status.FAILED) else None

    wait_for(done, "the regrade job to finish")
    assert job.status == RegradeJob.Status.DONE, job.message
    assert (job.total, job.done, job.changed) == (2, 2, 2)

    for submission, before, after in (
        (right_but_marked_wrong, "incorrect", "correct"),
        (wrong_but_marked_right, "correct", "incorrect"),
    ):
        submission.refresh_from_db()
        assert submission.results["a"]["status"] == after
        assert submission.score == (1.0 if after == "correct" else 0.0)
        assert submission.exercise_version == 2
        history = list(submission.gradings.order_by("pk"))
        assert [(g.results["a"]["status"], g.exercise_version, g.job_id) for g in history] == [
            (before, 1, None),
            (after, 2, job.pk),
        ]
        assert {g.engine_version for g in history} == {grading.ENGINE_VERSION}


def test_it_passes_the_question_tests_of_a_good_exercise_when_it_is_saved(worker, instructor):
    exercise = make_exercise(
        parts=[GOOD_PART],
        parameters={"a": {"int": [2, 9]}},
        prompt="Differentiate \\( {{a}}x^2 \\).",
        status=Exercise.Status.DRAFT,
    )

    response = instructor.post(change_url(exercise), change_data(exercise, title="Renamed"))
    assert response.status_code == 302

    run = finished_run(exercise)
    assert run.status == QuestionTestRun.Status.PASSED, run.failures
    assert run.exercise_version == 2
    # Per seed: the expected answer, four sample answers and one listed mistake.
    assert run.checked == run.seeds * 6
    assert run.failures == []


def test_it_fails_the_question_tests_of_a_broken_sample_answer_naming_seed_and_part(
    worker, instructor
):
    exercise = make_exercise(
        parts=[GOOD_PART],
        parameters={"a": {"int": [2, 9]}},
        prompt="Differentiate \\( {{a}}x^2 \\).",
        status=Exercise.Status.DRAFT,
    )
    # "8x" is the derivative only where a = 4.
    broken = [*GOOD_PART["tests"], {"answer": "8x", "expect": "correct"}]

    response = instructor.post(
        change_url(exercise), change_data(exercise, **{"parts-0-tests": broken})
    )
    assert response.status_code == 302

    run = finished_run(exercise)
    assert run.status == QuestionTestRun.Status.FAILED
    assert run.failures
    assert {(f["part"], f["answer"], f["got"]) for f in run.failures} == {("a", "8x", "incorrect")}
    for failure in run.failures:
        assert failure["values"] == exercise.values_for_seed(failure["seed"])
        assert failure["values"]["a"] != 4
    seeds_with_a_4 = [s for s in range(run.seeds) if exercise.values_for_seed(s)["a"] == 4]
    assert len(run.failures) == run.seeds - len(seeds_with_a_4)

    page = instructor.get(change_url(exercise)).content.decode()
    first = run.failures[0]
    assert f"failed: {len(run.failures)} of {run.checked} answers" in page
    assert f'?seed={first["seed"]}">seed {first["seed"]}</a>: seed {first["seed"]}, part a' in page


def test_it_counts_equivalent_wrong_answers_together(worker, instructor, alice, bob, charlie):
    exercise = make_exercise(max_attempts=5)
    for student, answer in (
        (alice, "x"),
        (bob, "1*x"),
        (alice, "x^2"),
        (bob, "x * x"),
        (charlie, "x"),
        (charlie, "2x"),
    ):
        graded(student, exercise, answer)

    response = instructor.post(
        CHANGELIST, {"action": "recompute_wrong_answers", "_selected_action": [exercise.pk]}
    )
    assert response.status_code == 302

    def done() -> AnswerStats | None:
        stats = AnswerStats.objects.filter(exercise=exercise).first()
        return stats if stats is not None and stats.status == AnswerStats.Status.DONE else None

    stats = wait_for(done, "the wrong-answer statistics")
    assert stats.submissions == 6
    part = stats.parts["a"]
    assert part["wrong"] == 5
    assert [(g["answer"], g["count"], g["also"], g["by"]) for g in part["groups"]] == [
        ("x", 3, ["1*x"], "value"),
        ("x^2", 2, ["x * x"], "value"),
    ]
