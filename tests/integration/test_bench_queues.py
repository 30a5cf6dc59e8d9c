"""`manage.py bench_queues`: a few submissions of each kind through real workers, every
one graded and accounted for, and nothing left behind. No timing is asserted."""

import io
import json
import tempfile
from pathlib import Path

import pytest
from django.core.management import call_command

from exercises.management.commands.bench_queues import format_text

pytestmark = pytest.mark.integration


def bench_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("bench-queues-*"))


def processes_of(run: str) -> list[str]:
    """The command lines that name the run (its Redis, its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if run in cmdline:
            found.append(cmdline)
    return found


def make_bench(**options) -> dict:
    out = io.StringIO()
    call_command("bench_queues", json=True, stdout=out, **options)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def bench():
    """One small run, and the benchmark's directories in the temporary directory before it."""
    dirs = bench_dirs()
    result = make_bench(maths=3, code=2, students=2)
    return result, dirs


def test_it_grades_every_submission_of_each_scenario(bench):
    result, _ = bench

    scenarios = result["scenarios"]
    assert list(scenarios) == ["maths alone", "code alone", "maths with code"]
    expected = {
        "maths alone": {"maths": 3, "code": 0},
        "code alone": {"maths": 0, "code": 2},
        "maths with code": {"maths": 3, "code": 2},
    }
    for name, counts in expected.items():
        scenario = scenarios[name]
        assert len(scenario["load_start"]) == len(scenario["load_end"]) == 3
        for kind, count in counts.items():
            figures = scenario[kind]
            assert figures["submissions"] == count
            assert figures["graded"] == count
            assert figures["refused"] == figures["failed"] == 0
            # Right answers graded correct, wrong ones not: the verdicts are real.
            assert figures["as_meant"] == count
            if not count:
                continue
            for spread in ("submit_to_verdict_ms", "take_to_verdict_ms"):
                p50, p95, most = (figures[spread][q] for q in ("p50", "p95", "max"))
                assert 0 <= p50 <= p95 <= most
            # A worker takes a submission after it was submitted.
            assert figures["take_to_verdict_ms"]["max"] <= figures["submit_to_verdict_ms"]["max"]
            assert figures["graded_per_second"] > 0


def test_it_stops_what_it_started_and_removes_its_directory(bench):
    result, dirs = bench

    assert bench_dirs() == dirs
    assert processes_of(result["run"]) == []


def test_it_prints_a_row_for_each_kind_of_each_scenario(bench):
    result, _ = bench

    lines = format_text(result).splitlines()

    assert "submit->verdict" in lines[1]
    rows = [line.split() for line in lines[2:] if "per verdict" not in line]
    assert [row[:-14] for row in rows] == [
        ["maths", "alone", "maths", "3/3", "3"],
        ["code", "alone", "code", "2/2", "2"],
        ["maths", "with", "code", "maths", "3/3", "3"],
        ["maths", "with", "code", "code", "2/2", "2"],
    ]


def test_it_counts_the_cpu_time_of_each_worker(bench):
    result, _ = bench

    for name, scenario in result["scenarios"].items():
        cpu = scenario["cpu_seconds"]
        # The private Redis too: REDIS_URL is unset in these tests unless CI sets it.
        assert {"maths_worker", "code_worker"} <= set(cpu)
        assert ("redis" in cpu) == (result["broker"] == "private Redis")
        # A maths worker that graded something spent CPU time on it. The code worker's
        # figure is only a lower bound (its sandboxes are reaped outside its process
        # tree), and two code answers may take less than a clock tick of its own time:
        # it is not checked.
        if scenario["maths"]["graded"]:
            assert cpu["maths_worker"] > 0, (name, cpu)
    lines = format_text(result).splitlines()
    assert [line.split()[:2] for line in lines if "CPU ms per verdict" in line] == [
        ["maths", "alone"],
        ["code", "alone"],
        ["maths", "with"],
    ]
