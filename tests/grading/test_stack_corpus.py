"""Agreement with the STACK AlgEquiv peer corpus (see shared/peer/build_notes.md).

Each line is a case with `expect`, the verdict under our specification, decided
independently of this engine. A wrong `correct` is the one disagreement never allowed.
"""

import json
from pathlib import Path

import pytest

from grading.engine import check

CORPUS = Path(__file__).resolve().parents[3] / "shared/peer/stack_algequiv.jsonl"


@pytest.fixture(scope="module")
def results():
    if not CORPUS.exists():
        pytest.skip(f"the STACK peer corpus is not present at {CORPUS}")
    cases = [
        json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [(case, check(case, in_process=True)) for case in cases]


def test_it_reads_the_whole_corpus(results):
    assert len(results) == 117


def test_it_agrees_with_at_least_97_percent_of_the_corpus(results):
    disagreements = [
        (c["id"], c["expect"], v.status) for c, v in results if v.status != c["expect"]
    ]
    assert len(disagreements) <= 0.03 * len(results), disagreements


def test_it_never_says_correct_where_the_corpus_does_not(results):
    wrong = [c["id"] for c, v in results if v.status == "correct" and c["expect"] != "correct"]
    assert wrong == []
