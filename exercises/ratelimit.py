"""Rate limits: the one place that answers "may this student, or this address, do this now?".

Each limit is a budget of actions per window: sign-in attempts per address, previews
and submissions per student, API token requests per address and API submissions per
user. They are counted in the cache by a sliding window: a counter for the current
fixed window and one for the previous, which counts for the part of it the sliding
window still covers (Cloudflare's estimate). `cache.incr` is atomic on Redis, so
concurrent requests are counted once each; a refused action is not counted, so a
client that keeps trying is not kept out longer.

One limit is a count in the database instead: the submissions still waiting for their
verdict, which the database knows exactly. It is answered here all the same, and every
refusal is the same thing: a `Refusal`, a message for the student and the seconds
after which to try again (the page shows the message, the API answers 429 with
Retry-After).

The cache is a guard, not a gate: when it cannot be reached (Redis is down) the cache
limits let everything through and say so in the log, and the database's limits (the
submissions in flight, the attempts at an exercise) still hold. After a failure the
cache is not tried again for a few seconds (`cache_outage`), so that requests meanwhile
do not each wait on a connection to it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

from courseserver.outage import Outage
from exercises.models import Submission

log = logging.getLogger(__name__)

# The time, in seconds; tests replace it with a fake clock.
clock = time.time

# A verdict usually comes within seconds of a submission.
IN_FLIGHT_RETRY_AFTER = 5

cache_outage = Outage("the cache", seconds=5)


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused, for the student, and when to try again."""

    message: str
    retry_after: int


@dataclass(frozen=True)
class Limit:
    """`setting` actions per `window` seconds for each client of the limit."""

    name: str
    setting: str
    window: int
    message: str

    def hit(self, client: str) -> Refusal | None:
        """Count one action of `client`; None if it is allowed, else why not."""
        budget = getattr(settings, self.setting)
        now = clock()
        index, into = divmod(now, self.window)
        key = f"limit:{self.name}:{client}:{int(index)}"
        if cache_outage:
            return None
        previous_key = f"limit:{self.name}:{client}:{int(index) - 1}"
        try:
            # The Redis cache (courseserver/cache.py) counts in one round trip.
            count_in = getattr(cache, "count", None)
            if count_in is not None:
                count, previous = count_in(key, 2 * self.window, previous_key)
            else:
                cache.add(key, 0, timeout=2 * self.window)
                count = cache.incr(key)
                previous = cache.get(previous_key, 0)
        except Exception:  # the cache (Redis) is down: let the action through
            log.warning("rate limit %s not checked: the cache is unreachable", self.name)
            cache_outage.began()
            return None
        cache_outage.ended()
        if previous * (1 - into / self.window) + count <= budget:
            return None
        try:
            cache.decr(key)
        except Exception:  # the cache went away meanwhile: the count stays one too high
            pass
        return Refusal(self.message, self._retry_after(budget, count - 1, previous, into))

    def _retry_after(self, budget: int, count: int, previous: int, into: float) -> int:
        """Seconds until one more action fits, with `count` counted in the current window
        and `previous` in the one before, `into` seconds into the current window."""
        window = self.window
        if budget < 1:
            return window
        if count + 1 <= budget and previous > 0:
            # Within this window, once enough of the previous one has slid out.
            wait = window * (1 - (budget - count - 1) / previous) - into
            if wait < window - into:
                return max(1, math.ceil(wait))
        # In the next window, where this window's count is the previous one.
        wait = window - into + max(0.0, window * (1 - (budget - 1) / count) if count else 0.0)
        return max(1, math.ceil(wait))


LOGIN = Limit(
    "login",
    "LOGIN_ATTEMPTS_PER_15_MINUTES",
    15 * 60,
    "Too many sign-in attempts. Wait a few minutes and try again.",
)
PREVIEW = Limit(
    "preview",
    "PREVIEWS_PER_MINUTE",
    60,
    "Too many previews: the preview pauses for a minute.",
)
SUBMISSION = Limit(
    "submission",
    "SUBMISSIONS_PER_MINUTE",
    60,
    "Too many submissions in the last minute: wait a moment.",
)
CODE_RUN = Limit(
    "code-run",
    "CODE_RUNS_PER_MINUTE",
    60,
    "Too many test runs in the last minute: wait a moment before running the tests again.",
)
API_TOKEN = Limit(
    "api-token",
    "API_TOKEN_REQUESTS_PER_MINUTE",
    60,
    "Too many token requests from this address: wait a moment.",
)
API_SUBMISSION = Limit(
    "api-submission",
    "API_SUBMISSIONS_PER_MINUTE",
    60,
    "Too many submissions through the API: wait a moment.",
)


def client_address(request: HttpRequest) -> str:
    """The client's address, seen through the trusted proxies in front of the app.

    X-Forwarded-For is read only that many entries from the right, and only as far as
    each address it passes is a trusted proxy's (TRUSTED_PROXY_NETWORKS): what a client
    puts in it itself is further left, and a client that reaches the app directly is
    not a proxy, so neither is ever taken for its address.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUSTED_PROXIES:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < settings.TRUSTED_PROXIES:
        return remote
    client = remote
    for _ in range(settings.TRUSTED_PROXIES):
        if not _is_proxy(client):
            break
        client = hops.pop()
    return client


def _is_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXY_NETWORKS)


def login(request: HttpRequest) -> Refusal | None:
    """May this address try to sign in now?"""
    return LOGIN.hit(client_address(request))


def preview(user) -> Refusal | None:
    """May this student have another answer previewed now?"""
    return PREVIEW.hit(str(user.pk))


# The statuses of a submission still waiting for its verdict.
IN_FLIGHT = [Submission.Status.QUEUED, Submission.Status.GRADING]


def submission(student, in_flight: int | None = None) -> Refusal | None:
    """May this student submit now? Asked under the lock on the student's submissions,
    so that the count of those in flight is exact; `in_flight` is that count, when the
    caller has read it under the lock already."""
    if in_flight is None:
        in_flight = Submission.objects.filter(student=student, status__in=IN_FLIGHT).count()
    if in_flight >= settings.SUBMISSIONS_IN_FLIGHT:
        return Refusal(
            "You have answers still being graded: wait for their verdicts, then submit again.",
            IN_FLIGHT_RETRY_AFTER,
        )
    return SUBMISSION.hit(str(student.pk))


def code_run(student) -> Refusal | None:
    """May this student run a code part's visible tests now? (They cost no attempt, but
    each is a run in a sandbox.)"""
    return CODE_RUN.hit(str(student.pk))


# ---------------------------------------------------------------- the API's throttles


class _Throttle(BaseThrottle):
    """A limit as a DRF throttle: DRF answers the refusal with 429 and Retry-After."""

    limit: Limit

    def client(self, request) -> str:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        refusal = self.limit.hit(self.client(request))
        if refusal is not None:
            raise Throttled(wait=refusal.retry_after, detail=refusal.message)
        return True


class TokenThrottle(_Throttle):
    """Token requests per client address: guessing passwords through the API is slow."""

    limit = API_TOKEN

    def client(self, request) -> str:
        return client_address(request)


class SubmitThrottle(_Throttle):
    """API submissions per user, before the answers are even read."""

    limit = API_SUBMISSION

    def client(self, request) -> str:
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return f"address:{client_address(request)}"
