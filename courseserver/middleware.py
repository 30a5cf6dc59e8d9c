"""Middleware of the site as a whole.

`ContentSecurityPolicyMiddleware`: the Content-Security-Policy header on every response.
Django 5.2 has none of its own (it comes in 6.0); this is the whole of it. The policy
is `settings.CONTENT_SECURITY_POLICY`, a dict of directive -> sources; a view that
sets the header itself keeps its own.

`DatabaseUnavailableMiddleware`: while the database cannot be reached, a request
answers 503 with Retry-After, a short page or a JSON message, not a 500.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)


def policy_header(policy: dict[str, list[str]]) -> str:
    """`{"default-src": ["'self'"]}` as `default-src 'self'`."""
    return "; ".join(" ".join([name, *sources]) for name, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.header = policy_header(settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header:
            response.headers.setdefault("Content-Security-Policy", self.header)
        return response


# Seconds after which a client may try again; a database restart takes a few.
DATABASE_RETRY_AFTER = 10
UNAVAILABLE_MESSAGE = (
    "The course is briefly unavailable: nothing was lost. Please try again in a few seconds."
)
UNAVAILABLE_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Briefly unavailable</title></head>
<body><h1>Briefly unavailable</h1><p>{UNAVAILABLE_MESSAGE}</p></body></html>
"""


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (down, restarting, refusing
    connections, a connection lost), as opposed to a mistake in a query."""
    return isinstance(exc, (OperationalError, InterfaceError))


class DatabaseUnavailableMiddleware:
    """A deliberate 503 with Retry-After while the database is down.

    A view's exception is answered here before Django logs it as a server error. One
    raised by the middleware inside this one (the session saved after the view) has
    already been turned into a 500 by then; `_note_database_error` marks its request,
    and the 500 is replaced. Goes near the top of MIDDLEWARE, above everything that
    may read the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, "_database_unavailable", False):
            return unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if database_unavailable(exception):
            log.warning(
                "database unavailable for %s %s: %s", request.method, request.path, exception
            )
            return unavailable(request)
        return None


@receiver(got_request_exception)
def _note_database_error(sender, request=None, **kwargs) -> None:
    # Sent while Django handles the exception, so it is the one being handled.
    if request is not None and database_unavailable(sys.exc_info()[1]):
        request._database_unavailable = True


def unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    else:
        response = HttpResponse(UNAVAILABLE_PAGE, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response
