"""Where the expression rule looks: seeded sample points, and points beside zeros.

Random points miss the thin slabs where an answer can be wrong (beside the zero of an
`abs` argument or a denominator) and the places where a relative difference is a tiny
absolute one (beside the zeros of the expected answer). So besides the seeded points
of the box, points are added on both sides of such zeros, found on segments between
sample points whose values differ in sign.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from grading import nodes as n
from grading.checkers.setting import Setting
from grading.evaluate import compile_float, exact_value

# Every sample is drawn from this seed: the same box gets the same points, so that two
# checks of one answer agree, and the expected answer's values there can be kept.
SEED = 20240917
# At most this many critical subtrees, and zeros of each, are looked at.
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


def point_count(nvars: int) -> int:
    """How many uniform sample points a box of `nvars` variables gets."""
    # The float stage is cheap (NumPy over whole arrays); only a handful of these
    # points are ever evaluated at high precision.
    return {0: 1, 1: 1000, 2: 1500}.get(nvars, 2000)


def points_near_boundaries(trees, setting: Setting, variant: int, count: int) -> tuple | None:
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


def near_expected_zeros(expected, fe_f, setting: Setting, variant: int, count: int):
    """Points very close to the zeros of the expected answer, and its values there; or None.

    There a relative 1e-20 is a tiny absolute difference (x + 1e-30 differs from x only
    for |x| < 1e-10). They depend on the expected answer alone, so they are kept with
    its float evaluator.
    """
    # `fe_f.near_zeros` is a dict the cached evaluators of expected answers carry
    # (`grading.checkers.expressions._compiled_cached`).
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
