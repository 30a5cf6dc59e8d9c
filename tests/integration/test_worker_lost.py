"""A worker killed outright while it grades: its submission is graded once, by another."""

import os
import signal

import pytest

from exercises import queue
from exercises.models import Grading
from exercises.queue import submit
from tests.conftest import make_exercise
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_it_grades_a_submission_whose_pool_process_was_killed_mid_task(start_worker, alice):
    exercise = make_exercise(slug="stalls-in-the-first-process")
    worker = start_worker(
        "child-killed",
        include=("tests.integration.slow_grading",),
        STALLED_EXERCISE=exercise.slug,
        STALL_ONCE="1",
    )
    s = submit(alice, exercise, {"a": "2x"})

    def taken() -> bool:
        s.refresh_from_db()
        return s.status == "grading"

    wait_for(taken, "the worker to claim the submission")
    (child,) = worker.pool_processes()
    os.kill(child, signal.SIGKILL)

    # No sweep: the worker gives the message back, and it is taken again once the
    # dead process's lease has lapsed.
    def graded() -> bool:
        s.refresh_from_db()
        return not s.is_pending

    wait_for(graded, "the verdict after the pool process died")
    assert s.status == "graded"
    assert s.results["a"]["status"] == "correct"
    assert s.tries == 2
    assert Grading.objects.filter(submission=s).count() == 1
    assert "WorkerLostError" in worker.log()


def test_it_grades_a_submission_whose_worker_was_killed_mid_task(start_worker, alice):
    exercise = make_exercise(slug="stalls-in-the-first-worker")
    first = start_worker(
        "killed",
        include=("tests.integration.slow_grading",),
        STALLED_EXERCISE=exercise.slug,
    )
    s = submit(alice, exercise, {"a": "2x"})

    def taken() -> bool:
        s.refresh_from_db()
        return s.status == "grading"

    wait_for(taken, "the first worker to claim the submission")
    first.kill()
    s.refresh_from_db()
    assert s.status == "grading"
    assert s.tries == 1
    sent_before = s.last_sent

    start_worker("replacement")
    # The sweep sends it again only once the dead worker's lease has expired.
    wait_for(lambda: queue.sweep()["resent"], "the sweep to send the submission again")

    def graded() -> bool:
        s.refresh_from_db()
        return not s.is_pending

    wait_for(graded, "the replacement worker's verdict")
    assert s.status == "graded"
    assert s.results["a"]["status"] == "correct"
    assert s.score == 1
    assert s.tries == 2
    assert s.last_sent > sent_before
    assert Grading.objects.filter(submission=s).count() == 1
