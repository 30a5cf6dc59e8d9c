"""After a launch from an LMS, the site's pages may be framed by that LMS only, and the
cookies set in that frame are partitioned (CHIPS) so that the browser keeps them."""

from __future__ import annotations

from http.cookies import Morsel

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import DatabaseError
from django.dispatch import receiver
from django.http.request import split_domain_port

from lti.tool import frameable

SESSION_ORIGINS = "lti_frame_ancestors"
# Set by the one-time entry when it is opened inside a frame (Sec-Fetch-Dest: iframe).
SESSION_PARTITIONED = "lti_partitioned"
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]"}


class LtiFrameMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or getattr(response, "xframe_options_exempt", False):
            return response
        if response.status_code >= 500 or not session.session_key:
            return response
        try:
            origins = session.get(SESSION_ORIGINS)
        except DatabaseError:
            # The database is down (its own middleware answers 503): the site's policy.
            return response
        if origins:
            frameable(response, origins)
        return response


class PartitionedMorsel(Morsel):
    """A cookie sent with the `Partitioned` attribute, which Python's cookies (before
    3.14) and Django's `set_cookie` (5.2) do not know."""

    def OutputString(self, attrs=None):
        return f"{super().OutputString(attrs)}; Partitioned"


def partitioned(morsel: Morsel) -> PartitionedMorsel:
    """The same cookie, `SameSite=None; Secure; Partitioned`: a browser keeps it for the
    one top-level site it was set under (the LMS's page framing the course), and sends
    it back there only."""
    copy = PartitionedMorsel()
    copy.set(morsel.key, morsel.value, morsel.coded_value)
    copy.update(morsel)
    copy["samesite"] = "None"
    copy["secure"] = True
    return copy


def secure_context(request) -> bool:
    """HTTPS, or a loopback host, which browsers treat as secure: a Secure cookie sent
    over plain HTTP anywhere else would be dropped, and the sign-in with it."""
    if request.is_secure():
        return True
    host, _ = split_domain_port(request.get_host())
    return host in LOOPBACK_HOSTS or host.endswith(".localhost")


class PartitionedCookiesMiddleware:
    """Inside an LMS's frame, the cookies of the course's own site are third-party ones,
    which Chrome (its third-party cookie phase-out), Safari and Firefox's strict mode
    block. A partitioned cookie (CHIPS) is kept all the same, in a jar of the LMS's
    site: so every cookie a response sets for a session signed in by a launch inside
    a frame goes out partitioned, and the student stays in the frame. Nothing else
    changes: a session signed in at the site itself (by password, or by the launch's
    new-window way in) keeps its first-party `SameSite=Lax` cookies.

    It stands before the session middleware in MIDDLEWARE, to see the session and CSRF
    cookies that the inner middleware set."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not response.cookies or not settings.LTI_PARTITIONED_COOKIES:
            return response
        session = getattr(request, "session", None)
        if session is None or response.status_code >= 500:
            return response
        try:
            # A sign-out empties the session; what it was is kept on the request.
            framed = getattr(request, "lti_partitioned", False) or session.get(SESSION_PARTITIONED)
        except DatabaseError:
            return response
        if framed and secure_context(request):
            for name, morsel in list(response.cookies.items()):
                dict.__setitem__(response.cookies, name, partitioned(morsel))
        return response


@receiver(user_logged_out)
def _remember_partitioned(sender, request, **kwargs) -> None:
    """Signing out in the frame removes the partitioned session cookie: the removal
    goes out partitioned too, though the session that said so is gone."""
    if request is not None and hasattr(request, "session"):
        request.lti_partitioned = bool(request.session.get(SESSION_PARTITIONED))
