"""After a launch from an LMS, the site's pages may be framed by that LMS only."""

from __future__ import annotations

from django.db import DatabaseError

from lti.tool import frameable

SESSION_ORIGINS = "lti_frame_ancestors"


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
