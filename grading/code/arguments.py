"""The tests' arguments: checked, sent into the sandbox, decoded for a reference, shown.

A case's argument is a number, a boolean, null, a string, a list of arguments,
`{array: [...]}` (a float NumPy array) or `{fn: "x^2 - 2", of: [x], vector: false}`
(a function written in the answer syntax). A function is read by `grading.parser`
and printed here as a Python expression over NumPy (`np.sin(_a0)**2.0`); that source,
and only that, is what the sandbox evaluates. The trusted side builds the reference's
function from the same source with the same `harness.make_function`, so both sides
compute the same function.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from grading import nodes as n
from grading.code import harness
from grading.parser import ParseError, parse


class CaseError(ValueError):
    """The case is wrong (an argument that is not one the contract allows)."""


_CALLS = {
    "sin": "np.sin({})",
    "cos": "np.cos({})",
    "tan": "np.tan({})",
    "sec": "(1.0/np.cos({}))",
    "csc": "(1.0/np.sin({}))",
    "cot": "(np.cos({0})/np.sin({0}))",
    "asin": "np.arcsin({})",
    "acos": "np.arccos({})",
    "atan": "np.arctan({})",
    "sinh": "np.sinh({})",
    "cosh": "np.cosh({})",
    "tanh": "np.tanh({})",
    "exp": "np.exp({})",
    "log": "np.log({})",
    "log10": "np.log10({})",
    "sqrt": "np.sqrt({})",
    "abs": "np.abs({})",
}
_OPS = {"+": "+", "-": "-", "*": "*", "/": "/", "^": "**"}


def python_source(tree, names: list[str]) -> str:
    """`tree` as a Python expression over `np` and the parameters `_a0, _a1, ...`."""
    params = {name: f"_a{i}" for i, name in enumerate(names)}

    def emit(node) -> str:
        # Trees are at most as deep as the parser allows; printing recurses with them.
        if isinstance(node, n.Number):
            return repr(float(Fraction(node.value)))
        if isinstance(node, n.Symbol):
            return params[node.name]
        if isinstance(node, n.Constant):
            return "np.pi" if node.name == "pi" else "np.e"
        if isinstance(node, n.Neg):
            return f"(-{emit(node.operand)})"
        if isinstance(node, n.BinOp):
            return f"({emit(node.left)}{_OPS[node.op]}{emit(node.right)})"
        if isinstance(node, n.Call):
            return _CALLS[node.func].format(emit(node.arg))
        raise CaseError(f"a function argument cannot hold {type(node).__name__.lower()}s")

    return emit(tree)


def _names(spec: dict) -> list[str]:
    names = spec.get("of", [])
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(x, str) and x.isidentifier() for x in names)
    ):
        raise CaseError("`of` must list the function's variable names")
    return names


def _function_source(spec: dict) -> dict:
    names = _names(spec)
    texts = spec["fn"]
    many = isinstance(texts, list)
    sources = []
    for text in texts if many else [texts]:
        if not isinstance(text, str):
            raise CaseError("`fn` must be text in the answer syntax, or a list of them")
        try:
            tree = parse(text, names)
        except ParseError as e:
            raise CaseError(f"the function {text!r} cannot be read: {e.message}") from None
        sources.append(python_source(tree, names))
    return {
        "$fn": sources if many else sources[0],
        "arity": len(names),
        "vector": bool(spec.get("vector", False)),
    }


def for_sandbox(value, depth: int = 0):
    """The argument as the harness reads it (`harness.decode_argument`)."""
    if depth > 20:
        raise CaseError("an argument is nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise CaseError("an argument is not a finite number")
        return value
    if isinstance(value, list | tuple):
        return [for_sandbox(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if "array" in value:
            try:
                array = np.array(value["array"], dtype=float)
            except (TypeError, ValueError):
                raise CaseError("`array` must hold numbers in rows of equal length") from None
            if not np.all(np.isfinite(array)):
                raise CaseError("an array argument holds a value that is not finite")
            return {"$array": array.tolist()}
        if "fn" in value:
            return _function_source(value)
        raise CaseError(f"an argument cannot be the mapping {sorted(value)}")
    raise CaseError(f"an argument cannot be a {type(value).__name__}")


def decoded(value):
    """The Python value of a case's argument, for a reference routine in this process."""
    return harness.decode_argument(for_sandbox(value), np)


def call_text(function: str, args: list, kwargs: dict) -> str:
    """The call as the student sees it: `forward_difference(<x^2>, 3, 0.001)`."""
    parts = [_show(a) for a in args] + [f"{k}={_show(v)}" for k, v in kwargs.items()]
    return shorten(f"{function}({', '.join(parts)})", 300)


def _show(value) -> str:
    if isinstance(value, dict):
        if "fn" in value:
            fn = value["fn"]
            text = f"[{', '.join(fn)}]" if isinstance(fn, list) else str(fn)
            return f"<{text}>"
        if "array" in value:
            return f"array({value['array']!r})"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


def shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
