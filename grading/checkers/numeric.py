"""The numeric rule, and the numeric kind.

A number is compared with the expected one within `atol + rtol * |expected|`
(the specification's defaults, or the case's `rtol` and `atol`), in exact rational
arithmetic: a literal is its exact value, anything else its mpmath value with an
error bound. An answer at the boundary of the tolerance, within those error bounds,
counts as correct. The coordinates of points and the entries of vectors and matrices
of a case with tolerances are compared by the same rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from grading import nodes as n
from grading.checkers.base import Checker, reject_expected_group, reject_group
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect
from grading.evaluate import FLUSH_BITS, MpResult, exact_value, mp_number, mp_to_interval


@dataclass
class NumericResult:
    """The outcome of comparing two numbers, with the feedback on a difference."""

    status: str  # equal, close, different
    message: str = ""


def number_value(tree, setting: Setting, who: str) -> tuple[Fraction | None, MpResult | None]:
    """The exact value (Fraction) of a constant tree, or its mpmath value with error bound."""
    if who == "expected" and not is_number(tree, setting):
        raise AuthorError("The expected answer must be a number here, not an expression.")
    exact = exact_value(tree)
    if exact is not None:
        return exact, None
    result = mp_number(tree, setting.functions)
    if not result.defined:
        if result.too_large:
            if who == "expected":
                raise AuthorError(
                    "The expected number holds a value too large to compute"
                    " (exp, sinh or cosh of a huge number, or sin, cos or tan of one)."
                )
            raise Invalid(TOO_LARGE)
        if not result.resolved:
            if who == "expected":
                raise AuthorError("The expected number cannot be evaluated.")
            raise Invalid(
                "Your answer could not be evaluated precisely enough to check it."
                " Write it in a simpler form and submit again."
            )
        if who == "expected":
            raise AuthorError("The expected answer is not a real number.")
        raise Invalid(
            "Your answer is not a real number (check for a division by zero"
            " and the arguments of sqrt, log and powers)."
        )
    return None, result


TOO_LARGE = (
    "Your answer holds a value too large to compute (exp, sinh or cosh of a huge"
    " number, or sin, cos or tan of one). Write it in a simpler form and submit again."
)


def is_number(tree, setting: Setting) -> bool:
    """No variables and no abstract functions: a tree with one value."""
    if n.free_symbols(tree):
        return False
    return not any(
        setting.functions.get(name) is not None and setting.functions[name].body is None
        for name in n.applied_functions(tree)
    )


def as_interval(exact: Fraction | None, approx: MpResult | None) -> tuple[Fraction, Fraction]:
    """`number_value`'s result as (value, error bound), both exact."""
    return _interval(exact, approx)[:2]


def _interval(exact: Fraction | None, approx: MpResult | None) -> tuple[Fraction, Fraction, bool]:
    # A value below 2^-FLUSH_BITS counts as zero within that bound (`mp_to_interval`).
    if exact is not None:
        return exact, Fraction(0), False
    return mp_to_interval(approx)


# Below this, a tolerance or an expected value is in the range where values count as zero.
_TINY = Fraction(1, 2 ** (FLUSH_BITS - 64))


def compare_numbers(
    expected, answer, setting: Setting, rtol: Fraction, atol: Fraction
) -> NumericResult:
    e, e_err, e_flushed = _interval(*number_value(expected, setting, "expected"))
    a, a_err, a_flushed = _interval(*number_value(answer, setting, "answer"))
    if (e_flushed or a_flushed) and atol < _TINY and abs(e) + e_err < _TINY:
        # Comparing at this size would hinge on what was taken as zero.
        if e_flushed:
            raise AuthorError(
                "The expected number is too small to compare (below 10^-4900 in size)"
                " without an absolute tolerance (atol)."
            )
        raise Invalid(
            "Your answer is too small to compare with the expected number"
            " (below 10^-4900 in size). Write it in a simpler form and submit again."
        )
    diff = abs(a - e)
    bound = atol + rtol * abs(e)
    slack = a_err + e_err + rtol * e_err
    if diff + slack <= bound:
        return NumericResult("equal")
    if diff - slack <= bound:
        # Within the error bound of the boundary: the boundary itself counts as correct.
        return NumericResult("equal")
    if e != 0 and abs(a + e) <= bound + slack:
        return NumericResult("different", "Check the sign of your answer.")
    if diff <= 100 * bound + slack or (e != 0 and diff <= abs(e) / 100):
        half = _half_unit(answer)
        if half is not None and diff <= half + slack:
            # The answer is the expected number rounded: more digits would do.
            return NumericResult(
                "close", "Close, but not within the required accuracy: give more digits."
            )
        return NumericResult("close", "Close, but not within the required accuracy.")
    return NumericResult("different", "Your answer is not equal to the expected number.")


def _half_unit(tree) -> Fraction | None:
    """Half a unit in the last digit of a decimal literal (`-1.25` -> 0.005), else None."""
    if isinstance(tree, n.Neg):
        tree = tree.operand
    if not isinstance(tree, n.Number):
        return None
    mantissa, _, exponent = tree.text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    try:
        power = int(exponent) if exponent else 0
    except ValueError:
        return None
    return Fraction(1, 2) * Fraction(10) ** (power - decimals)


def require_number(tree, setting: Setting) -> None:
    """`Invalid` for an answer that holds a variable or an abstract function."""
    names = sorted(n.free_symbols(tree))
    if names:
        raise Invalid(
            f"Your answer must be a number; it contains the variable {names[0]}.", tree.col
        )
    for name in sorted(n.applied_functions(tree)):
        definition = setting.functions.get(name)
        if definition is not None and definition.body is None:
            raise Invalid(
                f"Your answer must be a number; {name} is not a known function here.", tree.col
            )


# --- the numeric kind ----------------------------------------------------------------


_DECIMAL_COMMA = re.compile(r"\s*[-+\u2212]?[0-9]+,[0-9]+\s*")


def _parse_answer(case: Mapping, setting: Setting):
    """The answer's tree; a number typed with a decimal comma gets its own message."""
    text = case["answer"]
    try:
        return setting.parse_answer(text)
    except Invalid:
        if not isinstance(text, str) or not _DECIMAL_COMMA.fullmatch(text):
            raise
        shown = text.strip()
        raise Invalid(
            f"Write a decimal with a point, not a comma: {shown.replace(',', '.')}, not {shown}.",
            text.index(",") + 1,
        ) from None


def _read_number(answer, setting: Setting) -> None:
    reject_group(answer, "a number")
    require_number(answer, setting)


class NumericChecker(Checker):
    """A number, judged by the numeric rule."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        expected = setting.parse_expected(case["expected"])
        reject_expected_group(expected, "a number")
        if not is_number(expected, setting):
            raise AuthorError("The expected answer of a numeric part must be a number.")
        answer = _parse_answer(case, setting)
        _read_number(answer, setting)
        rtol, atol = setting.tolerances()
        result = compare_numbers(expected, answer, setting, rtol, atol)
        if result.status == "equal":
            return correct()
        return incorrect(result.message, close=result.status == "close")

    def read(self, case: Mapping, setting: Setting) -> None:
        _read_number(_parse_answer(case, setting), setting)
