"""Content negotiation for an API that answers in JSON only.

DRF's default reads the request's Accept header on every request to choose among the
view's renderers: a few percent of an API request's CPU during an exam. A view with a
single renderer (every view of the API but the schema's) has nothing to choose from:
it answers with that renderer whatever the client accepts, as most JSON APIs do,
rather than with 406. A view with several renderers (the schema: YAML or JSON) is
negotiated as DRF does.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation


class SingleRendererNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) == 1:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
