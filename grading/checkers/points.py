"""The points kind: a set of points, each coordinate a number.

Points are compared as sets, coordinates by the numeric rule; the feedback counts
the points missing and the points that are not right, never saying which.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from grading import nodes as n
from grading.checkers.base import Checker
from grading.checkers.numeric import as_interval, number_value, require_number
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect, sentence

_NO_POINTS = {"none", "no points", "no point", "nothing", "empty", "no solution", "\u2205"}


def _parse_answer(case: Mapping, setting: Setting):
    """The answer's tree; "none" and its like get a message asking for []."""
    text = case["answer"]
    try:
        return setting.parse_answer(text)
    except Invalid:
        if not isinstance(text, str) or text.strip().lower() not in _NO_POINTS:
            raise
        raise Invalid("Write [] when there are no points.", None) from None


def _as_points(tree, dimension: int | None) -> list[list] | None:
    if not isinstance(tree, n.Group):
        return None
    items = list(tree.items)
    if not items:
        return []
    if all(isinstance(i, n.Group) for i in items):
        return [list(i.items) for i in items]
    if any(isinstance(i, n.Group) for i in items):
        return None
    if dimension == 1:
        return [[i] for i in items]
    if tree.bracket == "(":
        return [items]
    return None


def _expected_points(case: Mapping, setting: Setting) -> tuple[list[list], int | None]:
    expected = _as_points(setting.parse_expected(case["expected"]), None)
    if expected is None:
        raise AuthorError(
            "The expected answer of a points part must be a list of points, e.g. [(1, 2)]."
        )
    dims = {len(p) for p in expected}
    if len(dims) > 1:
        raise AuthorError("The expected points have different dimensions.")
    return expected, (dims.pop() if dims else None)


def _read_points(case: Mapping, setting: Setting, answer_tree, dimension=None) -> list[list]:
    """The answer's points; Invalid if it is not a list of points of the right dimension."""
    if dimension is None:
        try:
            dimension = _expected_points(case, setting)[1]
        except AuthorError:
            dimension = None
    if isinstance(answer_tree, n.Group) and answer_tree.bracket == "(":
        raise Invalid(
            "Put your points in square brackets, even a single point: [(1, 2)].",
            answer_tree.col,
        )
    answer = _as_points(answer_tree, dimension)
    if answer is None:
        raise Invalid(
            "Your answer should be a list of points, e.g. [(1, 2), (3, 4)], or [] for none.",
            answer_tree.col,
        )
    for k, p in enumerate(answer, start=1):
        if dimension is not None and len(p) != dimension:
            raise Invalid(
                f"Point {k} of your answer has {len(p)} coordinate{'s' if len(p) != 1 else ''};"
                f" points here have {dimension}.",
                answer_tree.col,
            )
        for coordinate in p:
            if isinstance(coordinate, n.Group):
                raise Invalid("A coordinate of a point must be a number.", coordinate.col)
            try:
                require_number(coordinate, setting)
            except Invalid as e:
                raise Invalid(f"Point {k}: {_of_a_coordinate(e.message)}", e.column) from None
    return answer


def _of_a_coordinate(message: str) -> str:
    """A message about "your answer", said of one coordinate of a point."""
    return message.replace("Your answer", "a coordinate").replace("your answer", "the coordinate")


def _point_value(tree, setting: Setting, who: str):
    if who == "answer":
        require_number(tree, setting)
    if isinstance(tree, n.Group):
        if who == "answer":
            raise Invalid("A coordinate of a point must be a number.", tree.col)
        raise AuthorError("A coordinate of an expected point is not a number.")
    return as_interval(*number_value(tree, setting, who))


def _numbers_match(a, e, rtol: Fraction, atol: Fraction) -> bool:
    (av, ae), (ev, ee) = a, e
    diff = abs(av - ev)
    bound = atol + rtol * abs(ev)
    return diff - ae - ee - rtol * ee <= bound


class PointsChecker(Checker):
    """A list of points: the same set as the expected one, in any order."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        expected, dimension = _expected_points(case, setting)
        answer_tree = _parse_answer(case, setting)
        answer = _read_points(case, setting, answer_tree, dimension)
        rtol, atol = setting.tolerances()
        values_e = [[_point_value(c, setting, "expected") for c in p] for p in expected]
        values_a = []
        for k, p in enumerate(answer, start=1):
            try:
                values_a.append([_point_value(c, setting, "answer") for c in p])
            except Invalid as e:
                raise Invalid(f"Point {k}: {_of_a_coordinate(e.message)}", e.column) from None

        def same(p, q) -> bool:
            return all(_numbers_match(x, y, rtol, atol) for x, y in zip(p, q, strict=True))

        missing = sum(1 for p in values_e if not any(same(q, p) for q in values_a))
        extra = sum(1 for q in values_a if not any(same(q, p) for p in values_e))
        details = {"missing": missing, "extra": extra}
        if not missing and not extra:
            return correct(**details)
        parts = []
        if missing:
            parts.append(
                f"{missing} point{'s' if missing != 1 else ''} {'are' if missing != 1 else 'is'} missing"
            )
        if extra:
            parts.append(
                f"{extra} point{'s' if extra != 1 else ''} in your answer"
                f" {'are' if extra != 1 else 'is'} not right"
            )
        return incorrect(sentence("; ".join(parts)), **details)

    def read(self, case: Mapping, setting: Setting) -> None:
        _read_points(case, setting, _parse_answer(case, setting))
