"""A real worker grades submission after submission in one PostgreSQL session, and
reconnects at once when that session is cut, as a PostgreSQL restart cuts it.

PostgreSQL counts the sessions opened on each database (pg_stat_database.sessions);
these tests read that count for the test database. They run when DATABASE_URL names a
PostgreSQL server, e.g. `DATABASE_URL=postgres://postgres@127.0.0.1:5432/course make test`.
"""

import pytest
from django.conf import settings
from django.db import connection

from exercises.models import Submission
from exercises.tasks import grade_submission
from tests.conftest import make_submission
from tests.integration.conftest import wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASE_URL.startswith(("postgres:", "postgresql:")),
        reason="counts PostgreSQL sessions: set DATABASE_URL to a PostgreSQL server",
    ),
]


def sessions_opened() -> int:
    """Sessions ever opened on the test database. A session is counted when its first
    transaction ends, or when it ends; this process keeps its one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def grade(student, exercise, count: int) -> list[Submission]:
    submissions = [make_submission(student, exercise) for _ in range(count)]
    for s in submissions:
        grade_submission.apply_async(args=[s.pk])

    def all_graded() -> bool:
        ids = [s.pk for s in submissions]
        return not Submission.objects.filter(pk__in=ids).exclude(status="graded").exists()

    wait_for(all_graded, f"{count} verdicts")
    return submissions


@pytest.fixture
def worker(start_worker):
    # Connections kept longer than the test runs, so that none is closed for its age.
    return start_worker("connections", DB_CONN_MAX_AGE="3600")


def test_it_grades_many_submissions_in_one_database_session(worker, alice, exercise):
    # The worker process opens its session on its first task.
    grade(alice, exercise, 1)
    before = sessions_opened()

    grade(alice, exercise, 20)

    assert sessions_opened() - before == 0


def test_it_reconnects_at_once_when_its_session_is_cut(worker, alice, exercise):
    grade(alice, exercise, 1)
    with connection.cursor() as cursor:
        # What a PostgreSQL restart does to the worker: its server process is gone.
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    before = sessions_opened()
    mark = worker.log_size()

    [s] = grade(alice, exercise, 1)

    s.refresh_from_db()
    assert s.status == "graded" and s.tries == 1
    # Checked before its first query, the dead connection was replaced: the task did
    # not fail on it and wait for a retry.
    assert " retry: " not in worker.log(mark)
    wait_for(lambda: sessions_opened() > before, "the new session to be counted")
    assert sessions_opened() - before == 1
