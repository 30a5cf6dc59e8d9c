"""After a launch from an LMS, the site's pages may be framed by that LMS only."""

from __future__ import annotations

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
        origins = session.get(SESSION_ORIGINS) if session.session_key else None
        if origins:
            frameable(response, origins)
        return response
