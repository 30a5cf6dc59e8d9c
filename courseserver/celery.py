"""The Celery app, and `publish`, the one way the web app and the workers send it work.

Tasks live in `exercises/tasks.py`; settings are the CELERY_* ones. The modules the tasks
call (`exercises.queue`, `regrade`, `question_tests`, `answer_stats`) send a task by its
name through `publish`, so they never import the tasks module that imports them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from celery import Celery, signals
from django.db import close_old_connections, transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseserver.settings")

log = logging.getLogger(__name__)

app = Celery("courseserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# A worker process keeps its database connection from one task to the next, as a web
# process keeps it from one request to the next. Celery's Django fixup would close it
# around every task: one new PostgreSQL session per graded submission, a third of the
# database's work for it. CELERY_DB_REUSE_MAX in the settings turns that off, and
# Django's own rule for requests takes its place: before and after each task, close a
# connection that is older than CONN_MAX_AGE, was left in a transaction, or failed and
# no longer answers. CONN_HEALTH_CHECKS then checks a kept connection before the
# task's first query, so that a worker whose connection a PostgreSQL restart broke
# reconnects at once instead of failing the task.
@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    # A task run eagerly (in the tests) runs inside its caller's request or transaction.
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


def publish(
    name: str, *args, queue: str | None = None, on_sent: Callable[[], object] | None = None
) -> bool:
    """Send task `name` ("exercises.tasks.grade_submission") with `args` to a worker, on
    Celery queue `queue` (None: the default queue, CELERY_TASK_DEFAULT_QUEUE).

    Inside a transaction the message goes once it commits (pretix's
    `TransactionAwareTask`): a worker never looks for a row that is not there yet, and a
    rolled-back transaction sends nothing. Publishing fails fast (no retries, the
    broker's short timeouts) and never raises: the database keeps the work, and whoever
    published it publishes it again later (the sweep, or the author asking again).

    Returns False when the broker refused the message there and then; True when it took
    it, or will be given it at the commit. `on_sent` runs once the broker has it.
    """
    # An unknown name is a mistake in the code, not a broker fault: it raises here.
    task = app.tasks[name]

    def send() -> bool:
        try:
            options = {"queue": queue} if queue else {}
            task.apply_async(args=list(args), retry=False, **options)
        except Exception:  # the broker is down or unreachable: the database still has it
            log.warning(
                "could not publish %s%r; it will be sent again", name, tuple(args), exc_info=True
            )
            return False
        if on_sent is not None:
            on_sent()
        return True

    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(send)
        return True
    return send()
