"""Render reference results as text in the student answer syntax.

An exercise stores its expected answer as text that the engine's parser reads, so the
text must stay inside the syntax of the answer specification: `^` for powers, `e` and
`pi`, the listed functions only, `[a, b]` for vectors, `[[a, b], [c, d]]` for matrices
and `[(1, 2), (3, 4)]` for sets of points. SymPy's own `str()` is not that syntax (it
prints `**`, `E`, `I`, `oo`, `Abs`), hence a printer of our own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps, to_str
from sympy.core.function import AppliedUndef
from sympy.core.numbers import Exp1, ImaginaryUnit, Pi
from sympy.printing.str import StrPrinter

# SymPy function class -> name in the answer syntax. Everything else is refused,
# because the parser would reject it (or, worse, read it differently).
_FUNCTIONS: dict[type, str] = {
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.sec: "sec",
    sp.csc: "csc",
    sp.cot: "cot",
    sp.asin: "asin",
    sp.acos: "acos",
    sp.atan: "atan",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.tanh: "tanh",
    sp.exp: "exp",
    sp.log: "log",
    sp.Abs: "abs",
}

# Names a declared variable cannot take without changing how the text reads.
RESERVED_NAMES = frozenset(
    set(_FUNCTIONS.values()) | {"pi", "sqrt", "log10", "ln", "arcsin", "arccos", "arctan"}
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

_ATOMIC_CLASSES = (sp.Symbol, sp.NumberSymbol, Exp1)

Kind = Literal["auto", "vector", "matrix"]


class AnswerTextError(ValueError):
    """The value has no spelling in the student answer syntax."""


class AnswerPrinter(StrPrinter):
    """A `StrPrinter` whose output the answer parser reads back to the same value.

    `euler` is how Euler's number is written: `e` normally, `exp(1)` when an
    exercise declares a variable called `e`.
    """

    def __init__(self, euler: str = "e") -> None:
        super().__init__({"full_prec": True})
        self._euler = euler

    def _print_Exp1(self, expr: sp.Expr) -> str:
        return self._euler

    def _print_Pi(self, expr: sp.Expr) -> str:
        return "pi"

    def _print_Float(self, expr: sp.Float) -> str:
        return _float_text(expr)

    def _print_Function(self, expr: sp.Expr) -> str:
        name = _function_name(expr)
        return f"{name}({self._print(expr.args[0])})"

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exponent = expr.base, expr.exp
        if exponent is sp.S.Half:
            return f"sqrt({self._print(base)})"
        if exponent == -sp.S.Half:
            return f"1/sqrt({self._print(base)})"
        if exponent is sp.S.NegativeOne:
            return f"1/{self._denominator(base)}"
        return f"{self._power_base(base)}^{self._power_exponent(exponent)}"

    def _denominator(self, expr: sp.Expr) -> str:
        # Division binds left to right, so a denominator needs parentheses unless it
        # is a name, a non-negative integer, a call or a power (`^` binds tighter than
        # `/`) that is not itself printed as a quotient.
        text = self._print(expr)
        if isinstance(expr, sp.Integer) and expr >= 0:
            return text
        if _is_atomic(expr) or isinstance(expr, sp.Function):
            return text
        if isinstance(expr, sp.Pow) and "/" not in text:
            return text
        return f"({text})"

    def _power_base(self, base: sp.Expr) -> str:
        # `^` is right-associative and binds tighter than unary minus, so anything
        # but a name, a non-negative integer or a function call goes in parentheses.
        text = self._print(base)
        if isinstance(base, sp.Integer) and base >= 0:
            return text
        if _is_atomic(base) or isinstance(base, sp.Function):
            return text
        return f"({text})"

    def _power_exponent(self, exponent: sp.Expr) -> str:
        text = self._print(exponent)
        if isinstance(exponent, sp.Integer) and exponent >= 0:
            return text
        if _is_atomic(exponent) or isinstance(exponent, sp.Function):
            return text
        return f"({text})"


def _is_atomic(expr: sp.Expr) -> bool:
    return isinstance(expr, _ATOMIC_CLASSES)


def _function_name(expr: sp.Expr) -> str:
    if isinstance(expr, AppliedUndef):
        name = type(expr).__name__
        if len(expr.args) != 1:
            raise AnswerTextError(f"exercise function {name} must take exactly one argument")
        if not _NAME.match(name) or name in RESERVED_NAMES:
            raise AnswerTextError(f"{name!r} cannot be written as an exercise function name")
        return name
    for cls, name in _FUNCTIONS.items():
        if type(expr) is cls:
            if len(expr.args) != 1:
                raise AnswerTextError(f"{name} with {len(expr.args)} arguments has no spelling")
            return name
    raise AnswerTextError(f"the function {type(expr).__name__} has no spelling in answers")


def _float_text(value: float | sp.Float) -> str:
    if isinstance(value, sp.Float) and value._prec > 53:
        # More digits than a double holds: keep them all, as mpmath writes them.
        if not value.is_finite:
            raise AnswerTextError(f"{value} is not a finite number")
        return _check_number_text(to_str(value._mpf_, prec_to_dps(value._prec)), value)
    number = float(value)
    if not math.isfinite(number):
        raise AnswerTextError(f"{number} is not a finite number")
    return _check_number_text(repr(number), number)


def _check_number_text(text: str, value: object) -> str:
    # repr writes `1e+16` and `inf`, mpmath writes `1.0e+16`: both are scientific
    # notation in the answer syntax; anything else would be a bug here.
    if not re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise AnswerTextError(f"{value!r} has no plain decimal spelling")
    return text


def _validate(expr: sp.Basic) -> None:
    """Refuse anything outside the answer syntax before printing it."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Symbol):
            if not _NAME.match(node.name) or node.name in RESERVED_NAMES:
                raise AnswerTextError(f"{node.name!r} cannot be written as a variable name")
        elif isinstance(node, sp.Float):
            if not node.is_finite:
                raise AnswerTextError(f"{node} is not a finite number")
        elif isinstance(node, sp.Rational | Pi | Exp1):
            continue
        elif isinstance(node, sp.Add | sp.Mul | sp.Pow):
            continue
        elif isinstance(node, sp.Function):
            _function_name(node)
        elif node is sp.I or isinstance(node, ImaginaryUnit):
            raise AnswerTextError("answers are real: the imaginary unit has no spelling")
        elif node.is_Number or node in (sp.oo, -sp.oo, sp.zoo, sp.nan):
            raise AnswerTextError(f"{node} is not a finite real number")
        else:
            raise AnswerTextError(f"{type(node).__name__} has no spelling in answers")


def expression_text(expr: sp.Basic | int | float | Fraction, *, euler: str | None = None) -> str:
    """One scalar (SymPy expression or number) in the answer syntax.

    Euler's number is written `e`, unless the expression has a variable named `e`,
    in which case it is written `exp(1)` (`euler` overrides the choice).
    """
    if isinstance(expr, bool):
        raise AnswerTextError("a truth value is not an answer")
    if isinstance(expr, np.generic):
        expr = expr.item()
    if isinstance(expr, int):
        return str(expr)
    if isinstance(expr, Fraction):
        return expression_text(sp.Rational(expr.numerator, expr.denominator))
    if isinstance(expr, float):
        return _float_text(expr)
    if isinstance(expr, complex):
        raise AnswerTextError("answers are real: complex numbers have no spelling")
    if not isinstance(expr, sp.Basic) or isinstance(expr, sp.MatrixBase):
        raise AnswerTextError(f"{type(expr).__name__} is not a scalar")
    if not isinstance(expr, sp.Expr):
        raise AnswerTextError(f"{type(expr).__name__} is not an expression")
    _validate(expr)
    if euler is None:
        has_e = any(s.name == "e" for s in expr.free_symbols if isinstance(s, sp.Symbol))
        euler = "exp(1)" if has_e else "e"
    return AnswerPrinter(euler=euler).doprint(expr)


def _is_scalar(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.ndim == 0
    if isinstance(value, sp.MatrixBase):
        return False
    return isinstance(value, int | float | Fraction | np.generic | sp.Basic) and not isinstance(
        value, bool
    )


def _rows(value: Any) -> list[list[Any]] | None:
    """The rows of a 2-D value (SymPy matrix, 2-D array, list of lists), else None."""
    if isinstance(value, sp.MatrixBase):
        return [list(value.row(i)) for i in range(value.rows)]
    if isinstance(value, np.ndarray):
        if value.ndim == 2:
            return [list(row) for row in value]
        return None
    if isinstance(value, list) and value and all(isinstance(r, list | np.ndarray) for r in value):
        return [list(r) for r in value]
    return None


def _vector_text(items: Iterable[Any], euler: str | None) -> str:
    return "[" + ", ".join(expression_text(_scalar(v), euler=euler) for v in items) + "]"


def _scalar(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if not _is_scalar(value):
        raise AnswerTextError(f"expected a scalar entry, got {type(value).__name__}")
    return value


def _euler_for(values: Iterable[Any]) -> str:
    for value in values:
        if isinstance(value, sp.Basic) and any(
            isinstance(s, sp.Symbol) and s.name == "e" for s in value.free_symbols
        ):
            return "exp(1)"
    return "e"


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, sp.MatrixBase):
        return list(value)
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    if isinstance(value, list | tuple | set | frozenset):
        out: list[Any] = []
        for item in value:
            out.extend(_flatten(item))
        return out
    return [value]


def to_answer_text(value: Any, *, kind: Kind = "auto") -> str:
    """Render `value` as text in the student answer syntax.

    - a SymPy expression or a number: `3*x^2/4`, `3/4`, `2.0945514815423265`, `pi`;
    - a 1-D sequence or array, or a SymPy matrix with one row or column: a vector
      `[a, b]` (the course's gradient is a 1 x n matrix; a vector answer does not care
      about row or column);
    - a 2-D array, list of lists or SymPy matrix: a matrix `[[a, b], [c, d]]`;
    - a list (or set) of tuples: a set of points `[(1, 2), (3, 4)]`, `[]` if empty.

    `kind="matrix"` keeps a single row or column as a matrix (`[[a, b]]`) and
    `kind="vector"` flattens a matrix with a single row or column. Floats keep every
    digit (`repr`). Raises `AnswerTextError` for what the syntax cannot write
    (complex numbers, infinities, unlisted functions, two-argument functions).
    """
    euler = _euler_for(_flatten(value))
    if isinstance(value, set | frozenset):
        value = sorted(value, key=_point_key)
    if isinstance(value, list) and all(isinstance(p, tuple) for p in value):
        if kind != "auto" and value:
            raise AnswerTextError("a list of points is neither a vector nor a matrix")
        points = (
            "(" + ", ".join(expression_text(_scalar(c), euler=euler) for c in p) + ")"
            for p in value
        )
        return "[" + ", ".join(points) + "]"
    if _is_scalar(value):
        if kind != "auto":
            raise AnswerTextError(f"a scalar is not a {kind}")
        return expression_text(_scalar(value), euler=euler)
    rows = _rows(value)
    if rows is not None:
        if not rows or any(len(r) != len(rows[0]) for r in rows):
            raise AnswerTextError("a matrix needs rows of one common, non-zero length")
        single = len(rows) == 1 or len(rows[0]) == 1
        if kind == "matrix" or (not single and kind == "auto"):
            return "[" + ", ".join(_vector_text(r, euler) for r in rows) + "]"
        if not single:
            raise AnswerTextError(f"a {len(rows)} x {len(rows[0])} matrix is not a vector")
        if kind == "auto" and len(rows) == 1 and len(rows[0]) == 1:
            return expression_text(_scalar(rows[0][0]), euler=euler)
        return _vector_text([v for r in rows for v in r], euler)
    if isinstance(value, np.ndarray | list | tuple):
        items = list(value)
        if kind == "matrix":
            return "[" + _vector_text(items, euler) + "]"
        return _vector_text(items, euler)
    raise AnswerTextError(f"{type(value).__name__} has no spelling in answers")


def _point_key(point: Sequence[Any]) -> tuple[float, ...]:
    return tuple(float(c) for c in point)


__all__ = ["AnswerPrinter", "AnswerTextError", "expression_text", "to_answer_text"]
