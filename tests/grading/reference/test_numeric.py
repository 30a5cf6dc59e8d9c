"""Numerical reference routines: differences, Newton-Raphson, gradient descent, activations."""

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from grading.reference import numeric

x, y, z = sp.symbols("x y z")


def test_it_gives_the_course_forward_difference_for_e_x():
    got = numeric.difference_derivative(math.exp, 1.0, 0.1, "forward")
    assert round(got, 3) == 2.859
    assert got == pytest.approx((math.exp(1.1) - math.e) / 0.1, rel=1e-15)


def test_it_takes_backward_and_central_differences():
    f = math.sin
    assert numeric.difference_derivative(f, 0.5, 0.01, "backward") == pytest.approx(
        (math.sin(0.5) - math.sin(0.49)) / 0.01, rel=1e-14
    )
    assert numeric.difference_derivative(f, 0.5, 0.01, "central") == pytest.approx(
        (math.sin(0.51) - math.sin(0.49)) / 0.02, rel=1e-14
    )


def test_it_has_first_order_one_sided_and_second_order_central_errors():
    exact = math.exp(1.0)
    for scheme, order in (("forward", 1), ("backward", 1), ("central", 2)):
        coarse = abs(numeric.difference_derivative(math.exp, 1.0, 1e-2, scheme) - exact)
        fine = abs(numeric.difference_derivative(math.exp, 1.0, 5e-3, scheme) - exact)
        assert coarse / fine == pytest.approx(2**order, rel=0.05)


def test_it_refuses_an_unknown_scheme():
    with pytest.raises(ValueError):
        numeric.difference_derivative(math.exp, 1.0, 0.1, "sideways")


F = sp.exp(x * y) + x**3 * sp.sin(z) - y * z**2
POINT = np.array([0.3, -0.7, 1.1])
AT = {x: 0.3, y: -0.7, z: 1.1}


@pytest.mark.parametrize(
    ("scheme", "rel"), [("forward", 1e-6), ("backward", 1e-6), ("central", 1e-9)]
)
def test_it_matches_the_symbolic_gradient(scheme, rel):
    f = sp.lambdify([(x, y, z)], F)
    expected = [float(sp.diff(F, v).subs(AT)) for v in (x, y, z)]
    got = numeric.difference_gradient(f, POINT, scheme=scheme)
    assert got.shape == (3,)
    assert got == pytest.approx(expected, rel=rel, abs=rel)


@pytest.mark.parametrize("scheme", ["forward", "backward", "central"])
def test_it_matches_the_symbolic_jacobian(scheme):
    components = sp.Matrix([x**2 * y, sp.sin(x) + z, x * y * z])
    f = sp.lambdify([(x, y, z)], list(components))
    expected = np.array(components.jacobian([x, y, z]).subs(AT), float)
    got = numeric.difference_jacobian(f, POINT, scheme=scheme)
    assert got.shape == (3, 3)
    assert np.allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("scheme", "tol"), [("forward", 1e-3), ("backward", 1e-3), ("central", 1e-6)]
)
def test_it_matches_the_symbolic_hessian(scheme, tol):
    f = sp.lambdify([(x, y, z)], F)
    expected = np.array(sp.hessian(F, (x, y, z)).subs(AT), float)
    got = numeric.difference_hessian(f, POINT, scheme=scheme)
    assert np.allclose(got, got.T)
    assert np.allclose(got, expected, rtol=tol, atol=tol)


def test_it_reproduces_the_course_newton_raphson_steps():
    result = numeric.newton_raphson(lambda v: v**3 - 2 * v - 5, lambda v: 3 * v**2 - 2, 2.0)
    assert result.status == "converged"
    assert result.iterates[1] == pytest.approx(2.1, abs=1e-12)
    assert round(result.iterates[4], 6) == 2.094551
    assert result.root == pytest.approx(float(sp.nsolve(x**3 - 2 * x - 5, x, 2)), abs=1e-12)


def test_it_takes_exactly_the_requested_number_of_steps():
    result = numeric.newton_raphson(
        lambda v: v**3 - 2 * v - 5, lambda v: 3 * v**2 - 2, 2.0, steps=2
    )
    assert len(result.iterates) == 3
    assert result.status == "max iterations"
    assert result.iterates[2] == pytest.approx(2.1 - (2.1**3 - 4.2 - 5) / (3 * 2.1**2 - 2))


def test_it_reports_a_zero_derivative_at_a_stationary_start():
    result = numeric.newton_raphson(lambda v: v**2 - 1, lambda v: 2 * v, 0.0)
    assert result.status == "zero derivative"
    assert result.iterates == [0.0]
    assert result.root is None


def test_it_reports_the_oscillation_of_x3_minus_2x_plus_2_from_0():
    result = numeric.newton_raphson(lambda v: v**3 - 2 * v + 2, lambda v: 3 * v**2 - 2, 0.0)
    assert result.status == "oscillating"
    assert result.iterates[:3] == [0.0, 1.0, 0.0]
    fixed = numeric.newton_raphson(lambda v: v**3 - 2 * v + 2, lambda v: 3 * v**2 - 2, 0.0, steps=5)
    assert fixed.iterates == [0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
    assert fixed.status == "oscillating"


def test_it_reports_divergence_for_atan_from_2():
    result = numeric.newton_raphson(math.atan, lambda v: 1 / (1 + v * v), 2.0)
    assert result.status == "diverged"
    assert all(abs(b) > abs(a) for a, b in zip(result.iterates, result.iterates[1:], strict=False))


def test_it_reports_divergence_for_the_cube_root():
    result = numeric.newton_raphson(np.cbrt, lambda v: 1 / (3 * np.cbrt(v) ** 2), 1.0, max_iter=200)
    assert result.status == "diverged"
    # Each step doubles the distance to the root and flips the sign.
    assert result.iterates[1:4] == pytest.approx([-2.0, 4.0, -8.0])


def test_it_stops_at_max_iterations_when_far_from_converging():
    result = numeric.newton_raphson(math.atan, lambda v: 1 / (1 + v * v), 1.3, max_iter=3)
    assert result.status == "max iterations"
    assert len(result.iterates) == 4


def test_it_solves_a_system_by_newton_raphson():
    def f(p):
        return [p[0] ** 2 + p[1] ** 2 - 4, p[0] - p[1]]

    def jac(p):
        return [[2 * p[0], 2 * p[1]], [1, -1]]

    result = numeric.newton_raphson_nd(f, jac, [1.0, 2.0])
    assert result.status == "converged"
    assert result.root == pytest.approx([math.sqrt(2), math.sqrt(2)])


def test_it_reports_a_singular_jacobian_as_zero_derivative():
    result = numeric.newton_raphson_nd(
        lambda p: [p[0] ** 2 - 1, p[1] ** 2 - 1],
        lambda p: [[2 * p[0], 0], [0, 2 * p[1]]],
        [0.0, 3.0],
    )
    assert result.status == "zero derivative"


def test_it_minimises_a_quadratic_in_one_newton_step():
    h = np.array([[4.0, 1.0], [1.0, 3.0]])
    b = np.array([1.0, -2.0])
    start = np.array([5.0, 7.0])
    gradient_row = h @ start - b
    step = numeric.newton_step(gradient_row, h)
    assert start + step == pytest.approx(np.linalg.lstsq(h, b, rcond=None)[0])


def test_it_reproduces_the_course_gradient_descent_steps():
    def grad(p):
        return np.array([2 * p[0], 6 * p[1]])

    result = numeric.gradient_descent(grad, [2.0, 1.0], 0.1, steps=2)
    assert result.iterates.shape == (3, 2)
    assert result.iterates[1] == pytest.approx([1.6, 0.4])
    assert result.iterates[2] == pytest.approx([1.28, 0.16])


@pytest.mark.parametrize(("gamma", "status"), [(0.3, "converged"), (0.34, "diverged")])
def test_it_converges_only_for_steps_below_2_over_the_largest_curvature(gamma, status):
    # x^2 + 3y^2 has curvatures 2 and 6: a fixed step converges iff gamma < 2/6.
    result = numeric.gradient_descent(
        lambda p: np.array([2 * p[0], 6 * p[1]]), [2.0, 1.0], gamma, max_iter=5000
    )
    assert result.status == status
    if status == "converged":
        assert result.minimum == pytest.approx([0.0, 0.0], abs=1e-9)


def test_it_accelerates_an_ill_conditioned_descent_with_momentum():
    def grad(p):
        return np.array([0.02 * p[0], 2 * p[1]])

    plain = numeric.gradient_descent(grad, [10.0, 1.0], 0.5, tol=1e-8)
    heavy = numeric.gradient_descent(grad, [10.0, 1.0], 0.5, momentum=0.8, tol=1e-8)
    assert plain.status == heavy.status == "converged"
    assert heavy.minimum == pytest.approx([0.0, 0.0], abs=1e-6)
    assert len(heavy.iterates) < len(plain.iterates) / 2
    # The heavy-ball recurrence, written out for the first two steps.
    v1 = -0.5 * grad(np.array([10.0, 1.0]))
    x1 = np.array([10.0, 1.0]) + v1
    x2 = x1 + 0.8 * v1 - 0.5 * grad(x1)
    assert heavy.iterates[2] == pytest.approx(x2)


def test_it_computes_sigmoid_and_tanh_with_their_derivatives():
    zs = np.linspace(-6, 6, 25)
    assert numeric.sigmoid(zs) == pytest.approx(1 / (1 + np.exp(-zs)))
    assert numeric.tanh(zs) == pytest.approx([math.tanh(v) for v in zs])
    h = 1e-6
    for f, df in ((numeric.sigmoid, numeric.sigmoid_prime), (numeric.tanh, numeric.tanh_prime)):
        assert df(zs) == pytest.approx((f(zs + h) - f(zs - h)) / (2 * h), rel=1e-6, abs=1e-10)


def test_it_evaluates_the_sigmoid_far_out_without_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = numeric.sigmoid(np.array([-1000.0, 1000.0]))
    assert values.tolist() == [0.0, 1.0]


def test_it_converges_to_a_large_root_whose_spacing_exceeds_the_tolerance():
    # Near 1e7 neighbouring floats are 2e-9 apart: an absolute 1e-12 step never comes.
    root = 1e7 + 0.123
    result = numeric.newton_raphson(lambda v: v * v - root * root, lambda v: 2 * v, 3e7)
    assert result.status == "converged"
    assert result.root == pytest.approx(root, rel=1e-15)
