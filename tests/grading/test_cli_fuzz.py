"""`python -m grading check` answers every input line with one JSON line, whatever it holds.

Random cases from a seeded generator: random kinds, any type in any field, lone
surrogates, NULs, huge numbers, nested lists, broken JSON. FUZZ_CASES sets how many
(`make fuzz` runs 100,000), FUZZ_SEED which ones.
"""

import io
import json
import os
import random

from grading.cli import _decoded, run

CASES = int(os.environ.get("FUZZ_CASES", "300"))
SEED = int(os.environ.get("FUZZ_SEED", "11"))
STATUSES = {"correct", "incorrect", "invalid", "error"}

KINDS = ["expression", "numeric", "choice", "vector", "matrix", "points", "code", "", "EXPR"]
FIELDS = [
    "id",
    "kind",
    "expected",
    "answer",
    "variables",
    "domain",
    "rtol",
    "atol",
    "functions",
    "options",
    "mistakes",
    "function",
    "reference",
    "tests",
]
EXPECTED = [
    "x",
    "2x + y",
    "sin(x)",
    "pi/4",
    "[1, 2]",
    "[[1, 0], [0, 1]]",
    "(1, 2)",
    "A",
    "A, b",
    1e308,
]
PIECES = [
    "x",
    "y",
    "2",
    "1e308",
    "9^9^9",
    "sin(",
    ")",
    "[1, 2]",
    "(1, 2)",
    ",",
    "A",
    "b",
    "sqrt",
    "log(x)",
    "pi",
    "e",
    "=",
    "f(z) = z",
    " ",
    "\x00",
    "\ud800",
    "\udfff",
    "\u2212",
    "\u00b2",
    "\ufeff",
    "\U0001f600",
    "\\",
    '"',
    "def f(x):\n    return x\n",
]


def make_text(rnd: random.Random) -> str:
    return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, 6)))


def make_value(rnd: random.Random, depth: int = 0):
    choice = rnd.randrange(10 if depth < 3 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rnd.choice([True, False])
    if choice == 2:
        return rnd.choice([0, -1, 10**30, -(10**400), 2**63, 1e308, -0.0, 1e-320, 0.5])
    if choice in (3, 4, 5):
        return make_text(rnd)
    if choice in (6, 7):
        return [make_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    return {make_text(rnd): make_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))}


def make_case(rnd: random.Random) -> dict:
    case = {field: make_value(rnd) for field in FIELDS if rnd.random() < 0.1}
    # Most cases look nearly right, so that the fuzz reaches the checkers.
    if rnd.random() < 0.9:
        case["kind"] = rnd.choice(KINDS)
    if rnd.random() < 0.5:
        case["variables"] = ["x", "y"]
    if rnd.random() < 0.6:
        case["expected"] = rnd.choice(EXPECTED)
    for field in ("id", "expected", "answer"):
        if rnd.random() < 0.9:
            case.setdefault(field, make_text(rnd))
    return case


def make_line(rnd: random.Random) -> bytes:
    """One input line, as bytes, the way a file would hold it."""
    shape = rnd.random()
    if shape < 0.05:
        return bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 40))).replace(b"\n", b"")
    if shape < 0.08:
        depth = rnd.choice([10, 1000, 100000])
        return b"[" * depth + b"]" * depth
    if shape < 0.10:
        return b'{"id": 1, "kind": "numeric", "expected": 1' + b"0" * 5000 + b', "answer": "1"}'
    if shape < 0.15:
        text = json.dumps(make_value(rnd))
    else:
        case = make_case(rnd)
        ascii_only = rnd.random() < 0.5
        text = json.dumps(case, ensure_ascii=ascii_only, allow_nan=True)
    if rnd.random() < 0.05:
        text = text[: rnd.randrange(len(text) + 1)]
    # Lone surrogates written raw are not UTF-8: they arrive as bytes the reader replaces.
    return text.replace("\n", " ").encode("utf-8", errors="surrogatepass")


def test_it_answers_every_fuzzed_line_with_one_json_line():
    rnd = random.Random(SEED)
    done = 0
    while done < CASES:
        batch = [make_line(rnd) for _ in range(min(100, CASES - done))]
        lines = [line for line in batch if line.decode("utf-8", errors="replace").strip()]
        out = io.StringIO()
        written = run(_decoded(lines), out, timeout=0.5)
        text = out.getvalue()
        text.encode("utf-8")  # what stdout must be able to write
        results = [json.loads(line) for line in text.splitlines()]
        assert written == len(results) == len(lines)
        for line, result in zip(lines, results, strict=True):
            assert set(result) == {"id", "status", "message"}, line
            assert result["status"] in STATUSES, (line, result)
            assert isinstance(result["message"], str) and result["message"], (line, result)
            assert "Traceback" not in result["message"], (line, result)
        done += len(batch)
