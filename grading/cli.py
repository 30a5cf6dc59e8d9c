"""`python -m grading check [FILE]`: JSON Lines of cases in, one JSON line of verdict out per case.

The format is the answer specification's, section 3. Output is written and flushed
line by line, in input order, so that a long file can be followed as it is checked.
A line that is not a case gets an `error` line and the run goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import TextIO

from grading.checkers.verdicts import Unavailable
from grading.engine import DEFAULT_TIMEOUT, check, missing_keys


def _verdict_line(line: str, timeout: float, in_process: bool) -> dict | None:
    text = line.strip()
    if not text:
        return None
    try:
        case = json.loads(text)
    except json.JSONDecodeError as e:
        return {
            "id": None,
            "status": "error",
            "message": f"Not valid JSON: {e.msg} (column {e.colno}).",
        }
    except RecursionError:
        return {"id": None, "status": "error", "message": "Not valid JSON: nested too deeply."}
    except ValueError as e:  # a number too long to read as one
        return {"id": None, "status": "error", "message": f"Not valid JSON: {e}."}
    if not isinstance(case, dict):
        return {"id": None, "status": "error", "message": "A case must be a JSON object."}
    case_id = case.get("id")
    missing = (["id"] if "id" not in case else []) + missing_keys(case)
    if missing:
        return {
            "id": case_id,
            "status": "error",
            "message": f"The case lacks {', '.join(missing)}.",
        }
    try:
        verdict = check(case, timeout=timeout, in_process=in_process)
    except Unavailable as e:
        return {"id": case_id, "status": "error", "message": f"The case cannot be checked now: {e}"}
    internal = verdict.details.get("internal_error")
    if internal:
        # A fault of the engine, not a verdict on the answer: said as one.
        return {"id": case_id, "status": "error", "message": f"Internal error: {internal}"}
    return {"id": case_id, "status": verdict.status, "message": verdict.message}


def _json_line(result: dict) -> str:
    """`result` as one line of UTF-8-safe JSON: a lone surrogate echoed from the input
    (JSON's `"\\ud800"`) stays an escape instead of stopping the output."""
    text = json.dumps(result, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(result)
    return text


def run(
    lines: Iterable[str], out: TextIO, timeout: float = DEFAULT_TIMEOUT, in_process: bool = False
) -> int:
    """Check every case in `lines`, writing one JSON line each to `out`; the number written."""
    written = 0
    for line in lines:
        try:
            result = _verdict_line(line, timeout, in_process)
        except Exception as e:  # noqa: BLE001 - one case's fault is that case's line only
            result = {
                "id": None,
                "status": "error",
                "message": f"Internal error: {type(e).__name__}: {e}",
            }
        if result is None:
            continue
        out.write(_json_line(result) + "\n")
        out.flush()
        written += 1
    return written


def check_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading check",
        description="Check answers given as JSON Lines (one case a line) and print one verdict line per case.",
    )
    parser.add_argument("file", nargs="?", help="a JSON Lines file (default: standard input)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds allowed for each case (default {DEFAULT_TIMEOUT:g})",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.file is None or args.file == "-":
        run(_decoded(sys.stdin.buffer), sys.stdout, args.timeout)
        return 0
    try:
        with open(args.file, "rb") as handle:
            run(_decoded(handle), sys.stdout, args.timeout)
    except OSError as e:
        print(f"cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 2
    return 0


def _decoded(lines: Iterable[bytes]) -> Iterable[str]:
    # Line by line, so that one badly encoded line is that line's problem only: its
    # replacement characters make it unreadable JSON or an invalid answer.
    for line in lines:
        yield line.decode("utf-8", errors="replace")
