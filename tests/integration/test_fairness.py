"""One student's slow answers do not hold up the others' on a real worker."""

import pytest

from exercises.models import Grading
from exercises.queue import submit
from tests.conftest import make_exercise
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PARTS = [{"key": key, "kind": "expression", "expected": "2x", "variables": ["x"]} for key in "abcd"]
SLOW = "x*2"


def test_it_grades_another_student_between_the_slow_parts_of_one(start_worker, alice, bob):
    worker = start_worker("fair", include=("tests.integration.slow_checks",), SLOW_ANSWER=SLOW)
    exercise = make_exercise(PARTS)
    # Warm the worker's grading helpers up.
    warm = submit(bob, exercise, dict.fromkeys("abcd", "2x"))
    wait_for(lambda: (warm.refresh_from_db(), not warm.is_pending)[1], "a first verdict")

    slow = submit(alice, exercise, dict.fromkeys("abcd", SLOW))
    slow_again = submit(alice, exercise, dict.fromkeys("abcd", SLOW))
    fast = submit(bob, exercise, dict.fromkeys("abcd", "2x"))

    def done(*submissions) -> bool:
        for s in submissions:
            s.refresh_from_db()
        return all(not s.is_pending for s in submissions)

    wait_for(lambda: done(fast), "Bob's verdict")
    # Bob waited for one of Alice's 8 slow checks, not for all of them.
    assert done(slow, slow_again) is False
    wait_for(lambda: done(slow, slow_again), "Alice's verdicts")
    for s in (slow, slow_again, fast):
        assert (s.status, s.score, s.tries) == ("graded", 1.0, 1)
        assert Grading.objects.filter(submission=s).count() == 1
    assert fast.graded < slow.graded < slow_again.graded
    assert "'yielded'" in worker.log()
