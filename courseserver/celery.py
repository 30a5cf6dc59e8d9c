"""The Celery app, and `publish`, the one way the web app and the workers send it work.

Tasks live in `exercises/tasks.py`; settings are the CELERY_* ones. The modules the tasks
call (`exercises.queue`, `regrade`, `question_tests`, `answer_stats`) send a task by its
name through `publish`, so they never import the tasks module that imports them.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable

from celery import Celery, signals
from django.db import close_old_connections, transaction

from courseserver.outage import Outage

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseserver.settings")

log = logging.getLogger(__name__)

app = Celery("courseserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class _QuietSweep(logging.Filter):
    """Drop the INFO lines of the sweep, sent every few seconds: sent, received, done.
    Its warnings and errors, and every other task's lines, still go to the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or "sweep" not in record.getMessage()


for _name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_name).addFilter(_QuietSweep())


# After a failed publish, the next ones in this process are not tried for a few seconds:
# a submission is saved and answered at once, and the sweep sends it.
broker_outage = Outage("the broker", seconds=5)


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
    name: str,
    *args,
    queue: str | None = None,
    on_sent: Callable[[], object] | None = None,
    countdown: float | None = None,
    on_failed: Callable[[], object] | None = None,
) -> bool:
    """Send task `name` ("exercises.tasks.grade_submission") with `args` to a worker, on
    Celery queue `queue` (None: the default queue, CELERY_TASK_DEFAULT_QUEUE), to be run
    no sooner than `countdown` seconds from now.

    Inside a transaction the message goes once it commits (pretix's
    `TransactionAwareTask`): a worker never looks for a row that is not there yet, and a
    rolled-back transaction sends nothing. Publishing fails fast (no retries, the
    broker's short timeouts) and never raises: the database keeps the work, and whoever
    published it publishes it again later (the sweep, or the author asking again). After
    a failure, publishing is not even tried for a few seconds (`broker_outage`).

    Returns False when the broker refused the message there and then; True when it took
    it, or will be given it at the commit. `on_sent` runs once the broker has it,
    `on_failed` once it could not have it.
    """
    # An unknown name is a mistake in the code, not a broker fault: it raises here.
    task = app.tasks[name]

    def send() -> bool:
        sent = _send()
        if not sent and on_failed is not None:
            on_failed()
        return sent

    def _send() -> bool:
        if broker_outage:
            return False
        try:
            options = {"queue": queue} if queue else {}
            if countdown:
                options["countdown"] = countdown
            task.apply_async(args=list(args), retry=False, **options)
        except Exception:  # the broker is down or unreachable: the database still has it
            log.warning(
                "could not publish %s%r; it will be sent again", name, tuple(args), exc_info=True
            )
            broker_outage.began()
            return False
        broker_outage.ended()
        if on_sent is not None:
            on_sent()
        return True

    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(send)
        return True
    return send()


def in_broker(name: str, queues: Iterable[str], delivered_within: float) -> dict | None:
    """The messages for task `name` the broker still holds, by their first argument:
    infinity for one waiting in one of `queues`, else the time (`time.time()`) a worker
    received it, less than `delivered_within` seconds ago, and has not acknowledged it
    yet (it waits for a free process or for its countdown, or it is being run). A
    message received longer ago by a worker that died stays unacknowledged until the
    broker's visibility timeout: it is not counted.

    For the sweep, which sends again only what the broker has lost. Reads kombu's Redis
    layout: each queue a list of JSON messages (one list per priority step), the
    unacknowledged ones in the `unacked` hash, by time received in `unacked_index`.
    None when the broker is not Redis or cannot be read.
    """
    if broker_outage:
        return None
    try:
        with app.connection_for_read() as connection:
            if connection.transport.driver_type != "redis":
                return None
            channel = connection.default_channel
            client = channel.client
            keys = {channel._q_for_pri(q, step) for q in queues for step in channel.priority_steps}
            with client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.lrange(key, 0, -1)
                pipe.zrangebyscore(
                    channel.unacked_index_key,
                    time.time() - delivered_within,
                    "+inf",
                    withscores=True,
                )
                *lists, recent = pipe.execute()
            unacked = (
                client.hmget(channel.unacked_key, [tag for tag, _ in recent]) if recent else []
            )
    except Exception:  # the broker is down: nothing can be sent now either
        log.warning("could not read the broker's queues", exc_info=True)
        return None
    found: dict = {}
    for (_, received), entry in zip(recent, unacked, strict=True):
        # [message, exchange, routing key]
        argument = _first_argument((_loads(entry) or [None])[0], name)
        if argument is not None:
            found[argument] = max(received, found.get(argument, 0.0))
    for raw in [raw for messages in lists for raw in messages]:
        argument = _first_argument(_loads(raw), name)
        if argument is not None:
            found[argument] = math.inf
    return found


def _loads(raw):
    try:
        return json.loads(raw)
    except (ValueError, TypeError):
        return None


def _first_argument(message, name: str):
    """The first argument of task message `message` if it is for task `name`, else None."""
    try:
        if message["headers"].get("task") != name:
            return None
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return args[0] if args else None
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
