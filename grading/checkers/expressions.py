"""One checker per kind of answer, and the feedback messages students see.

A checker takes a case (the command-line format of the answer specification) and
returns a `Verdict`. The expression rule is decided numerically, in two stages:

1. both sides are evaluated in floating point at a thousand or more seeded,
   well-spread points of the box (and beside the zeros of `abs`, `sqrt` and `log`
   arguments and denominators); this finds almost every wrong answer at once, and
   says where the two sides seem to differ;
2. every verdict is then confirmed in exact-enough arithmetic (`grading.evaluate`'s
   mpmath evaluator with error bounds): a difference is real only if it survives at
   high precision, and equality is claimed only after high-precision agreement at
   several points. Agreement within float noise is never taken as equality.

Points are random floats, not round numbers, so that they miss the measure-zero sets
where an answer may legitimately be undefined (`(x^2-1)/(x-1)` at 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import numpy as np

from grading import nodes as n
from grading.evaluate import (
    ABSTRACT_STANDINS,
    MpResult,
    compile_float,
    compile_mp,
    exact_value,
    mp_compare,
    mp_number,
    mp_to_fraction,
    mp_value,
    to_sympy,
)
from grading.parser import ParseError, parse, parse_choice, parse_functions

DEFAULT_BOX = (-10.0, 10.0)
DEFAULT_RTOL = Fraction(1, 1000)
DEFAULT_ATOL = Fraction(1, 10**12)
SEED = 20240917

# Two floats this close are "the same to float noise": only mpmath can say more.
_FLOAT_CLOSE = 1e-9
# How many agreeing points are confirmed at high precision before saying "equal".
_CONFIRM_POINTS = 8
_CONFIRM_NOISY = 3
_CONFIRM_SMALL = 2
_FLOAT_NOISE = 1e-13
_CONFIRM_UNCLEAR = 4
_MAX_SUSPECTS = 24
# How many values a typical (median) ratio or difference is taken from.
_TYPICAL = 101


@dataclass(frozen=True)
class Verdict:
    """`status` is correct, incorrect, invalid or error; `details` is JSON-safe.

    The public name is `grading.Verdict` (re-exported by `grading.engine`).
    """

    status: str
    message: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"status": self.status, "message": self.message, "details": self.details}


class AuthorError(Exception):
    """The case itself is wrong (expected answer unreadable or undefined, bad options)."""


class Invalid(Exception):
    """The answer cannot be read as an answer of this kind."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


def correct(message: str = "Correct.", **details) -> Verdict:
    return Verdict("correct", message, details)


def incorrect(message: str, **details) -> Verdict:
    return Verdict("incorrect", message, details)


def invalid(message: str, column: int | None = None, **details) -> Verdict:
    if column is not None:
        details["column"] = column
    return Verdict("invalid", message, details)


def error(message: str, **details) -> Verdict:
    return Verdict("error", message, details)


# --- the setting of a case -----------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    variables: tuple[str, ...]
    box: tuple[tuple[float, float], ...]
    functions: Mapping
    rtol: Fraction | None = None
    atol: Fraction | None = None

    def parse_answer(self, text) -> n.Node:
        try:
            return parse(_as_text(text), self.variables, tuple(self.functions))
        except ParseError as e:
            raise Invalid(_sentence(e.message), e.column) from None

    def parse_expected(self, text) -> n.Node:
        try:
            return _parse_cached(_as_text(text), self.variables, tuple(self.functions))
        except ParseError as e:
            raise AuthorError(f"The expected answer cannot be read: {e.message}.") from None


@lru_cache(maxsize=512)
def _parse_cached(text, variables: tuple, functions: tuple) -> n.Node:
    """Expected answers recur (one per part, many students): parse each once."""
    return parse(text, variables, functions)


def _as_text(value):
    """A JSON number stands for the number it writes (0.7854 is "0.7854"); text is text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return value


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return "Your answer cannot be read."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


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


# --- sample points ---------------------------------------------------------------------


@lru_cache(maxsize=64)
def sample_points(box: tuple[tuple[float, float], ...], count: int) -> tuple[np.ndarray, ...]:
    """Seeded points of the box: mostly uniform, some near each end and near zero.

    The points near the ends and near zero are spread on a logarithmic scale (from a
    few percent of the width down to a billionth), so that an answer that is wrong only
    on a thin slice there is still seen. Never round numbers: an answer may be
    undefined on a set of measure zero (often at integers), and a point there would
    wrongly count against it.
    """
    rng = np.random.default_rng(SEED + count)
    special = int(count * 0.6)
    columns = []
    for lo, hi in box:
        width = hi - lo
        # Stratified: one point in each of `count` equal slices, so no gap is wider
        # than two slices and a narrow bump cannot fall between points.
        u = (np.arange(count) + rng.random(count)) / count
        u = np.clip(rng.permutation(u), 1e-9, 1 - 1e-9)
        uniform = lo + width * u
        kind = rng.random(special)
        closeness = width * 0.05 * 10.0 ** (-8 * rng.random(special))
        extra = np.where(kind < 0.33, lo + closeness, hi - closeness)
        if lo < 0 < hi:
            near_zero = kind >= 0.66
            sign = np.where(rng.random(special) < 0.5, -1.0, 1.0)
            small = sign * min(0.5, hi, -lo) * 10.0 ** (-9 * rng.random(special))
            extra[near_zero] = small[near_zero]
        columns.append(np.concatenate([uniform, extra]))
    return tuple(columns)


def _point_count(nvars: int) -> int:
    # The float stage is cheap (NumPy over whole arrays); only a handful of these
    # points are ever evaluated at high precision.
    return {0: 1, 1: 1000, 2: 1500}.get(nvars, 2000)


# --- the expression rule ---------------------------------------------------------------


@dataclass
class Comparison:
    """The outcome of comparing two scalar expressions over the box."""

    # equal, different, answer_undefined, expected_nowhere, answer_unresolved, unknown
    status: str
    message: str = ""
    where: str | None = None
    # For feedback: sign, factor, constant, partial, undefined, nowhere_real, different.
    reason: str | None = None


def _uses_abstract_function(trees: Sequence, functions: Mapping) -> bool:
    used: set[str] = set()
    for tree in trees:
        used |= n.applied_functions(tree)
    for name in list(used):
        definition = functions.get(name)
        if definition is not None and definition.body is not None:
            used |= n.applied_functions(definition.body)
    return any(functions.get(name) is not None and functions[name].body is None for name in used)


def compare_expressions(expected, answer, setting: Setting) -> Comparison:
    """The expression rule of the specification, for one pair of scalar trees."""
    if answer == expected and _defined_somewhere(expected, setting):
        # The same tree (typed with other spacing or implicit products) is the same
        # function, defined where the expected answer is: nothing to compare.
        return Comparison("equal")
    variants = (
        len(ABSTRACT_STANDINS)
        if _uses_abstract_function((expected, answer), setting.functions)
        else 1
    )
    result = Comparison("equal")
    for variant in range(variants):
        result = _compare_once(expected, answer, setting, variant)
        if result.status != "equal":
            return result
    return result


def _defined_somewhere(expected, setting: Setting) -> bool:
    """The expected answer is real and finite at one of the sample points at least."""
    fe_m, fe_f = _compiled(expected, setting, 0)
    if not setting.variables:
        return _value(fe_m, ()).defined
    return bool(
        np.isfinite(_on_sample(fe_f, setting.box, _point_count(len(setting.variables)))).any()
    )


def _fmt(value: float) -> str:
    text = f"{value:.6g}"
    return "0" if text in {"-0", "0"} else text


def _describe_point(setting: Setting, cols, i: int) -> str:
    return ", ".join(
        f"{name} = {_fmt(float(c[i]))}" for name, c in zip(setting.variables, cols, strict=False)
    )


def _nice_between(a: float, b: float) -> float:
    """A short number in [a, b] (a <= b), preferring 0 and integers."""
    if a <= 0 <= b:
        return 0.0
    for digits in range(0, 6):
        scale = 10**digits
        candidate = math.ceil(a * scale) / scale
        if candidate <= b:
            return candidate
    return (a + b) / 2


def _describe_region(setting: Setting, cols, bad: np.ndarray, good: np.ndarray) -> str | None:
    """`x < 0` when the bad points are exactly those on one side of a threshold."""
    if not bad.any() or not good.any():
        return None
    for name, c, (lo, hi) in zip(setting.variables, cols, setting.box, strict=False):
        xb, xg = c[bad], c[good]
        # A threshold at the edge of the box says nothing (`x > 10` on [-10, 10]).
        if xb.max() < xg.min():
            threshold = _nice_between(float(xb.max()), float(xg.min()))
            if lo < threshold < hi:
                return f"{name} < {_fmt(threshold)}"
        if xb.min() > xg.max():
            threshold = _nice_between(float(xg.max()), float(xb.min()))
            if lo < threshold < hi:
                return f"{name} > {_fmt(threshold)}"
    return None


class _Remembering:
    """An mpmath evaluator of an expected answer that keeps its values at the points asked.

    The sample points are seeded, so the answers to one part are confirmed at many of
    the same points; the expected side is computed there once. A value depends on
    nothing but the evaluator and the point.
    """

    __slots__ = ("fn", "values")
    _KEEP = 128

    def __init__(self, fn):
        self.fn = fn
        self.values: dict[tuple[float, ...], MpResult] = {}

    def __call__(self, env):
        return self.fn(env)

    def at(self, point: tuple[float, ...]) -> MpResult:
        result = self.values.get(point)
        if result is None:
            result = mp_value(self.fn, point)
            if len(self.values) >= self._KEEP:
                del self.values[next(iter(self.values))]
            self.values[point] = result
        return result


def _value(fn, point: tuple[float, ...]) -> MpResult:
    return fn.at(point) if isinstance(fn, _Remembering) else mp_value(fn, point)


def _mp_at(fn, cols, i: int) -> MpResult:
    return _value(fn, tuple([float(c[i]) for c in cols]))


def _undefined_confirmed(fe, fa, cols, i: int) -> bool:
    """The answer is undefined at point i and at a nearby point: not a measure-zero accident.

    Each coordinate moves by a different amount, so that a point on a line such as
    x = y (where `(x - y)/(sqrt(x) - sqrt(y))` is undefined) leaves it.
    """
    nudged = tuple(
        float(c[i]) * (1 + 3.1e-7 * (k + 1)) + 1.7e-9 * (1 + 0.618 * k) for k, c in enumerate(cols)
    )
    e2 = _value(fe, nudged)
    a2 = _value(fa, nudged)
    return e2.defined and a2.resolved and a2.value is None


@lru_cache(maxsize=512)
def _compiled_cached(tree, variables: tuple, functions: tuple, variant: int):
    table = dict(functions)
    fe_f = compile_float(tree, variables, table, variant)
    fe_f.near_zeros = {}  # see _near_expected_zeros
    return _Remembering(compile_mp(tree, variables, table, variant)), fe_f


@lru_cache(maxsize=128)
def _on_sample(fn, box: tuple, count: int) -> np.ndarray:
    """The values of an expected answer's float evaluator at the seeded sample points."""
    values = fn(sample_points(box, count))
    values.flags.writeable = False
    return values


def _compiled(tree, setting: Setting, variant: int):
    """The mpmath and float evaluators of a tree.

    Every student's answer to a part is compared with the same expected answer, so
    its evaluators are kept (trees and function definitions are immutable).
    """
    functions = tuple(sorted(setting.functions.items()))
    try:
        return _compiled_cached(tree, setting.variables, functions, variant)
    except TypeError:  # something unhashable: compile afresh
        return (
            compile_mp(tree, setting.variables, setting.functions, variant),
            compile_float(tree, setting.variables, setting.functions, variant),
        )


def _compare_once(expected, answer, setting: Setting, variant: int) -> Comparison:
    variables = setting.variables
    fe_m, fe_f = _compiled(expected, setting, variant)
    fa_m = compile_mp(answer, variables, setting.functions, variant)
    if not variables:
        e = _value(fe_m, ())
        if not e.defined:
            if not e.resolved:
                return Comparison("unknown")
            return Comparison("expected_nowhere")
        a = mp_value(fa_m, ())
        if not a.resolved:
            return Comparison("answer_unresolved")
        if a.value is None:
            return Comparison(
                "answer_undefined",
                "Your answer is undefined (not a real number).",
                reason="nowhere_real",
            )
        verdict = mp_compare(a, e)
        if verdict == "different":
            return _constant_feedback(a, e)
        return _conclude(expected, answer, setting, [verdict])

    fa_f = compile_float(answer, variables, setting.functions, variant)
    count = _point_count(len(variables))
    cols = sample_points(setting.box, count)
    E = _on_sample(fe_f, setting.box, count)
    if np.isfinite(E).sum() < 12:
        # The expected answer is defined on a small part of the box: look harder.
        count = 4000
        cols = sample_points(setting.box, count)
        E = _on_sample(fe_f, setting.box, count)
    base = cols[0].shape[0]
    near = _near_expected_zeros(expected, fe_f, setting, variant, count)
    extra = _points_near_boundaries((expected, answer), setting, variant, count)
    column_parts, value_parts = [cols], [E]
    if near is not None:
        column_parts.append(near[0])
        value_parts.append(near[1])
    if extra is not None:
        column_parts.append(extra)
        value_parts.append(fe_f(extra))
    if len(column_parts) > 1:
        cols = tuple(np.concatenate(c) for c in zip(*column_parts, strict=True))
        E = np.concatenate(value_parts)
    fragile_count = 0 if near is None else near[1].shape[0]
    A = fa_f(cols)
    eok, aok = np.isfinite(E), np.isfinite(A)
    both = eok & aok
    with np.errstate(all="ignore"):
        scale = np.maximum(np.abs(E), np.abs(A))
        rel = np.where(both, np.abs(A - E) / np.where(scale == 0, 1.0, scale), np.inf)
    # The points beside the expected answer's zeros follow the sample. There floats lose most
    # of their relative precision to cancellation, so a float difference means little:
    # they are left to the high-precision confirmation (the smallest values first).
    fragile = np.zeros(E.shape[0], dtype=bool)
    fragile[base : base + fragile_count] = True
    close = both & ((rel <= _FLOAT_CLOSE) | fragile)
    suspect = eok & ~close
    # Floats overflow (inf) and may turn an overflow into NaN (inf - inf): such points
    # are looked at in mpmath too, a few of them.
    unclear = ~eok

    if not eok.any():
        # Ask mpmath before blaming the author.
        tried = np.flatnonzero(unclear)[:: max(1, unclear.sum() // 16)][:16]
        if not any(_mp_at(fe_m, cols, i).defined for i in tried):
            return Comparison("expected_nowhere")

    outcomes: list[str] = []
    # Stage 1: try to confirm a difference where the floats see one.
    suspects = np.flatnonzero(suspect)
    if suspects.size:
        # The largest float differences first, then points where the answer is not a
        # finite float (undefined, or an overflow that only mpmath can judge), then a
        # random sample of the rest.
        finite = suspects[aok[suspects]]
        if finite.size > 3:
            finite = finite[np.argpartition(-rel[finite], 2)[:3]]
        finite = finite[np.argsort(-rel[finite], kind="stable")]
        other = suspects[~aok[suspects]]
        head = [*finite, *other[:: max(1, other.size // 3)][:3]]
        for i in _then_a_sample(head, suspects, E.shape[0]):
            outcome, e_i, a_i = _judge_point_values(fe_m, fa_m, cols, i)
            if outcome in {"different", "undefined"}:
                return _feedback(
                    outcome,
                    setting,
                    cols,
                    E,
                    A,
                    eok,
                    aok,
                    close,
                    i,
                    _Judged(fe_m, fa_m, e_i, a_i, base),
                )
            outcomes.append(outcome)
            if _costly(outcomes):
                break

    # Stage 2: confirm equality at high precision where the floats agree (or overflow).
    agreeing = np.flatnonzero(close)
    # Where the floats differ by more than their own rounding noise, a real difference
    # too small for floats to be sure of may hide (a narrow bump): look there first.
    noisy = agreeing[rel[agreeing] > _FLOAT_NOISE]
    if noisy.size > _CONFIRM_NOISY:
        noisy = noisy[np.argpartition(-rel[noisy], _CONFIRM_NOISY - 1)[:_CONFIRM_NOISY]]
    if noisy.size:
        noisy = noisy[np.argsort(-rel[noisy], kind="stable")]
    # Where the expected value is smallest, a relative 1e-20 is the smallest absolute
    # difference: a tiny constant added to the answer shows there first.
    smallest = agreeing[E[agreeing] != 0]
    if smallest.size > _CONFIRM_SMALL:
        smallest = smallest[np.argpartition(np.abs(E[smallest]), _CONFIRM_SMALL - 1)]
    chosen = (
        list(noisy)
        + list(smallest[:_CONFIRM_SMALL])
        + (
            list(agreeing[np.linspace(0, agreeing.size - 1, _CONFIRM_POINTS).astype(int)])
            if agreeing.size
            else []
        )
    )
    unclear_idx = np.flatnonzero(unclear)
    if unclear_idx.size:
        chosen += list(
            unclear_idx[np.linspace(0, unclear_idx.size - 1, _CONFIRM_UNCLEAR).astype(int)]
        )
    confirmed: list[str] = []
    for i in dict.fromkeys(chosen):
        if _costly(confirmed):
            break
        outcome, e_i, a_i = _judge_point_values(fe_m, fa_m, cols, i)
        if outcome in {"different", "undefined"}:
            return _feedback(
                outcome,
                setting,
                cols,
                E,
                A,
                eok,
                aok,
                close,
                i,
                _Judged(fe_m, fa_m, e_i, a_i, base),
            )
        confirmed.append(outcome)
    return _conclude(expected, answer, setting, outcomes + confirmed)


def _then_a_sample(head: list, suspects: np.ndarray, size: int):
    """The points of `head`, then a seeded sample of the other suspects (drawn only if needed)."""
    yield from head
    taken = np.zeros(size, dtype=bool)
    taken[head] = True
    rest = suspects[~taken[suspects]]
    if rest.size:
        rng = np.random.default_rng(SEED)
        yield from rng.choice(rest, size=min(rest.size, _MAX_SUSPECTS - 6), replace=False)


def _costly(outcomes: list[str]) -> bool:
    # Each indistinct or uncertain point has cost the highest working precision; a few
    # of them say all that more would.
    return sum(o in {"indistinct", "uncertain"} for o in outcomes) >= 3


def _conclude(expected, answer, setting: Setting, outcomes: list[str]) -> Comparison:
    if "equal" in outcomes or "indistinct" in outcomes:
        # "indistinct": agreement to thousands of bits, though the error bounds cannot
        # rule out a still smaller difference; this is how an exact zero computed
        # inexactly looks (sin(x)^2 + cos(x)^2 - 1 against 0). A difference hidden
        # below 2^-8000 of the values involved is not something a typed answer holds.
        return Comparison("equal")
    if "uncertain" in outcomes and symbolic_zero(expected, answer, setting):
        # The error bounds were too wide everywhere (x^10000 at |x| > 1): numbers
        # alone cannot settle it, a symbolic proof can.
        return Comparison("equal")
    if "uncertain" in outcomes or "skip_answer" in outcomes:
        return Comparison("answer_unresolved")
    if outcomes and all(o == "expected_undefined" for o in outcomes):
        # Floats thought it defined somewhere (cos(x) - 1 rounds to 0 near x = 0),
        # but wherever it was looked at closely, it is not.
        return Comparison("expected_nowhere")
    return Comparison("unknown")


def symbolic_zero(expected, answer, setting: Setting) -> bool:
    """SymPy proves answer - expected == 0.

    Asked only where the numbers could not be computed precisely enough; SymPy's
    rewriting ignores the real-domain rules, so it never overrules a numeric verdict.
    """
    import sympy

    try:
        symbols: dict = {}
        difference = to_sympy(answer, setting.functions, symbols) - to_sympy(
            expected, setting.functions, symbols
        )
        return sympy.simplify(difference) == 0
    except Exception:  # noqa: BLE001 - any failure to prove is "not proved"
        return False


def _critical_subtrees(trees) -> list:
    """Subtrees whose zeros are where an expression may change its formula or its domain.

    Arguments of `abs`, `sqrt` and `log`, `asin`/`acos` arguments at +-1, denominators,
    and bases of fractional powers. An answer can be wrong only on a thin slab beside
    such a zero (`x + (0.001 - |x - 3|) + |0.001 - |x - 3||`), which random points miss.
    """
    found = []
    for tree in trees:
        for node in n.walk(tree):
            if isinstance(node, n.Call) and node.func in {"abs", "sqrt", "log", "log10"}:
                found.append(node.arg)
            elif isinstance(node, n.Call) and node.func in {"asin", "acos"}:
                found.append(n.BinOp("-", node.arg, n.Number(Fraction(1), "1")))
                found.append(n.BinOp("+", node.arg, n.Number(Fraction(1), "1")))
            elif isinstance(node, n.BinOp) and node.op == "/":
                found.append(node.right)
            elif isinstance(node, n.BinOp) and node.op == "^":
                exponent = exact_value(node.right)
                if exponent is None or exponent.denominator != 1:
                    found.append(node.left)
    unique = list(dict.fromkeys(found))
    return [t for t in unique if n.free_symbols(t)][:_MAX_CRITICAL]


_MAX_CRITICAL = 24
_MAX_ROOTS = 120
# Distances from a zero, as fractions of the box's width, at which points are added.
_OFFSETS = (1e-9, 1e-7, 1e-5, 1e-3)
# Beside the zeros of the expected answer itself a relative 1e-20 is a tiny absolute
# difference (x + 1e-30 differs from x only for |x| < 1e-10): points much closer.
_NEAR_ZERO_OFFSETS = (1e-14, 1e-12)
_MAX_EXPECTED_ZEROS = 40
# Root finding: halve the bracket this often, then refine by false position (Illinois).
_BISECTIONS = 10
_FALSE_POSITIONS = 6


def _points_near_boundaries(trees, setting: Setting, variant: int, count: int) -> tuple | None:
    """Points on both sides of the zeros of the critical subtrees, or None if there are none.

    The zeros are found on segments between pairs of the `count` sample points whose
    values differ in sign, so this works in any number of variables.
    """
    added = []
    functions = tuple(sorted(setting.functions.items()))
    for subtree in _critical_subtrees(trees):
        found = _zeros_of(subtree, setting, functions, variant, count, _MAX_ROOTS)
        if found is not None:
            roots, directions = found
            added += [roots + sign * o * directions for o in _OFFSETS for sign in (-1.0, 1.0)]
    return _inside(added, setting.box)


def _near_expected_zeros(expected, fe_f, setting: Setting, variant: int, count: int):
    """Points very close to the zeros of the expected answer, and its values there; or None.

    There a relative 1e-20 is a tiny absolute difference (x + 1e-30 differs from x only
    for |x| < 1e-10). They depend on the expected answer alone, so they are kept with
    its float evaluator.
    """
    memo = getattr(fe_f, "near_zeros", None)
    key = (setting.box, count)
    if memo is not None and key in memo:
        return memo[key]
    result = None
    if n.free_symbols(expected):
        functions = tuple(sorted(setting.functions.items()))
        found = _zeros_of(expected, setting, functions, variant, count, _MAX_EXPECTED_ZEROS)
        if found is not None:
            roots, directions = found
            near = [
                roots + sign * o * directions for o in _NEAR_ZERO_OFFSETS for sign in (-1.0, 1.0)
            ]
            points = _inside(near, setting.box)
            values = fe_f(points)
            values.flags.writeable = False
            result = (points, values)
    if memo is not None:
        memo[key] = result
    return result


def _zeros_of(subtree, setting: Setting, functions: tuple, variant: int, count: int, limit: int):
    key = (subtree, setting.variables, functions, setting.box, variant, count, limit)
    try:
        return _zeros(*key)
    except TypeError:  # something unhashable: find them afresh
        return _zeros.__wrapped__(*key)


def _inside(arrays: list, box) -> tuple | None:
    """The rows of `arrays`, moved into the box, as columns; None if there are none."""
    if not arrays:
        return None
    lows = np.array([lo for lo, _ in box])
    highs = np.array([hi for _, hi in box])
    return tuple(np.clip(np.concatenate(arrays), lows, highs).T)


@lru_cache(maxsize=1024)
def _zeros(
    subtree, variables: tuple, functions: tuple, box: tuple, variant: int, count: int, limit: int
):
    """Zeros of `subtree` between pairs of sample points, with the direction of each segment.

    At most `limit` of them. Kept: the same denominators and `sqrt` arguments recur in
    the expected answer and in the answers to it, and the sample points are fixed by
    the box and their count.
    """
    g = compile_float(subtree, variables, dict(functions), variant)
    P = np.stack(sample_points(box, count), axis=1)
    half = P.shape[0] // 2
    start, end = P[:half], P[half : 2 * half]
    width = np.array([hi - lo for lo, hi in box])

    with np.errstate(all="ignore"):
        gs, ge = g(tuple(start.T)), g(tuple(end.T))
        crossing = np.isfinite(gs) & np.isfinite(ge) & (np.sign(gs) * np.sign(ge) < 0)
        index = np.flatnonzero(crossing)[:limit]
        if not index.size:
            return None
        a, b = start[index], end[index]
        t = _root_parameters(lambda t: g(tuple((a + (b - a) * t[:, None]).T)), gs[index], ge[index])
        roots = a + (b - a) * t[:, None]
        step = b - a
        norm = np.linalg.norm(step / width, axis=1)
        directions = step / np.where(norm == 0, 1.0, norm)[:, None]
    roots.flags.writeable = False
    directions.flags.writeable = False
    return roots, directions


def _root_parameters(f, f0: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """For each segment, a t in [0, 1] beside a sign change of f (f(0) and f(1) differ in sign).

    Bisection first, which any sign change survives (a pole, a jump, NaN in between),
    then false position with the Illinois modification, which reaches a simple zero of
    a smooth function to float precision in a few steps instead of dozens.
    """
    lo, hi = np.zeros(f0.size), np.ones(f0.size)
    f_lo, f_hi = f0.astype(float), f1.astype(float)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo, f_lo = np.where(left, mid, lo), np.where(left, f_mid, f_lo)
        hi, f_hi = np.where(left, hi, mid), np.where(left, f_hi, f_mid)
    kept = np.zeros(f0.size)  # -1: lo was kept last time, +1: hi was
    for _ in range(_FALSE_POSITIONS):
        span = f_hi - f_lo
        usable = np.isfinite(span) & (span != 0)
        c = np.where(usable, (lo * f_hi - hi * f_lo) / np.where(usable, span, 1.0), (lo + hi) / 2)
        c = np.where((c > lo) & (c < hi), c, (lo + hi) / 2)
        f_c = f(c)
        left = np.sign(f_c) == np.sign(f_lo)
        # Illinois: an end kept twice in a row has its value halved, so that the next
        # estimate moves off it.
        f_hi = np.where(left & (kept > 0), f_hi / 2, f_hi)
        f_lo = np.where(~left & (kept < 0), f_lo / 2, f_lo)
        lo, f_lo = np.where(left, c, lo), np.where(left, f_c, f_lo)
        hi, f_hi = np.where(left, hi, c), np.where(left, f_hi, f_c)
        kept = np.where(left, 1.0, -1.0)
    return np.where(np.abs(f_lo) <= np.abs(f_hi), lo, hi)


def _judge_point(fe_m, fa_m, cols, i: int) -> str:
    """equal, indistinct, different, undefined (the answer), uncertain, or why it is skipped."""
    return _judge_point_values(fe_m, fa_m, cols, i)[0]


def _judge_point_values(fe_m, fa_m, cols, i: int) -> tuple[str, MpResult | None, MpResult | None]:
    """`_judge_point`'s outcome, with the expected and answer values it computed."""
    e = _mp_at(fe_m, cols, i)
    if not e.defined:
        return ("skip_expected" if not e.resolved else "expected_undefined"), e, None
    a = _mp_at(fa_m, cols, i)
    if not a.resolved:
        return "skip_answer", e, a
    if a.value is None:
        confirmed = _undefined_confirmed(fe_m, fa_m, cols, i)
        return ("undefined" if confirmed else "skip_answer"), e, a
    return mp_compare(a, e), e, a


def _constant_feedback(a: MpResult, e: MpResult) -> Comparison:
    av, ev = a.to_float(), e.to_float()
    if ev != 0 and math.isfinite(av) and abs(av + ev) <= 1e-12 * abs(ev):
        return Comparison("different", "Check the sign of your answer.", reason="sign")
    return Comparison(
        "different", "Your answer is not equal to the expected one.", reason="different"
    )


def _typical(values: np.ndarray) -> float:
    """A middle value of the first few (np.median costs more than the rest of the test)."""
    head = values[:_TYPICAL]
    middle = head.size // 2
    return float(np.partition(head, middle)[middle])


@dataclass
class _Judged:
    """What the high-precision stage knows where it found the difference."""

    fe_m: object
    fa_m: object
    e: MpResult | None  # the expected value at the point
    a: MpResult | None  # the answer's value at the point
    base: int  # the sample points come first, the points near boundaries after


def _mp_floats(judged: _Judged) -> tuple[float, float] | None:
    if judged.e is None or judged.a is None or not (judged.e.defined and judged.a.defined):
        return None
    ev, av = judged.e.to_float(), judged.a.to_float()
    if not (math.isfinite(ev) and math.isfinite(av)):
        return None
    return ev, av


def _feedback(outcome, setting, cols, E, A, eok, aok, close, i, judged: _Judged) -> Comparison:
    point = _describe_point(setting, cols, i)
    if outcome == "undefined":
        bad = eok & np.isnan(A)
        good = eok & aok
        if not good.any():
            return Comparison(
                "answer_undefined",
                "Your answer is not a real number anywhere the expected answer is defined"
                " (check for a division by zero and the arguments of sqrt, log and powers).",
                reason="nowhere_real",
            )
        region = _describe_region(setting, cols, bad, good)
        if region:
            return Comparison(
                "answer_undefined",
                f"Your answer is undefined for {region}, where the expected answer is defined.",
                region,
                "undefined",
            )
        return Comparison(
            "answer_undefined",
            f"Your answer is undefined at some points where the expected answer is defined"
            f" (for example at {point}).",
            point,
            "undefined",
        )
    both = eok & aok
    # The floats suggest a pattern (sign, factor, offset); the values at the point where
    # mpmath found the difference must show it too, since floats can lose a difference
    # to cancellation ((1 - cos(x))/x^2 near 0 rounds to 0).
    exact = _mp_floats(judged)
    with np.errstate(all="ignore"):
        e, a = E[both], A[both]
        nonzero = np.abs(e) > 1e-200
        scale = max(float(np.max(np.abs(e))) if e.size else 1.0, 1e-300)
        if (
            exact is not None
            and exact[0] != 0
            and abs(exact[1] + exact[0]) <= 1e-9 * abs(exact[0])
            and nonzero.any()
            and np.all(np.abs(a + e) <= 1e-9 * np.maximum(np.abs(e), np.abs(a)))
        ):
            return Comparison(
                "different",
                "Check the sign: your answer is the negative of the expected one.",
                reason="sign",
            )
        if nonzero.sum() >= 3 and exact is not None and exact[0] != 0:
            ratio = a[nonzero] / e[nonzero]
            # Any typical value will do: the test below asks for all of them to agree.
            r0 = _typical(ratio)
            # A ratio of 1 to float precision is no factor: the difference is too small to see.
            if (
                r0 != 0
                and abs(r0 - 1) > 1e-6
                and abs(exact[1] / exact[0] - r0) <= 1e-6 * abs(r0)
                and np.all(np.abs(ratio - r0) <= 1e-9 * abs(r0))
            ):
                return Comparison(
                    "different", "Your answer is off by a constant factor.", reason="factor"
                )
        if e.size >= 3 and exact is not None:
            d = a - e
            d0 = _typical(d)
            # Float noise in a - e is about 1e-16 of the values' scale; a constant
            # offset well above it (0.0000001 in x^2 - 2x + 1.0000001) still counts.
            noise = 1e-12 * scale
            if (
                abs(d0) > 100 * noise
                and abs((exact[1] - exact[0]) - d0) <= 1e-6 * abs(d0)
                and np.all(np.abs(d - d0) <= 1e-6 * abs(d0) + noise)
            ):
                return Comparison(
                    "different",
                    "Your answer differs from the expected one by a constant.",
                    reason="constant",
                )
        # "Right on part of the domain" only where the two agree to float noise: a tiny
        # difference everywhere (x^2 + 1e-9 for x^2) passes the looser float screen at
        # the points where the values are large, and is not right there.
        size = np.maximum(np.abs(E), np.abs(A))
        rel = np.where(size == 0, 0.0, np.abs(A - E) / np.where(size == 0, 1.0, size))
    agree = both & (rel <= _FLOAT_NOISE)
    differ = both & ~close
    example = point
    if i >= judged.base:
        # The difference was found beside a boundary (`x = -1.00000002` rounds to -1):
        # show a sample point where the floats see it plainly instead.
        plain = np.flatnonzero(differ[: judged.base] & (rel[: judged.base] > 1e-6))
        if plain.size:
            example = _describe_point(setting, cols, int(plain[0]))
    if (
        agree.sum() >= max(3, 0.05 * both.sum())
        and differ.any()
        and _really_agrees(judged, cols, agree)
    ):
        region = _describe_region(setting, cols, differ, agree)
        if region:
            return Comparison(
                "different",
                f"Your answer is right only on part of the domain: it differs for {region}.",
                region,
                "partial",
            )
        return Comparison(
            "different",
            f"Your answer agrees with the expected one at some points but not everywhere"
            f" (it differs at {example}).",
            example,
            "partial",
        )
    return Comparison(
        "different", "Your answer is not equal to the expected one.", reason="different"
    )


def _really_agrees(judged: _Judged, cols, agree: np.ndarray) -> bool:
    """Floats agree at these points; does mpmath agree at a few of them?

    A difference below float noise everywhere (2*3.14159265358979 for 2 pi) looks
    like agreement to floats wherever the values are not near zero.
    """
    where = np.flatnonzero(agree)
    for j in where[np.linspace(0, where.size - 1, 3).astype(int)]:
        if _judge_point(judged.fe_m, judged.fa_m, cols, int(j)) not in {"equal", "indistinct"}:
            return False
    return True


# --- the numeric rule ---------------------------------------------------------------


@dataclass
class NumericResult:
    status: str  # equal, close, different
    message: str = ""


def number_value(tree, setting: Setting, who: str) -> tuple[Fraction | None, MpResult | None]:
    """The exact value (Fraction) of a constant tree, or its mpmath value with error bound."""
    if who == "expected" and not _is_number(tree, setting):
        raise AuthorError("The expected answer must be a number here, not an expression.")
    exact = exact_value(tree)
    if exact is not None:
        return exact, None
    result = mp_number(tree, setting.functions)
    if not result.defined:
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


def _is_number(tree, setting: Setting) -> bool:
    """No variables and no abstract functions: a tree with one value."""
    if n.free_symbols(tree):
        return False
    return not any(
        setting.functions.get(name) is not None and setting.functions[name].body is None
        for name in n.applied_functions(tree)
    )


def _interval(exact: Fraction | None, approx: MpResult | None) -> tuple[Fraction, Fraction]:
    if exact is not None:
        return exact, Fraction(0)
    return mp_to_fraction(approx.value), mp_to_fraction(approx.error)


def compare_numbers(
    expected, answer, setting: Setting, rtol: Fraction, atol: Fraction
) -> NumericResult:
    e, e_err = _interval(*number_value(expected, setting, "expected"))
    a, a_err = _interval(*number_value(answer, setting, "answer"))
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


def _require_number(tree, setting: Setting) -> None:
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


def _reject_group(tree, what: str) -> None:
    if isinstance(tree, n.Group):
        raise Invalid(f"Your answer should be {what}, not a list.", tree.col)


# --- kinds ---------------------------------------------------------------------------


def _numeric_rule(setting: Setting) -> bool:
    return setting.rtol is not None or setting.atol is not None


def _tolerances(setting: Setting) -> tuple[Fraction, Fraction]:
    rtol = setting.rtol if setting.rtol is not None else DEFAULT_RTOL
    atol = setting.atol if setting.atol is not None else DEFAULT_ATOL
    return rtol, atol


def _expression_entry(expected, answer, setting: Setting) -> tuple[str, str, dict]:
    """(status, message, feedback details) for one scalar entry under the expression rule."""
    result = compare_expressions(expected, answer, setting)
    if result.status == "equal":
        return "correct", "", {}
    if result.status == "expected_nowhere":
        raise AuthorError("The expected answer is not real anywhere in the domain.")
    if result.status == "unknown":
        raise AuthorError("The expected answer cannot be evaluated anywhere in the domain.")
    if result.status == "answer_unresolved":
        raise Invalid(
            "Your answer could not be evaluated precisely enough to check it."
            " Write it in a simpler form and submit again."
        )
    info = {"reason": result.reason}
    if result.where:
        info["where"] = result.where
    return "incorrect", result.message, info


def _numeric_entry(expected, answer, setting: Setting) -> tuple[str, str, dict]:
    _require_number(answer, setting)
    rtol, atol = _tolerances(setting)
    result = compare_numbers(expected, answer, setting, rtol, atol)
    if result.status == "equal":
        return "correct", "", {}
    return "incorrect", result.message, {"close": result.status == "close"}


def _entry(expected, answer, setting: Setting) -> tuple[str, str, dict]:
    if _numeric_rule(setting) and _is_number(expected, setting):
        return _numeric_entry(expected, answer, setting)
    return _expression_entry(expected, answer, setting)


def check_expression(case: Mapping, setting: Setting) -> Verdict:
    expected = setting.parse_expected(case["expected"])
    _reject_expected_group(expected, "a single expression")
    answer = setting.parse_answer(case["answer"])
    _reject_group(answer, "a single expression")
    status, message, info = _expression_entry(expected, answer, setting)
    if status == "correct":
        return correct()
    return incorrect(message + _rounding_hint(case, setting), **info)


def _reject_expected_group(tree, what: str) -> None:
    if isinstance(tree, n.Group):
        raise AuthorError(f"The expected answer should be {what}, not a list.")


def check_numeric(case: Mapping, setting: Setting) -> Verdict:
    expected = setting.parse_expected(case["expected"])
    _reject_expected_group(expected, "a number")
    if not _is_number(expected, setting):
        raise AuthorError("The expected answer of a numeric part must be a number.")
    answer = _parse_answer_of_kind(case, setting)
    _read_number(answer, setting)
    rtol, atol = _tolerances(setting)
    result = compare_numbers(expected, answer, setting, rtol, atol)
    if result.status == "equal":
        return correct()
    return incorrect(result.message, close=result.status == "close")


_NO_POINTS = {"none", "no points", "no point", "nothing", "empty", "no solution", "\u2205"}
_DECIMAL_COMMA = re.compile(r"\s*[-+\u2212]?[0-9]+,[0-9]+\s*")


def _parse_answer_of_kind(case: Mapping, setting: Setting):
    """The answer's tree; a numeric answer typed with a decimal comma gets its own message."""
    text = case["answer"]
    try:
        return setting.parse_answer(text)
    except Invalid:
        if not isinstance(text, str):
            raise
        if case["kind"] == "points" and text.strip().lower() in _NO_POINTS:
            raise Invalid("Write [] when there are no points.", None) from None
        if case["kind"] == "numeric" and _DECIMAL_COMMA.fullmatch(text):
            shown = text.strip()
            raise Invalid(
                f"Write a decimal with a point, not a comma: {shown.replace(',', '.')},"
                f" not {shown}.",
                text.index(",") + 1,
            ) from None
        raise


def _read_number(answer, setting: Setting) -> None:
    _reject_group(answer, "a number")
    _require_number(answer, setting)


def _as_vector(tree) -> list | None:
    """The items of a vector (row, column or flat list), or None if it is not a vector."""
    if not isinstance(tree, n.Group) or tree.bracket == "{":
        return None
    items = list(tree.items)
    if items and all(isinstance(i, n.Group) for i in items):
        if all(len(i.items) == 1 for i in items):
            return [i.items[0] for i in items]
        if len(items) == 1:
            return list(items[0].items)
        return None
    if any(isinstance(i, n.Group) for i in items):
        return None
    return items


def _read_vector(answer_tree) -> list:
    """The answer's components; Invalid, saying why, if it is not a vector."""
    answer = _as_vector(answer_tree)
    if answer is not None:
        return answer
    if isinstance(answer_tree, n.Group) and answer_tree.bracket == "{":
        raise Invalid(
            "Write a vector in square brackets, e.g. [a, b, c]: braces are for sets.",
            answer_tree.col,
        )
    if isinstance(answer_tree, n.Group):
        raise Invalid(
            "Your answer should be a vector, e.g. [a, b, c], not a matrix.", answer_tree.col
        )
    raise Invalid(
        "Your answer should be a vector, e.g. [a, b, c], not a single expression.",
        answer_tree.col,
    )


def _ordinal_list(numbers: Sequence[int]) -> str:
    parts = [str(k) for k in numbers]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def check_vector(case: Mapping, setting: Setting) -> Verdict:
    expected_tree = setting.parse_expected(case["expected"])
    expected = _as_vector(expected_tree)
    if expected is None:
        raise AuthorError("The expected answer of a vector part must be a vector, e.g. [1, 2].")
    answer_tree = setting.parse_answer(case["answer"])
    answer = _read_vector(answer_tree)
    if len(answer) != len(expected):
        message = (
            f"Your vector has {len(answer)} component{'s' if len(answer) != 1 else ''};"
            f" it should have {len(expected)}."
        )
        if len(answer) == 1 and len(expected) > 1:
            # `[14 -3]` is the one component 14 - 3.
            message += " Separate the components with commas."
        return incorrect(message, length=len(answer), expected_length=len(expected))
    statuses, messages = [], []
    for e, a in zip(expected, answer, strict=False):
        status, message, _ = _entry(e, a, setting)
        statuses.append(status)
        messages.append(message)
    wrong = [k + 1 for k, s in enumerate(statuses) if s != "correct"]
    if not wrong:
        return correct(components=statuses)
    if len(wrong) > 1 and _reordered(expected, answer, setting, wrong):
        listed = _ordinal_list(wrong)
        message = f"Components {listed} are right but in the wrong places: check their order."
    elif len(wrong) == len(statuses) and len(statuses) > 1:
        message = _whole_feedback(expected, answer, setting) or "None of the components is right."
    elif len(wrong) == 1:
        message = f"Component {wrong[0]} is wrong."
        if messages[wrong[0] - 1]:
            message += " " + messages[wrong[0] - 1]
    else:
        message = f"Components {_ordinal_list(wrong)} are wrong."
    return incorrect(message + _rounding_hint(case, setting), components=statuses, wrong=wrong)


_ROUNDED = re.compile(r"[0-9]\.[0-9]{3,}")


def _rounding_hint(case: Mapping, setting: Setting) -> str:
    """A word on decimals, where exact values are expected and the answer rounded some."""
    if setting.rtol is not None or setting.atol is not None:
        return ""
    answer, expected = case.get("answer"), case.get("expected")
    if not isinstance(answer, str) or not _ROUNDED.search(answer):
        return ""
    if isinstance(expected, str) and _ROUNDED.search(expected):
        return ""
    return " Decimals count exactly here (0.3333 is not 1/3): give exact values such as 1/3 or sqrt(2)."


def _reordered(expected: list, answer: list, setting: Setting, wrong: list[int]) -> bool:
    """Each wrong component equals the expected one of another wrong position (a swap)."""
    if len(wrong) > 4:
        return False
    try:
        return all(
            any(
                j != i and _entry(expected[j - 1], answer[i - 1], setting)[0] == "correct"
                for j in wrong
            )
            for i in wrong
        )
    except (AuthorError, Invalid):
        return False


def _whole_feedback(expected: list, answer: list, setting: Setting) -> str | None:
    """Sign flipped for every entry of a vector or matrix."""
    negated = [n.Neg(e) for e in expected]
    try:
        if all(
            _entry(e, a, setting)[0] == "correct" for e, a in zip(negated, answer, strict=False)
        ):
            return "Check the signs: your answer is the negative of the expected one."
    except (AuthorError, Invalid):
        return None
    return None


def _as_matrix(tree) -> list[list] | None:
    if not isinstance(tree, n.Group):
        return None
    items = list(tree.items)
    if not items:
        return None
    if all(isinstance(i, n.Group) for i in items):
        rows = [list(i.items) for i in items]
        if any(isinstance(x, n.Group) for row in rows for x in row):
            return None
        return rows
    if any(isinstance(i, n.Group) for i in items):
        return None
    return [items]


def check_matrix(case: Mapping, setting: Setting) -> Verdict:
    expected = _as_matrix(setting.parse_expected(case["expected"]))
    if expected is None or len({len(r) for r in expected}) != 1:
        raise AuthorError(
            "The expected answer of a matrix part must be a matrix, e.g. [[1, 2], [3, 4]]."
        )
    answer_tree = setting.parse_answer(case["answer"])
    answer = _as_matrix(answer_tree)
    if answer is None:
        raise Invalid("Your answer should be a matrix, e.g. [[a, b], [c, d]].", answer_tree.col)
    if len({len(r) for r in answer}) != 1:
        raise Invalid("The rows of your matrix have different lengths.", answer_tree.col)
    rows, cols = len(expected), len(expected[0])
    arows, acols = len(answer), len(answer[0])
    shape = {"shape": [arows, acols], "expected_shape": [rows, cols]}
    transposed = [list(r) for r in zip(*expected, strict=False)]
    if (arows, acols) != (rows, cols):
        if (arows, acols) == (cols, rows) and _all_entries_correct(transposed, answer, setting):
            return incorrect(
                "Your matrix is the transpose of the expected one.", transposed=True, **shape
            )
        return incorrect(f"Your matrix is {arows}×{acols}; it should be {rows}×{cols}.", **shape)
    statuses = [
        [_entry(e, a, setting)[0] for e, a in zip(er, ar, strict=False)]
        for er, ar in zip(expected, answer, strict=False)
    ]
    wrong = [
        [i + 1, j + 1] for i, r in enumerate(statuses) for j, s in enumerate(r) if s != "correct"
    ]
    if not wrong:
        return correct(entries=statuses)
    if rows == cols and rows > 1 and _all_entries_correct(transposed, answer, setting):
        return incorrect(
            "Your matrix is the transpose of the expected one.",
            transposed=True,
            entries=statuses,
            wrong=wrong,
        )
    flat_e = [x for r in expected for x in r]
    flat_a = [x for r in answer for x in r]
    if len(wrong) == len(flat_e) and len(flat_e) > 1:
        message = _whole_feedback(flat_e, flat_a, setting) or "None of the entries is right."
    else:
        listed = _ordinal_list([f"({i}, {j})" for i, j in wrong])
        message = f"Entr{'y' if len(wrong) == 1 else 'ies'} {listed} {'is' if len(wrong) == 1 else 'are'} wrong (row, column)."
    return incorrect(message + _rounding_hint(case, setting), entries=statuses, wrong=wrong)


def _all_entries_correct(expected: list[list], answer: list[list], setting: Setting) -> bool:
    if len(expected) != len(answer) or any(
        len(e) != len(a) for e, a in zip(expected, answer, strict=False)
    ):
        return False
    try:
        return all(
            _entry(e, a, setting)[0] == "correct"
            for er, ar in zip(expected, answer, strict=False)
            for e, a in zip(er, ar, strict=False)
        )
    except (AuthorError, Invalid):
        return False


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
                _require_number(coordinate, setting)
            except Invalid as e:
                raise Invalid(f"Point {k}: {_of_a_coordinate(e.message)}", e.column) from None
    return answer


def check_points(case: Mapping, setting: Setting) -> Verdict:
    expected, dimension = _expected_points(case, setting)
    answer_tree = _parse_answer_of_kind(case, setting)
    answer = _read_points(case, setting, answer_tree, dimension)
    rtol, atol = _tolerances(setting)
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
    return incorrect(_sentence("; ".join(parts)), **details)


def _of_a_coordinate(message: str) -> str:
    """A message about "your answer", said of one coordinate of a point."""
    return message.replace("Your answer", "a coordinate").replace("your answer", "the coordinate")


def _point_value(tree, setting: Setting, who: str):
    if who == "answer":
        _require_number(tree, setting)
    if isinstance(tree, n.Group):
        if who == "answer":
            raise Invalid("A coordinate of a point must be a number.", tree.col)
        raise AuthorError("A coordinate of an expected point is not a number.")
    return _interval(*number_value(tree, setting, who))


def _numbers_match(a, e, rtol: Fraction, atol: Fraction) -> bool:
    (av, ae), (ev, ee) = a, e
    diff = abs(av - ev)
    bound = atol + rtol * abs(ev)
    return diff - ae - ee - rtol * ee <= bound


def check_choice(case: Mapping, setting: Setting) -> Verdict:
    options = case.get("options")
    if options is not None and (
        not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options)
    ):
        raise AuthorError("`options` must be a list of option keys.")
    expected_text = case["expected"]
    if isinstance(expected_text, list | tuple):
        expected_text = ", ".join(str(x) for x in expected_text)
    if options is None:
        options = [k.strip() for k in str(expected_text).split(",") if k.strip()]
        answer_text = case["answer"]
        if isinstance(answer_text, str):
            options += [
                k.strip() for k in answer_text.split(",") if k.strip() and k.strip().isalnum()
            ]
    try:
        expected = parse_choice(str(expected_text), options)
    except ParseError as e:
        raise AuthorError(f"The expected choice cannot be read: {e.message}.") from None
    answer_text = case["answer"]
    if isinstance(answer_text, list | tuple):
        answer_text = ", ".join(str(x) for x in answer_text)
    try:
        answer = parse_choice(answer_text, options)
    except ParseError as e:
        raise Invalid(_sentence(e.message), e.column) from None
    if answer == expected:
        return correct()
    if len(expected) > 1 or len(answer) > 1:
        missing = len(expected - answer)
        extra = len(answer - expected)
        return incorrect("Your selection is not right.", missing=missing, extra=extra)
    return incorrect("That is not the right choice.")


CHECKERS = {
    "expression": check_expression,
    "numeric": check_numeric,
    "vector": check_vector,
    "matrix": check_matrix,
    "points": check_points,
    "choice": check_choice,
}


# --- reading only -----------------------------------------------------------------------


def read_answer(case: Mapping, setting: Setting) -> None:
    """Raise `Invalid` unless the answer can be read as an answer of the case's kind."""
    kind = case["kind"]
    if kind == "choice":
        check_choice_readable(case)
        return
    answer = _parse_answer_of_kind(case, setting)
    if kind == "expression":
        _reject_group(answer, "a single expression")
    elif kind == "numeric":
        _read_number(answer, setting)
    elif kind == "vector":
        _read_vector(answer)
    elif kind == "matrix":
        rows = _as_matrix(answer)
        if rows is None:
            raise Invalid("Your answer should be a matrix, e.g. [[a, b], [c, d]].", answer.col)
        if len({len(r) for r in rows}) != 1:
            raise Invalid("The rows of your matrix have different lengths.", answer.col)
    elif kind == "points":
        _read_points(case, setting, answer)


def check_choice_readable(case: Mapping) -> None:
    options = case.get("options")
    if not options:
        return
    try:
        parse_choice(case["answer"], options)
    except ParseError as e:
        raise Invalid(_sentence(e.message), e.column) from None


# --- authors' expected mistakes ------------------------------------------------------


def match_mistake(case: Mapping, setting: Setting) -> str | None:
    """The message of the first listed mistake the answer is equivalent to."""
    mistakes = case.get("mistakes") or []
    if not isinstance(mistakes, list):
        return None
    for mistake in mistakes:
        if not isinstance(mistake, Mapping) or "answer" not in mistake or "message" not in mistake:
            continue
        trial = dict(case)
        trial["expected"] = mistake["answer"]
        trial.pop("mistakes", None)
        try:
            verdict = CHECKERS[case["kind"]](trial, setting)
        except (AuthorError, Invalid):
            continue
        if verdict.status == "correct":
            return str(mistake["message"])
    return None
