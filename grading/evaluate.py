"""Syntax trees to real-valued evaluators, with the answer specification's domain rules.

Two evaluators are compiled from one tree:

- a NumPy one that evaluates at many points at once in floating point, used to screen
  an answer quickly (`compile_float`), where NaN means "undefined here";
- an mpmath one (`compile_mp`), which decides: every value carries a bound on its
  error, so that a comparison knows when it is certain; it raises `Undefined` where
  the expression has no real value, and `mp_value` raises the working precision until
  the value is known well enough to compare to a relative 1e-20.

Both evaluate the expression as written. Nothing here simplifies: `sqrt(x)^2` is
undefined for `x < 0`, `x/x` is undefined at 0. Numbers stay exact where they can
(`exact_value` folds constant rational subtrees to a `Fraction`), so that `0.1*10` is
exactly the integer 1 when it is an exponent.

`to_sympy` builds the same tree in SymPy without evaluation, for a symbolic second
opinion; nothing a student typed ever goes through `sympify`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

import numpy as np
from mpmath import libmp as L

from grading import nodes as n


class Undefined(Exception):
    """The expression has no real value at this point (domain rule of the specification)."""


class Unresolved(Exception):
    """The value exists but cannot be computed here (an argument beyond any use)."""


class TooLarge(Unresolved):
    """The value, or the argument of a periodic function in it, is too large to compute."""


class FunctionDef(Protocol):
    """An exercise function (`grading.parser.FunctionDefinition`): abstract when `body` is None."""

    name: str
    param: str | None
    body: object | None


# Stand-ins for an abstract exercise function `f`. An answer must agree with the expected
# one for every smooth `f`; agreeing for all of these, which share no algebraic structure,
# is the practical test. Coefficients are exact fractions so the mpmath side is exact.
ABSTRACT_STANDINS = ("sin", "exp", "poly", "rational")

# Exact integer powers are folded only below these sizes, so that folding stays cheap.
_MAX_FOLD_EXPONENT = 10_000
_MAX_FOLD_BITS = 60_000
# Arguments beyond these make mpmath work too hard for no use: the point is unresolved.
# They are log2 of the argument's size: exp(2^50) and sin(2^4000). mpmath reduces a
# periodic function's argument with as many bits as the argument has, so sin(2^4000)
# costs a 4000-bit reduction; 10^1000, the largest constant an answer may hold, is 2^3322.
_MAX_EXP_MAG = 50
_MAX_TRIG_MAG = 4000
# An argument known only approximately (pi*1e100, 1e300*x/3) must be known to more bits
# than it has before sin of it means anything: beyond 2^256 (about 1e77) the precision
# that takes is not spent, and the value is too large to compute.
_MAX_INEXACT_TRIG_MAG = 256
# A value settled by the size of its argument (tanh of a huge number is +-1, exp of a
# hugely negative one is 0) carries this error bound, 2^-4000, instead of its true one
# (2^-(2^50) and less): far below any tolerance, a small number of bits for exact
# arithmetic, and above `_NEGLIGIBLE`, so that a domain question that hinges on it
# (log(1 - tanh(10^20))) stays unresolved rather than being decided by a zero.
_SETTLED_BITS = 4000


_E = n.Constant("e")


# --- exact folding -----------------------------------------------------------------


def _fold(node, values: dict) -> Fraction | None:
    if isinstance(node, n.Number):
        return node.value
    if isinstance(node, n.Neg):
        v = values[id(node.operand)]
        return None if v is None else -v
    if not isinstance(node, n.BinOp):
        return None
    a, b = values[id(node.left)], values[id(node.right)]
    if a is None or b is None:
        return None
    op = node.op
    if op in "+-*/":
        if op == "/" and b == 0:
            return None
        result = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[op]
        return result if _small(result) else None
    if b.denominator != 1 or abs(b) > _MAX_FOLD_EXPONENT or (a == 0 and b <= 0):
        return None
    size = max(a.numerator.bit_length(), a.denominator.bit_length()) * abs(int(b))
    if size > _MAX_FOLD_BITS:
        return None
    return a ** int(b)


def _small(value: Fraction) -> bool:
    return max(value.numerator.bit_length(), value.denominator.bit_length()) <= _MAX_FOLD_BITS


def exact_values(tree) -> dict[int, Fraction | None]:
    """The exact rational value of every subtree without variables (None where it has none),
    keyed by `id(node)`.

    Only `+ - * /` and integer powers are folded; anything involving `pi`, `e` or a
    function call is not rational in general and is left to the evaluators.
    Iterative, so that a long chain of terms does not exhaust the Python stack.
    """
    values: dict[int, Fraction | None] = {}
    for node in n.postorder(tree):
        values[id(node)] = _fold(node, values)
    return values


def exact_value(tree) -> Fraction | None:
    """The exact rational value of a tree, or None if it is not a rational constant."""
    return exact_values(tree)[id(tree)]


def _as_float(value: Fraction) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _standin_for(name: str, functions: Mapping[str, FunctionDef], variant: int) -> str:
    """The stand-in for abstract function `name` in variant `variant`.

    Different abstract functions get different stand-ins, so that `f(g(x))` and
    `g(f(x))` are told apart.
    """
    abstract = sorted(k for k, d in functions.items() if d.body is None)
    return ABSTRACT_STANDINS[(variant + abstract.index(name)) % len(ABSTRACT_STANDINS)]


# The last table made: an answer is compiled for mpmath and for floats in a row. The
# entry holds the tree and the function table themselves, so their ids stay theirs.
_last_folded: list = [None, None, None]


def _folded_tables(tree, functions: Mapping[str, FunctionDef]) -> dict[int, Fraction | None]:
    last_tree, last_functions, last_table = _last_folded
    if tree is last_tree and (
        functions is last_functions or (not functions and not last_functions)
    ):
        return last_table
    table = exact_values(tree)
    for definition in functions.values():
        if definition.body is not None:
            table.update(exact_values(definition.body))
    _last_folded[:] = [tree, functions, table]
    return table


# --- float (NumPy) evaluator --------------------------------------------------------


def _np_standin(kind: str) -> Callable:
    if kind == "sin":
        return lambda t: np.sin(1.3 * t + 0.4) + 0.3 * t
    if kind == "exp":
        return lambda t: np.exp(0.2 * t) - 0.5
    if kind == "poly":
        return lambda t: 0.1 * t**3 - t**2 + 2 * t - 1.7
    return lambda t: 1 / (1 + t * t) + t / 3


def _np_pow(b, e, exact_exp: Fraction | None):
    if exact_exp is not None and exact_exp.denominator == 1:
        k = int(exact_exp)
        r = np.power(b, float(k))
        if k <= 0:
            r = np.where(b == 0, np.nan, r)
        return r
    r = np.power(b, e)
    # NumPy gives 0^0 = 1 and 0^-1 = inf; the specification leaves both undefined.
    return np.where((b == 0) & (e <= 0), np.nan, r)


_NP_FUNCS: dict[str, Callable] = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "sec": lambda a: 1 / np.cos(a),
    "csc": lambda a: np.where(a == 0, np.nan, 1 / np.sin(a)),
    "cot": lambda a: np.where(a == 0, np.nan, np.cos(a) / np.sin(a)),
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": lambda a: np.where(a <= 0, np.nan, np.log(np.abs(a))),
    "log10": lambda a: np.where(a <= 0, np.nan, np.log10(np.abs(a))),
    "sqrt": np.sqrt,
    "abs": np.abs,
}


def compile_float(
    tree,
    variables: Sequence[str],
    functions: Mapping[str, FunctionDef] | None = None,
    variant: int = 0,
) -> Callable[[Sequence[np.ndarray]], np.ndarray]:
    """A vectorised float evaluator: columns of variable values in, values out (NaN: undefined).

    Infinities mean "too large for a float", not "undefined": the caller must not
    take them as a verdict.
    """
    functions = functions or {}
    index = {name: i for i, name in enumerate(variables)}
    folded = _folded_tables(tree, functions)

    def build(node, scope: Mapping[str, Callable]):
        value = folded[id(node)]
        if value is not None:
            c = _as_float(value)
            return lambda cols: c
        if isinstance(node, n.Symbol):
            if node.name in scope:
                return scope[node.name]
            i = index[node.name]
            return lambda cols: cols[i]
        if isinstance(node, n.Constant):
            c = math.pi if node.name == "pi" else math.e
            return lambda cols: c
        if isinstance(node, n.Neg):
            f = build(node.operand, scope)
            return lambda cols: -f(cols)
        if isinstance(node, n.BinOp):
            f, g = build(node.left, scope), build(node.right, scope)
            op = node.op
            if op == "+":
                return lambda cols: f(cols) + g(cols)
            if op == "-":
                return lambda cols: f(cols) - g(cols)
            if op == "*":
                return lambda cols: f(cols) * g(cols)
            if op == "/":

                def div(cols):
                    d = g(cols)
                    return np.where(d == 0, np.nan, f(cols) / np.where(d == 0, 1.0, d))

                return div
            exact_exp = folded[id(node.right)]
            if node.left == _E and exact_exp is None:
                return lambda cols: np.exp(g(cols))
            return lambda cols: _np_pow(f(cols), g(cols), exact_exp)
        if isinstance(node, n.Call):
            fn = _NP_FUNCS[node.func]
            f = build(node.arg, scope)
            return lambda cols: fn(f(cols))
        if isinstance(node, n.Apply):
            definition = functions.get(node.name)
            if definition is None:
                raise KeyError(node.name)
            f = build(node.arg, scope)
            if definition.body is None:
                fn = _np_standin(_standin_for(node.name, functions, variant))
                return lambda cols: fn(f(cols))
            body = build(definition.body, {definition.param: f})
            return body
        raise TypeError(f"cannot evaluate {type(node).__name__}")

    inner = build(tree, {})

    def evaluate(cols: Sequence[np.ndarray]) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = inner(cols)
            shape = np.shape(cols[0]) if len(cols) else ()
            return np.broadcast_to(np.asarray(out, dtype=float), shape).astype(float)

    return evaluate


# --- mpmath evaluator with error bounds ---------------------------------------------
#
# Values are raw mpmath tuples (`mpmath.libmp`), which is several times faster than mpf
# objects. Each subtree evaluates to a pair (value, error): `error` bounds the absolute
# difference between the computed value and the exact one. Rounding, cancellation and
# the growth of errors through functions are all accounted for, so a comparison can
# say "equal", "different" or "cannot tell at this precision"; in the last case the
# precision is raised. A domain decision (is this argument negative?) is made only
# when the error bound allows it; otherwise the evaluation is `Imprecise` and is
# repeated at a higher precision.


class Imprecise(Exception):
    """The working precision is too low to decide a domain question or a comparison."""


_EP = 32  # precision of the error bounds themselves, always rounded up
_prec = [128]
# True while evaluating at the last working precision (see `_sign`).
_final = [False]
_ZERO = L.fzero
_ONE = L.fone
_NEGLIGIBLE = L.mpf_shift(_ONE, -4096)
_SETTLED = L.mpf_shift(_ONE, -_SETTLED_BITS)

# The largest number of bits any evaluation has worked with since `reset_work_bits`:
# the working precision, or the size of an argument mpmath must reduce on top of it.
# Tests read it to show that no answer drives the precision up without bound.
_work_bits = [0]


def _note_bits(bits: int) -> None:
    if bits > _work_bits[0]:
        _work_bits[0] = bits


def work_bits() -> int:
    """The most bits an evaluation has worked with since the last `reset_work_bits`."""
    return _work_bits[0]


def reset_work_bits() -> None:
    _work_bits[0] = 0


def _ulp(v, extra: int = 1):
    """A bound on the rounding error of a result `v` rounded at the working precision."""
    if v == _ZERO:
        return _ZERO
    return L.mpf_shift(L.mpf_abs(v), extra - _prec[0])


def _eadd(a, b):
    return L.mpf_add(a, b, _EP, "u")


def _emul(a, b):
    return L.mpf_mul(a, b, _EP, "u")


def _ediv(a, b):
    return L.mpf_div(a, b, _EP, "u")


def _efloat(x: float):
    return L.from_float(x, _EP, "u")


def _to_float(x) -> float:
    # Out of range gives +-inf or 0.0, never an exception.
    return L.to_float(x)


def _is_zero(x) -> bool:
    return x == _ZERO


def _mag(x) -> int:
    # log2 of |x|, to within one: exponent plus bit count of the mantissa.
    return x[2] + x[3]


# A binary constant of up to this many bits is kept exact at every precision: 9e999 is
# a 2,323-bit integer times 2^999, and rounded to 128 bits its error alone would make
# sin(9e999) need the highest precision.
_EXACT_CONST_BITS = 4096


def r_const(value: Fraction):
    p, q = value.numerator, value.denominator
    prec = _prec[0]
    if q & (q - 1) == 0 and abs(p).bit_length() <= max(prec, _EXACT_CONST_BITS):
        return L.from_man_exp(p, 1 - q.bit_length()), _ZERO
    v = L.from_rational(p, q, prec, "n")
    return v, _ulp(v)


def r_add(a, b):
    (x, ex), (y, ey) = a, b
    prec = _prec[0]
    if _is_zero(x) or _is_zero(y):
        exact = True
    else:
        span = max(x[2] + x[3], y[2] + y[3]) - min(x[2], y[2])
        exact = span < prec
        if not exact and ex == _ZERO and ey == _ZERO and span < _EXACT_CONST_BITS:
            # Exact operands stay exact while they are small (see `r_const`).
            return L.mpf_add(x, y), _ZERO
    v = L.mpf_add(x, y, prec, "n")
    e = ex if ey == _ZERO else ey if ex == _ZERO else _eadd(ex, ey)
    return v, (e if exact else _eadd(e, _ulp(v)))


def r_neg(a):
    return L.mpf_neg(a[0]), a[1]


def r_sub(a, b):
    return r_add(a, r_neg(b))


def r_mul(a, b):
    (x, ex), (y, ey) = a, b
    prec = _prec[0]
    if ex == _ZERO and ey == _ZERO and prec < x[3] + y[3] <= _EXACT_CONST_BITS:
        # Exact operands stay exact while they are small (see `r_const`): 9e999 x at
        # x = 0.37 is exact, and sin of it is cheap to know at any precision.
        return L.mpf_mul(x, y), _ZERO
    v = L.mpf_mul(x, y, prec, "n")
    # Exact operands (the variables, most constants) are common: skip the terms of
    # the bound that are zero.
    if ex == _ZERO:
        e = _ZERO if ey == _ZERO else _emul(L.mpf_abs(x), ey)
    elif ey == _ZERO:
        e = _emul(L.mpf_abs(y), ex)
    else:
        e = _eadd(_eadd(_emul(L.mpf_abs(x), ey), _emul(L.mpf_abs(y), ex)), _emul(ex, ey))
    if x[3] + y[3] > prec:
        e = _eadd(e, _ulp(v))
    return v, e


def r_div(a, b):
    (x, ex), (y, ey) = a, b
    if _sign(y, ey) == 0:
        raise Undefined
    ay = L.mpf_abs(y)
    v = L.mpf_div(x, y, _prec[0], "n")
    room = L.mpf_sub(ay, ey, _EP, "d")
    e = _ediv(_eadd(ex, _emul(L.mpf_abs(v), ey)), room)
    return v, _eadd(e, _ulp(v))


def _sign(x, ex) -> int:
    """The sign (-1, 0 or 1) of the exact value that `x` approximates to within `ex`.

    Raises Imprecise when the error bound straddles zero. At the last working
    precision, a value within a negligible bound of zero is taken to be zero: an
    expression that is exactly zero but computed inexactly (the argument of
    `sqrt(1/(1+x^2) - 1/(1+x^2) + 0*x)`) looks like that at every precision.
    """
    if _is_zero(ex) or L.mpf_lt(ex, L.mpf_abs(x)):
        return L.mpf_sign(x)
    if _final[0] and L.mpf_le(ex, _NEGLIGIBLE):
        return 0
    raise Imprecise


def _exact(x, ex, v) -> bool:
    """The few exact values of the functions here at exact 0 and 1 (sin 0, exp 0, log 1, ...).

    Keeping them exact lets `(-2)^(1^x)` see an exact integer exponent.
    """
    return _is_zero(ex) and x in (_ZERO, _ONE) and v in (_ZERO, _ONE)


def _lipschitz(fn, a, slope=None):
    """fn applied to a value whose derivative is bounded by `slope` (1 by default)."""
    x, ex = a
    v = fn(x, _prec[0], "n")
    if _exact(x, ex, v):
        return v, _ZERO
    e = ex if slope is None else _emul(ex, slope)
    return v, _eadd(e, _ulp(v, 2))


def _check_trig_arg(x, ex):
    mag = _mag(x)
    if mag > _MAX_TRIG_MAG or (mag > _MAX_INEXACT_TRIG_MAG and not _is_zero(ex)):
        # Reducing the argument modulo 2 pi would take more bits than it has.
        raise TooLarge
    if not _final[0] and not _is_zero(ex) and _mag(ex) > 0:
        # The argument is known only to within more than 1: sin and cos of it say
        # nothing at this precision, and a huge argument makes them costly to compute.
        raise Imprecise
    _note_bits(_prec[0] + max(mag, 0))


def r_sin(a):
    _check_trig_arg(*a)
    return _lipschitz(L.mpf_sin, a)


def r_cos(a):
    _check_trig_arg(*a)
    return _lipschitz(L.mpf_cos, a)


def _settled_negative(x, ex) -> bool:
    """`x` is below -2^49 wherever its error bound lets it be: exp(x) < 2^-(2^49)."""
    return L.mpf_sign(x) < 0 and (_is_zero(ex) or _mag(ex) < _mag(x) - 1)


def r_exp(a):
    x, ex = a
    mag = _mag(x)
    if mag > _MAX_EXP_MAG:
        if _settled_negative(x, ex):
            # Decided by the size: exp(x) is 0 to within 2^-(2^49), which rounds up to
            # the settled bound; mpmath would work with 2^|x| for no use.
            return _ZERO, _SETTLED
        raise TooLarge
    _note_bits(_prec[0] + max(mag, 0))
    v = L.mpf_exp(x, _prec[0], "n")
    if _exact(x, ex, v):
        return v, _ZERO
    if _is_zero(ex):
        return v, _ulp(v, 2)
    f = _to_float(ex)
    if f > 600:
        raise Imprecise
    growth = _efloat(math.expm1(f) * (1 + 1e-9))
    return v, _eadd(_emul(L.mpf_abs(v), growth), _ulp(v, 2))


def r_sinh_cosh(a, which: str):
    x, ex = a
    mag = _mag(x)
    if mag > _MAX_EXP_MAG:
        # e^|x|/2 with |x| > 2^50: no answer's value is that large.
        raise TooLarge
    _note_bits(_prec[0] + max(mag, 0))
    fn = L.mpf_sinh if which == "sinh" else L.mpf_cosh
    v = fn(x, _prec[0], "n")
    if _exact(x, ex, v):
        return v, _ZERO
    if _is_zero(ex):
        return v, _ulp(v, 2)
    f = _to_float(ex)
    if f > 600:
        raise Imprecise
    # |d/dx| = cosh <= |sinh| + 1 and cosh grows by at most exp(error) over the interval.
    factor = _efloat(f * math.exp(f) * (1 + 1e-9))
    return v, _eadd(_emul(_eadd(L.mpf_abs(v), _ONE), factor), _ulp(v, 2))


def r_log(a):
    x, ex = a
    if _sign(x, ex) <= 0:
        raise Undefined
    v = L.mpf_log(x, _prec[0], "n")
    if _exact(x, ex, v):
        return v, _ZERO
    if _is_zero(ex):
        return v, _ulp(v, 2)
    room = L.mpf_sub(x, ex, _EP, "d")
    return v, _eadd(_ediv(ex, room), _ulp(v, 2))


def r_log10(a):
    return r_div(r_log(a), (L.mpf_ln10(_prec[0], "n"), _ulp(L.mpf_ln10(_prec[0], "n"), 2)))


def r_sqrt(a):
    x, ex = a
    sign = _sign(x, ex)
    if sign < 0:
        raise Undefined
    if sign == 0:
        # |sqrt(x) - sqrt(y)| <= sqrt(|x - y|)
        return _ZERO, L.mpf_sqrt(ex, _EP, "u")
    v = L.mpf_sqrt(x, _prec[0], "n")
    if _is_zero(ex):
        return v, _ulp(v)
    room = L.mpf_sqrt(L.mpf_sub(x, ex, _EP, "d"), _EP, "d")
    return v, _eadd(_ediv(ex, L.mpf_shift(room, 1)), _ulp(v))


def r_asin_acos(a, which: str):
    x, ex = a
    ax = L.mpf_abs(x)
    if L.mpf_gt(ax, _ONE):
        if _is_zero(ex) or L.mpf_gt(L.mpf_sub(ax, ex, _EP, "d"), _ONE):
            raise Undefined
        raise Imprecise
    fn = L.mpf_asin if which == "asin" else L.mpf_acos
    v = fn(x, _prec[0], "n")
    if _exact(x, ex, v):
        return v, _ZERO
    if _is_zero(ex):
        return v, _ulp(v, 2)
    top = L.mpf_add(ax, ex, _EP, "u")
    if not L.mpf_lt(top, _ONE):
        raise Imprecise
    room = L.mpf_sqrt(L.mpf_sub(_ONE, L.mpf_mul(top, top, _EP, "u"), _EP, "d"), _EP, "d")
    if _is_zero(room):
        raise Imprecise
    return v, _eadd(_ediv(ex, room), _ulp(v, 2))


def r_abs(a):
    return L.mpf_abs(a[0]), a[1]


def r_pow_int(a, k: int):
    x, ex = a
    if k == 0:
        if _sign(x, ex) == 0:
            raise Undefined
        return _ONE, _ZERO
    if k < 0:
        return r_div((_ONE, _ZERO), r_pow_int(a, -k))
    v = L.mpf_pow_int(x, k, _prec[0], "n")
    if _is_zero(ex):
        exact = x[3] * k <= _prec[0]
        return v, (_ZERO if exact else _ulp(v, 3))
    if _is_zero(x):
        return v, L.mpf_pow_int(ex, k, _EP, "u")
    rho = _to_float(_ediv(ex, L.mpf_abs(x)))
    try:
        growth = math.expm1(k * math.log1p(rho)) * (1 + 1e-9)
    except OverflowError:
        raise Imprecise from None
    if not math.isfinite(growth):
        raise Imprecise
    return v, _eadd(_emul(L.mpf_abs(v), _efloat(growth)), _ulp(v, 3))


def r_pow(a, b):
    x, ex = a
    y, ey = b
    sign = _sign(x, ex)
    if sign == 0:
        if not _is_zero(ex):
            # Nearly zero to a positive power is nearly zero, but by how much depends
            # on the exponent; not worth a bound.
            raise Unresolved
        if _sign(y, ey) > 0:
            return _ZERO, _ZERO
        raise Undefined
    if sign > 0:
        return r_exp(r_mul(b, r_log(a)))
    # A negative base has a real power only for an integer exponent.
    nearest = L.mpf_nint(y, 0, "n") if y[2] < 0 else y
    distance = L.mpf_abs(L.mpf_sub(y, nearest, _prec[0], "n"))
    if _is_zero(distance) and _is_zero(ey):
        k = L.to_int(nearest)
        if abs(k) > 10**6:
            # |x|^k by its logarithm, which `r_exp` settles by size: 0 or too large.
            size = r_exp(r_mul((L.from_int(k), _ZERO), r_log(r_abs(a))))
            return size if k % 2 == 0 else r_neg(size)
        return r_pow_int(a, k)
    if _is_zero(ey) or L.mpf_gt(distance, ey):
        raise Undefined
    raise Imprecise


def r_tanh(a):
    x, ex = a
    mag = _mag(x)
    if mag > _MAX_EXP_MAG:
        # Decided by the size: mpmath would work with 2^|x| internally, and tanh is
        # +-1 to within 2 e^(-2|x|) < 2^-(2^50), which rounds up to the settled bound.
        # (tanh is 1-Lipschitz, so the argument's own error adds to it as it is.)
        v = L.fone if L.mpf_sign(x) > 0 else L.mpf_neg(L.fone)
        return v, _eadd(ex, _SETTLED)
    _note_bits(_prec[0] + max(mag, 0))
    return _lipschitz(L.mpf_tanh, a)


def r_tan(a):
    return r_div(r_sin(a), r_cos(a))


_ONE_PAIR = (_ONE, _ZERO)

_MP_FUNCS: dict[str, Callable] = {
    "sin": r_sin,
    "cos": r_cos,
    "tan": r_tan,
    "sec": lambda a: r_div(_ONE_PAIR, r_cos(a)),
    "csc": lambda a: r_div(_ONE_PAIR, r_sin(a)),
    "cot": lambda a: r_div(r_cos(a), r_sin(a)),
    "asin": lambda a: r_asin_acos(a, "asin"),
    "acos": lambda a: r_asin_acos(a, "acos"),
    "atan": lambda a: _lipschitz(L.mpf_atan, a),
    "sinh": lambda a: r_sinh_cosh(a, "sinh"),
    "cosh": lambda a: r_sinh_cosh(a, "cosh"),
    "tanh": lambda a: r_tanh(a),
    "exp": r_exp,
    "log": r_log,
    "log10": r_log10,
    "sqrt": r_sqrt,
    "abs": r_abs,
}


def _mp_standin(kind: str) -> Callable:
    F = Fraction
    if kind == "sin":
        return lambda t: r_add(
            r_sin(r_add(r_mul(r_const(F(13, 10)), t), r_const(F(2, 5)))),
            r_mul(r_const(F(3, 10)), t),
        )
    if kind == "exp":
        return lambda t: r_sub(r_exp(r_mul(r_const(F(1, 5)), t)), r_const(F(1, 2)))
    if kind == "poly":
        return lambda t: r_add(
            r_add(r_mul(r_const(F(1, 10)), r_pow_int(t, 3)), r_neg(r_pow_int(t, 2))),
            r_sub(r_mul(r_const(F(2)), t), r_const(F(17, 10))),
        )
    return lambda t: r_add(r_div(_ONE_PAIR, r_add(_ONE_PAIR, r_mul(t, t))), r_div(t, r_const(F(3))))


def compile_mp(
    tree,
    variables: Sequence[str],
    functions: Mapping[str, FunctionDef] | None = None,
    variant: int = 0,
) -> Callable[[Sequence], tuple]:
    """An mpmath evaluator: (value, error) pairs of the variables in, a (value, error) pair out.

    Raises `Undefined` where the expression has no real value, `Imprecise` where the
    working precision cannot decide, `Unresolved` where it cannot reasonably be
    computed. Call it through `mp_value`, which sets the precision.
    """
    functions = functions or {}
    index = {name: i for i, name in enumerate(variables)}
    folded = _folded_tables(tree, functions)
    repeated = _repeated_subtrees(tree, folded)
    shared: dict[int, Callable] = {}
    top: dict[str, Callable] = {}

    def build(node, scope: Mapping[str, Callable]):
        if scope is top and id(node) in repeated:
            key = repeated[id(node)]
            f = shared.get(key)
            if f is None:
                f = shared[key] = _once_per_evaluation(build_node(node, scope))
            return f
        return build_node(node, scope)

    def const(value: Fraction):
        # Rounded once per precision.
        cell = [None, None]

        def get(env):
            if cell[0] != _prec[0]:
                cell[0] = _prec[0]
                cell[1] = r_const(value)
            return cell[1]

        return get

    def build_node(node, scope: Mapping[str, Callable]):
        value = folded[id(node)]
        if value is not None:
            return const(value)
        if isinstance(node, n.Symbol):
            if node.name in scope:
                return scope[node.name]
            i = index[node.name]
            return lambda env: env[i]
        if isinstance(node, n.Constant):
            fn = L.mpf_pi if node.name == "pi" else L.mpf_e

            def constant(env):
                v = fn(_prec[0], "n")
                return v, _ulp(v)

            return constant
        if isinstance(node, n.Neg):
            f = build(node.operand, scope)
            return lambda env: r_neg(f(env))
        if isinstance(node, n.BinOp):
            f, g = build(node.left, scope), build(node.right, scope)
            op = node.op
            if op == "+":
                return lambda env: r_add(f(env), g(env))
            if op == "-":
                if node.left == node.right:
                    # The same subtree twice: the difference is exactly zero wherever it is
                    # defined, though the two roundings' error bounds do not know it.
                    def same(env):
                        f(env)
                        return _ZERO, _ZERO

                    return same
                return lambda env: r_sub(f(env), g(env))
            if op == "*":
                return lambda env: r_mul(f(env), g(env))
            if op == "/":
                return lambda env: r_div(f(env), g(env))
            exact_exp = folded[id(node.right)]
            if exact_exp is not None and exact_exp.denominator == 1:
                k = int(exact_exp)
                return lambda env: r_pow_int(f(env), k)
            if node.left == _E:
                # e^u is exp(u) for every real u; no need for log(e).
                return lambda env: r_exp(g(env))
            return lambda env: r_pow(f(env), g(env))
        if isinstance(node, n.Call):
            fn = _MP_FUNCS[node.func]
            f = build(node.arg, scope)
            return lambda env: fn(f(env))
        if isinstance(node, n.Apply):
            definition = functions.get(node.name)
            if definition is None:
                raise KeyError(node.name)
            f = build(node.arg, scope)
            if definition.body is None:
                fn = _mp_standin(_standin_for(node.name, functions, variant))
                return lambda env: fn(f(env))
            return build(definition.body, {definition.param: f})
        raise TypeError(f"cannot evaluate {type(node).__name__}")

    return build(tree, top)


# Counts the evaluations of `mp_value`, one per point and precision, so that a subtree
# that occurs several times in an answer is evaluated once in each.
_serial = [0]


def _repeated_subtrees(tree, folded: dict) -> dict[int, int]:
    """The subtrees of `tree` that occur more than once, as id(node) -> a key shared by
    the equal ones. Leaves and constants are cheap and left out.

    Pasting one costly term fifty times must not cost fifty times as much. Equal
    subtrees are found in one pass, by numbering each node's structure from its
    children's numbers (comparing or hashing whole subtrees would be quadratic in a
    long chain).
    """
    numbers: dict[tuple, int] = {}
    of_node: dict[int, int] = {}
    counts: dict[int, int] = {}
    for node in n.postorder(tree):
        if isinstance(node, n.Number):
            shape = ("Number", node.value, node.text)
        elif isinstance(node, n.Symbol | n.Constant):
            shape = (type(node).__name__, node.name)
        else:
            shape = (
                type(node).__name__,
                getattr(node, "op", None)
                or getattr(node, "func", None)
                or getattr(node, "name", None),
                *(of_node[id(child)] for child in n.children(node)),
            )
        number = numbers.setdefault(shape, len(numbers))
        of_node[id(node)] = number
        counts[number] = counts.get(number, 0) + 1
    return {
        key: number
        for key, number in of_node.items()
        if counts[number] > 1 and folded.get(key) is None
    }


def _once_per_evaluation(f: Callable) -> Callable:
    cell: list = [None, None, None]  # serial, env, result

    def once(env):
        if cell[0] == _serial[0] and cell[1] is env:
            return cell[2]
        result = f(env)
        cell[0], cell[1], cell[2] = _serial[0], env, result
        return result

    return once


@dataclass(frozen=True)
class MpResult:
    """A value (raw mpmath tuple) known to within `error`, or undefined, or unresolved
    (`too_large` when a value or a periodic function's argument was too large)."""

    value: tuple | None
    error: tuple = _ZERO
    resolved: bool = True
    too_large: bool = False

    @property
    def defined(self) -> bool:
        return self.value is not None and self.resolved

    def to_float(self) -> float:
        return _to_float(self.value) if self.value is not None else math.nan


UNDEFINED = MpResult(None)
UNRESOLVED = MpResult(None, resolved=False)
TOO_LARGE = MpResult(None, resolved=False, too_large=True)

# The first precision settles almost everything; the others are tried when the error
# bound is too wide (cancellation, huge intermediate values) or a domain question is
# too close to call.
PRECISIONS = (128, 512, 1088, 2048, 8192)
_GOOD_BITS = 80
# An error bound this small settles the comparisons of the checkers: `mp_compare`
# counts values within 2^-300 of each other as indistinct, and a value this far above
# the bound (down to about 1e-590 at 2,048 bits) passes the relative test above. Only
# a value that is exactly zero, computed inexactly (a long sum of sin(kx)^2 +
# cos(kx)^2 - 1), keeps failing that test; without this stop it climbs to the last
# precision, whose transcendental functions cost several times the one before.
_SETTLED = L.mpf_shift(_ONE, -1000)


def mp_value(fn, point: Sequence[float]) -> MpResult:
    """Evaluate `fn` at `point` (floats, exact) until the value is known to ~80 bits."""
    env = [(L.from_float(float(p)), _ZERO) for p in point]
    last = None
    last_prec = 0
    try:
        for prec in PRECISIONS:
            _prec[0] = prec
            _final[0] = prec == PRECISIONS[-1]
            _note_bits(prec)
            _serial[0] += 1
            try:
                v, e = fn(env)
            except Imprecise:
                continue
            except (ZeroDivisionError, ValueError, OverflowError):
                # mpmath's own domain errors, should a case slip past the checks above.
                return UNDEFINED
            if _is_zero(e) or L.mpf_le(e, L.mpf_shift(L.mpf_abs(v), -_GOOD_BITS)):
                return MpResult(v, e)
            if L.mpf_le(e, _SETTLED):
                return MpResult(v, e)
            if last is not None and L.mpf_gt(e, L.mpf_shift(last.error, (last_prec - prec) // 2)):
                # The bound hardly shrank with the precision: it is held up by bounds
                # that no precision narrows (tanh(1e20) is 1 within 2^-4000), and a
                # higher precision would give the same answer at a higher cost.
                return MpResult(v, e)
            last, last_prec = MpResult(v, e), prec

        return last if last is not None else UNRESOLVED
    except Undefined:
        return UNDEFINED
    except TooLarge:
        return TOO_LARGE
    except Unresolved:
        return UNRESOLVED
    finally:
        _prec[0] = PRECISIONS[0]
        _final[0] = False


_REL = L.from_float(1e-20)


def mp_compare(answer: MpResult, expected: MpResult, rel=_REL) -> str:
    """Compare |answer - expected| with rel * |expected|, allowing for the error bounds.

    `equal` and `different` are certain. `indistinct`: the two agree to within an error
    bound below 2^-300 (relative to the values, or absolute when they are small), as an
    exact zero computed inexactly does (sin(x)^2 + cos(x)^2 - 1 against 0); the
    checkers count it as equal. `uncertain`: the error bounds are too wide to say
    anything.
    """
    a, b = answer.value, expected.value
    diff = L.mpf_abs(L.mpf_sub(a, b, 256, "n"))
    tol = L.mpf_mul(rel, L.mpf_abs(b), _EP, "d")
    slack = _eadd(_eadd(answer.error, expected.error), L.mpf_shift(diff, -250))
    if L.mpf_le(_eadd(diff, slack), tol):
        return "equal"
    if L.mpf_gt(L.mpf_sub(diff, slack, _EP, "d"), tol):
        return "different"
    size = L.mpf_abs(b) if L.mpf_gt(L.mpf_abs(b), _ONE) else _ONE
    if L.mpf_le(slack, L.mpf_shift(size, -300)):
        return "indistinct"
    return "uncertain"


def mp_number(tree, functions: Mapping[str, FunctionDef] | None = None) -> MpResult:
    """The value of a constant tree."""
    return mp_value(compile_mp(tree, (), functions), ())


def mp_to_fraction(x: tuple) -> Fraction:
    """The exact binary value of a raw mpmath number."""
    sign, man, exp, _ = x
    _note_bits(max(man.bit_length(), abs(exp)))
    value = Fraction(man) * (Fraction(2) ** exp)
    return -value if sign else value


# Exact arithmetic on a number of 2^-(2^50) in size (tanh(10^20)'s distance to 1, or
# (10^-1000)^10000) would hold integers of 2^50 bits: below this size a value counts
# as zero and an error bound as this size, for the comparisons of the numeric rule.
# 2^-16384 is about 10^-4932.
FLUSH_BITS = 16384
_FLUSH = L.mpf_shift(_ONE, -FLUSH_BITS)


def mp_to_interval(result: MpResult) -> tuple[Fraction, Fraction, bool]:
    """`result`'s value and error bound as exact fractions of a bounded size, and
    whether the value was below 2^-FLUSH_BITS in size and taken as zero (its size then
    joins the error bound, which stays a bound)."""
    v, e = result.value, result.error
    flushed = not _is_zero(v) and _mag(v) < -FLUSH_BITS
    if flushed:
        e = _eadd(L.mpf_abs(v), e)
        v = _ZERO
    if not _is_zero(e) and _mag(e) < -FLUSH_BITS:
        e = _FLUSH
    return mp_to_fraction(v), mp_to_fraction(e), flushed


# --- SymPy -------------------------------------------------------------------------


def to_sympy(tree, functions: Mapping[str, FunctionDef] | None = None, symbols: dict | None = None):
    """The tree as an unevaluated SymPy expression (no automatic simplification).

    Abstract exercise functions become undefined SymPy functions; defined ones are
    substituted by their bodies.
    """
    import sympy

    functions = functions or {}
    symbols = symbols if symbols is not None else {}
    calls = {
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "sec": sympy.sec,
        "csc": sympy.csc,
        "cot": sympy.cot,
        "asin": sympy.asin,
        "acos": sympy.acos,
        "atan": sympy.atan,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "tanh": sympy.tanh,
        "exp": sympy.exp,
        "log": sympy.log,
        "abs": sympy.Abs,
    }

    def symbol(name: str):
        if name not in symbols:
            symbols[name] = sympy.Symbol(name, real=True)
        return symbols[name]

    def build(node, scope):
        if isinstance(node, n.Number):
            return sympy.Rational(node.value.numerator, node.value.denominator)
        if isinstance(node, n.Symbol):
            return scope[node.name] if node.name in scope else symbol(node.name)
        if isinstance(node, n.Constant):
            return sympy.pi if node.name == "pi" else sympy.E
        if isinstance(node, n.Neg):
            return sympy.Mul(-1, build(node.operand, scope), evaluate=False)
        if isinstance(node, n.BinOp):
            a, b = build(node.left, scope), build(node.right, scope)
            if node.op == "+":
                return sympy.Add(a, b, evaluate=False)
            if node.op == "-":
                return sympy.Add(a, sympy.Mul(-1, b, evaluate=False), evaluate=False)
            if node.op == "*":
                return sympy.Mul(a, b, evaluate=False)
            if node.op == "/":
                return sympy.Mul(a, sympy.Pow(b, -1, evaluate=False), evaluate=False)
            return sympy.Pow(a, b, evaluate=False)
        if isinstance(node, n.Call):
            a = build(node.arg, scope)
            if node.func == "sqrt":
                return sympy.Pow(a, sympy.Rational(1, 2), evaluate=False)
            if node.func == "log10":
                return sympy.Mul(
                    sympy.log(a, evaluate=False),
                    sympy.Pow(sympy.log(10, evaluate=False), -1, evaluate=False),
                    evaluate=False,
                )
            return calls[node.func](a, evaluate=False)
        if isinstance(node, n.Apply):
            a = build(node.arg, scope)
            definition = functions.get(node.name)
            if definition is None or definition.body is None:
                return sympy.Function(node.name)(a)
            return build(definition.body, {definition.param: a})
        if isinstance(node, n.Group):
            return [build(item, scope) for item in node.items]
        raise TypeError(f"cannot convert {type(node).__name__}")

    return build(tree, {})
