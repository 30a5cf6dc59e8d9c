"""The reference implementations of the course's code exercises, by name.

A code part names one of these (`reference: {routine: <name>}`); the engine calls it
with each test's arguments and compares the student's result with its own. Each entry
has exactly the signature the student implements and is a thin wrapper around the
course's routines in `grading/reference/`, so that an exercise and the rest of the
course compute the same thing the same way.

Function-valued arguments arrive as plain Python callables: of one float, or, for the
exercises on several variables, of one 1-D NumPy array. Arrays may arrive as NumPy
arrays or as lists, so every entry reads them with `np.asarray`.

A routine is trusted and runs in the grading process, on the tests' decoded arguments;
what it returns is the expected value, and an exception it raises is the exception the
student's function is expected to raise (same type name). Results are cached per
(routine, tests) in `expected_values`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from grading.code import arguments, harness
from grading.code.compare import Raised
from grading.reference import networks, numeric, regression

Array = NDArray[np.float64]


def forward_difference(f: Callable[[float], float], x: float, h: float) -> float:
    """`(f(x + h) - f(x)) / h`: the forward-difference estimate of `f'(x)`.

    `e^x` at 1 with `h = 0.1` gives 2.8588.
    """
    return float(numeric.difference_derivative(f, x, h, "forward"))


def gradient_fd(f: Callable[[Array], float], x: ArrayLike, h: float) -> Array:
    """The gradient of a scalar `f` at `x` by forward differences, as a 1-D array.

    Component `i` is `(f(x + h e_i) - f(x)) / h`, one variable nudged at a time.
    """
    return numeric.difference_gradient(f, np.asarray(x, dtype=float), h, "forward")


def jacobian_fd(f: Callable[[Array], ArrayLike], x: ArrayLike, h: float) -> Array:
    """The m x n Jacobian of `f: R^n -> R^m` at `x` by forward differences.

    Row `i` belongs to component `f_i`, column `j` to variable `x_j`:
    `J[i, j] = (f_i(x + h e_j) - f_i(x)) / h`.
    """
    return numeric.difference_jacobian(f, np.asarray(x, dtype=float), h, "forward")


def forward_pass(W: ArrayLike, b: ArrayLike, a0: ArrayLike) -> Array:
    """One sigmoid layer, `a1 = sigma(W a0 + b)`, for a 1-D input `a0`; a 1-D result.

    `W` has shape (n1, n0), `b` and the result n1 entries, `a0` n0 entries.
    """
    activations = networks.forward_pass([W], [b], np.asarray(a0, dtype=float).ravel())
    return activations[-1].ravel()


def layer_backprop(W: ArrayLike, b: ArrayLike, a0: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    """`(J_W, J_b)`: the gradients of the cost of one sigmoid layer `a1 = sigma(W a0 + b)`.

    `a0` holds the N training inputs as columns (n0, N) and `y` the targets (n1, N);
    the cost is `C = |a1 - y|^2 / N`. With `delta = 2 (a1 - y) / N * sigma'(z1)`,
    `J_W = delta a0^T` has the shape of `W` (n1, n0) and `J_b`, `delta` summed over
    the examples, the shape of `b` (n1,).
    """
    b = np.asarray(b, dtype=float)
    grad_w, grad_b = networks.backpropagate([W], [b], np.asarray(a0, dtype=float), y)
    return grad_w[0], grad_b[0].reshape(b.shape)


def taylor_polynomial(derivatives: Sequence[float], a: float, x: float | ArrayLike):
    """`sum_k derivatives[k] / k! (x - a)^k`: the Taylor polynomial about `a` at `x`.

    `derivatives` is `[f(a), f'(a), ..., f^(n)(a)]`, so the polynomial has order n. `x`
    may be a number (a float comes back) or an array (evaluated at each entry). This is
    the formula of `grading.reference.symbolic.taylor_polynomial`, evaluated in floats
    from the derivatives' values rather than from a SymPy expression.
    """
    x = np.asarray(x, dtype=float)
    total = np.zeros_like(x)
    for k, value in enumerate(derivatives):
        total = total + float(value) / math.factorial(k) * (x - a) ** k
    return float(total) if total.ndim == 0 else total


def linearisation_error(
    f: Callable[[float], float], df: Callable[[float], float], a: float, x: float
) -> float:
    """`f(x) - (f(a) + f'(a) (x - a))`: the true value minus the linearisation at `a`.

    Negative when the tangent line overestimates, as in
    `grading.reference.symbolic.linearisation_error`: `sqrt` linearised at 4 and
    evaluated at 4.41 gives `2.1 - 2.1025 = -0.0025`.
    """
    return float(f(x) - (f(a) + df(a) * (x - a)))


def newton_raphson(
    f: Callable[[float], float],
    df: Callable[[float], float],
    x0: float,
    tol: float,
    max_iter: int,
) -> tuple[float, str]:
    """`(x, status)`: Newton-Raphson from `x0`, the last iterate and how the run ended.

    The statuses of `grading.reference.numeric.newton_raphson`: `"converged"` (a step
    within `tol * max(1, |x|)`, or `f(x) = 0` exactly), `"zero derivative"` (x is the
    iterate where `f'` vanished), `"diverged"` (an iterate beyond 1e12 or not finite),
    `"oscillating"` (an iterate back within 1e-9 of one two or more steps earlier) and
    `"max iterations"` (after `max_iter` steps).
    """
    run = numeric.newton_raphson(f, df, float(x0), tol=tol, max_iter=int(max_iter))
    return float(run.iterates[-1]), run.status


def gradient_descent(
    grad: Callable[[Array], ArrayLike], x0: ArrayLike, gamma: float, steps: int
) -> Array:
    """The `steps + 1` points of gradient descent with a fixed step, one row each.

    `x_{k+1} = x_k - gamma grad f(x_k)`, starting with `x0` in row 0. `x^2 + 3y^2`
    (gradient `(2x, 6y)`) with `gamma = 0.1` from (2, 1) gives (1.6, 0.4), (1.28, 0.16).
    """
    # Not `numeric.gradient_descent`'s iterates: that routine stops at a point that is
    # not finite, and a student's loop does not.
    x = np.asarray(x0, dtype=float).copy()
    iterates = [x.copy()]
    for _ in range(int(steps)):
        x = x - gamma * np.asarray(grad(x), dtype=float).reshape(x.shape)
        iterates.append(x.copy())
    return np.array(iterates)


def linfit(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """`(m, c)` of the least-squares line `y = m x + c` through the points `(x_i, y_i)`.

    The points (1, 2), (2, 3), (3, 5), (4, 6) give m = 1.4, c = 0.5.
    """
    return regression.linfit(x, y)


def gaussian_fit(
    x: ArrayLike, y: ArrayLike, mu0: float, sigma0: float, gamma: float, steps: int
) -> tuple[float, float]:
    """`(mu, sigma)` of a Gaussian fitted to `(x, y)` by `steps` steps of steepest descent.

    Each step is `p <- p - gamma d chi^2/dp` for `p = (mu, sigma)`, from `(mu0, sigma0)`,
    with `chi^2 = sum (y_i - f(x_i))^2` and `f` the normal density.
    """
    run = regression.gaussian_fit(x, y, mu0, sigma0, gamma, steps=int(steps))
    return float(run.params[0]), float(run.params[1])


REFERENCES: dict[str, Callable] = {
    "forward_difference": forward_difference,
    "gradient_fd": gradient_fd,
    "jacobian_fd": jacobian_fd,
    "forward_pass": forward_pass,
    "layer_backprop": layer_backprop,
    "taylor_polynomial": taylor_polynomial,
    "linearisation_error": linearisation_error,
    "newton_raphson": newton_raphson,
    "gradient_descent": gradient_descent,
    "linfit": linfit,
    "gaussian_fit": gaussian_fit,
}


def _plain(value):
    """The value as the comparison sees a student's: exact types, arrays of floats."""
    return harness.decode_value(json.loads(json.dumps(harness.encode_value(value, np))), np)


@lru_cache(maxsize=256)
def _expected(name: str, tests_json: str) -> tuple:
    routine = REFERENCES[name]
    results = []
    for test in json.loads(tests_json):
        args = [arguments.decoded(a) for a in test.get("args", [])]
        kwargs = {k: arguments.decoded(v) for k, v in test.get("kwargs", {}).items()}
        try:
            with np.errstate(all="ignore"):
                results.append(_plain(routine(*args, **kwargs)))
        except Exception as e:  # noqa: BLE001 - an exception is the expected outcome
            results.append(Raised(type(e).__name__, str(e)))
    return tuple(results)


def expected_values(name: str, tests: list[dict]) -> list:
    """What routine `name` gives for each test (a value, or `Raised`), cached."""
    key = json.dumps(
        [{"args": t.get("args", []), "kwargs": t.get("kwargs", {})} for t in tests],
        sort_keys=True,
    )
    return list(_expected(name, key))
