"""The shape of a vector or matrix answer, for the grid of input cells beside its box.

The grid (`static/exercises/answer-grid.js`) only writes brackets into the text box,
which stays the answer the form sends: the grid needs the shape the answer is expected
to have, and nothing else of the expected answer reaches the page.
"""

from __future__ import annotations

import logging

from exercises.models import Part
from grading.nodes import Group
from grading.parser import parse, parse_functions

log = logging.getLogger(__name__)

# A grid larger than this is more typing in cells than in brackets.
MAX_CELLS = 36


def answer_shape(part: Part, values: dict) -> str:
    """ "3" for a vector of three, "2x3" for a matrix of two rows and three columns, or ""
    when the part is neither or its shape cannot be told."""
    if part.kind not in (Part.Kind.VECTOR, Part.Kind.MATRIX):
        return ""
    try:
        expected = part.expected_answer(values)
        names = list(parse_functions(part.functions or [])) if part.functions else []
        tree = parse(expected, variables=part.variables or (), functions=names)
    except Exception as e:  # noqa: BLE001
        # Whatever goes wrong (a routine, a template), the page works without the grid:
        # the student types the brackets, and the grader says what it thinks of them.
        log.warning("no answer grid for part %s: %s", part.pk, e)
        return ""
    rows = _rows(tree)
    if rows is None:
        return ""
    if part.kind == Part.Kind.VECTOR:
        # A row or a column is the same vector: the grid shows a column.
        if len(rows) == 1:
            length = len(rows[0])
        elif all(len(row) == 1 for row in rows):
            length = len(rows)
        else:
            return ""
        return str(length) if 1 <= length <= MAX_CELLS else ""
    width = len(rows[0])
    if any(len(row) != width for row in rows) or len(rows) * width > MAX_CELLS:
        return ""
    return f"{len(rows)}x{width}"


def _rows(tree) -> list[tuple] | None:
    """The entries row by row: a flat list is one row."""
    if not isinstance(tree, Group) or tree.bracket == "{" or not tree.items:
        return None
    if all(isinstance(item, Group) and item.bracket == "[" for item in tree.items):
        rows = [item.items for item in tree.items]
        if any(not row or any(isinstance(e, Group) for e in row) for row in rows):
            return None
        return rows
    if any(isinstance(item, Group) for item in tree.items):
        return None
    return [tree.items]
