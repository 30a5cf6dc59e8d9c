"""Symbolic reference routines, each against an independent computation."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from grading.reference import symbolic

x, y, z, t, u, v, r, theta = sp.symbols("x y z t u v r theta")


def _numeric_derivative(f: sp.Expr, var: sp.Symbol, point: float, n: int = 1) -> float:
    # mpmath's own numerical differentiation, independent of SymPy's rules.
    g = sp.lambdify(var, f, "mpmath")
    with mpmath.workdps(30):
        return float(mpmath.diff(g, point, n))


@pytest.mark.parametrize(
    ("f", "n"),
    [
        (3 * x**5 * sp.sin(2 * x), 1),
        (3 * x**5 * sp.sin(2 * x), 2),
        (sp.exp(x) * sp.cos(x) * sp.log(x), 1),
        (sp.sqrt(1 + x**2) / (2 + sp.sin(x)), 3),
    ],
)
def test_it_matches_numerical_derivatives_of_every_order(f, n):
    d = symbolic.derivative(f, x, n)
    for point in (0.7, 1.3, 2.9):
        assert float(d.subs(x, point)) == pytest.approx(
            _numeric_derivative(f, x, point, n), rel=1e-9
        )


def test_it_differentiates_the_limit_definition_example():
    assert sp.expand(symbolic.derivative(3 * x**2 - 5 * x, x) - (6 * x - 5)) == 0
    assert symbolic.derivative(x**3, x, 0) == x**3


def test_it_refuses_a_negative_order():
    with pytest.raises(ValueError):
        symbolic.derivative(x, x, -1)


def test_it_gives_the_gradient_as_a_row_of_partial_derivatives():
    a, b = sp.symbols("a b")
    f = a * x**2 * y + sp.sin(b * y)
    g = symbolic.gradient(f, [x, y])
    assert g.shape == (1, 2)
    assert sp.simplify(g[0, 0] - 2 * a * x * y) == 0
    assert sp.simplify(g[0, 1] - (a * x**2 + b * sp.cos(b * y))) == 0
    numbers = {a: 2, b: 3}
    for i, var in enumerate((x, y)):
        at = {x: 0.4, y: -1.1}
        frozen = f.subs(numbers).subs({w: at[w] for w in (x, y) if w != var})
        expected = _numeric_derivative(frozen, var, at[var])
        assert float(g[0, i].subs(numbers).subs(at)) == pytest.approx(expected, rel=1e-9)


def test_it_gives_the_matrix_of_a_linear_map_as_its_jacobian():
    a = sp.Matrix([[2, -1, 3], [0, 4, 5]])
    assert symbolic.jacobian(a * sp.Matrix([x, y, z]), [x, y, z]) == a


def test_it_gives_the_polar_jacobian_with_determinant_r():
    j = symbolic.jacobian([r * sp.cos(theta), r * sp.sin(theta)], [r, theta])
    assert j == sp.Matrix([[sp.cos(theta), -r * sp.sin(theta)], [sp.sin(theta), r * sp.cos(theta)]])
    assert sp.simplify(j.det()) == r


def test_it_gives_a_symmetric_hessian_matching_numerical_second_derivatives():
    f = sp.exp(x * y) + x**3 * z - sp.cos(y * z)
    h = symbolic.hessian(f, [x, y, z])
    assert h == h.T
    point = {x: 0.3, y: -0.8, z: 1.2}
    g = sp.lambdify((x, y, z), f, "mpmath")
    with mpmath.workdps(30):
        for i in range(3):
            for j in range(3):
                order = [0, 0, 0]
                order[i] += 1
                order[j] += 1
                expected = float(mpmath.diff(g, (0.3, -0.8, 1.2), tuple(order)))
                assert float(h[i, j].subs(point)) == pytest.approx(expected, rel=1e-9)


def test_it_takes_the_total_derivative_along_a_path():
    f = x**2 * y + z
    path = {x: sp.cos(t), y: sp.sin(t), z: t**2}
    direct = sp.diff(f.subs(path), t)
    assert sp.simplify(symbolic.total_derivative(f, path, t) - direct) == 0


def test_it_includes_an_explicit_dependence_on_the_path_parameter():
    f = x * t
    assert sp.simplify(symbolic.total_derivative(f, {x: t**2}, t) - 3 * t**2) == 0


def test_it_returns_the_chain_rule_factors_and_their_product():
    f = x**2 * y - sp.sin(y)
    result = symbolic.chain_rule(f, [x, y], [u * v, u + v**2], [u, v], [sp.cos(t), t**3], t)
    assert result.df_dx.shape == (1, 2)
    assert result.dx_du == sp.Matrix([[v, u], [1, 2 * v]])
    assert result.du_dt == sp.Matrix([-sp.sin(t), 3 * t**2])
    composed = f.subs({x: u * v, y: u + v**2}).subs({u: sp.cos(t), v: t**3})
    assert sp.simplify(result.df_dt - sp.diff(composed, t)) == 0


@pytest.mark.parametrize(
    ("f", "a", "n"),
    [
        (sp.cos(2 * x), 0, 4),
        (sp.log(x), 1, 5),
        (1 / x, 4, 3),
        (sp.exp(3 * x), 0, 6),
        (sp.sqrt(x), 4, 2),
    ],
)
def test_it_agrees_with_sympy_series(f, a, n):
    expected = sp.series(f, x, a, n + 1).removeO()
    assert sp.expand(symbolic.taylor_polynomial(f, x, a, n) - expected) == 0


def test_it_gives_the_maclaurin_polynomial_of_cos_2x():
    got = symbolic.taylor_polynomial(sp.cos(2 * x), x, 0, 4)
    assert sp.expand(got - (1 - 2 * x**2 + sp.Rational(2, 3) * x**4)) == 0


def test_it_expands_e_x_cos_y_to_second_order_at_the_origin():
    got = symbolic.taylor_second_order(sp.exp(x) * sp.cos(y), [x, y], [0, 0])
    assert sp.expand(got - (1 + x + x**2 / 2 - y**2 / 2)) == 0


def test_it_reproduces_a_quadratic_exactly_by_its_second_order_expansion():
    f = 3 * x**2 - 2 * x * y + 5 * y**2 + x - 7 * y + 2
    assert sp.expand(symbolic.taylor_second_order(f, [x, y], [2, -3]) - f) == 0


def test_it_agrees_with_the_bivariate_series_about_another_point():
    f = sp.sin(x) * sp.exp(2 * y)
    p = (1, sp.Rational(1, 2))
    got = symbolic.taylor_second_order(f, [x, y], p)
    dx, dy, s = sp.symbols("dx dy s")
    # Expand f(p + s d) in s to second order: the same polynomial, by another route.
    along = sp.series(f.subs({x: p[0] + s * dx, y: p[1] + s * dy}), s, 0, 3).removeO()
    expected = along.subs(s, 1).subs({dx: x - p[0], dy: y - p[1]})
    assert sp.simplify(sp.expand(got - expected)) == 0


def test_it_linearises_sqrt_at_4_and_reports_the_error_at_4_41():
    assert sp.expand(symbolic.linearisation(sp.sqrt(x), x, 4) - (2 + (x - 4) / 4)) == 0
    assert symbolic.linearisation_error(sp.sqrt(x), x, 4, sp.Rational(441, 100)) == sp.Rational(
        -1, 400
    )


def test_it_linearises_in_several_variables():
    f = x**2 * y
    lin = symbolic.linearisation(f, [x, y], [1, 2])
    assert sp.expand(lin - (2 + 4 * (x - 1) + (y - 2))) == 0
    err = symbolic.linearisation_error(f, [x, y], [1, 2], [sp.Rational(11, 10), 2])
    assert err == sp.Rational(121, 100) * 2 - (2 + sp.Rational(4, 10))


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (x**4 - 3 * x**2 + sp.cos(x), "even"),
        (x * sp.sin(x), "even"),
        (x**3 + sp.sin(x), "odd"),
        (sp.tan(x) / (1 + x**2), "odd"),
        (sp.exp(x), "neither"),
        (x**2 + x, "neither"),
        (sp.cosh(x) - (sp.exp(x) + sp.exp(-x)) / 2, "both"),
    ],
)
def test_it_tells_the_parity(f, expected):
    assert symbolic.parity(f, x) == expected


def _numpy_stationary(a, b, c, d, e):
    # f = a x^2 + b x y + c y^2 + d x + e y: the gradient is linear.
    m = np.array([[2 * a, b], [b, 2 * c]], dtype=float)
    point = np.linalg.solve(m, [-d, -e])
    eig = np.linalg.eigvalsh(m)
    if eig.min() > 0:
        kind = "minimum"
    elif eig.max() < 0:
        kind = "maximum"
    else:
        kind = "saddle"
    return point, kind


@pytest.mark.parametrize("seed", range(8))
def test_it_finds_and_classifies_the_template_quadratic(seed):
    rng = np.random.default_rng(seed)
    while True:
        a, b, c, d, e = (int(v) for v in rng.integers(-5, 6, size=5))
        if (4 * a * c - b * b) != 0:
            break
    f = a * x**2 + b * x * y + c * y**2 + d * x + e * y
    points = symbolic.stationary_points(f, [x, y])
    expected_point, expected_kind = _numpy_stationary(a, b, c, d, e)
    assert len(points) == 1
    assert [float(c) for c in points[0].point] == pytest.approx(expected_point.tolist())
    assert points[0].kind == expected_kind
    assert float(points[0].value) == pytest.approx(
        float(f.subs({x: expected_point[0], y: expected_point[1]})), abs=1e-9
    )


def test_it_classifies_every_stationary_point_of_a_cubic():
    points = symbolic.stationary_points(x**3 - 3 * x + y**3 - 3 * y, [x, y])
    kinds = {p.point: p.kind for p in points}
    assert kinds == {(-1, -1): "maximum", (-1, 1): "saddle", (1, -1): "saddle", (1, 1): "minimum"}
    assert {p.point: p.value for p in points}[(1, 1)] == -4


def test_it_calls_a_zero_eigenvalue_without_a_sign_change_degenerate():
    (point,) = symbolic.stationary_points(x**4 + y**2, [x, y])
    assert point.kind == "degenerate"
    assert sorted(point.eigenvalues) == [0, 2]


def test_it_keeps_only_real_stationary_points():
    points = symbolic.stationary_points(x**4 / 4 + x**2 / 2 + y**2, [x, y])
    assert [p.point for p in points] == [(0, 0)]


def test_it_refuses_a_curve_of_stationary_points():
    with pytest.raises(ValueError):
        symbolic.stationary_points(x**2, [x, y])


@pytest.mark.parametrize("seed", range(20))
def test_it_classifies_hessians_like_numpy_eigenvalues(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    m = rng.integers(-3, 4, size=(n, n))
    if seed % 4 == 0:
        # A low-rank matrix gets exact zero eigenvalues.
        m = np.outer(m[0], m[0])
    else:
        m = m + m.T
    eig = np.linalg.eigvalsh(m.astype(float))
    pos, neg = np.any(eig > 1e-9), np.any(eig < -1e-9)
    zero = np.any(np.abs(eig) <= 1e-9)
    expected = (
        "saddle" if pos and neg else "degenerate" if zero else "minimum" if pos else "maximum"
    )
    assert symbolic.classify_hessian(sp.Matrix(m.tolist())) == expected


def test_it_finds_the_extremes_of_x_plus_y_on_a_circle():
    result = symbolic.lagrange_points(x + y, x**2 + y**2 - 2, [x, y])
    assert [p.point for p in result.points] == [(-1, -1), (1, 1)]
    assert [p.point for p in result.minima] == [(-1, -1)]
    assert [p.point for p in result.maxima] == [(1, 1)]
    by_point = {p.point: p for p in result.points}
    assert by_point[(1, 1)].multiplier == sp.Rational(1, 2)
    assert by_point[(-1, -1)].value == -2
    assert by_point[(1, 1)].kind == "maximum"
    assert by_point[(-1, -1)].kind == "minimum"


def test_it_accepts_the_constraint_as_an_equation():
    result = symbolic.lagrange_points(x + y, sp.Eq(x**2 + y**2, 2), [x, y])
    assert [p.point for p in result.maxima] == [(1, 1)]


def test_it_maximises_xy_on_a_line_like_a_brute_force_search():
    p, q = 2, 8
    result = symbolic.lagrange_points(x * y, x + p * y - q, [x, y])
    (point,) = result.points
    assert point.point == (4, 2) and point.value == 8
    assert point.multiplier == 2
    assert result.maxima == [point] and result.minima == []
    ys = np.linspace(-10, 10, 200_001)
    values = (q - p * ys) * ys
    assert values.max() == pytest.approx(8, abs=1e-6)
    assert ys[values.argmax()] == pytest.approx(2, abs=1e-3)


def test_it_keeps_template_parameters_symbolic():
    p, q = sp.symbols("p q", positive=True)
    (point,) = symbolic.lagrange_points(x * y, x + p * y - q, [x, y]).points
    assert point.point == (q / 2, q / (2 * p))
    assert sp.simplify(point.value - q**2 / (4 * p)) == 0


def test_it_handles_two_constraints_with_a_multiplier_each():
    # Extremes of z on the circle cut from the sphere x^2+y^2+z^2 = 1 by x + y + z = 0.
    result = symbolic.lagrange_points(z, [x**2 + y**2 + z**2 - 1, x + y + z], [x, y, z])
    assert all(len(p.multipliers) == 2 for p in result.points)
    assert [float(p.value) for p in result.maxima] == pytest.approx([np.sqrt(2 / 3)])
    assert [float(p.value) for p in result.minima] == pytest.approx([-np.sqrt(2 / 3)])


def test_it_classifies_with_parameters_whose_sign_is_known():
    b = sp.Symbol("b", positive=True)
    (point,) = symbolic.stationary_points(b * x**2 + y**2 - 2 * x, [x, y])
    assert point.point == (1 / b, 0)
    assert point.kind == "minimum"
    with pytest.raises(ValueError, match="positive=True"):
        symbolic.stationary_points(sp.Symbol("a") * x**2 + y**2 - 2 * x, [x, y])
