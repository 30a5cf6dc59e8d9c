import json
import os

import pytest

from grading import bench
from grading.code import bench as code_bench
from grading.code import sandbox

SUMMARY_FIELDS = {
    "checks",
    "seconds",
    "checks_per_second",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "parent_peak_rss_mb",
    "helper_peak_rss_mb",
    "peak_rss_mb",
    "agreement",
    "agree",
    "by_expect",
    "timeouts",
    "crashes",
    "mismatches",
}


def test_it_reports_both_graders_as_json(capsys):
    assert bench.main(["--limit", "5", "--json"]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["cases"] == 5
    assert set(result["engine"]) == SUMMARY_FIELDS
    assert set(result["baseline"]) == SUMMARY_FIELDS
    for grader in ("engine", "baseline"):
        summary = result[grader]
        assert summary["checks"] == 5
        assert summary["checks_per_second"] > 0
        assert 0 < summary["p50_ms"] <= summary["p99_ms"] <= summary["max_ms"]
        assert summary["helper_peak_rss_mb"] > 0
        assert summary["peak_rss_mb"] >= summary["parent_peak_rss_mb"]
        assert summary["agree"] + len(summary["mismatches"]) == 5
    assert result["throughput_ratio"] > 0
    assert 0 < result["pool_round_trip"]["p50_us"] <= result["pool_round_trip"]["p99_us"]
    assert result["machine"]["nproc"] >= 1
    assert result["machine"]["cpu"]


def test_it_leaves_the_baseline_out_on_request(capsys):
    assert bench.main(["--limit", "2", "--no-baseline"]) == 0

    out = capsys.readouterr().out
    assert "2 cases from" in out
    assert "checks per second" in out
    assert "the engine checks" not in out


def test_it_has_a_well_formed_corpus():
    cases = bench.load_corpus(bench.CORPUS)

    assert len(cases) >= 300
    assert len({case["id"] for case in cases}) == len(cases)
    for case in cases:
        assert {"id", "kind", "expected", "answer", "expect"} <= set(case)
        assert case["expect"] in {"correct", "incorrect", "invalid"}
    assert {case["expect"] for case in cases} == {"correct", "incorrect", "invalid"}


def test_it_has_a_naive_baseline_that_grades_by_simplification():
    def grade(answer: str, **case) -> str:
        case = {"kind": "expression", "expected": "2x cos(x^2)", "variables": ["x"], **case}
        return bench.baseline_check({**case, "answer": answer})["status"]

    assert grade("cos(x^2)*2*x") == "correct"
    assert grade("2x sin(x^2)") == "incorrect"
    assert grade("2x cos(x^2") == "invalid"
    assert grade("0.7854", kind="numeric", expected="pi/4", rtol=1e-4) == "correct"


def test_it_counts_the_cpu_of_code_submissions_and_their_sandboxes():
    try:
        sandbox.probe()
    except sandbox.SandboxUnavailable as e:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the sandbox tests: {e}")
        pytest.skip(f"no working bubblewrap sandbox here: {e}")

    with code_bench.counting_sandboxes() as counted:
        result = code_bench.grade_many(3, 1)

    assert counted
    assert result["correct"] == 3
    # Python and NumPy start in every sandbox: far more CPU than a process that only waits.
    assert result["sandbox_cpu_ms"] > result["caller_cpu_ms"] > 0
    assert result["cpu_ms"] == pytest.approx(
        result["sandbox_cpu_ms"] + result["caller_cpu_ms"], abs=0.2
    )
    assert result["two_core_per_second"] == pytest.approx(2000 / result["cpu_ms"], rel=0.02)
    assert "on 2 idle cores" in code_bench.format_text(
        {
            "bwrap": "bwrap",
            "python": "python",
            "pool": 2,
            "load": [1.0, 1.0, 1.0],
            "cpu_counted": True,
            "startup": dict.fromkeys(
                [
                    f"{name}{unit}"
                    for name in ("python_pass", "python_numpy", "bwrap_true", "sandbox_empty_job")
                    for unit in ("_ms", "_cpu_ms")
                ]
                + ["sandbox_ready_ms"],
                1.0,
            ),
            "sequential": result,
            "two_at_a_time": result,
        }
    )


def test_it_reports_the_cpu_time_of_each_check_in_process(capsys):
    costly = bench.Path(__file__).parent / "cases" / "costly.jsonl"
    assert bench.main(["--cpu", "--corpus", str(costly), "--limit", "3", "--json"]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["measure"] == "cpu"
    assert result["baseline"] is None and result["pool_round_trip"] is None
    engine = result["engine"]
    assert set(engine) == SUMMARY_FIELDS
    assert engine["checks"] == 3 and engine["agree"] == 3
    assert 0 < engine["p50_ms"] <= engine["max_ms"]
