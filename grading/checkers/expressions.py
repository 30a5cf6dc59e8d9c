"""The expression rule, the feedback on a wrong expression, and the expression kind.

The expression rule is decided numerically, in two stages:

1. both sides are evaluated in floating point at a thousand or more seeded,
   well-spread points of the box (and beside the zeros of `abs`, `sqrt` and `log`
   arguments and denominators: `grading.checkers.sampling`); this finds almost every
   wrong answer at once, and says where the two sides seem to differ;
2. every verdict is then confirmed in exact-enough arithmetic (`grading.evaluate`'s
   mpmath evaluator with error bounds): a difference is real only if it survives at
   high precision, and equality is claimed only after high-precision agreement at
   several points. Agreement within float noise is never taken as equality.

Points are random floats, not round numbers, so that they miss the measure-zero sets
where an answer may legitimately be undefined (`(x^2-1)/(x-1)` at 1).

The entries of vectors and matrices are judged by the same rule (`judge_expression`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from grading import nodes as n
from grading.checkers.base import Checker, reject_expected_group, reject_group
from grading.checkers.sampling import (
    SEED,
    near_expected_zeros,
    point_count,
    points_near_boundaries,
    sample_points,
)
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect
from grading.evaluate import (
    ABSTRACT_STANDINS,
    MpResult,
    compile_float,
    compile_mp,
    mp_compare,
    mp_value,
    to_sympy,
)

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


@dataclass
class Comparison:
    """The outcome of comparing two scalar expressions over the box."""

    # equal, different, answer_undefined, expected_nowhere, answer_unresolved,
    # answer_too_large, expected_too_large, unknown
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
        np.isfinite(_on_sample(fe_f, setting.box, point_count(len(setting.variables)))).any()
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
    """An mpmath evaluator of an answer that keeps its values at the points asked.

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
    fe_f.near_zeros = {}  # see grading.checkers.sampling.near_expected_zeros
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


@lru_cache(maxsize=16)
def _answer_mp_cached(tree, variables: tuple, functions: tuple, variant: int):
    return _Remembering(compile_mp(tree, variables, dict(functions), variant))


@lru_cache(maxsize=16)
def _answer_float_cached(tree, variables: tuple, functions: tuple, variant: int):
    return compile_float(tree, variables, dict(functions), variant)


def _compiled_answer(tree, setting: Setting, variant: int, kind: str):
    """The answer's mpmath (`kind` "mp") or float evaluator. A wrong answer is compared
    with each of the part's known mistakes in turn (`grading.checkers.mistakes`): the
    last few answers' evaluators, and their values at the points asked, are kept."""
    cached, compile_ = (
        (_answer_mp_cached, compile_mp) if kind == "mp" else (_answer_float_cached, compile_float)
    )
    functions = tuple(sorted(setting.functions.items()))
    try:
        return cached(tree, setting.variables, functions, variant)
    except TypeError:  # something unhashable: compile afresh
        return compile_(tree, setting.variables, setting.functions, variant)


def _compare_once(expected, answer, setting: Setting, variant: int) -> Comparison:
    variables = setting.variables
    fe_m, fe_f = _compiled(expected, setting, variant)
    fa_m = _compiled_answer(answer, setting, variant, "mp")
    if not variables:
        e = _value(fe_m, ())
        if not e.defined:
            if e.too_large:
                return Comparison("expected_too_large")
            if not e.resolved:
                return Comparison("unknown")
            return Comparison("expected_nowhere")
        a = _value(fa_m, ())
        if a.too_large:
            return Comparison("answer_too_large")
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

    fa_f = _compiled_answer(answer, setting, variant, "float")
    count = point_count(len(variables))
    cols = sample_points(setting.box, count)
    E = _on_sample(fe_f, setting.box, count)
    if np.isfinite(E).sum() < 12:
        # The expected answer is defined on a small part of the box: look harder.
        count = 4000
        cols = sample_points(setting.box, count)
        E = _on_sample(fe_f, setting.box, count)
    base = cols[0].shape[0]
    near = near_expected_zeros(expected, fe_f, setting, variant, count)
    extra = points_near_boundaries((expected, answer), setting, variant, count)
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
        tried = [
            _mp_at(fe_m, cols, i)
            for i in np.flatnonzero(unclear)[:: max(1, unclear.sum() // 16)][:16]
        ]
        if not any(e.defined for e in tried):
            if any(e.too_large for e in tried):
                return Comparison("expected_too_large")
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
    if "too_large" in outcomes:
        return Comparison("answer_too_large")
    if "uncertain" in outcomes or "skip_answer" in outcomes:
        return Comparison("answer_unresolved")
    if "skip_expected_too_large" in outcomes and all(
        o.startswith("skip_expected") for o in outcomes
    ):
        return Comparison("expected_too_large")
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


def _judge_point(fe_m, fa_m, cols, i: int) -> str:
    """equal, indistinct, different, undefined (the answer), uncertain, or why it is skipped."""
    return _judge_point_values(fe_m, fa_m, cols, i)[0]


def _judge_point_values(fe_m, fa_m, cols, i: int) -> tuple[str, MpResult | None, MpResult | None]:
    """`_judge_point`'s outcome, with the expected and answer values it computed."""
    e = _mp_at(fe_m, cols, i)
    if not e.defined:
        if e.too_large:
            return "skip_expected_too_large", e, None
        return ("skip_expected" if not e.resolved else "expected_undefined"), e, None
    a = _mp_at(fa_m, cols, i)
    if a.too_large:
        # Unknown here, but by the size of a part of it, not for want of precision.
        return "too_large", e, a
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


# --- the expression kind -------------------------------------------------------------


def judge_expression(expected, answer, setting: Setting) -> tuple[str, str, dict]:
    """(status, message, feedback details) for one scalar answer or entry, by the expression rule."""
    result = compare_expressions(expected, answer, setting)
    if result.status == "equal":
        return "correct", "", {}
    if result.status == "expected_nowhere":
        raise AuthorError("The expected answer is not real anywhere in the domain.")
    if result.status == "expected_too_large":
        raise AuthorError(
            "The expected answer holds a value too large to compute in the domain"
            " (exp, sinh or cosh of a huge number, or sin, cos or tan of one)."
        )
    if result.status == "unknown":
        raise AuthorError("The expected answer cannot be evaluated anywhere in the domain.")
    if result.status == "answer_too_large":
        raise Invalid(
            "Your answer holds a value too large to compute at some points of the domain"
            " (exp, sinh or cosh of a huge number, a huge power, or sin, cos or tan of a"
            " huge number). Write it in a simpler form and submit again."
        )
    if result.status == "answer_unresolved":
        raise Invalid(
            "Your answer could not be evaluated precisely enough to check it."
            " Write it in a simpler form and submit again."
        )
    info = {"reason": result.reason}
    if result.where:
        info["where"] = result.where
    return "incorrect", result.message, info


_ROUNDED = re.compile(r"[0-9]\.[0-9]{3,}")


def rounding_hint(case: Mapping, setting: Setting) -> str:
    """A word on decimals, where exact values are expected and the answer rounded some."""
    if setting.has_tolerance:
        return ""
    answer, expected = case.get("answer"), case.get("expected")
    if not isinstance(answer, str) or not _ROUNDED.search(answer):
        return ""
    if isinstance(expected, str) and _ROUNDED.search(expected):
        return ""
    return " Decimals count exactly here (0.3333 is not 1/3): give exact values such as 1/3 or sqrt(2)."


class ExpressionChecker(Checker):
    """A single expression (a scalar), judged by the expression rule."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        expected = setting.parse_expected(case["expected"])
        reject_expected_group(expected, "a single expression")
        answer = setting.parse_answer(case["answer"])
        reject_group(answer, "a single expression")
        status, message, info = judge_expression(expected, answer, setting)
        if status == "correct":
            return correct()
        return incorrect(message + rounding_hint(case, setting), **info)

    def read(self, case: Mapping, setting: Setting) -> None:
        reject_group(setting.parse_answer(case["answer"]), "a single expression")
