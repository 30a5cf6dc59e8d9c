"""The engine's entry points, its time bound, and the graded corpus in `cases/`."""

import json
from pathlib import Path

import pytest

import grading
from grading import engine, pool
from grading.checkers import CHECKERS, Checker, Invalid
from grading.engine import (
    ENGINE_VERSION,
    Verdict,
    check,
    check_unbounded,
    missing_keys,
    validate,
)

CASES_DIR = Path(__file__).parent / "cases"


def make_case(**kwargs) -> dict:
    case = {"kind": "expression", "expected": "2x", "answer": "x + x", "variables": ["x"]}
    case.update(kwargs)
    return case


def load_corpus() -> list[dict]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(json.loads(line))
    return cases


CORPUS = load_corpus()


def test_it_exports_the_public_interface_from_the_package():
    assert grading.check is check
    assert grading.validate is validate
    assert grading.Verdict is Verdict
    assert isinstance(ENGINE_VERSION, str) and ENGINE_VERSION


def test_it_gives_a_json_form_of_a_verdict():
    verdict = check(make_case(), in_process=True)
    assert verdict.to_dict() == {"status": "correct", "message": verdict.message, "details": {}}
    assert json.loads(json.dumps(verdict.to_dict())) == verdict.to_dict()


def test_check_unbounded_returns_the_verdicts_json_form():
    result = check_unbounded(make_case(answer="3x"))
    assert result["status"] == "incorrect"
    assert set(result) == {"status", "message", "details"}


@pytest.mark.parametrize(
    "case, message",
    [
        ({"kind": "expression", "expected": "x"}, "lacks answer"),
        ({"kind": "essay", "expected": "x", "answer": "x"}, "Unknown kind"),
        (make_case(variables=7), "variables"),
        (make_case(domain={"x": [3, 1]}), "low < high"),
        (make_case(functions=["sin(x) = x"]), "functions"),
        (make_case(rtol="lots", kind="numeric"), "rtol"),
    ],
)
def test_it_reports_a_broken_case_to_the_author(case, message):
    verdict = check(case, in_process=True)
    assert verdict.status == "error"
    assert message in verdict.message


def test_validate_accepts_a_readable_answer_without_comparing():
    assert validate(make_case(answer="3x")) is None
    assert validate(make_case(kind="numeric", expected="1", answer="2", variables=[])) is None


@pytest.mark.parametrize(
    "case",
    [
        make_case(answer="2x+"),
        make_case(answer="xy"),
        make_case(answer="[x, 1]"),
        make_case(kind="numeric", expected="1", answer="x"),
        make_case(kind="vector", expected="[1, 2]", answer="x"),
        make_case(kind="matrix", expected="[[1]]", answer="[[1, 2], [3]]"),
        make_case(kind="choice", expected="a", answer="q", options=["a", "b"]),
    ],
)
def test_validate_refuses_an_unreadable_answer(case):
    verdict = validate(case)
    assert verdict is not None and verdict.status == "invalid"
    assert check(case, in_process=True).status == "invalid"


def test_it_gives_an_invalid_verdict_when_the_check_overruns(monkeypatch):
    def overrun(func, payload, timeout):
        raise pool.TimedOut()

    monkeypatch.setattr(pool, "run_bounded", overrun)
    verdict = check(make_case())
    assert verdict.status == "invalid"
    assert "simpler form" in verdict.message
    assert verdict.details["timed_out"] is True


def test_it_gives_an_invalid_verdict_when_the_helper_dies(monkeypatch):
    def crash(func, payload, timeout):
        raise pool.WorkerCrashed("MemoryError")

    monkeypatch.setattr(pool, "run_bounded", crash)
    verdict = check(make_case())
    assert verdict.status == "invalid"
    assert "memory" in verdict.message


def test_it_runs_the_comparison_in_a_helper_under_the_time_bound(monkeypatch):
    calls = []

    def run_here(func, payload, timeout):
        calls.append((func, timeout))
        module, name = func.split(":")
        assert module == "grading.engine"
        return getattr(engine, name)(payload)

    monkeypatch.setattr(pool, "run_bounded", run_here)
    assert check(make_case(), timeout=1.5).status == "correct"
    assert calls == [("grading.engine:check_unbounded", 1.5)]


def test_it_answers_unreadable_answers_and_author_errors_from_the_helper():
    unreadable = check(make_case(answer="2x+"))
    assert unreadable.status == "invalid"
    assert unreadable.message == validate(make_case(answer="2x+")).message
    assert check(make_case(expected="2x+")).status == "error"


def test_it_checks_in_a_real_helper_and_bounds_a_slow_check():
    assert check(make_case(), timeout=30).status == "correct"
    # Confirming an inexact zero of many terms takes a high working precision at
    # several points: far longer than five thousandths of a second.
    slow = make_case(expected="0", answer="+".join(["sin(x)cos(x)-cos(x)sin(x)"] * 35))
    verdict = check(slow, timeout=0.005)
    assert verdict.status == "invalid"
    assert verdict.details.get("timed_out") is True


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_it_agrees_with_the_graded_corpus(case):
    verdict = check(case, in_process=True)
    assert "internal_error" not in verdict.details
    assert verdict.status == case["expect"], verdict.message
    assert verdict.message


def test_the_corpus_is_large_and_covers_every_kind_and_status():
    assert len(CORPUS) >= 300
    assert {c["kind"] for c in CORPUS} == {
        "expression",
        "numeric",
        "vector",
        "matrix",
        "points",
        "choice",
    }
    assert {c["expect"] for c in CORPUS} == {"correct", "incorrect", "invalid", "error"}


def test_it_reads_a_json_number_as_the_number_it_writes():
    case = {"kind": "numeric", "expected": 0.7854, "answer": 0.78539}
    assert check(case, in_process=True).status == "correct"
    assert check({**case, "answer": True}, in_process=True).status == "invalid"


@pytest.mark.parametrize(
    "case",
    [
        {"kind": "points", "expected": "[(1, 1)]", "answer": "[(1, 1, 1)]"},
        {"kind": "points", "expected": "[(1, 1)]", "answer": "[1, 2]"},
        {"kind": "vector", "expected": "[1, 2]", "answer": "{1, 2}"},
        {"kind": "numeric", "expected": "1", "answer": "[1]"},
    ],
)
def test_validate_and_check_agree_on_what_is_unreadable(case):
    verdict = validate(case)
    assert verdict is not None
    assert check(case, in_process=True) == verdict


class _EchoChecker(Checker):
    """A kind for the tests: correct when the answer is the word "yes"."""

    required = ("answer", "word")

    def check(self, case, setting):
        return Verdict("correct" if case["answer"] == "yes" else "incorrect", case["word"])

    def read(self, case, setting):
        if not isinstance(case["answer"], str):
            raise Invalid("Not a word.")


@pytest.fixture
def echo_kind(monkeypatch):
    monkeypatch.setitem(CHECKERS, "echo", _EchoChecker())


def test_it_dispatches_a_case_through_the_table_of_kinds(echo_kind):
    case = {"kind": "echo", "answer": "yes", "word": "Fine."}
    assert check(case, in_process=True) == Verdict("correct", "Fine.")
    assert check({**case, "answer": "no"}, in_process=True).status == "incorrect"
    assert validate(case) is None
    assert validate({**case, "answer": 3}) == Verdict("invalid", "Not a word.")


def test_it_asks_a_case_for_the_keys_its_kind_requires(echo_kind):
    assert missing_keys({"kind": "echo", "answer": "yes"}) == ["word"]
    assert missing_keys({"kind": "expression", "answer": "x"}) == ["expected"]
    assert missing_keys({"answer": "x"}) == ["kind", "expected"]
    verdict = check({"kind": "echo", "answer": "yes"}, in_process=True)
    assert verdict == Verdict("error", "The case lacks word.")


def test_it_lists_the_kinds_of_the_table_for_an_unknown_kind(echo_kind):
    verdict = check({"kind": "essay", "expected": "x", "answer": "x"}, in_process=True)
    assert verdict.message.endswith(
        "the kinds are expression, numeric, vector, matrix, points, choice, code, echo."
    )


def test_it_reads_a_code_answer_through_the_table_of_kinds():
    case = {
        "kind": "code",
        "answer": "def double(x):\n    return 2 * x\n",
        "function": "double",
        "reference": {"routine": "forward_difference"},
        "tests": [{"args": [1]}],
    }
    assert validate(case) is None
    verdict = validate({**case, "answer": "def double(x:\n    return 2 * x\n"})
    assert verdict.status == "invalid"
    assert verdict.message.startswith("line 1, column 11:")
    assert missing_keys({"kind": "code", "answer": "x"}) == ["function", "reference", "tests"]


def test_it_lets_an_unavailable_sandbox_through_rather_than_judge(monkeypatch):
    from grading.checkers.verdicts import Unavailable
    from grading.code import sandbox

    def refuse(*args, **kwargs):
        raise sandbox.SandboxUnavailable("no user namespaces")

    monkeypatch.setattr("grading.code.check_code", refuse)
    case = {
        "kind": "code",
        "answer": "def f(x):\n    return x\n",
        "function": "f",
        "reference": {"source": "def f(x):\n    return x\n"},
        "tests": [{"args": [1]}],
    }
    with pytest.raises(Unavailable):
        check(case)


@pytest.mark.parametrize(
    ("source", "where"),
    [
        ("def f(x):\n    return x\nreturn 1\n", "line 3, column 1: 'return' outside function"),
        ("def f(x):\n    break\n", "line 2, column 5: 'break' outside loop"),
    ],
)
def test_it_refuses_code_that_parses_but_does_not_compile(source, where):
    from grading.code import validate_source

    verdict = validate_source(source, "f")
    assert verdict.status == "invalid"
    assert verdict.message.startswith(where)
