"""Code answers: a student's Python function, run in a sandbox, judged against a reference.

`check_code(case)` takes the case of docs/grading.md ("Code answers"): the student's
source, the function's name, the reference (`routine`, a name in
`references.REFERENCES`, run here; or `source`, run in a sandbox of its own), the
comparison's tolerances, a time limit and the tests. It returns a `grading.Verdict`
whose details hold the score, the visible tests' feedback, the hidden tests' count
and the printed output. `validate_source` reads the source without running it, for
the web request. `SandboxUnavailable` is raised when no sandbox can be started: the
code is then not run at all.

The modules: `sandbox` (bwrap, limits, the pool), `harness` (runs inside),
`arguments` (the tests' arguments), `compare` (the comparison rules), `references`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

import numpy as np

from grading.checkers.verdicts import Verdict
from grading.code import arguments, compare, harness, references, sandbox
from grading.code.arguments import CaseError
from grading.code.compare import Raised
from grading.code.sandbox import SandboxUnavailable

__all__ = ["MAX_SOURCE_LENGTH", "SandboxUnavailable", "check_code", "validate_source"]

MAX_SOURCE_LENGTH = 20_000
DEFAULT_TIME_LIMIT = 2.0
OUTPUT_LIMIT = harness.OUTPUT_LIMIT


def _invalid(message: str, **details) -> Verdict:
    return Verdict("invalid", message, details)


def validate_source(source: str, function: str) -> Verdict | None:
    """None when `source` compiles and defines `function` at top level; else `invalid`.

    Only parses and compiles (`ast.parse`, `compile`); nothing of the source runs.
    """
    if not isinstance(source, str):
        return _invalid("Your answer must be Python source text.")
    if len(source) > MAX_SOURCE_LENGTH:
        return _invalid(
            f"Your code is too long ({len(source):,} characters; at most {MAX_SOURCE_LENGTH:,})."
        )
    try:
        tree = ast.parse(source, filename=harness.SOURCE_NAME)
        # Compiling (never running) also finds what the parser lets through: `return`
        # outside a function, `break` outside a loop, a misplaced `nonlocal`.
        compile(tree, harness.SOURCE_NAME, "exec", dont_inherit=True)
    except SyntaxError as e:
        line, column = e.lineno or 1, e.offset or 1
        return _invalid(f"line {line}, column {column}: {e.msg}.", line=line, column=column)
    except (RecursionError, MemoryError):
        return _invalid("Your code is nested too deeply to be read.")
    except ValueError as e:  # a NUL character
        return _invalid(f"Your code cannot be read: {e}.")
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            return None
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == function for t in targets):
            return None
    return _invalid(
        f"Your code does not define `{function}` at the top level: start a line with"
        f" `def {function}(`."
    )


# --- the case ---------------------------------------------------------------------------


def _tolerances(spec, base: dict) -> dict:
    if spec is None:
        return base
    if not isinstance(spec, Mapping) or set(spec) - {"rtol", "atol"}:
        raise CaseError("`compare` takes only rtol and atol")
    merged = dict(base)
    for key, value in spec.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise CaseError(f"`{key}` must be a number at least 0")
        merged[key] = float(value)
    return merged


def _read_case(case) -> dict:
    if not isinstance(case, Mapping):
        raise CaseError("a case must be a mapping")
    function = case.get("function")
    if not isinstance(function, str) or not function.isidentifier():
        raise CaseError("`function` must be a Python name")
    reference = case.get("reference")
    if not isinstance(reference, Mapping) or len(reference) != 1:
        raise CaseError("`reference` must be exactly one of routine or source")
    if "routine" in reference and reference["routine"] not in references.REFERENCES:
        known = ", ".join(sorted(references.REFERENCES))
        raise CaseError(f"no reference routine {reference['routine']!r} (known: {known})")
    if "routine" not in reference and not isinstance(reference.get("source"), str):
        raise CaseError("`reference` must be exactly one of routine or source")
    time_limit = case.get("time_limit", DEFAULT_TIME_LIMIT)
    if isinstance(time_limit, bool) or not isinstance(time_limit, int | float):
        raise CaseError("`time_limit` must be a number of seconds")
    if not 0 < time_limit <= sandbox.MAX_TIME_LIMIT:
        raise CaseError(f"`time_limit` must be above 0 and at most {sandbox.MAX_TIME_LIMIT:g}")
    base = _tolerances(
        case.get("compare"), {"rtol": compare.DEFAULT_RTOL, "atol": compare.DEFAULT_ATOL}
    )
    raw_tests = case.get("tests")
    if not isinstance(raw_tests, list) or not raw_tests:
        raise CaseError("`tests` must be a non-empty list")
    tests = []
    for i, test in enumerate(raw_tests):
        if not isinstance(test, Mapping):
            raise CaseError(f"test {i + 1} must be a mapping")
        args, kwargs = test.get("args", []), test.get("kwargs") or {}
        if not isinstance(args, list) or not isinstance(kwargs, Mapping):
            raise CaseError(f"test {i + 1}: args must be a list and kwargs a mapping")
        weight = test.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
            raise CaseError(f"test {i + 1}: weight must be a number at least 0")
        check = test.get("check")
        if check is not None and (not isinstance(check, Mapping) or set(check) != {"chi_squared"}):
            raise CaseError(f"test {i + 1}: the only property check is chi_squared")
        tests.append(
            {
                "args": args,
                "kwargs": dict(kwargs),
                "sandbox_args": [arguments.for_sandbox(a) for a in args],
                "sandbox_kwargs": {str(k): arguments.for_sandbox(v) for k, v in kwargs.items()},
                "visible": bool(test.get("visible", True)),
                "weight": float(weight),
                "name": str(test.get("name") or f"test {i + 1}"),
                "compare": _tolerances(test.get("compare"), base),
                "check": check,
            }
        )
    if case.get("only_visible"):
        tests = [t for t in tests if t["visible"]]
        if not tests:
            raise CaseError("there are no visible tests to run")
    return {
        "function": function,
        "reference": dict(reference),
        "time_limit": float(time_limit),
        "tests": tests,
    }


def _job(source: str, function: str, tests: list[dict], time_limit: float) -> dict:
    return {
        "source": source,
        "function": function,
        "time_limit": time_limit,
        "tests": [
            {"args": t["sandbox_args"], "kwargs": t["sandbox_kwargs"], "visible": t["visible"]}
            for t in tests
        ],
    }


# --- reading a run ----------------------------------------------------------------------


def _raised(data) -> Raised:
    if not isinstance(data, Mapping):
        return Raised("Exception", "")
    line = data.get("line")
    return Raised(
        str(data.get("type", "Exception"))[:100],
        str(data.get("message", ""))[:500],
        line if isinstance(line, int) and not isinstance(line, bool) else None,
    )


class _Outcomes:
    """Per test: the value returned, a `Raised`, or None with the reason it has none."""

    def __init__(self, tests: list[dict], run: sandbox.Run, time_limit: float, who: str):
        self.values: dict[int, object] = {}
        self.reasons: dict[int, str] = {}
        self.output: list[str] = []
        self.load_error: Raised | None = None
        self.truncated = False
        order = [k for k, t in enumerate(tests) if t["visible"]]
        order += [k for k, t in enumerate(tests) if not t["visible"]]
        expected_next = ["loaded"]
        for k in order:
            expected_next += [("start", k), ("result", k)]
        expected_next.append("done")
        position, current, broken = 0, None, run.garbled
        showing = True
        for message in run.messages:
            if broken or position >= len(expected_next):
                broken = True
                break
            step = expected_next[position]
            if step == "loaded" and "error" in message:
                self.load_error = _raised(message["error"])
                self._take_output(message, showing)
                position = len(expected_next)
                break
            if step == "loaded" and message.get("loaded") is True:
                pass
            elif step == "done" and message.get("done") is True:
                self.truncated = bool(message.get("truncated"))
            elif isinstance(step, tuple) and step[0] == "start" and message.get("start") == step[1]:
                current = step[1]
                if not tests[current]["visible"]:
                    showing = False
            elif (
                isinstance(step, tuple) and step[0] == "result" and message.get("result") == step[1]
            ):
                if "error" in message:
                    self.values[step[1]] = _raised(message["error"])
                else:
                    self.values[step[1]] = harness.decode_value(message.get("value"), np)
                current = None
            else:
                broken = True
                break
            self._take_output(message, showing)
            position += 1
        if position >= len(expected_next) and not broken:
            return
        if broken:
            why = f"{who} disturbed the report of the tests (it wrote to the harness's channel)"
        elif run.timed_out:
            where = f"on {_test_label(tests, current)}" if current is not None else "while loading"
            if current is None and self.values:
                where = "between tests"
            why = f"took longer than {time_limit:g} s {where}: an infinite loop?"
        else:
            during = f" during {_test_label(tests, current)}" if current is not None else ""
            if current is None and not self.values:
                during = " before the tests ran"
            why = f"{who} ended the run (exit status {run.returncode}){during}"
        missing = [k for k in order if k not in self.values]
        first = current if current in missing else (missing[0] if missing else None)
        for k in missing:
            self.reasons[k] = why if k == first else f"not run: {why}"

    def _take_output(self, message: Mapping, showing: bool) -> None:
        text = message.get("output")
        if showing and isinstance(text, str):
            self.output.append(text)


def _test_label(tests: list[dict], k: int) -> str:
    test = tests[k]
    return f"test {k + 1}" if test["visible"] else "a hidden test"


def _reference_outcomes(reference: dict, tests: list[dict], time_limit: float) -> list:
    if "routine" in reference:
        return references.expected_values(reference["routine"], tests)
    run = sandbox.run_job(
        _job(reference["source"], reference["function"], tests, time_limit), time_limit
    )
    outcomes = _Outcomes(tests, run, time_limit, "the reference")
    if outcomes.load_error is not None or outcomes.reasons:
        detail = (
            outcomes.load_error.text()
            if outcomes.load_error
            else next(iter(outcomes.reasons.values()))
        )
        raise CaseError(f"the reference source failed: {detail}")
    return [outcomes.values[k] for k in range(len(tests))]


def _reference_with_function(spec: dict) -> dict:
    # A reference `source` defines the function under the name the student's must have.
    return {**spec["reference"], "function": spec["function"]}


def check_code(case: Mapping) -> Verdict:
    """Run the student's function on the case's tests in a sandbox and judge each result.

    Raises `SandboxUnavailable` when no sandbox can be started (nothing is run then).
    """
    try:
        spec = _read_case(case)
    except CaseError as e:
        return Verdict("error", f"The case is wrong: {e}.", {})
    source = case.get("answer")
    problem = validate_source(source, spec["function"])
    if problem is not None:
        return problem
    tests, time_limit = spec["tests"], spec["time_limit"]
    try:
        expected = _reference_outcomes(_reference_with_function(spec), tests, time_limit)
    except CaseError as e:
        return Verdict("error", f"The case is wrong: {e}.", {})
    run = sandbox.run_job(_job(source, spec["function"], tests, time_limit), time_limit)
    outcomes = _Outcomes(tests, run, time_limit, "your code")
    return _verdict(spec, tests, expected, outcomes)


def _verdict(spec: dict, tests: list[dict], expected: list, outcomes: _Outcomes) -> Verdict:
    shown, hidden_passed, hidden_total = [], 0, 0
    passed_weight = total_weight = 0.0
    first_problem = None
    for k, test in enumerate(tests):
        call = arguments.call_text(spec["function"], test["args"], test["kwargs"])
        entry: dict = {"name": test["name"], "call": call, "expected": compare.show(expected[k])}
        if outcomes.load_error is not None:
            # Said once, in the verdict's message and `details["error"]`, not per test.
            received = None
            problem = "not run: your code could not run"
        elif k in outcomes.values:
            received = outcomes.values[k]
            if test["check"] and not isinstance(expected[k], Raised):
                problem = compare.check_property(
                    test["check"],
                    [arguments.decoded(a) for a in test["args"]],
                    expected[k],
                    received,
                )
            else:
                problem = compare.compare(expected[k], received, **test["compare"])
            if problem and isinstance(received, Raised):
                problem = compare.compare(expected[k], received) + _line_text(received)
        else:
            received = None
            problem = outcomes.reasons.get(k, "not run")
        passed = problem is None
        total_weight += test["weight"]
        passed_weight += test["weight"] if passed else 0.0
        if not test["visible"]:
            hidden_total += 1
            hidden_passed += passed
            if not passed and first_problem is None:
                first_problem = "A hidden test failed."
            continue
        entry["passed"] = passed
        entry["received"] = compare.show(received) if k in outcomes.values else ""
        if problem:
            entry["message"] = problem
            if first_problem is None or first_problem == "A hidden test failed.":
                first_problem = f"{test['name']}: {problem}"
        if isinstance(received, Raised):
            entry["error"] = {
                "type": received.type,
                "message": received.message,
                "line": received.line,
            }
        shown.append(entry)
    score = passed_weight / total_weight if total_weight else 0.0
    count = sum(1 for e in shown if e["passed"]) + hidden_passed
    details = {
        "score": round(score, 6),
        "tests": shown,
        "hidden": {"passed": hidden_passed, "total": hidden_total},
        "output": _output(outcomes),
    }
    if outcomes.load_error is not None:
        error = outcomes.load_error
        details["error"] = {"type": error.type, "message": error.message, "line": error.line}
        first_problem = "Your code could not run: " + _error_text(error)
    if count == len(tests):
        return Verdict("correct", f"All {len(tests)} tests passed.", details)
    message = f"{count} of {len(tests)} tests passed."
    if first_problem:
        message += " " + first_problem
    return Verdict("incorrect", arguments.shorten(message, 500), details)


def _line_text(raised: Raised) -> str:
    return f" (line {raised.line} of your code)" if raised.line else ""


def _error_text(raised: Raised) -> str:
    return raised.text() + _line_text(raised)


def _output(outcomes: _Outcomes) -> str:
    text = "".join(outcomes.output)
    if len(text) > OUTPUT_LIMIT or outcomes.truncated:
        text = text[:OUTPUT_LIMIT] + "\n[output shortened: only the first 10 kB are shown]"
    return text
