"""Fitting data: chi-squared, straight lines, linear and non-linear least squares.

Conventions: `sigma` is the uncertainty of each data point (None: all 1); chi-squared is
`sum(((y - f(x)) / sigma)^2)`; parameters are 1-D arrays in the order the model takes
them; a model Jacobian has one row per data point and one column per parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grading.reference.numeric import DescentStatus, gradient_descent

Array = NDArray[np.float64]
Model = Callable[[Array, Array], Array]


def _weights(sigma: ArrayLike | None, n: int) -> Array:
    if sigma is None:
        return np.ones(n)
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (n,))
    if np.any(s <= 0):
        raise ValueError("uncertainties must be positive")
    return 1.0 / s


def chi_squared(y: ArrayLike, model_y: ArrayLike, sigma: ArrayLike | None = None) -> float:
    """`sum(((y_i - f_i) / sigma_i)^2)`; without `sigma`, the sum of squared residuals."""
    y, f = np.asarray(y, dtype=float).ravel(), np.asarray(model_y, dtype=float).ravel()
    if y.shape != f.shape:
        raise ValueError("one model value per data point")
    return float(np.sum(((y - f) * _weights(sigma, y.size)) ** 2))


def linfit(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """`(m, c)` of the least-squares line `y = m x + c`, by the closed form.

    `m = sum((x - xbar) y) / sum((x - xbar)^2)`, `c = ybar - m xbar`; the points
    (1, 2), (2, 3), (3, 5), (4, 6) give m = 1.4, c = 0.5.
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.size != y.size or x.size < 2:
        raise ValueError("a line needs at least two points, one y per x")
    xbar, ybar = x.mean(), y.mean()
    spread = np.sum((x - xbar) ** 2)
    if spread == 0:
        raise ValueError("all x are equal: the slope is undefined")
    m = float(np.sum((x - xbar) * y) / spread)
    return m, float(ybar - m * xbar)


def polynomial_design(x: ArrayLike, degree: int) -> Array:
    """The design matrix `[1, x, x^2, ..., x^degree]`, one row per point."""
    x = np.asarray(x, dtype=float).ravel()
    return np.vander(x, degree + 1, increasing=True)


def least_squares(design: ArrayLike, y: ArrayLike, sigma: ArrayLike | None = None) -> Array:
    """The parameters `p` minimising chi-squared of `y ~ A p` for a design matrix `A`.

    Each row of `A` is one data point. Solved through a QR factorisation of the
    weighted system rather than the normal equations, which square the condition number.
    """
    a = np.asarray(design, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if a.ndim != 2 or a.shape[0] != y.size:
        raise ValueError("the design matrix needs one row per data point")
    w = _weights(sigma, y.size)
    q, r = np.linalg.qr(a * w[:, None])
    if np.linalg.matrix_rank(r) < a.shape[1]:
        raise ValueError("the design matrix has dependent columns: the fit is not unique")
    return np.linalg.solve(r, q.T @ (y * w))


def gaussian(x: ArrayLike, mu: float, sigma: float) -> Array:
    """The normal density `exp(-(x - mu)^2 / (2 sigma^2)) / (sigma sqrt(2 pi))`."""
    x = np.asarray(x, dtype=float)
    return np.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))


def gaussian_dmu(x: ArrayLike, mu: float, sigma: float) -> Array:
    """`df/dmu = f (x - mu) / sigma^2`."""
    x = np.asarray(x, dtype=float)
    return gaussian(x, mu, sigma) * (x - mu) / sigma**2


def gaussian_dsigma(x: ArrayLike, mu: float, sigma: float) -> Array:
    """`df/dsigma = f ((x - mu)^2 / sigma^3 - 1 / sigma)`."""
    x = np.asarray(x, dtype=float)
    return gaussian(x, mu, sigma) * ((x - mu) ** 2 / sigma**3 - 1 / sigma)


def gaussian_model(x: Array, params: Array) -> Array:
    """The Gaussian as a model `f(x; p)` with `p = (mu, sigma)`."""
    return gaussian(x, params[0], params[1])


def gaussian_jacobian(x: Array, params: Array) -> Array:
    """The model Jacobian of `gaussian_model`: columns `df/dmu`, `df/dsigma`."""
    return np.column_stack(
        [gaussian_dmu(x, params[0], params[1]), gaussian_dsigma(x, params[0], params[1])]
    )


def chi_squared_gradient(
    model: Model,
    model_jacobian: Model,
    x: ArrayLike,
    y: ArrayLike,
    params: ArrayLike,
    sigma: ArrayLike | None = None,
) -> Array:
    """`d chi^2 / dp = -2 sum((y_i - f_i) / sigma_i^2 * df_i/dp)`, a 1-D array."""
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    p = np.asarray(params, dtype=float)
    w2 = _weights(sigma, y.size) ** 2
    return -2.0 * ((y - model(x, p)) * w2) @ model_jacobian(x, p)


@dataclass(frozen=True)
class FitResult:
    """A steepest-descent fit: the final parameters and every step's chi-squared.

    `params_history[k]` and `chi2_history[k]` belong to step k (0 is the start).
    """

    params: Array
    chi2_history: list[float]
    params_history: Array
    status: DescentStatus

    @property
    def chi2(self) -> float:
        return self.chi2_history[-1]


def fit_by_gradient_descent(
    model: Model,
    model_jacobian: Model,
    x: ArrayLike,
    y: ArrayLike,
    params0: ArrayLike,
    gamma: float,
    *,
    sigma: ArrayLike | None = None,
    steps: int | None = None,
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> FitResult:
    """Non-linear least squares by steepest descent on chi-squared with a fixed step.

    `p_{n+1} = p_n - gamma d chi^2/dp`. `model(x, p)` gives the model values and
    `model_jacobian(x, p)` the (points x parameters) Jacobian. With `steps`, exactly
    that many steps; otherwise until the gradient norm is within `tol` or `max_iter`.
    """
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()

    def grad(p: Array) -> Array:
        return chi_squared_gradient(model, model_jacobian, x, y, p, sigma)

    run = gradient_descent(grad, params0, gamma, steps=steps, tol=tol, max_iter=max_iter)
    history = [chi_squared(y, model(x, p), sigma) for p in run.iterates]
    return FitResult(run.iterates[-1].copy(), history, run.iterates, run.status)


def gaussian_fit(
    x: ArrayLike,
    y: ArrayLike,
    mu0: float,
    sigma0: float,
    gamma: float,
    *,
    uncertainties: ArrayLike | None = None,
    steps: int | None = None,
    tol: float = 1e-12,
    max_iter: int = 100_000,
) -> FitResult:
    """A Gaussian `(mu, sigma)` fitted to `(x, y)` by steepest descent on chi-squared."""
    return fit_by_gradient_descent(
        gaussian_model,
        gaussian_jacobian,
        x,
        y,
        [mu0, sigma0],
        gamma,
        sigma=uncertainties,
        steps=steps,
        tol=tol,
        max_iter=max_iter,
    )
