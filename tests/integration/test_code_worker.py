"""Code answers through a real broker and real workers on the code queue: graded in a
sandbox, never lost when a worker dies, held back (not failed, not run) where no sandbox
can start, and never in the way of the maths answers."""

import pytest

from exercises import queue
from exercises.models import Grading, Submission
from exercises.queue import submit
from tests.conftest import HALF_RIGHT_CODE, RIGHT_CODE, make_code_exercise, make_exercise
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def sleeper(seconds: float) -> str:
    """A right answer that takes `seconds` on its first test (the case allows 10 s)."""
    return (
        "def forward_difference(f, x, h):\n"
        "    import time\n"
        "    if x == 3:\n"
        f"        time.sleep({seconds})\n"
        "    return (f(x + h) - f(x)) / h\n"
    )


def verdict(submission: Submission) -> Submission | None:
    """The submission once it has left the queue, else None."""
    submission.refresh_from_db()
    return None if submission.is_pending else submission


def status_of(submission: Submission) -> str:
    submission.refresh_from_db()
    return submission.status


def test_it_grades_code_on_the_code_queue(start_worker, code_queue, alice):
    start_worker("code", queue=code_queue)
    exercise = make_code_exercise()
    right = submit(alice, exercise, {"code": RIGHT_CODE})
    half = submit(alice, exercise, {"code": HALF_RIGHT_CODE})
    assert right.queue == half.queue == Submission.Queue.CODE

    wait_for(lambda: verdict(right), "the right answer's verdict")
    assert right.status == "graded"
    assert right.score == 1
    assert right.results["code"]["status"] == "correct"
    assert right.results["code"]["details"]["hidden"] == {"passed": 1, "total": 1}

    wait_for(lambda: verdict(half), "the half-right answer's verdict")
    assert half.status == "graded"
    assert half.score == pytest.approx(0.75)
    tests = half.results["code"]["details"]["tests"]
    assert [(t["name"], t["passed"]) for t in tests] == [("x^2 at 3", True), ("x^3 at -1", False)]
    assert tests[1]["received"] == "0.0" and tests[1]["message"]


def test_it_grades_maths_while_a_slow_code_run_holds_the_code_worker(
    start_worker, code_queue, alice
):
    start_worker("maths")
    start_worker("code-slow", queue=code_queue)
    maths_exercise = make_exercise()
    # The maths worker's grading helpers are started before the race.
    first = submit(alice, maths_exercise, {"a": "3x"})
    wait_for(lambda: verdict(first), "a first maths verdict")

    code = submit(alice, make_code_exercise(), {"code": sleeper(8)})
    wait_for(lambda: status_of(code) == "grading", "the code worker to take the slow run")
    maths = submit(alice, maths_exercise, {"a": "2x"})
    wait_for(lambda: verdict(maths), "the maths verdict")
    assert maths.status == "graded" and maths.score == 1
    # The code run was still going when the maths answer was graded.
    assert status_of(code) == "grading"

    wait_for(lambda: verdict(code), "the slow code verdict")
    assert code.status == "graded" and code.score == 1
    assert code.graded > maths.graded


def test_it_loses_nothing_when_a_code_worker_is_killed_mid_run(start_worker, code_queue, alice):
    first = start_worker("code-killed", queue=code_queue)
    s = submit(alice, make_code_exercise(), {"code": sleeper(4)})
    wait_for(lambda: status_of(s) == "grading", "the code worker to take the run")
    first.kill()
    s.refresh_from_db()
    assert s.status == "grading"
    assert s.tries == 1

    start_worker("code-replacement", queue=code_queue)
    # The sweep sends it again, to the code queue, once the dead worker's lease expired.
    wait_for(lambda: queue.sweep()["resent"], "the sweep to send the run again")
    wait_for(lambda: verdict(s), "the replacement worker's verdict")
    assert s.status == "graded"
    assert s.score == 1
    assert s.tries == 2
    assert Grading.objects.filter(submission=s).count() == 1


def test_it_holds_code_back_where_no_sandbox_starts_then_grades_it(
    start_worker, code_queue, alice, settings
):
    broken = start_worker("code-no-sandbox", queue=code_queue, CODE_SANDBOX_BWRAP="/nonexistent")
    s = submit(alice, make_code_exercise(), {"code": RIGHT_CODE})

    def delayed() -> bool:
        s.refresh_from_db()
        return s.message == queue.DELAYED_MESSAGE

    wait_for(delayed, "the worker to find no sandbox")
    assert s.status == "queued"
    assert s.tries == 0
    assert "/nonexistent" in s.problem
    assert s.results == {} and s.score is None
    assert not Grading.objects.filter(submission=s).exists()
    assert "no sandbox for code could be started" in broken.log()
    broken.stop()
    s.refresh_from_db()
    assert s.status == "queued"

    start_worker("code-healthy", queue=code_queue)
    settings.GRADING_REQUEUE_AFTER = 1
    wait_for(lambda: queue.sweep()["resent"], "the sweep to send it again")
    wait_for(lambda: verdict(s), "the healthy worker's verdict")
    assert s.status == "graded"
    assert s.score == 1
    assert (s.message, s.problem, s.tries) == ("", "", 1)
