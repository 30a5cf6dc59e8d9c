"""Regression reference routines against NumPy's own fits and closed forms."""

import math

import numpy as np
import pytest

from grading.reference import regression


def test_it_fits_the_course_line():
    m, c = regression.linfit([1, 2, 3, 4], [2, 3, 5, 6])
    assert m == pytest.approx(1.4)
    assert c == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_it_fits_lines_like_polyfit(seed):
    rng = np.random.default_rng(seed)
    xs = rng.uniform(-5, 5, 30)
    ys = 2.5 * xs - 1 + rng.normal(0, 0.5, 30)
    assert regression.linfit(xs, ys) == pytest.approx(tuple(np.polyfit(xs, ys, 1)))


def test_it_refuses_a_vertical_line():
    with pytest.raises(ValueError):
        regression.linfit([2, 2, 2], [1, 2, 3])


def test_it_adds_up_chi_squared_with_uncertainties():
    y, f, s = [1.0, 2.0, 4.0], [1.5, 2.0, 3.0], [0.5, 1.0, 2.0]
    assert regression.chi_squared(y, f, s) == pytest.approx(1.0 + 0.0 + 0.25)
    assert regression.chi_squared(y, f) == pytest.approx(0.25 + 0 + 1)


def test_it_refuses_non_positive_uncertainties():
    with pytest.raises(ValueError):
        regression.chi_squared([1.0], [1.0], [0.0])


@pytest.mark.parametrize("seed", range(4))
def test_it_solves_weighted_least_squares_like_lstsq(seed):
    rng = np.random.default_rng(seed)
    xs = np.linspace(0, 4, 25)
    design = np.column_stack([np.ones_like(xs), np.sin(xs), np.exp(-xs)])
    sigma = rng.uniform(0.1, 1.0, xs.size)
    ys = design @ [1.0, -2.0, 3.0] + rng.normal(0, sigma)
    expected = np.linalg.lstsq(design / sigma[:, None], ys / sigma, rcond=None)[0]
    assert regression.least_squares(design, ys, sigma) == pytest.approx(expected)


def test_it_fits_a_polynomial_design_like_polyfit():
    rng = np.random.default_rng(3)
    xs = rng.uniform(-2, 2, 40)
    ys = 1 - xs + 0.5 * xs**3 + rng.normal(0, 0.1, 40)
    got = regression.least_squares(regression.polynomial_design(xs, 3), ys)
    assert got == pytest.approx(np.polyfit(xs, ys, 3)[::-1])


def test_it_refuses_dependent_design_columns():
    xs = np.arange(5.0)
    with pytest.raises(ValueError):
        regression.least_squares(np.column_stack([xs, 2 * xs]), xs)


def test_it_uses_the_normalised_gaussian():
    xs = np.linspace(100, 260, 20001)
    values = regression.gaussian(xs, 178.5, 7.55)
    assert np.sum(values) * (xs[1] - xs[0]) == pytest.approx(1.0, rel=1e-6)
    assert regression.gaussian(178.5, 178.5, 7.55) == pytest.approx(
        1 / (7.55 * math.sqrt(2 * math.pi))
    )


def test_it_differentiates_the_gaussian_like_finite_differences():
    xs = np.linspace(160, 200, 9)
    mu, s, h = 178.5, 7.55, 1e-5
    dmu = (regression.gaussian(xs, mu + h, s) - regression.gaussian(xs, mu - h, s)) / (2 * h)
    ds = (regression.gaussian(xs, mu, s + h) - regression.gaussian(xs, mu, s - h)) / (2 * h)
    assert regression.gaussian_dmu(xs, mu, s) == pytest.approx(dmu, rel=1e-6, abs=1e-12)
    assert regression.gaussian_dsigma(xs, mu, s) == pytest.approx(ds, rel=1e-6, abs=1e-12)


def test_it_gives_the_chi_squared_gradient_of_a_model():
    rng = np.random.default_rng(5)
    xs = np.linspace(0, 5, 15)
    ys = 2 * (1 - np.exp(-0.7 * xs)) + rng.normal(0, 0.05, xs.size)
    sigma = np.full(xs.size, 0.05)

    def model(x, p):
        return p[0] * (1 - np.exp(-p[1] * x))

    def jac(x, p):
        return np.column_stack([1 - np.exp(-p[1] * x), p[0] * x * np.exp(-p[1] * x)])

    p, h = np.array([1.8, 0.9]), 1e-6
    numeric = [
        (
            regression.chi_squared(ys, model(xs, p + e), sigma)
            - regression.chi_squared(ys, model(xs, p - e), sigma)
        )
        / (2 * h)
        for e in (np.array([h, 0.0]), np.array([0.0, h]))
    ]
    got = regression.chi_squared_gradient(model, jac, xs, ys, p, sigma)
    assert got == pytest.approx(numeric, rel=1e-6)


def _grid_optimum(xs, ys, mu, sigma, half_widths, n=201):
    # Brute force over (mu, sigma), twice, each time zooming in on the best cell.
    for _ in range(3):
        mus = np.linspace(mu - half_widths[0], mu + half_widths[0], n)
        sigmas = np.linspace(sigma - half_widths[1], sigma + half_widths[1], n)
        m, s = np.meshgrid(mus, sigmas, indexing="ij")
        f = np.exp(-((xs - m[..., None]) ** 2) / (2 * s[..., None] ** 2)) / (
            s[..., None] * np.sqrt(2 * np.pi)
        )
        chi2 = np.sum((ys - f) ** 2, axis=-1)
        i, j = np.unravel_index(np.argmin(chi2), chi2.shape)
        mu, sigma = mus[i], sigmas[j]
        half_widths = (4 * (mus[1] - mus[0]), 4 * (sigmas[1] - sigmas[0]))
    return mu, sigma, float(chi2[i, j])


def test_it_fits_a_gaussian_by_steepest_descent():
    rng = np.random.default_rng(2024)
    xs = np.arange(150.0, 211.0)
    ys = regression.gaussian(xs, 178.5, 7.55) + rng.normal(0, 0.001, xs.size)
    # A parabola through the logarithm of the clearly positive points gives a start
    # and a region for the brute-force search, independent of the descent.
    mask = ys > 0.01
    a, b, _ = np.polyfit(xs[mask], np.log(ys[mask]), 2)
    mu0, sigma0 = -b / (2 * a), math.sqrt(-1 / (2 * a))
    ref_mu, ref_sigma, ref_chi2 = _grid_optimum(xs, ys, mu0, sigma0, (3.0, 2.0))

    fit = regression.gaussian_fit(xs, ys, 175.0, 10.0, 1000.0, tol=1e-14)
    assert fit.status == "converged"
    assert fit.params == pytest.approx([178.5, 7.55], abs=0.2)
    assert fit.params == pytest.approx([ref_mu, ref_sigma], abs=0.05)
    assert abs(fit.chi2 - ref_chi2) <= 0.01 * ref_chi2
    assert fit.chi2_history[0] > 10 * fit.chi2
    assert len(fit.chi2_history) == len(fit.params_history)


def test_it_takes_a_fixed_number_of_fitting_steps():
    xs = np.arange(150.0, 211.0)
    ys = regression.gaussian(xs, 178.5, 7.55)
    fit = regression.gaussian_fit(xs, ys, 175.0, 10.0, 1000.0, steps=3)
    assert len(fit.chi2_history) == 4
    start = np.array([175.0, 10.0])
    grad = regression.chi_squared_gradient(
        regression.gaussian_model, regression.gaussian_jacobian, xs, ys, start
    )
    assert fit.params_history[1] == pytest.approx(start - 1000.0 * grad)
