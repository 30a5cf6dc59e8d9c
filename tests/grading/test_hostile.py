"""Hostile answers: read as maths or refused, never run, and never anything but a verdict.

An audit hook watches the engine while it checks each hostile answer: it must not
open a file for writing, open a socket, start a process or compile code.
"""

import json
import os
import sys
from pathlib import Path

import pytest

from grading import check

CASES = Path(__file__).parent / "cases" / "hostile.jsonl"

ATTACKS = [
    "__import__('os').system('touch pwned')",
    "open('pwned', 'w').write('x')",
    "exec('import socket')",
    "eval('1+1')",
    "(lambda: 1)()",
    "x.__class__.__bases__[0].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "import os",
    "os.system",
    "'; DROP TABLE exercises_submission; --",
    "{{7*7}}",
    "${7*7}",
    "x; y = 2",
    "x if 1 else 2",
    "getattr(x, 'real')",
    "9**9**9**9",
    "factorial(10**9)",
    "10^10^10",
    "(" * 200 + "x" + ")" * 200,
    "+".join(["x"] * 5000),
    "x" * 2000,
    "\x00x",
    "x\u202e2",
    "１２３",
]

WATCHED = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.fork",
    "exec",
    "compile",
)


class Watch:
    active = False
    events: list[tuple] = []


def _is_module_import(args: tuple) -> bool:
    """Running a module's code on import (a lazily imported library), not a string's."""
    code = args[0] if args else None
    filename = getattr(code, "co_filename", "")
    return getattr(code, "co_name", "") == "<module>" and os.path.isfile(filename)


def _hook(event: str, args: tuple) -> None:
    if not Watch.active:
        return
    if event == "exec" and _is_module_import(args):
        return
    if event.startswith(WATCHED):
        Watch.events.append((event, repr(args)[:200]))
    elif event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        )
        if writing:
            Watch.events.append((event, repr(args)[:200]))


sys.addaudithook(_hook)


def hostile_cases():
    for line in CASES.read_text().splitlines():
        if line.strip():
            yield json.loads(line)
    for i, answer in enumerate(ATTACKS):
        yield {
            "id": f"attack-{i}",
            "kind": "expression",
            "expected": "x",
            "answer": answer,
            "variables": ["x"],
        }
        yield {"id": f"attack-num-{i}", "kind": "numeric", "expected": "2", "answer": answer}


@pytest.fixture(scope="module")
def warm():
    """Check every case once unwatched first: libraries the engine imports lazily
    (NumPy's random module, SymPy's parts) run their own code when first imported."""
    for case in hostile_cases():
        check(case, in_process=True)


@pytest.mark.parametrize("case", list(hostile_cases()), ids=lambda c: c["id"])
def test_it_judges_a_hostile_answer_without_side_effects(case, tmp_path, monkeypatch, warm):
    monkeypatch.chdir(tmp_path)
    Watch.events = []
    Watch.active = True
    try:
        verdict = check(case, in_process=True)
    finally:
        Watch.active = False
    assert Watch.events == []
    assert list(tmp_path.iterdir()) == []
    assert verdict.status in {"correct", "incorrect", "invalid"}
    assert verdict.message
    assert "internal_error" not in verdict.details
    if "expect" in case:
        assert verdict.status == case["expect"]
    elif case["id"].startswith("attack"):
        assert verdict.status == "invalid"


def test_the_watch_sees_a_file_written():
    # The hook itself must be able to fail.
    Watch.events = []
    Watch.active = True
    try:
        with open(os.devnull, "w") as f:
            f.write("x")
    finally:
        Watch.active = False
    assert Watch.events and Watch.events[0][0] == "open"
