"""`queue.submit` on PostgreSQL: its lock, limits and insert written out in SQL store
what the ORM's do, and number one student's attempts one at a time."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from exercises import queue
from exercises.models import Submission
from tests.conftest import make_exercise, make_problem_set, make_submission

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the SQL is PostgreSQL's; SQLite uses the ORM"
)

# Everything a submission stores but its key, its student and its variant (per student).
COMPARED = [
    f.attname
    for f in Submission._meta.concrete_fields
    if f.attname not in ("id", "student_id", "variant_id")
]


def stored(submission) -> dict:
    return Submission.objects.filter(pk=submission.pk).values(*COMPARED).get()


def returned(submission) -> dict:
    return {name: getattr(submission, name) for name in COMPARED}


@pytest.mark.django_db
def test_it_stores_what_the_orm_stores(alice, bob, monkeypatch):
    # Late with a penalty, a retry penalty and earlier attempts (one failed, not counted):
    # the attempt and the multiplier are computed in the statement.
    problem_set = make_problem_set(
        due=timezone.now() - timedelta(days=1), late_policy="penalty", late_penalty=0.1
    )
    ex = make_exercise(problem_set=problem_set, retry_penalty=0.3)
    now = timezone.now()
    monkeypatch.setattr(queue.timezone, "now", lambda: now)
    for student in (alice, bob):
        make_submission(student, ex, status="graded")
        make_submission(student, ex, status="failed")
    fast = queue.submit(alice, ex, {"a": "2x"})
    monkeypatch.setattr(queue, "_lock_count_and_insert", queue._lock_count_and_create)
    orm = queue.submit(bob, ex, {"a": "2x"})

    assert stored(fast) == stored(orm)
    assert returned(fast) == stored(fast) and returned(orm) == stored(orm)
    assert (fast.attempt, fast.late) == (3, True)
    assert fast.multiplier == (1.0 - 0.3 * 1) * (1.0 - 0.1)
    assert fast.student_id == alice.pk and Submission.objects.get(pk=fast.pk).student == alice


@pytest.mark.django_db
def test_it_refuses_the_last_attempt_past_the_limit(alice):
    ex = make_exercise(max_attempts=1)
    queue.submit(alice, ex, {"a": "x"})
    with pytest.raises(queue.SubmissionRefused) as refused:
        queue.submit(alice, ex, {"a": "2x"})
    assert refused.value.http_status == 403
    assert refused.value.message == "You have used all 1 attempts at this exercise."
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_over_the_limit_in_flight_before_counting_the_rate(alice, exercise, settings):
    settings.SUBMISSIONS_IN_FLIGHT = 1
    settings.SUBMISSIONS_PER_MINUTE = 2
    queue.submit(alice, exercise, {"a": "x"})
    for _ in range(2):
        with pytest.raises(queue.SubmissionRefused) as refused:
            queue.submit(alice, exercise, {"a": "2x"})
        assert (refused.value.http_status, refused.value.retry_after) == (429, 5)
        assert "still being graded" in refused.value.message
    # The refusals in flight were not counted against the rate: one more fits.
    Submission.objects.update(status="graded")
    assert queue.submit(alice, exercise, {"a": "2x"}).attempt == 2


@pytest.mark.django_db(transaction=True)
def test_it_numbers_attempts_one_at_a_time(alice, exercise):
    """A submit that waited for the student's lock counts the submission of the
    transaction it waited for: the next number, not the same one."""
    from django.contrib.auth import get_user_model

    result: dict = {}

    def submit_meanwhile():
        try:
            result["submission"] = queue.submit(alice, exercise, {"a": "2x"})
        except Exception as e:  # reported in the test's thread
            result["error"] = e
        finally:
            connections.close_all()

    thread = threading.Thread(target=submit_meanwhile)
    with transaction.atomic():
        list(get_user_model().objects.select_for_update().filter(pk=alice.pk))
        thread.start()
        _wait_for_a_lock_wait(thread)
        make_submission(alice, exercise, status="graded")
    thread.join(timeout=30)

    assert "error" not in result, result.get("error")
    assert result["submission"].attempt == 2
    assert sorted(Submission.objects.values_list("attempt", flat=True)) == [1, 2]


def _wait_for_a_lock_wait(thread):
    """Until another session of this database waits for a lock (the thread's submit)."""
    import time

    with connections["default"].cursor() as cursor:
        for _ in range(300):
            # The activity is read once per transaction unless its snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] or not thread.is_alive():
                return
            time.sleep(0.05)
    raise AssertionError("the other submit never waited for the student's lock")
