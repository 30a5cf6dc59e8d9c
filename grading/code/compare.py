"""Whether a returned value matches the expected one: pure functions on plain data.

Both values are data: numbers, booleans, None, strings, lists, tuples, dicts with
string keys, NumPy arrays, or `harness.Unsupported` for a value of any other type.
`compare` returns None for a match and otherwise the reason, in words for the student.

The rules:
- numbers with `|received - expected| <= atol + rtol |expected|` (NaN matches NaN);
- arrays (and a list or tuple compared with an array) shape first, then number by number;
- lists and tuples item by item, their lengths first; dicts key by key;
- booleans, strings and None exactly;
- an expected exception (`Raised`) is matched by an exception of the same type name.

`check_property` judges a value by a property instead (`chi_squared`), for answers
that are not unique.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grading.code.harness import Unsupported

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9


@dataclass(frozen=True)
class Raised:
    """An exception raised by a function: its type's name, message, line in the source."""

    type: str
    message: str
    line: int | None = None

    def text(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


def _is_number(value) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def describe(value) -> str:
    """A short name for what a value is: `a number`, `an array of shape (3,)`, `a list of 2`."""
    if isinstance(value, Unsupported):
        return f"a {value.type_name}"
    if isinstance(value, Raised):
        return f"the exception {value.type}"
    if value is None:
        return "None"
    if isinstance(value, bool | np.bool_):
        return "a bool"
    if _is_number(value):
        return "a number"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, dict):
        return "a dict"
    return f"a {type(value).__name__}"


def show(value, limit: int = 200) -> str:
    """A shortened repr of a value for the feedback."""
    if isinstance(value, Raised):
        text = value.text()
    elif isinstance(value, np.ndarray):
        with np.printoptions(precision=8, threshold=20, edgeitems=3):
            text = np.array2string(value, separator=", ")
    elif isinstance(value, float | np.floating):
        text = repr(float(value))
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _close(expected: float, received: float, rtol: float, atol: float) -> bool:
    if math.isnan(expected) or math.isnan(received):
        return math.isnan(expected) and math.isnan(received)
    if math.isinf(expected) or math.isinf(received):
        return expected == received
    return abs(received - expected) <= atol + rtol * abs(expected)


def _as_array(value) -> np.ndarray | None:
    """A float array for a number, array, or (nested) list/tuple of numbers; else None."""
    if isinstance(value, np.ndarray):
        return value.astype(float) if value.dtype.kind in "biuf" else None
    if isinstance(value, list | tuple):
        items = [_as_array(v) for v in value]
        if any(i is None for i in items):
            return None
        if items and any(i.shape != items[0].shape for i in items):
            return None
        return np.array(items, dtype=float) if items else np.zeros(0)
    if _is_number(value):
        return np.array(float(value))
    return None


def _where(index: tuple) -> str:
    return "" if not index else "[" + ", ".join(str(i) for i in index) + "]"


def _compare_arrays(expected: np.ndarray, received: np.ndarray, rtol, atol, at: str) -> str | None:
    if expected.shape != received.shape:
        return (
            f"{at}expected an array of shape {expected.shape}, received one of shape"
            f" {received.shape}"
        )
    with np.errstate(all="ignore"):
        both_nan = np.isnan(expected) & np.isnan(received)
        same_inf = np.isinf(expected) & (expected == received)
        close = np.abs(received - expected) <= atol + rtol * np.abs(expected)
    ok = both_nan | same_inf | close
    if ok.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~ok)[0])
    wrong = int((~ok).sum())
    return (
        f"{at}{_where(index) or 'the value'}: expected {show(expected[index])}, received"
        f" {show(received[index])} ({wrong} of {expected.size} numbers differ)"
    )


def compare(
    expected, received, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL, at: str = ""
) -> str | None:
    """None when `received` matches `expected`, else why not (for the student)."""
    prefix = f"{at}: " if at else ""
    if isinstance(expected, Raised):
        if isinstance(received, Raised):
            if received.type == expected.type:
                return None
            return f"{prefix}expected {expected.text()}, but your code raised {received.text()}"
        return f"{prefix}expected {expected.text()} to be raised, received {show(received)}"
    if isinstance(received, Raised):
        return f"{prefix}your code raised {received.text()}"
    if isinstance(received, Unsupported):
        return f"{prefix}returned {describe(received)}, expected {describe(expected)}"
    if isinstance(expected, np.ndarray) or (
        isinstance(received, np.ndarray) and isinstance(expected, list | tuple)
    ):
        want, got = _as_array(expected), _as_array(received)
        if got is None or want is None:
            return f"{prefix}expected {describe(expected)}, received {describe(received)}"
        return _compare_arrays(want, got, rtol, atol, prefix)
    if isinstance(expected, bool | np.bool_):
        if isinstance(received, bool | np.bool_) and bool(received) == bool(expected):
            return None
        return f"{prefix}expected {expected!r}, received {show(received)}"
    if _is_number(expected):
        if isinstance(received, np.ndarray) and received.size == 1 and received.ndim <= 1:
            received = received.reshape(()).item()
        if not _is_number(received):
            return f"{prefix}expected a number, received {describe(received)}"
        if _close(float(expected), float(received), rtol, atol):
            return None
        return f"{prefix}expected {show(expected)}, received {show(received)}"
    if isinstance(expected, list | tuple):
        if not isinstance(received, list | tuple):
            return f"{prefix}expected {describe(expected)}, received {describe(received)}"
        if len(received) != len(expected):
            return f"{prefix}expected {len(expected)} items, received {len(received)}"
        for i, (e, r) in enumerate(zip(expected, received, strict=True)):
            problem = compare(e, r, rtol, atol, f"{at}[{i}]" if at else f"item {i}")
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(received, dict):
            return f"{prefix}expected a dict, received {describe(received)}"
        if set(expected) != set(received):
            return f"{prefix}expected the keys {sorted(expected)}, received {sorted(received)}"
        for key in expected:
            problem = compare(expected[key], received[key], rtol, atol, f"{at}[{key!r}]")
            if problem:
                return problem
        return None
    if type(received) is type(expected) and received == expected:
        return None
    return f"{prefix}expected {show(expected)}, received {show(received)}"


# --- property checks -----------------------------------------------------------------


def _model(name: str):
    from grading.reference import regression

    if name == "line":
        return lambda x, p: p[0] * x + p[1]
    if name == "gaussian":
        return regression.gaussian_model
    raise ValueError(f"unknown model {name!r}: line or gaussian")


def chi_squared_of(params, model: str, x, y, sigma=None) -> float:
    """The chi-squared of `model` with parameters `params` on the data (x, y, sigma)."""
    from grading.reference.regression import chi_squared

    p = np.asarray(params, dtype=float).ravel()
    with np.errstate(all="ignore"):
        return chi_squared(y, _model(model)(np.asarray(x, dtype=float), p), sigma)


def check_property(check: dict, args: list, expected, received) -> str | None:
    """None when `received` has the property `check` asks for, else why not.

    `{chi_squared: {x, y, sigma, model, within}}`: the parameters are accepted when
    their chi-squared on the test's data is at most (1 + within) times the expected
    parameters' (the reference's fit), within 1e-12 for a perfect fit.
    """
    spec = check["chi_squared"]
    if isinstance(expected, Raised) or isinstance(received, Raised):
        return compare(expected, received)
    params = _as_array(received)
    count = np.asarray(_as_array(expected)).size
    if params is None or params.size != count:
        return f"expected {count} fitted parameters, received {describe(received)}"
    x, y = args[spec["x"]], args[spec["y"]]
    sigma = args[spec["sigma"]] if spec.get("sigma") is not None else None
    within = float(spec.get("within", 0.01))
    best = chi_squared_of(expected, spec.get("model", "line"), x, y, sigma)
    got = chi_squared_of(params, spec.get("model", "line"), x, y, sigma)
    if math.isfinite(got) and got <= (1 + within) * best + 1e-12:
        return None
    return (
        f"the fit's chi-squared is {got:.6g}; the best fit's is {best:.6g}"
        f" (accepted up to {(1 + within) * best:.6g})"
    )
