"""Numerical calculus and optimisation, in NumPy floats.

Conventions: a point is a 1-D array; a gradient is returned as a 1-D array (the one
row of the 1 x n Jacobian); a Jacobian is m x n (one row per component of the
function); a difference scheme is `"forward"`, `"backward"` or `"central"`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Scheme = Literal["forward", "backward", "central"]
NewtonStatus = Literal["converged", "zero derivative", "oscillating", "diverged", "max iterations"]
DescentStatus = Literal["converged", "diverged", "max iterations"]

Vector = NDArray[np.float64]

# Step sizes that balance truncation against rounding error in double precision:
# about sqrt(eps) for one-sided differences, eps^(1/3) for central ones, and
# eps^(1/4) for the second differences of a Hessian.
_DEFAULT_STEP = {"forward": 1.5e-8, "backward": 1.5e-8, "central": 6e-6}
_DEFAULT_HESSIAN_STEP = {"forward": 1e-4, "backward": 1e-4, "central": 1e-4}


def _check_scheme(scheme: str) -> None:
    if scheme not in _DEFAULT_STEP:
        raise ValueError(f"unknown difference scheme {scheme!r}: forward, backward or central")


def difference_derivative(
    f: Callable[[float], float], x: float, h: float | None = None, scheme: Scheme = "forward"
) -> float:
    """`f'(x)` by a difference quotient.

    forward `(f(x+h) - f(x)) / h`, backward `(f(x) - f(x-h)) / h`, central
    `(f(x+h) - f(x-h)) / 2h`. `e^x` at 1 with `h = 0.1`, forward, gives 2.8588.
    """
    _check_scheme(scheme)
    step = _DEFAULT_STEP[scheme] if h is None else h
    if scheme == "forward":
        return (f(x + step) - f(x)) / step
    if scheme == "backward":
        return (f(x) - f(x - step)) / step
    return (f(x + step) - f(x - step)) / (2 * step)


def difference_jacobian(
    f: Callable[[Vector], ArrayLike],
    x: ArrayLike,
    h: float | None = None,
    scheme: Scheme = "forward",
) -> NDArray[np.float64]:
    """The m x n Jacobian of `f: R^n -> R^m` by differences, one column per variable.

    A scalar `f` gives a 1 x n matrix.
    """
    _check_scheme(scheme)
    step = _DEFAULT_STEP[scheme] if h is None else h
    x = np.asarray(x, dtype=float)
    f0 = np.atleast_1d(np.asarray(f(x), dtype=float))
    columns = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = step
        if scheme == "forward":
            column = (np.atleast_1d(f(x + e)) - f0) / step
        elif scheme == "backward":
            column = (f0 - np.atleast_1d(f(x - e))) / step
        else:
            column = (np.atleast_1d(f(x + e)) - np.atleast_1d(f(x - e))) / (2 * step)
        columns.append(np.asarray(column, dtype=float))
    return np.column_stack(columns)


def difference_gradient(
    f: Callable[[Vector], float], x: ArrayLike, h: float | None = None, scheme: Scheme = "forward"
) -> Vector:
    """The gradient of a scalar `f` by differences, as a 1-D array."""
    return difference_jacobian(f, x, h, scheme)[0]


def difference_hessian(
    f: Callable[[Vector], float], x: ArrayLike, h: float | None = None, scheme: Scheme = "central"
) -> NDArray[np.float64]:
    """The n x n Hessian of a scalar `f` by second differences.

    forward: `(f(x+hi+hj) - f(x+hi) - f(x+hj) + f(x)) / h^2`, backward the same with
    `-h`, central: `(f(x+hi+hj) - f(x+hi-hj) - f(x-hi+hj) + f(x-hi-hj)) / 4h^2`.
    """
    _check_scheme(scheme)
    step = _DEFAULT_HESSIAN_STEP[scheme] if h is None else h
    x = np.asarray(x, dtype=float)
    n = x.size
    unit = np.eye(n) * step
    result = np.empty((n, n))
    sign = -1.0 if scheme == "backward" else 1.0
    for i in range(n):
        for j in range(i, n):
            ei, ej = unit[i], unit[j]
            if scheme == "central":
                value = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                    4 * step * step
                )
            else:
                ei, ej = sign * ei, sign * ej
                value = (f(x + ei + ej) - f(x + ei) - f(x + ej) + f(x)) / (step * step)
            result[i, j] = result[j, i] = value
    return result


@dataclass(frozen=True)
class NewtonResult:
    """The iterates `x0, x1, ...` of a Newton-Raphson run and how it ended.

    `status`: `"converged"` (a step no larger than the tolerance times
    `max(1, |x|)`, or `f = 0` exactly), `"zero derivative"` (the derivative, or the Jacobian's determinant,
    vanished: the next step is undefined), `"oscillating"` (an iterate came back to an
    earlier one, two or more steps before, without converging), `"diverged"` (an
    iterate left the bound or stopped being finite) or `"max iterations"`.
    `root` is the last iterate when converged, else None.
    """

    iterates: list[float] | list[Vector]
    status: NewtonStatus

    @property
    def root(self) -> float | Vector | None:
        return self.iterates[-1] if self.status == "converged" else None

    @property
    def steps(self) -> int:
        return len(self.iterates) - 1


def newton_raphson(
    f: Callable[[float], float],
    df: Callable[[float], float],
    x0: float,
    *,
    steps: int | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
    zero_tol: float = 0.0,
    bound: float = 1e12,
) -> NewtonResult:
    """Newton-Raphson for a root of `f`: `x_{n+1} = x_n - f(x_n) / f'(x_n)`.

    With `steps`, take exactly that many steps (stopping early only when the next
    step is undefined, or an iterate diverges) and report the status at the end:
    `"converged"` if the last step was within `tol`, `"oscillating"` if the iterates
    came back to an earlier value, else `"max iterations"`. Without `steps`, run until
    the step is within `tol` (relative to `max(1, |x|)`, so absolute near 0), or
    `max_iter` steps. The derivative counts as
    zero when `|f'| <= zero_tol` (by default only exactly zero: a tiny derivative
    throws the iterate far away, which shows as divergence).
    `x^3 - 2x - 5` from 2 gives `x1 = 2.1` and `x4 = 2.0945514815...`.
    """
    iterates: list[float] = [float(x0)]
    limit = max_iter if steps is None else steps
    x = float(x0)
    oscillated = False
    if steps is None and f(x) == 0:
        return NewtonResult(iterates, "converged")
    last_step = np.inf
    for _ in range(limit):
        slope = float(df(x))
        if not np.isfinite(slope) or abs(slope) <= zero_tol:
            return NewtonResult(iterates, "zero derivative")
        x_new = x - float(f(x)) / slope
        iterates.append(x_new)
        if not np.isfinite(x_new) or abs(x_new) > bound:
            return NewtonResult(iterates, "diverged")
        last_step = abs(x_new - x) / max(1.0, abs(x_new))
        revisits = _revisits(iterates, tol)
        if steps is None:
            if last_step <= tol or f(x_new) == 0:
                return NewtonResult(iterates, "converged")
            if revisits:
                return NewtonResult(iterates, "oscillating")
        oscillated = oscillated or revisits
        x = x_new
    if last_step <= tol:
        return NewtonResult(iterates, "converged")
    return NewtonResult(iterates, "oscillating" if oscillated else "max iterations")


def _revisits(iterates: list[float] | list[Vector], tol: float) -> bool:
    """Whether the newest iterate is back at one two or more steps earlier."""
    newest = np.asarray(iterates[-1])
    scale = max(1.0, float(np.max(np.abs(newest))))
    if len(iterates) < 3 or np.max(np.abs(newest - np.asarray(iterates[-2]))) <= tol * scale:
        return False
    return any(
        float(np.max(np.abs(newest - np.asarray(earlier)))) <= 1e-9 * scale
        for earlier in iterates[:-2]
    )


def newton_raphson_nd(
    f: Callable[[Vector], ArrayLike],
    jac: Callable[[Vector], ArrayLike],
    x0: ArrayLike,
    *,
    steps: int | None = None,
    tol: float = 1e-12,
    max_iter: int = 100,
    bound: float = 1e12,
) -> NewtonResult:
    """Newton-Raphson for `f(x) = 0` in n dimensions: `x_{n+1} = x_n - J(x_n)^-1 f(x_n)`.

    Statuses as for `newton_raphson`; a singular Jacobian is `"zero derivative"`.
    `tol` bounds the largest component of the step, relative to `max(1, |x|_max)`. Also finds a stationary point of
    a scalar function when given its gradient and Hessian (Newton's optimisation).
    """
    x = np.asarray(x0, dtype=float).copy()
    iterates: list[Vector] = [x.copy()]
    limit = max_iter if steps is None else steps
    oscillated = False
    last_step = np.inf
    for _ in range(limit):
        j = np.atleast_2d(np.asarray(jac(x), dtype=float))
        value = np.atleast_1d(np.asarray(f(x), dtype=float))
        if steps is None and not np.any(value):
            return NewtonResult(iterates, "converged")
        if not np.all(np.isfinite(j)) or np.linalg.matrix_rank(j) < x.size:
            return NewtonResult(iterates, "zero derivative")
        x_new = x - np.linalg.solve(j, value)
        iterates.append(x_new)
        if not np.all(np.isfinite(x_new)) or np.max(np.abs(x_new)) > bound:
            return NewtonResult(iterates, "diverged")
        last_step = float(np.max(np.abs(x_new - x))) / max(1.0, float(np.max(np.abs(x_new))))
        revisits = _revisits(iterates, tol)
        if steps is None:
            if last_step <= tol:
                return NewtonResult(iterates, "converged")
            if revisits:
                return NewtonResult(iterates, "oscillating")
        oscillated = oscillated or revisits
        x = x_new
    if last_step <= tol:
        return NewtonResult(iterates, "converged")
    return NewtonResult(iterates, "oscillating" if oscillated else "max iterations")


def newton_step(jacobian_row: ArrayLike, hessian: ArrayLike) -> Vector:
    """The Newton optimisation step `-H^-1 J^T` (J the gradient row) as a 1-D array."""
    j = np.asarray(jacobian_row, dtype=float).ravel()
    return -np.linalg.solve(np.asarray(hessian, dtype=float), j)


@dataclass(frozen=True)
class DescentResult:
    """The iterates (k+1 rows, one per point, the start first) and how the run ended.

    `status`: `"converged"` (gradient norm within the tolerance), `"diverged"` (left
    the bound or stopped being finite) or `"max iterations"` (also the status after a
    fixed number of `steps` that did not reach the tolerance).
    """

    iterates: NDArray[np.float64]
    status: DescentStatus

    @property
    def minimum(self) -> Vector:
        return self.iterates[-1]


def gradient_descent(
    grad: Callable[[Vector], ArrayLike],
    x0: ArrayLike,
    gamma: float,
    *,
    steps: int | None = None,
    momentum: float = 0.0,
    tol: float = 1e-10,
    max_iter: int = 10_000,
    bound: float = 1e12,
) -> DescentResult:
    """Gradient descent with a fixed step: `x_{n+1} = x_n - gamma grad f(x_n)`.

    With `momentum = beta`, the heavy-ball form: `v_{n+1} = beta v_n - gamma grad f(x_n)`,
    `x_{n+1} = x_n + v_{n+1}`, `v_0 = 0`. With `steps`, exactly that many steps;
    otherwise until the gradient norm is within `tol`, or `max_iter` steps.
    `x^2 + 3y^2` with `gamma = 0.1` from (2, 1) gives (1.6, 0.4) then (1.28, 0.16).
    """
    x = np.asarray(x0, dtype=float).copy()
    velocity = np.zeros_like(x)
    iterates = [x.copy()]
    limit = max_iter if steps is None else steps
    status: DescentStatus = "max iterations"
    for _ in range(limit):
        g = np.asarray(grad(x), dtype=float).ravel()
        if steps is None and np.linalg.norm(g) <= tol:
            status = "converged"
            break
        velocity = momentum * velocity - gamma * g
        x = x + velocity
        iterates.append(x.copy())
        if not np.all(np.isfinite(x)) or np.max(np.abs(x)) > bound:
            status = "diverged"
            break
    else:
        g = np.asarray(grad(x), dtype=float).ravel()
        if np.all(np.isfinite(g)) and np.linalg.norm(g) <= tol:
            status = "converged"
    return DescentResult(np.array(iterates), status)


def sigmoid(z: ArrayLike) -> NDArray[np.float64]:
    """The logistic function `1 / (1 + e^-z)`, computed without overflow."""
    z = np.asarray(z, dtype=float)
    # exp of a large positive argument overflows; using e^z / (1 + e^z) for z < 0
    # keeps every exponent non-positive.
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def sigmoid_prime(z: ArrayLike) -> NDArray[np.float64]:
    """`d sigma / dz = sigma(z) (1 - sigma(z))`."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: ArrayLike) -> NDArray[np.float64]:
    """The hyperbolic tangent."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_prime(z: ArrayLike) -> NDArray[np.float64]:
    """`d tanh / dz = 1 - tanh(z)^2`."""
    return 1.0 - np.tanh(np.asarray(z, dtype=float)) ** 2
