"""Runs a student's function on the tests' arguments, inside the sandbox.

Started as `python -I -S harness.py` by `grading.code.sandbox`; it uses only the
standard library and NumPy (found in `/sandbox/site`). It imports NumPy, then waits
on standard input for one job, a JSON line:

    {"source": "...", "function": "name", "time_limit": 2,
     "tests": [{"args": [...], "kwargs": {...}, "visible": true}, ...]}

and reports on the channel (the pipe whose fd number is its argument), one JSON line a
message, in this order:

    {"ready": true}                          NumPy imported, waiting for the job
    {"loaded": true}                         the source ran; or {"error": {...}} and stop
    {"start": k}                             before test k, so that a timeout names it
    {"result": k, "value": <encoded>}        or {"result": k, "error": {...}}
    {"done": true}

Messages may carry `"output"`: what the student's code printed since the last message
(at most 10,000 characters in all; nothing while a hidden test runs). The visible
tests run first, so that nothing a hidden test's arguments could teach the code is
shown. This process is the student's: nothing it says is trusted. The comparison with
the expected values happens outside, on the data read back here (`decode_value`).

The trusted side imports this module for `make_function` (so that both sides build
the same function from the same source) and the value encoding; nothing runs on import.
"""

import gc
import json
import math
import os
import sys

SOURCE_NAME = "solution.py"
OUTPUT_LIMIT = 10_000
MAX_ELEMENTS = 1_000_000
MAX_DEPTH = 20

# What a function given as `{fn: ...}` may use: NumPy's functions, no builtins.
_FN_GLOBALS_NAMES = (
    "sin cos tan arcsin arccos arctan sinh cosh tanh exp log log10 sqrt abs pi e array"
).split()


def make_function(exprs, arity, vector, np):
    """A Python function from expression sources written by `grading.code.functions`.

    `exprs` is one source or a list (the function then returns a float array); the
    sources use `np` and the parameters `_a0, _a1, ...`. With `vector`, the function
    takes one array whose items are the parameters.
    """
    names = ", ".join(f"_a{i}" for i in range(arity))
    namespace = {"np": np, "__builtins__": {}}
    many = isinstance(exprs, list)
    parts = [eval(f"lambda {names}: {e}", namespace) for e in (exprs if many else [exprs])]  # noqa: S307 - sources printed from parsed trees, never typed text

    def as_number(value):
        if type(value) in (int, float, bool):
            return np.float64(value)
        return value

    def scalar(*values):
        if len(values) != arity:
            raise TypeError(f"the function takes {arity} argument(s), not {len(values)}")
        values = [as_number(v) for v in values]
        with np.errstate(all="ignore"):
            if many:
                return np.array([p(*values) for p in parts], dtype=float)
            return parts[0](*values)

    if not vector:
        return scalar

    def of_vector(v):
        items = list(np.asarray(v, dtype=float).ravel())
        return scalar(*items)

    return of_vector


# --- values out ------------------------------------------------------------------------


def encode_value(value, np, depth=0):
    """Plain data for `value`: only exact types are kept; anything else is named.

    A subclass of float or of ndarray, or an object whose `==` always holds, becomes
    `{"unsupported": "<type name>"}`: the comparison sees data, never objects.
    """
    kind = type(value)
    if depth > MAX_DEPTH:
        return {"unsupported": "a value nested too deeply"}
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        if abs(value) < 2**63:
            return value
        try:
            return {"float": float(value)}
        except OverflowError:
            return {"unsupported": "an int too large for a float"}
    if kind is float:
        return {"float": value} if not math.isfinite(value) else value
    if kind is list or kind is tuple:
        if len(value) > MAX_ELEMENTS:
            return {"unsupported": f"a {kind.__name__} of {len(value)} items"}
        items = [encode_value(v, np, depth + 1) for v in value]
        return items if kind is list else {"tuple": items}
    if kind is dict:
        if not all(type(k) is str for k in value):
            return {"unsupported": "a dict whose keys are not all strings"}
        return {"dict": {k: encode_value(v, np, depth + 1) for k, v in value.items()}}
    if np is not None:
        if kind is np.ndarray:
            if value.dtype.kind not in "biuf":
                return {"unsupported": f"an array of dtype {value.dtype}"}
            if value.size > MAX_ELEMENTS:
                return {"unsupported": f"an array of {value.size} numbers"}
            data = value.astype(float) if value.dtype.kind == "f" else value.astype(object)
            flat = [_number(x) for x in data.ravel().tolist()]
            return {"ndarray": flat, "shape": list(value.shape), "dtype": value.dtype.kind}
        if kind in (np.float64, np.float32, np.float16):
            return {"float": float(value)}
        if kind is np.bool_:
            return bool(value)
        if issubclass(kind, np.integer) and kind.__module__ == "numpy":
            return int(value)
    return {"unsupported": kind.__name__}


def _number(x):
    if type(x) is float and not math.isfinite(x):
        return repr(x)
    if type(x) is bool:
        return int(x)
    return x


def decode_value(data, np):
    """The value `encode_value` described, from JSON data; `Unsupported` for the rest."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode_value(v, np) for v in data]
    if type(data) is dict and len(data) >= 1:
        if "float" in data and len(data) == 1:
            return float(data["float"])
        if "tuple" in data and len(data) == 1 and type(data["tuple"]) is list:
            return tuple(decode_value(v, np) for v in data["tuple"])
        if "dict" in data and len(data) == 1 and type(data["dict"]) is dict:
            return {str(k): decode_value(v, np) for k, v in data["dict"].items()}
        if "ndarray" in data and type(data["ndarray"]) is list:
            shape = tuple(int(n) for n in data.get("shape", []))
            flat = [float(x) if type(x) is str else x for x in data["ndarray"]]
            dtype = {"b": bool, "i": np.int64, "u": np.int64}.get(data.get("dtype"), float)
            array = np.array(flat, dtype=float)
            return (
                array.reshape(shape).astype(dtype) if dtype is not float else array.reshape(shape)
            )
        if "unsupported" in data:
            return Unsupported(str(data["unsupported"]))
    return Unsupported("a value that could not be read")


class Unsupported:
    """A returned value of a type the comparison does not take."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __eq__(self, other):
        return isinstance(other, Unsupported) and other.type_name == self.type_name

    def __repr__(self):
        return f"<a {self.type_name}>"


# --- arguments in ------------------------------------------------------------------------


def decode_argument(data, np):
    """Test arguments: `{"$array": ...}` and `{"$fn": ...}` become arrays and functions."""
    if type(data) is list:
        return [decode_argument(v, np) for v in data]
    if type(data) is dict:
        if "$array" in data:
            return np.array(data["$array"], dtype=float)
        if "$fn" in data:
            return make_function(data["$fn"], data["arity"], data.get("vector", False), np)
        return {k: decode_argument(v, np) for k, v in data.items()}
    return data


# --- inside the sandbox ------------------------------------------------------------------


class _Capture:
    """`sys.stdout` and `sys.stderr` of the student's code: bounded, silent when hidden."""

    def __init__(self):
        self.pending = []
        self.size = 0
        self.hidden = False
        self.truncated = False

    def write(self, text):
        if type(text) is not str:
            raise TypeError("write() argument must be str")
        if self.hidden:
            return len(text)
        room = OUTPUT_LIMIT - self.size
        if len(text) > room:
            self.truncated = True
        chunk = text[: max(room, 0)]
        self.pending.append(chunk)
        self.size += len(chunk)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def take(self):
        text = "".join(self.pending)
        self.pending = []
        return text


def _error(exc):
    """Type, message and the line of the student's own code where it was raised."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SOURCE_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(exc, SyntaxError) and exc.filename == SOURCE_NAME:
        line = exc.lineno
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ is the student's
        message = ""
    return {"type": type(exc).__name__, "message": message[:500], "line": line}


def main():
    # NumPy's import makes tens of thousands of objects, none of them garbage: the
    # collector's passes over them cost a few ms of every sandbox's start. It is off
    # for the import, and what the import made is set aside (`freeze`), so that the
    # student's code, run with the collector on, does not walk it again either.
    gc.disable()
    channel = os.fdopen(int(sys.argv[1]), "w", buffering=1, encoding="utf-8")
    sys.path.insert(0, "/sandbox/site")
    try:
        import numpy as np
    except ImportError:  # a sandbox without NumPy still runs pure Python
        np = None
    gc.freeze()
    gc.enable()
    capture = _Capture()

    def send(message):
        output = capture.take()
        if output:
            message["output"] = output
        channel.write(json.dumps(message, allow_nan=True) + "\n")

    channel.write('{"ready": true}\n')
    job = json.loads(sys.stdin.readline())
    # Sleeping tests of the pool are woken by the job: the clock starts now.
    sys.stdout = sys.stderr = capture
    sys.setrecursionlimit(2_000)
    namespace = {"__name__": "solution", "__builtins__": __builtins__}
    try:
        code = compile(job["source"], SOURCE_NAME, "exec")
        exec(code, namespace)  # noqa: S102 - the student's code, in the sandbox
        function = namespace[job["function"]]
        if not callable(function):
            raise TypeError(f"{job['function']} is not a function")
    except BaseException as e:  # noqa: BLE001 - SystemExit included: it is a result
        send({"error": _error(e)})
        return
    send({"loaded": True})
    tests = job["tests"]
    order = [k for k, t in enumerate(tests) if t.get("visible", True)]
    order += [k for k, t in enumerate(tests) if not t.get("visible", True)]
    for k in order:
        test = tests[k]
        capture.hidden = not test.get("visible", True)
        send({"start": k})
        try:
            args = decode_argument(test.get("args", []), np)
            kwargs = decode_argument(test.get("kwargs", {}), np)
            value = function(*args, **kwargs)
            encoded = encode_value(value, np)
            message = {"result": k, "value": encoded}
            json.dumps(encoded)
        except BaseException as e:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            message = {"result": k, "error": _error(e)}
        send(message)
    capture.hidden = False
    send({"done": True, "truncated": capture.truncated})
    channel.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
