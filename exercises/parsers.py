"""The JSON API's parser: DRF's, refusing what no request to the API holds.

It is named in the settings (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES), which DRF
imports before `exercises.api` is ready: hence a module of its own.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request to this API nests deeper than this: `{"answers": {"a": "..."}}` is two.
MAX_DEPTH = 8


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what no request to this API holds: nesting deeper
    than MAX_DEPTH, and lone surrogates (JSON's `"\\ud800"` is valid JSON but no text,
    and neither the database nor a UTF-8 reply can hold it)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("it is nested too deeply.") from None
        problem = _text_problem(data)
        if problem:
            raise ParseError(problem)
        return data


def _text_problem(data) -> str | None:
    """Why `data` is not fit to be read, or None. Walked without recursion: a body
    nested just under the parser's own limit must not exhaust the stack here."""
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"it is nested more than {MAX_DEPTH} deep."
            values = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((value, depth + 1) for value in values)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as e:
                code = ord(item[e.start])
                return f"it holds a lone surrogate (\\u{code:04x}), which is not text."
    return None
