"""The entries of vectors and matrices, and the feedback on a whole list of them.

Each entry is a scalar answer of its own: a number compared by the numeric rule when
the case gives tolerances and the expected entry is a number, otherwise an expression
compared by the expression rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from grading import nodes as n
from grading.checkers.expressions import judge_expression
from grading.checkers.numeric import compare_numbers, is_number, require_number
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid


def judge_entry(expected, answer, setting: Setting) -> tuple[str, str, dict]:
    """(status, message, feedback details) for one entry, by the rule that applies to it."""
    if setting.has_tolerance and is_number(expected, setting):
        return _numeric_entry(expected, answer, setting)
    return judge_expression(expected, answer, setting)


def _numeric_entry(expected, answer, setting: Setting) -> tuple[str, str, dict]:
    require_number(answer, setting)
    rtol, atol = setting.tolerances()
    result = compare_numbers(expected, answer, setting, rtol, atol)
    if result.status == "equal":
        return "correct", "", {}
    return "incorrect", result.message, {"close": result.status == "close"}


def whole_feedback(expected: list, answer: list, setting: Setting) -> str | None:
    """Sign flipped for every entry of a vector or matrix."""
    negated = [n.Neg(e) for e in expected]
    try:
        if all(
            judge_entry(e, a, setting)[0] == "correct"
            for e, a in zip(negated, answer, strict=False)
        ):
            return "Check the signs: your answer is the negative of the expected one."
    except (AuthorError, Invalid):
        return None
    return None


def ordinal_list(numbers: Sequence[int]) -> str:
    """`1`, `1 and 3`, `1, 2 and 4`: positions named in a message."""
    parts = [str(k) for k in numbers]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
