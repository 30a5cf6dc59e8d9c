"""The setting of a case: its variables and their box, its functions, its tolerances.

Everything a checker needs besides the two answers, read and checked once per case by
`read_setting`; a setting the author got wrong is an `AuthorError`. The setting also
reads answers, so that every kind reads them against the same names.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from grading import nodes as n
from grading.checkers.verdicts import AuthorError, Invalid, sentence
from grading.parser import ParseError, parse, parse_functions

# The box of a variable the case gives no domain for, and the tolerances of the
# numeric rule when the case gives none.
DEFAULT_BOX = (-10.0, 10.0)
DEFAULT_RTOL = Fraction(1, 1000)
DEFAULT_ATOL = Fraction(1, 10**12)


@dataclass(frozen=True)
class Setting:
    """What a case says besides its answers: the box of each variable, the exercise's
    functions (by name: a `FunctionDefinition`, whose body is None for an abstract
    one), and the tolerances it gives (None when it gives none)."""

    variables: tuple[str, ...]
    box: tuple[tuple[float, float], ...]
    functions: Mapping
    rtol: Fraction | None = None
    atol: Fraction | None = None

    @property
    def has_tolerance(self) -> bool:
        """The case gives `rtol` or `atol`: its numbers are compared by the numeric rule."""
        return self.rtol is not None or self.atol is not None

    def tolerances(self) -> tuple[Fraction, Fraction]:
        """`rtol` and `atol` for the numeric rule, the defaults where the case gives none."""
        rtol = self.rtol if self.rtol is not None else DEFAULT_RTOL
        atol = self.atol if self.atol is not None else DEFAULT_ATOL
        return rtol, atol

    def parse_answer(self, text) -> n.Node:
        """The student's answer as a tree; `Invalid` with the parser's message if it cannot be read."""
        try:
            return _parse_answer_cached(_as_text(text), self.variables, tuple(self.functions))
        except ParseError as e:
            raise Invalid(sentence(e.message), e.column) from None

    def parse_expected(self, text) -> n.Node:
        """The expected answer as a tree; `AuthorError` if it cannot be read."""
        try:
            return _parse_cached(_as_text(text), self.variables, tuple(self.functions))
        except ParseError as e:
            raise AuthorError(f"The expected answer cannot be read: {e.message}.") from None


@lru_cache(maxsize=512)
def _parse_cached(text, variables: tuple, functions: tuple) -> n.Node:
    """Expected answers recur (one per part, many students): parse each once."""
    return parse(text, variables, functions)


@lru_cache(maxsize=16)
def _parse_answer_cached(text, variables: tuple, functions: tuple) -> n.Node:
    """A wrong answer is read again for each of the part's known mistakes it is
    compared with (`grading.checkers.mistakes`): the last few are kept."""
    return parse(text, variables, functions)


def _as_text(value):
    """A JSON number stands for the number it writes (0.7854 is "0.7854"); text is text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return value


def _tolerance(case: Mapping, key: str) -> Fraction | None:
    value = case.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AuthorError(f"`{key}` must be a number.")
    try:
        # Through the decimal text, so that 1e-3 is exactly 1/1000.
        result = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise AuthorError(f"`{key}` must be a number.") from None
    if result < 0:
        raise AuthorError(f"`{key}` must not be negative.")
    return result


def read_setting(case: Mapping) -> Setting:
    """The setting of `case`; `AuthorError` saying what is wrong with it."""
    variables = case.get("variables") or []
    if isinstance(variables, str):
        variables = [v.strip() for v in variables.split(",") if v.strip()]
    if not isinstance(variables, list | tuple) or not all(isinstance(v, str) for v in variables):
        raise AuthorError("`variables` must be a list of names.")
    variables = tuple(variables)
    domain = case.get("domain") or {}
    if not isinstance(domain, Mapping):
        raise AuthorError("`domain` must map variables to [low, high].")
    box = []
    for name in variables:
        interval = domain.get(name, DEFAULT_BOX)
        try:
            lo, hi = (float(v) for v in interval)
        except (TypeError, ValueError):
            raise AuthorError(f"The domain of {name} must be [low, high].") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise AuthorError(f"The domain of {name} must be [low, high] with low < high.")
        box.append((lo, hi))
    for name in domain:
        if name not in variables:
            raise AuthorError(f"The domain names {name}, which is not a declared variable.")
    functions = case.get("functions") or []
    if isinstance(functions, str):
        functions = [functions]
    if not isinstance(functions, list | tuple) or not all(isinstance(f, str) for f in functions):
        raise AuthorError("`functions` must be a list of definitions or names.")
    try:
        table = dict(_functions_cached(tuple(functions))) if functions else {}
    except ParseError as e:
        raise AuthorError(f"The exercise's functions cannot be read: {e.message}.") from None
    return Setting(variables, tuple(box), table, _tolerance(case, "rtol"), _tolerance(case, "atol"))


@lru_cache(maxsize=256)
def _functions_cached(definitions: tuple[str, ...]) -> tuple:
    """An exercise's function definitions recur with every answer to it: read them once."""
    return tuple(parse_functions(list(definitions)).items())
