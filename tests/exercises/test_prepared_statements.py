"""The hot paths' hand-written statements on PostgreSQL (`exercises.rows.cursor`):
prepared once per connection, Django's errors, logged like Django's queries."""

import pytest
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from exercises import queue, rows
from exercises.models import Submission

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
    ),
    pytest.mark.django_db,
]


def prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def submit_and_grade(student, exercise):
    submission = queue.submit(student, exercise, {"a": "2x"})
    assert queue.grade(submission.pk) == "graded"
    return submission


def test_it_prepares_the_submit_and_the_grade_once_per_connection(alice, exercise, settings):
    settings.SUBMISSIONS_IN_FLIGHT = 100
    settings.SUBMISSIONS_PER_MINUTE = 100
    before = prepared()
    first = submit_and_grade(alice, exercise)
    after_one = prepared() - before
    for _ in range(3):
        submit_and_grade(alice, exercise)
    # The lock, the counts with the insert, the claim and the verdict: each prepared
    # once, and used again by the later submissions.
    assert any("FOR UPDATE" in sql for sql in after_one)
    assert any("inserted AS" in sql for sql in after_one)
    assert any("graded AS" in sql for sql in after_one)
    assert prepared() - before == after_one
    assert Submission.objects.get(pk=first.pk).status == "graded"
    assert Submission.objects.filter(status="graded").count() == 4


def test_it_prepares_nothing_when_told_not_to(alice, exercise, settings):
    settings.DB_PREPARED_STATEMENTS = False
    before = prepared()
    submit_and_grade(alice, exercise)
    assert prepared() == before


def test_its_errors_are_djangos_and_its_statements_are_logged():
    with CaptureQueriesContext(connection) as captured:
        with rows.cursor() as cursor:
            cursor.execute("SELECT %(n)s::integer + 1", {"n": 41})
            assert cursor.fetchone() == (42,)
    assert [q["sql"] for q in captured.captured_queries] == ["SELECT %(n)s::integer + 1"]
    with pytest.raises(ProgrammingError), transaction.atomic():
        with rows.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM exercises_submission")
    # A statement in a transaction that failed is refused as Django refuses it.
    with pytest.raises(DatabaseError), transaction.atomic():
        with rows.cursor() as cursor:
            try:
                cursor.execute("SELECT 1/0")
            except DatabaseError:
                pass
            cursor.execute("SELECT 1")


@pytest.mark.django_db(transaction=True)
def test_it_replaces_a_kept_connection_the_server_closed():
    from django.db import connections

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    # As at the start of a request or a task (`close_old_connections`).
    connection.health_check_done = False
    with rows.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
