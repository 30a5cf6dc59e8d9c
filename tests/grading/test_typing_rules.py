"""The typing rules of the specification, section 1, case by case: `cases/typing_rules.jsonl`.

`test_engine` checks each case's verdict with the rest of the corpus; here the cases
that must be refused are also held to their message, for a refusal is only useful
when it says what to type instead (`thetax`: "did you mean theta*x?").
"""

import json
from pathlib import Path

import pytest

from grading.engine import check

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "cases/typing_rules.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]
WITH_MESSAGE = [case for case in CASES if "expect_message" in case]


@pytest.mark.parametrize("case", WITH_MESSAGE, ids=[c["id"] for c in WITH_MESSAGE])
def test_it_says_what_the_rule_says(case):
    verdict = check(case, in_process=True)
    assert verdict.status == case["expect"]
    assert case["expect_message"].lower() in verdict.message.lower(), verdict.message


def test_the_cases_cover_every_rule_of_section_1():
    sections = {case["note"].split(":")[0].removeprefix("section 1, ") for case in CASES}
    assert sections >= {
        "numbers",
        "operators",
        "grouping",
        "implicit multiplication",
        "names",
        "constants",
        "functions",
        "exercise functions",
        "vectors",
        "matrices",
        "sets of points",
        "choices",
        "letter runs",
        "pasted characters",
        "limits",
        "nothing else",
    }
    assert len({case["id"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("answer", "variables", "suggestion"),
    [
        ("thetax", ["theta", "x"], "did you mean theta*x?"),
        ("pix", ["x"], "did you mean pi*x?"),
        ("sinx", ["x"], "write sin(x)"),
        ("x1y", ["x1", "y"], "did you mean x1*y?"),
    ],
)
def test_it_refuses_the_specifications_examples_with_their_suggestion(
    answer, variables, suggestion
):
    case = {"kind": "expression", "expected": "1", "answer": answer, "variables": variables}
    verdict = check(case, in_process=True)
    assert verdict.status == "invalid"
    assert suggestion in verdict.message
