"""The public entry points of the grading engine: `check`, `validate`, `Verdict`.

`check` runs the comparison in a helper process of `grading.pool` under a time bound,
because an answer can be written to make any evaluator work for a long time; the
helper calls `check_unbounded` here. `validate` only reads the answer and runs in
the caller's process.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from grading.checkers import (
    CHECKERS,
    AuthorError,
    Checker,
    Invalid,
    Unavailable,
    Verdict,
    error,
    find_mistake,
    incorrect,
    invalid,
    read_setting,
)

__all__ = ["ENGINE_VERSION", "Verdict", "check", "check_unbounded", "missing_keys", "validate"]

# Stored with every verdict; bump it whenever a verdict could change for the same case.
ENGINE_VERSION = "1.3"

DEFAULT_TIMEOUT = 2.0

TOO_SLOW = (
    "Your answer took too long to check. Write it in a simpler form"
    " (expand fewer terms, avoid huge powers) and submit again."
)
CRASHED = (
    "Your answer could not be checked: it needs more memory than a check may use."
    " Write it in a simpler form and submit again."
)

# Long chains of terms are deep trees (a 1,000-character answer can be 500 deep); the
# evaluators recurse through them.
_RECURSION_LIMIT = 5_000


def missing_keys(case: Mapping) -> list[str]:
    """The keys `case` lacks: `kind`, and those its kind requires (`Checker.required`)."""
    kind = case.get("kind")
    checker = CHECKERS.get(kind) if isinstance(kind, str) else None
    required = checker.required if checker is not None else Checker.required
    return [key for key in ("kind", *required) if key not in case]


def _case_problem(case) -> Verdict | None:
    if not isinstance(case, Mapping):
        return error("A case must be a JSON object.")
    missing = missing_keys(case)
    if missing:
        return error(f"The case lacks {', '.join(missing)}.")
    if not isinstance(case["kind"], str) or case["kind"] not in CHECKERS:
        known = ", ".join(CHECKERS)
        return error(f"Unknown kind {case['kind']!r}: the kinds are {known}.")
    choice = case["kind"] == "choice"
    if "expected" in case and not _is_text(case["expected"], allow_list=choice):
        kind = type(case["expected"]).__name__
        return error(f"`expected` must be text or a number, not {kind}.")
    if "answer" in case and not _is_text(case["answer"], allow_list=choice):
        return invalid("The answer must be text.")
    return None


def _is_text(value, allow_list: bool) -> bool:
    """An answer or expected answer as a case may give it: text, a number, or (a choice)
    a list of option keys."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return True
    return allow_list and isinstance(value, list) and all(isinstance(v, str) for v in value)


def check_unbounded(case: Mapping) -> dict:
    """The whole check in this process, without a time bound: `Verdict.to_dict()`."""
    return _check_here(case).to_dict()


def _check_here(case: Mapping) -> Verdict:
    problem = _case_problem(case)
    if problem is not None:
        return problem
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    try:
        setting = read_setting(case)
        checker = CHECKERS[case["kind"]]
        verdict = checker.check(case, setting)
        if verdict.status == "incorrect" and case.get("mistakes"):
            found = find_mistake(checker, case, setting)
            if found is not None and found[1]:
                index, message = found
                return incorrect(message, **verdict.details, mistake=True, mistake_index=index)
        return verdict
    except AuthorError as e:
        return error(str(e))
    except Invalid as e:
        return invalid(e.message, e.column)
    except Unavailable:
        # Not a verdict: nothing was judged, and the caller tries again later.
        raise
    except RecursionError:
        return invalid(TOO_SLOW)
    except Exception as e:  # noqa: BLE001 - a checker bug must not cost the student an attempt
        return invalid(
            "Your answer could not be checked. Try writing it in another form.",
            internal_error=f"{type(e).__name__}: {e}",
        )


def check(case: Mapping, timeout: float = DEFAULT_TIMEOUT, in_process: bool = False) -> Verdict:
    """Judge `case` (the command-line case format, plus optional `mistakes`).

    The comparison runs in a helper process and is abandoned after `timeout` seconds
    (an `invalid` verdict asking for a simpler form); `in_process=True` runs it here,
    without a time bound, for tests and tools. A kind that bounds itself (code, in its
    sandbox, under the case's own `time_limit`) is checked here; it raises
    `Unavailable` when it cannot run now.
    """
    problem = _case_problem(case)
    if problem is not None:
        return problem
    if in_process or CHECKERS[case["kind"]].isolated:
        return _check_here(case)
    # Imported here: the helper processes import this module, and must not import
    # their own entry point (`grading._worker`) before running it.
    from grading import pool

    # The helper reads the case and the answer too: an unreadable answer or a case
    # the author got wrong comes back as its verdict. Reading it here first would
    # cost every readable answer a second parse (the web pages have already refused
    # the unreadable ones with `validate`).
    try:
        result = pool.run_bounded("grading.engine:check_unbounded", dict(case), timeout)
    except pool.TimedOut:
        return invalid(TOO_SLOW, timed_out=True)
    except pool.WorkerCrashed:
        return invalid(CRASHED, crashed=True)
    except (TypeError, ValueError) as e:
        # The case cannot be sent as JSON (NaN, or a value JSON has no form for).
        return error(f"The case cannot be checked: {e}.")
    except pool.RemoteError as e:
        return invalid(
            "Your answer could not be checked. Try writing it in another form.",
            internal_error=str(e),
        )
    return Verdict(result["status"], result["message"], result.get("details") or {})


def validate(case: Mapping) -> Verdict | None:
    """`None` when the answer can be read as an answer of the case's kind, else `invalid`.

    Only reads; no comparison. A case the author got wrong is left for `check` to report.
    """
    if _case_problem(case) is not None:
        return None
    try:
        setting = read_setting(case)
    except AuthorError:
        return None
    try:
        CHECKERS[case["kind"]].read(case, setting)
    except Invalid as e:
        return invalid(e.message, e.column)
    except RecursionError:
        return invalid("Your answer is nested too deeply.")
    return None
