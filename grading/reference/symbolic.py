"""Symbolic calculus for expected answers: SymPy expressions in, SymPy out.

Conventions, as the course states them:

- the gradient of a scalar function is a row vector, the 1 x n Jacobian;
- the Jacobian of a vector function has one row per component, one column per variable;
- the Lagrangian of an equality constraint `g = 0` is `L = f - lambda g`;
- stationary points are classified by the signs of the Hessian's eigenvalues.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import sympy as sp

Parity = Literal["even", "odd", "neither", "both"]
PointKind = Literal["minimum", "maximum", "saddle", "degenerate"]
ConstrainedKind = Literal["minimum", "maximum", "undetermined"]


def _symbols(variables: sp.Symbol | Iterable[sp.Symbol]) -> list[sp.Symbol]:
    if isinstance(variables, sp.Symbol):
        return [variables]
    return list(variables)


def _expr(value: object) -> sp.Expr:
    # Numbers and SymPy objects only. A string is refused, never parsed, so nothing
    # here can end up reading text as code.
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected a number or a SymPy expression, not {type(value).__name__}")
    if isinstance(value, numbers.Rational):
        return sp.Rational(int(value.numerator), int(value.denominator))
    return sp.Float(float(value))


def _exprs(functions: sp.Expr | Iterable[sp.Expr]) -> list[sp.Expr]:
    if isinstance(functions, sp.MatrixBase):
        return list(functions)
    if isinstance(functions, sp.Basic):
        return [functions]
    return [_expr(f) for f in functions]


def derivative(f: sp.Expr, x: sp.Symbol, n: int = 1) -> sp.Expr:
    """The n-th derivative of `f` with respect to `x` (n = 0 gives `f`)."""
    if n < 0:
        raise ValueError("the order of a derivative is a non-negative integer")
    return sp.simplify(sp.diff(f, x, n)) if n else f


def partial_derivatives(f: sp.Expr, variables: Sequence[sp.Symbol]) -> list[sp.Expr]:
    """`[df/dx1, df/dx2, ...]` in the order of `variables`."""
    return [sp.diff(f, v) for v in variables]


def gradient(f: sp.Expr, variables: Sequence[sp.Symbol]) -> sp.Matrix:
    """The gradient as a 1 x n row vector: the Jacobian of a scalar function."""
    return sp.Matrix([partial_derivatives(f, variables)])


def jacobian(functions: sp.Expr | Iterable[sp.Expr], variables: Sequence[sp.Symbol]) -> sp.Matrix:
    """The m x n Jacobian: row i is the gradient of component i.

    A single expression gives the 1 x n row vector (the gradient); a linear map
    `A x` gives `A`.
    """
    rows = _exprs(functions)
    return sp.Matrix([[sp.diff(f, v) for v in variables] for f in rows])


def hessian(f: sp.Expr, variables: Sequence[sp.Symbol]) -> sp.Matrix:
    """The n x n matrix of second partial derivatives, `H[i, j] = d2f/dxi dxj`."""
    return sp.Matrix([[sp.diff(f, a, b) for b in variables] for a in variables])


def at(value: sp.Expr | sp.MatrixBase, point: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    """`value` with `point` substituted, simplified (a convenience for evaluating at a point)."""
    substituted = value.subs(dict(point))
    if isinstance(substituted, sp.MatrixBase):
        return substituted.applyfunc(sp.simplify)
    return sp.simplify(substituted)


def total_derivative(f: sp.Expr, path: Mapping[sp.Symbol, sp.Expr], t: sp.Symbol) -> sp.Expr:
    """`df/dt` when each variable `x` of `f` follows `path[x]`, a function of `t`.

    Computed by the chain rule, `sum(df/dx * dx/dt)`, then written in `t` alone.
    """
    total = sum(
        (sp.diff(f, x) * sp.diff(x_of_t, t) for x, x_of_t in path.items()),
        start=sp.diff(f, t),
    )
    return sp.simplify(total.subs(dict(path)))


@dataclass(frozen=True)
class ChainRule:
    """The factors of `df/dt = df/dx . dx/du . du/dt`, each in its own variables.

    `df_dx` is 1 x n (in x), `dx_du` is n x m (in u), `du_dt` is m x 1 (in t);
    `df_dt` is their product with `x(u(t))` substituted, in `t` alone. Partial
    credit can compare a student's factor with each of them.
    """

    df_dx: sp.Matrix
    dx_du: sp.Matrix
    du_dt: sp.Matrix
    df_dt: sp.Expr


def chain_rule(
    f: sp.Expr,
    x: Sequence[sp.Symbol],
    x_of_u: Sequence[sp.Expr],
    u: Sequence[sp.Symbol],
    u_of_t: Sequence[sp.Expr],
    t: sp.Symbol,
) -> ChainRule:
    """The multivariate chain rule in matrix form for `f(x(u(t)))`."""
    if len(x) != len(x_of_u) or len(u) != len(u_of_t):
        raise ValueError("each variable needs exactly one expression")
    df_dx = gradient(f, x)
    dx_du = jacobian(list(x_of_u), u)
    du_dt = sp.Matrix([sp.diff(expr, t) for expr in u_of_t])
    to_u = dict(zip(x, x_of_u, strict=True))
    to_t = dict(zip(u, u_of_t, strict=True))
    product = (df_dx.subs(to_u) * dx_du).subs(to_t) * du_dt
    return ChainRule(df_dx, dx_du, du_dt, sp.simplify(product[0, 0]))


def taylor_polynomial(f: sp.Expr, x: sp.Symbol, a: sp.Expr, n: int) -> sp.Expr:
    """`sum_{k=0..n} f^(k)(a) / k! (x - a)^k`, in powers of `x - a` (about 0: Maclaurin)."""
    if n < 0:
        raise ValueError("the order of a Taylor polynomial is a non-negative integer")
    a = _expr(a)
    terms = []
    current = f
    for k in range(n + 1):
        coefficient = sp.simplify(current.subs(x, a)) / sp.factorial(k)
        terms.append(coefficient * (x - a) ** k)
        current = sp.diff(current, x)
    return sp.Add(*terms)


def taylor_second_order(
    f: sp.Expr, variables: Sequence[sp.Symbol], point: Sequence[sp.Expr]
) -> sp.Expr:
    """`f(p) + J(p) d + 1/2 d^T H(p) d` with `d = x - p`: the second-order expansion."""
    p = dict(zip(variables, (_expr(c) for c in point), strict=True))
    d = sp.Matrix([v - p[v] for v in variables])
    value = f.subs(p)
    j = gradient(f, variables).subs(p)
    h = hessian(f, variables).subs(p)
    expansion = value + (j * d)[0, 0] + sp.Rational(1, 2) * (d.T * h * d)[0, 0]
    return sp.expand(sp.simplify(expansion))


def linearisation(
    f: sp.Expr, variables: sp.Symbol | Sequence[sp.Symbol], point: sp.Expr | Sequence[sp.Expr]
) -> sp.Expr:
    """The first-order Taylor polynomial `f(p) + J(p) (x - p)`, in one or several variables."""
    xs = _symbols(variables)
    ps = [point] if isinstance(variables, sp.Symbol) else list(point)
    p = dict(zip(xs, (_expr(c) for c in ps), strict=True))
    j = gradient(f, xs).subs(p)
    d = sp.Matrix([v - p[v] for v in xs])
    return sp.expand(sp.simplify(f.subs(p) + (j * d)[0, 0]))


def linearisation_error(
    f: sp.Expr,
    variables: sp.Symbol | Sequence[sp.Symbol],
    point: sp.Expr | Sequence[sp.Expr],
    at_point: sp.Expr | Sequence[sp.Expr],
) -> sp.Expr:
    """`f(x1) - L(x1)`: the true value minus the linear estimate (so negative for an overestimate).

    For `sqrt(x)` linearised at 4 and evaluated at 4.41 this is `2.1 - 2.1025 = -0.0025`.
    """
    xs = _symbols(variables)
    qs = [at_point] if isinstance(variables, sp.Symbol) else list(at_point)
    q = dict(zip(xs, (_expr(c) for c in qs), strict=True))
    return sp.simplify(f.subs(q) - linearisation(f, variables, point).subs(q))


def parity(f: sp.Expr, x: sp.Symbol) -> Parity:
    """`"even"` if `f(-x) = f(x)`, `"odd"` if `f(-x) = -f(x)`, `"both"` for zero, else `"neither"`."""
    mirrored = f.subs(x, -x)
    even = _is_zero(mirrored - f)
    odd = _is_zero(mirrored + f)
    if even and odd:
        return "both"
    if even:
        return "even"
    if odd:
        return "odd"
    return "neither"


def _is_zero(expr: sp.Expr) -> bool:
    simplified = sp.simplify(expr)
    if simplified == 0:
        return True
    # `equals` also tests numerically, which settles what simplify leaves unsolved.
    return bool(simplified.equals(0))


@dataclass(frozen=True)
class StationaryPoint:
    """A point where the gradient vanishes, the value there, and its type.

    `kind` comes from the Hessian's eigenvalues: all positive `"minimum"`, all
    negative `"maximum"`, both signs `"saddle"`, otherwise (a zero eigenvalue and no
    sign change) `"degenerate"`, where the second-derivative test says nothing.
    """

    point: tuple[sp.Expr, ...]
    value: sp.Expr
    kind: PointKind
    hessian: sp.Matrix
    eigenvalues: tuple[sp.Expr, ...]


def classify_hessian(h: sp.Matrix) -> PointKind:
    """The type of a stationary point from its (constant, symmetric) Hessian.

    Counts the signs of the eigenvalues exactly: the characteristic polynomial of a
    symmetric matrix has only real roots, so Descartes' rule of signs counts the
    positive ones exactly, no floating-point threshold involved.
    """
    coefficients = [sp.simplify(c) for c in h.charpoly().all_coeffs()]
    zeros = 0
    while len(coefficients) > 1 and _sign(coefficients[-1]) == 0:
        coefficients.pop()
        zeros += 1
    positives = _sign_changes(coefficients)
    # The roots of p(-lambda) are the negated roots of p(lambda).
    degree = len(coefficients) - 1
    negatives = _sign_changes([c * (-1) ** (degree - i) for i, c in enumerate(coefficients)])
    if positives and negatives:
        return "saddle"
    if zeros:
        return "degenerate"
    return "minimum" if positives else "maximum"


def _sign_changes(coefficients: list[sp.Expr]) -> int:
    signs = []
    for c in coefficients:
        s = _sign(c)
        if s:
            signs.append(s)
    return sum(1 for a, b in zip(signs, signs[1:], strict=False) if a != b)


def _sign(value: sp.Expr) -> int:
    value = sp.simplify(value)
    if value.is_zero:
        return 0
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    number = sp.N(value, 50)
    if not number.is_real:
        raise ValueError(
            f"cannot decide the sign of {value}: give the parameters values, or "
            "assumptions such as positive=True"
        )
    return 0 if number == 0 else (1 if number > 0 else -1)


def _real_solutions(
    equations: list[sp.Expr], unknowns: list[sp.Symbol]
) -> list[dict[sp.Symbol, sp.Expr]]:
    solutions = sp.solve(equations, unknowns, dict=True)
    real = []
    for solution in solutions:
        if any(u not in solution for u in unknowns):
            raise ValueError("the stationary points are not isolated (a whole curve or region)")
        values = [sp.simplify(solution[u]) for u in unknowns]
        if any(v.free_symbols - set(unknowns) for v in values):
            # Parameters of f stay symbolic: keep the solution as it is.
            real.append(dict(zip(unknowns, values, strict=True)))
            continue
        if all(_is_real(v) for v in values):
            real.append(dict(zip(unknowns, values, strict=True)))
    return real


def _is_real(value: sp.Expr) -> bool:
    if value.is_real is not None:
        return bool(value.is_real)
    return abs(sp.im(sp.N(value, 50))) < sp.Float(10) ** -40


def _point_key(point: tuple[sp.Expr, ...]) -> tuple[float, ...]:
    try:
        return tuple(float(c) for c in point)
    except TypeError:
        return tuple(0.0 for _ in point)


def stationary_points(f: sp.Expr, variables: Sequence[sp.Symbol]) -> list[StationaryPoint]:
    """The real points where the gradient of `f` vanishes, each classified.

    Sorted by coordinates. Raises `ValueError` when the stationary points are not
    isolated (e.g. `f = x^2` in `x, y`). For a periodic `f` these are the solutions
    SymPy's `solve` returns (one period's worth), not every one. Symbolic parameters
    need assumptions (`Symbol("b", positive=True)`) that fix the signs the
    classification depends on, else `ValueError`.
    """
    variables = list(variables)
    h = hessian(f, variables)
    points = []
    for solution in _real_solutions(partial_derivatives(f, variables), variables):
        h_at = h.subs(solution).applyfunc(sp.simplify)
        eigenvalues = tuple(sp.simplify(v) for v in h_at.eigenvals(multiple=True))
        points.append(
            StationaryPoint(
                point=tuple(solution[v] for v in variables),
                value=sp.simplify(f.subs(solution)),
                kind=classify_hessian(h_at),
                hessian=h_at,
                eigenvalues=eigenvalues,
            )
        )
    return sorted(points, key=lambda p: _point_key(p.point))


@dataclass(frozen=True)
class LagrangePoint:
    """A stationary point of `L = f - lambda g`: the point, its multiplier(s), `f` there.

    `kind` is the local type from the bordered Hessian (`"undetermined"` when the
    test is inconclusive).
    """

    point: tuple[sp.Expr, ...]
    multipliers: tuple[sp.Expr, ...]
    value: sp.Expr
    kind: ConstrainedKind

    @property
    def multiplier(self) -> sp.Expr:
        """The multiplier of a single constraint."""
        if len(self.multipliers) != 1:
            raise ValueError("there is one multiplier per constraint")
        return self.multipliers[0]


@dataclass(frozen=True)
class LagrangeResult:
    """All constrained stationary points, and those of least and greatest value.

    `minima` and `maxima` compare the values among the points found (the extremes
    of `f` on the constraint when it is closed and bounded, like a circle). When all
    points share one value (a single point, say, as for `xy` on a line), they come
    from each point's local type instead.
    """

    points: list[LagrangePoint]
    minima: list[LagrangePoint]
    maxima: list[LagrangePoint]


def lagrange_points(
    f: sp.Expr,
    constraints: sp.Expr | sp.Equality | Sequence[sp.Expr | sp.Equality],
    variables: Sequence[sp.Symbol],
) -> LagrangeResult:
    """Solve `grad f = lambda grad g`, `g = 0` (`L = f - lambda g`) for real points.

    `constraints` is one `g` (meaning `g = 0`, or a SymPy `Eq`) or a sequence of them,
    with one multiplier each. Points are sorted by coordinates.
    """
    variables = list(variables)
    if isinstance(constraints, sp.Basic):
        constraints = [constraints]
    gs = [c.lhs - c.rhs if isinstance(c, sp.Equality) else _expr(c) for c in constraints]
    if len(gs) == 1:
        lams = [sp.Dummy("lambda")]
    else:
        lams = [sp.Dummy(f"lambda_{i + 1}") for i in range(len(gs))]
    lagrangian = f - sum(lam * g for lam, g in zip(lams, gs, strict=True))
    equations = [sp.diff(lagrangian, v) for v in variables] + gs
    bordered = hessian(lagrangian, lams + variables)
    points = []
    for solution in _real_solutions(equations, variables + lams):
        points.append(
            LagrangePoint(
                point=tuple(solution[v] for v in variables),
                multipliers=tuple(solution[lam] for lam in lams),
                value=sp.simplify(f.subs(solution)),
                kind=_bordered_kind(bordered.subs(solution), len(gs), len(variables)),
            )
        )
    points.sort(key=lambda p: _point_key(p.point))
    values = [p.value for p in points]
    try:
        low, high = min(values, key=float), max(values, key=float)
    except (TypeError, ValueError):
        low = high = None
    if low is None or sp.simplify(high - low) == 0:
        # One value (often one point) leaves nothing to compare: the local type decides.
        minima = [p for p in points if p.kind == "minimum"]
        maxima = [p for p in points if p.kind == "maximum"]
    else:
        minima = [p for p in points if sp.simplify(p.value - low) == 0]
        maxima = [p for p in points if sp.simplify(p.value - high) == 0]
    return LagrangeResult(points, minima, maxima)


def _bordered_kind(bordered: sp.Matrix, m: int, n: int) -> ConstrainedKind:
    # The bordered Hessian test: the last n - m leading principal minors (orders
    # 2m+1 .. m+n) all have the sign (-1)^m at a local minimum, and the minor of
    # order m+k has the sign (-1)^k at a local maximum.
    signs = []
    for order in range(2 * m + 1, m + n + 1):
        try:
            signs.append((order, _sign(bordered[:order, :order].det())))
        except ValueError:
            return "undetermined"
    if not signs or any(s == 0 for _, s in signs):
        return "undetermined"
    if all(s == (-1) ** m for _, s in signs):
        return "minimum"
    if all(s == (-1) ** (order - m) for order, s in signs):
        return "maximum"
    return "undetermined"
