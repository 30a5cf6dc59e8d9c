"""The expected answer of a part for a variant: its template with the values written in,
or the result of a reference routine the exercise calls.

A part's expected answer can be a call instead of a text:

    expected:
      routine: newton_raphson_steps
      args: {f: "x^3 - {{a}}x - 5", x0: 2, steps: 2}

Only the routines in ROUTINES can be called. Text arguments are templates over the
exercise's parameters (see `exercises.variants`), read by the engine's parser and
turned into SymPy with `grading.evaluate.to_sympy`; numbers are taken exactly. The
result is written in the answer syntax by `grading.reference.text.to_answer_text`.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import sympy

from exercises.variants import VariantError, render_data, render_expression
from grading.evaluate import to_sympy
from grading.parser import ParseError, parse
from grading.reference import numeric, regression, symbolic
from grading.reference.text import AnswerTextError, to_answer_text

# Exact iterates grow quickly (Newton-Raphson on a cubic triples the digits each step).
MAX_STEPS = 6


class _Args:
    """A routine's arguments, read on demand with a clear error for the author."""

    def __init__(self, name: str, args: dict):
        self.name = name
        self.args = args
        self.used: set[str] = set()

    def _get(self, key: str, default=None, required: bool = True):
        self.used.add(key)
        if key not in self.args:
            if required and default is None:
                raise VariantError(f"routine {self.name}: missing argument {key!r}")
            return default
        return self.args[key]

    def names(self, key: str, default=None) -> list[sympy.Symbol]:
        value = self._get(key, default)
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and v.isidentifier() for v in items):
            raise VariantError(f"routine {self.name}: {key} must be variable names")
        return [sympy.Symbol(v, real=True) for v in items]

    def expression(self, key: str, variables: list[sympy.Symbol]):
        return self._expression(self._get(key), key, variables)

    def _expression(self, value, key: str, variables: list[sympy.Symbol]):
        text = (
            str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        )
        if not isinstance(text, str):
            raise VariantError(f"routine {self.name}: {key} must be an expression")
        names = [str(v) for v in variables]
        try:
            tree = parse(text, variables=names)
        except ParseError as e:
            raise VariantError(f"routine {self.name}: {key} {text!r}: {e}") from None
        result = to_sympy(tree, symbols={str(v): v for v in variables})
        if isinstance(result, list):
            raise VariantError(f"routine {self.name}: {key} must be one expression")
        return result.doit()

    def expressions(self, key: str, variables: list[sympy.Symbol]) -> list:
        value = self._get(key)
        if not isinstance(value, list):
            raise VariantError(f"routine {self.name}: {key} must be a list")
        return [self._expression(v, key, variables) for v in value]

    def number(self, key: str, default=None):
        value = self._get(key, default)
        result = self._expression(value, key, [])
        if not result.is_number or not result.is_finite:
            raise VariantError(f"routine {self.name}: {key} must be a finite number")
        return result

    def numbers(self, key: str) -> list:
        value = self._get(key)
        if not isinstance(value, list) or not value:
            raise VariantError(f"routine {self.name}: {key} must be a list of numbers")
        out = []
        for item in value:
            number = self._expression(item, key, [])
            if not number.is_number or not number.is_finite:
                raise VariantError(f"routine {self.name}: {key} must be a list of numbers")
            out.append(number)
        return out

    def count(self, key: str, default=None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STEPS:
            raise VariantError(
                f"routine {self.name}: {key} must be a whole number from 0 to {MAX_STEPS}"
            )
        return value

    def finish(self) -> None:
        unknown = set(self.args) - self.used
        if unknown:
            raise VariantError(
                f"routine {self.name}: unknown argument {', '.join(sorted(unknown))}"
            )


def _derivative(a: _Args):
    (x,) = a.names("x", "x")
    return symbolic.derivative(a.expression("f", [x]), x, a.count("n", 1))


def _gradient(a: _Args):
    variables = a.names("variables")
    return symbolic.gradient(a.expression("f", variables), variables)


def _hessian(a: _Args):
    variables = a.names("variables")
    return symbolic.hessian(a.expression("f", variables), variables)


def _jacobian(a: _Args):
    variables = a.names("variables")
    return symbolic.jacobian(a.expressions("functions", variables), variables)


def _taylor_polynomial(a: _Args):
    (x,) = a.names("x", "x")
    return symbolic.taylor_polynomial(a.expression("f", [x]), x, a.number("a"), a.count("n"))


def _value_at(a: _Args):
    variables = a.names("variables")
    f = a.expression("f", variables)
    point = a.numbers("point")
    if len(point) != len(variables):
        raise VariantError("routine value_at: the point needs one number per variable")
    return f.subs(dict(zip(variables, point, strict=True))).doit()


def _settle(value):
    """An iterate: exact while it is rational, else a 30-digit float, so that nested
    irrational expressions do not grow from step to step."""
    value = value.doit()
    if value.is_Rational:
        return value
    if not value.is_number or not value.is_finite:
        raise VariantError("an iterate is not a finite number")
    return sympy.Float(value.evalf(30), 30)


def _newton_raphson_steps(a: _Args):
    """Exactly `steps` iterates from x0, in exact arithmetic (rationals stay rationals)."""
    (x,) = a.names("x", "x")
    f = a.expression("f", [x])
    df = sympy.diff(f, x)
    value = a.number("x0")
    for _ in range(a.count("steps")):
        slope = df.subs(x, value).doit()
        if slope == 0 or not slope.is_finite:
            raise VariantError("routine newton_raphson_steps: the derivative is zero at an iterate")
        value = _settle(value - f.subs(x, value) / slope)
    return value if value.is_Rational else sympy.Float(value, 20)


def _newton_raphson_root(a: _Args):
    (x,) = a.names("x", "x")
    f = a.expression("f", [x])
    df = sympy.diff(f, x)
    result = numeric.newton_raphson(
        lambda v: float(f.subs(x, v)), lambda v: float(df.subs(x, v)), float(a.number("x0"))
    )
    if result.root is None:
        raise VariantError(f"routine newton_raphson_root: Newton-Raphson {result.status}")
    return result.root


def _gradient_descent_steps(a: _Args):
    """Exactly `steps` steps of size gamma from x0, exactly: the point reached."""
    variables = a.names("variables")
    grad = symbolic.gradient(a.expression("f", variables), variables)
    point = a.numbers("x0")
    gamma = a.number("gamma")
    if len(point) != len(variables):
        raise VariantError("routine gradient_descent_steps: x0 needs one number per variable")
    for _ in range(a.count("steps")):
        g = grad.subs(dict(zip(variables, point, strict=True)))
        point = [_settle(p - gamma * gi) for p, gi in zip(point, g, strict=True)]
    return point


def _stationary_points(a: _Args):
    variables = a.names("variables")
    points = symbolic.stationary_points(a.expression("f", variables), variables)
    return [tuple(p.point) for p in points]


def _linfit(a: _Args):
    xs, ys = a.numbers("x"), a.numbers("y")
    if len(xs) != len(ys) or len(xs) < 2:
        raise VariantError("routine linfit: x and y need the same length, at least 2")
    m, c = regression.linfit([float(v) for v in xs], [float(v) for v in ys])
    return [m, c]


ROUTINES: dict[str, Callable[[_Args], object]] = {
    "derivative": _derivative,
    "gradient": _gradient,
    "hessian": _hessian,
    "jacobian": _jacobian,
    "taylor_polynomial": _taylor_polynomial,
    "value_at": _value_at,
    "newton_raphson_steps": _newton_raphson_steps,
    "newton_raphson_root": _newton_raphson_root,
    "gradient_descent_steps": _gradient_descent_steps,
    "stationary_points": _stationary_points,
    "linfit": _linfit,
}

_MATRIX_RESULTS = {"hessian", "jacobian"}


def call(spec: dict, values: dict) -> str:
    """The expected answer text from a routine call `{routine: ..., args: {...}}`."""
    if not isinstance(spec, dict) or set(spec) - {"routine", "args"}:
        raise VariantError("a routine call is {routine: name, args: {...}}")
    name = spec.get("routine")
    if name not in ROUTINES:
        raise VariantError(f"unknown routine {name!r}; one of {', '.join(sorted(ROUTINES))}")
    args = spec.get("args", {})
    if not isinstance(args, dict):
        raise VariantError(f"routine {name}: args must be a mapping")
    reader = _Args(name, render_data(args, values))
    try:
        result = ROUTINES[name](reader)
        reader.finish()
        if isinstance(result, Fraction):
            result = sympy.Rational(result.numerator, result.denominator)
        return to_answer_text(result, kind="matrix" if name in _MATRIX_RESULTS else "auto")
    except VariantError:
        raise
    except (AnswerTextError, ValueError, TypeError, ZeroDivisionError, ArithmeticError) as e:
        raise VariantError(f"routine {name}: {e}") from None


def expected_answer(expected: str, routine: dict | None, values: dict) -> str:
    """The expected answer for these values: a template, or a reference routine's result."""
    if routine:
        return call(routine, values)
    return render_expression(expected, values)
