"""The references of the course's code exercises, each against an independent computation:
the analytic result, the course notes' numbers, SymPy, numpy.polyfit, or the same
quantity by a cruder method."""

from __future__ import annotations

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import yaml

from grading.code.references import REFERENCES
from grading.reference import symbolic

COURSE = Path(__file__).resolve().parents[2] / "course"


def make_rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def code_parts() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(COURSE.glob("*/*.yaml")):
        for ex in yaml.safe_load(path.read_text(encoding="utf-8"))["exercises"]:
            for part in ex["parts"]:
                if part.get("kind") == "code":
                    found.append((ex["slug"], part["code"]))
    return found


def test_it_has_a_reference_with_the_students_signature_for_every_code_exercise():
    parts = code_parts()
    assert len(parts) >= 8
    for slug, code in parts:
        routine = code["reference"]["routine"]
        assert routine in REFERENCES, slug
        name, params = re.fullmatch(r"(\w+)\((.*)\)", code["signature"]).groups()
        assert name == code["function"], slug
        expected = [p.strip() for p in params.split(",")]
        assert list(inspect.signature(REFERENCES[routine]).parameters) == expected, slug


# ---------------------------------------------------------------- derivatives


def test_it_gives_the_course_notes_forward_difference_of_e_to_the_x():
    value = REFERENCES["forward_difference"](math.exp, 1.0, 0.1)
    assert value == pytest.approx((math.exp(1.1) - math.e) / 0.1, rel=1e-14)
    assert round(value, 3) == 2.859


def test_it_overestimates_a_quadratics_slope_by_exactly_a_h_forwards():
    # (a(x+h)^2 + b(x+h) - a x^2 - b x) / h = 2ax + b + ah: the forward, not central, difference.
    a, b, x, h = 3.0, -2.0, 1.5, 0.25
    value = REFERENCES["forward_difference"](lambda t: a * t**2 + b * t, x, h)
    assert value == pytest.approx(2 * a * x + b + a * h, rel=1e-12)


def test_it_estimates_each_partial_derivative_forwards_as_a_1d_gradient():
    h = 0.01
    grad = REFERENCES["gradient_fd"](lambda v: v[0] ** 2 + 3 * v[1] ** 2, np.array([2.0, 1.0]), h)
    assert grad.shape == (2,)
    # d/dx: 2x + h, d/dy: 6y + 3h, exactly for a quadratic.
    assert grad == pytest.approx([4 + h, 6 + 3 * h], rel=1e-10)


def test_it_leaves_the_point_unchanged():
    x = np.array([0.5, -1.0, 2.0])
    REFERENCES["gradient_fd"](lambda v: float(np.sum(v**3)), x, 0.1)
    REFERENCES["jacobian_fd"](lambda v: v**2, x, 0.1)
    assert list(x) == [0.5, -1.0, 2.0]


def test_it_gives_a_linear_maps_matrix_as_its_jacobian_one_row_per_component():
    a = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    jac = REFERENCES["jacobian_fd"](lambda v: a @ v, make_rng().normal(size=3), 1e-3)
    assert jac.shape == (2, 3)
    assert jac == pytest.approx(a, abs=1e-9)


def test_it_approaches_the_analytic_jacobian_of_polar_coordinates():
    r, t = 1.5, 0.7
    jac = REFERENCES["jacobian_fd"](
        lambda v: np.array([v[0] * np.cos(v[1]), v[0] * np.sin(v[1])]), np.array([r, t]), 1e-7
    )
    exact = [[math.cos(t), -r * math.sin(t)], [math.sin(t), r * math.cos(t)]]
    assert jac == pytest.approx(np.array(exact), abs=1e-6)


# ---------------------------------------------------------------- a sigmoid layer


def test_it_computes_each_neuron_of_a_layer_by_hand():
    rng = make_rng(1)
    w, b, a0 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    out = REFERENCES["forward_pass"](w, b, a0)
    by_hand = [1 / (1 + math.exp(-(w[i, 0] * a0[0] + w[i, 1] * a0[1] + b[i]))) for i in range(3)]
    assert out.shape == (3,)
    assert out == pytest.approx(by_hand, rel=1e-12)


def _layer_cost(w, b, a0, y):
    a1 = 1 / (1 + np.exp(-(w @ a0 + b[:, None])))
    return float(np.sum((a1 - y) ** 2) / a0.shape[1])


def test_it_backpropagates_the_gradients_a_central_difference_of_the_cost_gives():
    rng = make_rng(2)
    w, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    a0, y = rng.normal(size=(3, 4)), rng.uniform(size=(2, 4))
    j_w, j_b = REFERENCES["layer_backprop"](w, b, a0, y)
    assert j_w.shape == w.shape and j_b.shape == b.shape
    h = 1e-6
    for params, grad in ((w, j_w), (b, j_b)):
        for index in np.ndindex(params.shape):
            up, down = params.copy(), params.copy()
            up[index] += h
            down[index] -= h
            if params is w:
                numeric = (_layer_cost(up, b, a0, y) - _layer_cost(down, b, a0, y)) / (2 * h)
            else:
                numeric = (_layer_cost(w, up, a0, y) - _layer_cost(w, down, a0, y)) / (2 * h)
            assert grad[index] == pytest.approx(numeric, abs=1e-8)


# ---------------------------------------------------------------- Taylor series


def test_it_agrees_with_the_symbolic_taylor_polynomial_of_e_to_the_x():
    x = sp.Symbol("x")
    a = 0.5
    derivatives = [math.exp(a)] * 5
    symbolic_t4 = symbolic.taylor_polynomial(sp.exp(x), x, sp.Rational(1, 2), 4)
    for point in (-1.0, 0.5, 1.2, 3.0):
        value = REFERENCES["taylor_polynomial"](derivatives, a, point)
        assert isinstance(value, float)
        assert value == pytest.approx(float(symbolic_t4.subs(x, point)), rel=1e-12)


def test_it_gives_a_quartic_back_as_its_own_fourth_order_taylor_polynomial():
    p, k = 2.0, -3.0
    derivatives = [p**4 + k * p, 4 * p**3 + k, 12 * p**2, 24 * p, 24]
    xs = np.array([-1.0, 0.0, 0.5, 2.5])
    values = REFERENCES["taylor_polynomial"](derivatives, p, xs)
    assert values.shape == xs.shape
    assert values == pytest.approx(xs**4 + k * xs, rel=1e-12, abs=1e-12)


def test_it_gives_the_course_notes_error_of_linearising_sqrt_at_4():
    error = REFERENCES["linearisation_error"](math.sqrt, lambda t: 0.5 / math.sqrt(t), 4, 4.41)
    assert error == pytest.approx(-0.0025, rel=1e-9)


def test_it_agrees_with_the_symbolic_linearisation_error():
    x = sp.Symbol("x")
    exact = symbolic.linearisation_error(sp.log(x), x, 1, sp.Rational(13, 10))
    assert REFERENCES["linearisation_error"](math.log, lambda t: 1 / t, 1, 1.3) == pytest.approx(
        float(exact), rel=1e-12
    )


# ---------------------------------------------------------------- optimisation


def cubic(t):
    return t**3 - 2 * t - 5


def cubic_slope(t):
    return 3 * t**2 - 2


def test_it_finds_the_course_notes_root_of_the_cubic():
    x, status = REFERENCES["newton_raphson"](cubic, cubic_slope, 2, 1e-12, 50)
    assert status == "converged"
    assert round(x, 6) == 2.094551
    assert abs(cubic(x)) < 1e-12


def test_it_stops_at_max_iterations_on_the_last_iterate():
    x, status = REFERENCES["newton_raphson"](cubic, cubic_slope, 2, 1e-12, 2)
    assert status == "max iterations"
    assert x == pytest.approx(2.1 - 0.061 / 11.23, rel=1e-12)


@pytest.mark.parametrize(
    "f, df, x0, status, last",
    [
        (lambda t: t**2 - 1, lambda t: 2 * t, 0.0, "zero derivative", 0.0),
        (lambda t: t**3 - 2 * t + 2, lambda t: 3 * t**2 - 2, 0.0, "oscillating", 0.0),
        (lambda t: t**2 - 4, lambda t: 2 * t, 2.0, "converged", 2.0),
    ],
    ids=["zero derivative", "oscillating", "root at the start"],
)
def test_it_reports_how_newton_raphson_ended(f, df, x0, status, last):
    assert REFERENCES["newton_raphson"](f, df, x0, 1e-12, 50) == (last, status)


def test_it_reports_divergence_once_an_iterate_passes_the_bound():
    x, status = REFERENCES["newton_raphson"](math.atan, lambda t: 1 / (1 + t * t), 2.0, 1e-12, 50)
    assert status == "diverged"
    assert abs(x) > 1e12


def test_it_gives_the_course_notes_gradient_descent_steps():
    x0 = np.array([2.0, 1.0])
    path = REFERENCES["gradient_descent"](lambda v: np.array([2 * v[0], 6 * v[1]]), x0, 0.1, 2)
    assert path.shape == (3, 2)
    assert path == pytest.approx(np.array([[2, 1], [1.6, 0.4], [1.28, 0.16]]), rel=1e-12)
    assert list(x0) == [2.0, 1.0]


def test_it_gives_only_the_start_after_no_steps():
    path = REFERENCES["gradient_descent"](lambda v: 2 * v, [1.0, -1.0, 3.0], 0.5, 0)
    assert path.tolist() == [[1.0, -1.0, 3.0]]


# ---------------------------------------------------------------- regression


def test_it_fits_the_course_notes_line():
    m, c = REFERENCES["linfit"](np.array([1.0, 2, 3, 4]), np.array([2.0, 3, 5, 6]))
    assert (m, c) == (pytest.approx(1.4), pytest.approx(0.5))


def test_it_fits_the_line_numpy_polyfit_fits():
    rng = make_rng(3)
    x, y = rng.uniform(0, 10, 30), rng.normal(size=30)
    assert REFERENCES["linfit"](x, y) == pytest.approx(tuple(np.polyfit(x, y, 1)), rel=1e-9)


def _gaussian_chi2(x, y, mu, sigma):
    f = np.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
    return float(np.sum((y - f) ** 2))


def make_gaussian_data():
    x = np.arange(1, 10.5, 0.5)
    mu, sigma = 5.2, 1.6
    clean = np.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
    return x, clean + make_rng(4).normal(0, 0.005, x.size)


def test_it_takes_one_steepest_descent_step_on_chi_squared():
    x, y = make_gaussian_data()
    mu0, sigma0, gamma, h = 4.5, 2.0, 2.0, 1e-6
    d_mu = (_gaussian_chi2(x, y, mu0 + h, sigma0) - _gaussian_chi2(x, y, mu0 - h, sigma0)) / (2 * h)
    d_sigma = (_gaussian_chi2(x, y, mu0, sigma0 + h) - _gaussian_chi2(x, y, mu0, sigma0 - h)) / (
        2 * h
    )
    mu, sigma = REFERENCES["gaussian_fit"](x, y, mu0, sigma0, gamma, 1)
    assert (mu, sigma) == (
        pytest.approx(mu0 - gamma * d_mu, rel=1e-7),
        pytest.approx(sigma0 - gamma * d_sigma, rel=1e-7),
    )
    assert REFERENCES["gaussian_fit"](x, y, mu0, sigma0, gamma, 0) == (mu0, sigma0)


def test_it_converges_to_a_minimum_of_chi_squared_near_the_true_parameters():
    x, y = make_gaussian_data()
    mu, sigma = REFERENCES["gaussian_fit"](x, y, 4.0, 2.5, 2.0, 200)
    assert abs(mu - 5.2) < 0.05 and abs(sigma - 1.6) < 0.05
    best = _gaussian_chi2(x, y, mu, sigma)
    for dmu, dsigma in ((0.01, 0), (-0.01, 0), (0, 0.01), (0, -0.01)):
        assert _gaussian_chi2(x, y, mu + dmu, sigma + dsigma) > best
