"""What a Celery worker process does with its database connection around each task:
keeps it from one task to the next, and drops one that no longer answers.

The worker is simulated by what it runs around a task: Celery's Django fixup (as the
worker installs it, reading this project's settings) and the signals Celery sends.
tests/integration/test_worker_connections.py counts a real worker's PostgreSQL sessions.
"""

from __future__ import annotations

import types

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.contrib.auth import get_user_model
from django.db import connections, transaction

from courseserver.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True)


class Task:
    """What the signal handlers read of a task: whether it runs eagerly."""

    def __init__(self, eager: bool):
        self.request = types.SimpleNamespace(is_eager=eager)


def run_task(fixup: DjangoWorkerFixup, eager: bool = False, body=None) -> None:
    """Around a task's body, what a worker process runs before and after it."""
    task = Task(eager)
    fixup.on_task_prerun(sender=task)
    signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    (body or count_users)()
    signals.task_postrun.send(
        sender=task, task_id="t", task=task, args=(), kwargs={}, retval=None, state="SUCCESS"
    )
    fixup.on_task_postrun(sender=task)


def count_users() -> int:
    return get_user_model().objects.count()


@pytest.fixture
def fixup() -> DjangoWorkerFixup:
    return DjangoWorkerFixup(celery_app)


@pytest.fixture
def kept_connection(monkeypatch):
    """The connection as PostgreSQL's settings keep it: persistent and health-checked.
    (SQLite's settings open one per task, which costs next to nothing there.)"""
    connection = connections["default"]
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", None)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()
    connection.ensure_connection()
    yield connection
    connection.close()


def test_it_keeps_the_database_connection_from_one_task_to_the_next(fixup, kept_connection):
    opened = kept_connection.connection

    for _ in range(3):
        run_task(fixup)

    assert kept_connection.connection is opened


def test_it_reconnects_when_the_kept_connection_no_longer_answers(
    fixup, kept_connection, monkeypatch
):
    run_task(fixup)
    broken = kept_connection.connection

    with monkeypatch.context() as patch:
        # As after a PostgreSQL restart: the connection looks open, but its server is gone.
        patch.setattr(kept_connection, "is_usable", lambda: False)
        run_task(fixup)

    assert kept_connection.connection is not broken
    assert count_users() == 0


def test_it_drops_a_connection_whose_task_failed_on_it(fixup, kept_connection, monkeypatch):
    with monkeypatch.context() as patch:

        def fail():
            count_users()
            # A query failed, and the connection no longer answers.
            kept_connection.errors_occurred = True
            patch.setattr(kept_connection, "is_usable", lambda: False)

        run_task(fixup, body=fail)

    assert kept_connection.connection is None


def test_it_leaves_an_eager_task_in_its_callers_transaction(fixup, kept_connection):
    with transaction.atomic():
        get_user_model().objects.create_user("dora")
        opened = kept_connection.connection

        run_task(fixup, eager=True)

        assert kept_connection.connection is opened
        assert kept_connection.in_atomic_block
        assert count_users() == 1
