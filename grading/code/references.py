"""The course's reference routines for code exercises: `REFERENCES`, name -> callable.

A code exercise names one with `reference: {routine: <name>}`. The routine is trusted
and runs in the grading process, on the tests' decoded arguments (a `{fn: ...}`
argument is a Python function of NumPy floats, an `{array: ...}` a float array); what
it returns is the expected value, and an exception it raises is the exception the
student's function is expected to raise (same type name). Results are cached per
(routine, tests) in `expected_values`.

The routines wrap `grading.reference`; each says what it returns, since the student's
function must return the same:

- `forward_difference(f, x, h)`: the number `(f(x + h) - f(x)) / h`.
- `gradient_descent(grad, x0, gamma, steps)`: the array of iterates, `x0` first, one
  row per point (`steps + 1` rows; for a scalar `x0`, `steps + 1` numbers), each
  `x_{n+1} = x_n - gamma grad(x_n)`. A list of arrays or numbers matches it too.
- `linfit(x, y)`: the tuple `(m, c)` of the least-squares line `y = m x + c`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from grading.code import arguments, harness
from grading.code.compare import Raised
from grading.reference import numeric, regression


def forward_difference(f: Callable, x: float, h: float) -> float:
    """`(f(x + h) - f(x)) / h`."""
    return numeric.difference_derivative(f, x, h, scheme="forward")


def gradient_descent(grad: Callable, x0, gamma: float, steps: int) -> np.ndarray:
    """The iterates of `steps` fixed-step gradient-descent steps from `x0`, `x0` first."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError("steps must be a whole number, at least 0")
    # Not `numeric.gradient_descent`: that one stops at a point that is not finite,
    # and a student's loop does not.
    x = np.asarray(x0, dtype=float).copy()
    iterates = [x.copy()]
    for _ in range(steps):
        x = x - gamma * np.asarray(grad(x), dtype=float).reshape(x.shape)
        iterates.append(x.copy())
    return np.array(iterates)


def linfit(x, y) -> tuple[float, float]:
    """`(m, c)` of the least-squares line through the points."""
    return regression.linfit(x, y)


REFERENCES: dict[str, Callable] = {
    "forward_difference": forward_difference,
    "gradient_descent": gradient_descent,
    "linfit": linfit,
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
