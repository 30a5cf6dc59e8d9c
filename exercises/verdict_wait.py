"""Waiting for a verdict instead of polling for it (`Prefer: wait=N` on the API).

A client that submits and then polls costs the web tier several requests per verdict,
though the worker takes a few tens of milliseconds. Here a request may instead block
until the verdict is recorded: the worker, once the transaction that recorded it
commits, pushes a token on the Redis list `verdict:<id>` (`notify`), and the waiting
request takes it with a blocking pop (`wait`). A list, not a publish: a token pushed
before the request starts to wait is still there when it does, so no verdict is missed
between the request's last look at the database and its wait. The token expires after
a while; the blocking pop puts it back (BLMOVE from the list onto itself), so every
request waiting for the same submission is woken by the one token.

A wait is a favour, never a condition: when Redis is down or unreachable, the request
answers at once as without the preference, and for a few seconds (`redis_outage`, or
the cache's and the broker's own) no other tries. Waiting holds a web thread, so at most
VERDICT_WAITERS threads of a process wait at once; a request that finds no free seat
answers at once.
"""

from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings
from django.dispatch import receiver

from courseserver.outage import Outage
from exercises.models import Submission
from exercises.signals import verdict_stored

log = logging.getLogger(__name__)

# The tests give each run a prefix of its own on a shared Redis.
PREFIX = "cs:verdict:"
# How long a token outlives its verdict: longer than any wait that could want it.
TOKEN_SECONDS = 60
# A verdict is recorded once the submission is in one of these.
DONE = (Submission.Status.GRADED, Submission.Status.FAILED)

redis_outage = Outage("Redis (verdict waits)", seconds=5)

_clients: dict[tuple[str, bool], redis.Redis] = {}
_clients_lock = threading.Lock()
_seats_lock = threading.Lock()
_waiting = 0


def _client(blocking: bool) -> redis.Redis:
    """This process's client for the Redis of REDIS_URL: one for blocking pops, whose
    socket timeout outlasts the longest wait (the cache's client gives up after one
    second), and one with short timeouts for the pushes."""
    url = settings.CACHE_REDIS_URL
    client = _clients.get((url, blocking))
    if client is None:
        timeout = settings.VERDICT_WAIT_MAX + 2 if blocking else 1
        with _clients_lock:
            client = _clients.setdefault(
                (url, blocking),
                redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=timeout),
            )
    return client


def _unreachable() -> bool:
    """Whether Redis is known to be down just now (one outage of the three seen)."""
    from courseserver.celery import broker_outage
    from exercises.ratelimit import cache_outage

    return bool(redis_outage or cache_outage or broker_outage)


def notify(submission_id: int) -> None:
    """Wake whoever waits for `submission_id`'s verdict; never raises."""
    if redis_outage:
        return
    key = f"{PREFIX}{submission_id}"
    try:
        with _client(blocking=False).pipeline(transaction=False) as pipe:
            pipe.lpush(key, 1)
            pipe.expire(key, TOKEN_SECONDS)
            pipe.execute()
    except (redis.RedisError, OSError):
        # A waiter then answers at its timeout, with what the database says.
        log.warning("could not notify the verdict of submission %s", submission_id, exc_info=True)
        redis_outage.began()
        return
    redis_outage.ended()


@receiver(verdict_stored)
def _notify_on_commit(sender, submission_id: int, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: notify(submission_id))


def _take_seat() -> bool:
    global _waiting
    with _seats_lock:
        if _waiting >= settings.VERDICT_WAITERS:
            return False
        _waiting += 1
        return True


def _leave_seat() -> None:
    global _waiting
    with _seats_lock:
        _waiting -= 1


def wait(submission_id: int, seconds: float, *, seen_pending: bool = False) -> bool | None:
    """Wait up to `seconds` (at most VERDICT_WAIT_MAX) for the verdict of
    `submission_id`: True once it is recorded (graded or failed), False if the time ran
    out first, None if no wait was possible (Redis down, every seat taken, no time).

    The database is read once first, since the verdict may be in already, unless the
    caller has `seen_pending` it a moment ago: a verdict recorded since then left its
    token in Redis, which the wait takes at once.
    """
    seconds = min(seconds, settings.VERDICT_WAIT_MAX)
    if seconds <= 0 or _unreachable():
        return None
    if not seen_pending:
        status = Submission.objects.filter(pk=submission_id).values_list("status", flat=True)
        if next(iter(status), None) in DONE:
            return True
    if not _take_seat():
        return None
    key = f"{PREFIX}{submission_id}"
    try:
        # BLMOVE from the list onto itself takes the token and leaves it for the next
        # waiter; Redis serves every blocked client in turn as the token comes back.
        token = _client(blocking=True).blmove(key, key, seconds, "LEFT", "LEFT")
    except (redis.RedisError, OSError):
        log.warning("could not wait for the verdict of submission %s", submission_id, exc_info=True)
        redis_outage.began()
        return None
    finally:
        _leave_seat()
    redis_outage.ended()
    return token is not None
