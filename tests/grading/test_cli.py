"""`python -m grading check`: JSON Lines in, one verdict line per case out, in order."""

import io
import json
import subprocess
import sys
from pathlib import Path

from grading.cli import check_main, run

ROOT = Path(__file__).resolve().parents[2]

SPEC_EXAMPLES = [
    {
        "id": "c1",
        "kind": "expression",
        "expected": "2*x*cos(x^2)",
        "answer": "2x cos(x^2)",
        "variables": ["x"],
    },
    {"id": "c2", "kind": "numeric", "expected": "pi/4", "answer": "0.7854", "rtol": 1e-4},
    {
        "id": "c3",
        "kind": "expression",
        "expected": "log(x)",
        "answer": "ln(x)",
        "variables": ["x"],
        "domain": {"x": [0, 10]},
    },
    {
        "id": "c4",
        "kind": "expression",
        "expected": "sigma(x)*(1-sigma(x))",
        "answer": "e^(-x)/(1+e^(-x))^2",
        "variables": ["x"],
        "functions": ["sigma(z) = 1/(1+e^(-z))"],
    },
]


def run_lines(lines: list[str]) -> list[dict]:
    out = io.StringIO()
    run(lines, out, in_process=True)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_checks_the_specifications_examples():
    results = run_lines([json.dumps(c) for c in SPEC_EXAMPLES])
    assert [r["id"] for r in results] == ["c1", "c2", "c3", "c4"]
    assert [r["status"] for r in results] == ["correct"] * 4
    assert all(set(r) == {"id", "status", "message"} and r["message"] for r in results)


def test_it_skips_blank_lines_and_keeps_the_order():
    lines = [
        json.dumps(
            {"id": "a", "kind": "expression", "expected": "x", "answer": "2x", "variables": ["x"]}
        ),
        "",
        "   ",
        json.dumps({"id": "b", "kind": "choice", "expected": "a", "answer": "a", "options": ["a"]}),
    ]
    results = run_lines(lines)
    assert [(r["id"], r["status"]) for r in results] == [("a", "incorrect"), ("b", "correct")]


def test_it_reports_a_line_that_is_not_a_case_and_goes_on():
    lines = [
        "not json",
        "[1, 2]",
        json.dumps({"id": "m", "kind": "expression", "answer": "x"}),
        json.dumps({"kind": "expression", "expected": "x", "answer": "x"}),
        json.dumps({"id": "ok", "kind": "numeric", "expected": "1", "answer": "1"}),
    ]
    results = run_lines(lines)
    assert [r["status"] for r in results] == ["error", "error", "error", "error", "correct"]
    assert results[2]["id"] == "m" and "expected" in results[2]["message"]
    assert "id" in results[3]["message"]
    assert results[4]["id"] == "ok"


def test_it_ignores_other_fields():
    case = dict(SPEC_EXAMPLES[0], expect="correct", note="anything", weight=3)
    assert run_lines([json.dumps(case)])[0]["status"] == "correct"


def test_it_reads_a_file_and_writes_to_standard_output(tmp_path, capsys, monkeypatch):
    from grading import cli

    monkeypatch.setattr(cli, "check", lambda case, timeout, in_process: cli_check(case))
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in SPEC_EXAMPLES) + "\n", encoding="utf-8")
    assert check_main([str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["c1", "c2", "c3", "c4"]


def cli_check(case):
    from grading.engine import check

    return check(case, in_process=True)


def test_it_fails_cleanly_on_a_missing_file(tmp_path, capsys):
    assert check_main([str(tmp_path / "absent.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_it_runs_as_a_module_under_the_time_bound():
    cases = [
        *SPEC_EXAMPLES,
        {
            "id": "h",
            "kind": "expression",
            "expected": "x",
            "answer": "__import__('os')",
            "variables": ["x"],
        },
    ]
    completed = subprocess.run(
        [sys.executable, "-m", "grading", "check"],
        input="\n".join(json.dumps(c) for c in cases) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    results = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [(r["id"], r["status"]) for r in results] == [
        ("c1", "correct"),
        ("c2", "correct"),
        ("c3", "correct"),
        ("c4", "correct"),
        ("h", "invalid"),
    ]


def test_it_survives_a_badly_encoded_line(tmp_path, capsys, monkeypatch):
    from grading import cli

    monkeypatch.setattr(cli, "check", lambda case, timeout, in_process: cli_check(case))
    path = tmp_path / "cases.jsonl"
    good = json.dumps({"id": "b", "kind": "numeric", "expected": "1", "answer": "1"})
    path.write_bytes(b"\xfe\xff not json\n" + good.encode() + b"\n")
    assert check_main([str(path)]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["status"] for r in results] == ["error", "correct"]


def test_it_writes_a_lone_surrogate_in_a_choice_answer_as_an_escape(capsys, monkeypatch):
    line = (
        '{"id": 1, "kind": "choice", "expected": "A", "options": ["A", "B"], "answer": "\\ud800"}'
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(line.encode() + b"\n")))
    assert check_main([]) == 0
    out = capsys.readouterr().out
    out.encode("utf-8")
    (result,) = [json.loads(text) for text in out.splitlines()]
    assert result["status"] == "invalid"
    assert "U+D800" in result["message"]


def test_it_reports_an_expected_answer_that_is_not_text_as_an_error_of_the_case():
    cases = [
        {"id": "list", "kind": "expression", "expected": ["x"], "answer": "x", "variables": ["x"]},
        {"id": "object", "kind": "numeric", "expected": {"a": 1}, "answer": "1"},
        {"id": "answer", "kind": "numeric", "expected": "1", "answer": [1]},
    ]
    results = run_lines([json.dumps(c) for c in cases])
    assert [r["status"] for r in results] == ["error", "error", "invalid"]
    assert "`expected` must be text" in results[0]["message"]
    assert "`expected` must be text" in results[1]["message"]
    assert results[2]["message"] == "The answer must be text."
