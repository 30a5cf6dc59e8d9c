"""`python -m grading bench`: the engine against a naive SymPy baseline.

Both grade every case of a corpus of calculus answers (`grading/data/bench_corpus.jsonl`,
one case a line in the command-line format of the specification, plus the verdict the
case should get in `expect`), one case after another, as a Celery worker would. For
each we report checks per second, median and 99th-percentile latency, peak memory of
the processes that did the work, and how often the verdict matches `expect`.

The engine runs as in production: `grading.check`, which parses in this process and
compares in a helper of `grading.pool`. The baseline runs in helpers of a pool of its
own, each case cut off after two seconds (it has no bound of its own).

    python -m grading bench [--limit N] [--no-baseline] [--json] [--corpus FILE]
    python -m grading bench --cpu [--corpus FILE]   (CPU time per check, in this process)
    python -m grading bench --code [--limit N] [--json]   (see grading/code/bench.py)
"""

import argparse
import json
import math
import os
import platform
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "bench_corpus.jsonl"
BASELINE_TIMEOUT = 2.0
BASELINE_FUNC = "grading.bench:baseline_check"
STATUSES = ("correct", "incorrect", "invalid", "error")


@dataclass
class Run:
    """What one grader did with the corpus."""

    name: str
    statuses: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    parent_peak_kb: int = 0
    helper_peak_kb: int = 0
    timeouts: int = 0
    crashes: int = 0

    def summary(self, cases: list[dict]) -> dict:
        n = len(self.statuses)
        agree = [
            status == case["expect"] for status, case in zip(self.statuses, cases, strict=True)
        ]
        by_expect = {}
        for expect in STATUSES:
            rows = [ok for ok, case in zip(agree, cases, strict=True) if case["expect"] == expect]
            if rows:
                by_expect[expect] = {"cases": len(rows), "agree": sum(rows)}
        return {
            "checks": n,
            "seconds": round(self.seconds, 3),
            "checks_per_second": round(n / self.seconds, 1) if self.seconds else None,
            "p50_ms": _ms(_percentile(self.latencies, 0.50)),
            "p99_ms": _ms(_percentile(self.latencies, 0.99)),
            "max_ms": _ms(max(self.latencies, default=0.0)),
            "parent_peak_rss_mb": _mb(self.parent_peak_kb),
            "helper_peak_rss_mb": _mb(self.helper_peak_kb),
            "peak_rss_mb": _mb(self.parent_peak_kb + self.helper_peak_kb),
            "agreement": round(sum(agree) / n, 4) if n else None,
            "agree": sum(agree),
            "by_expect": by_expect,
            "timeouts": self.timeouts,
            "crashes": self.crashes,
            "mismatches": [
                {"id": case["id"], "expect": case["expect"], "got": status}
                for status, case, ok in zip(self.statuses, cases, agree, strict=True)
                if not ok
            ],
        }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _mb(kilobytes: int) -> float:
    return round(kilobytes / 1024, 1)


def _own_peak_kb() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def load_corpus(path: Path, limit: int | None = None) -> list[dict]:
    cases = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                cases.append(json.loads(line))
            if limit is not None and len(cases) >= limit:
                break
    return cases


def _as_submitted(case: dict) -> dict:
    return {key: value for key, value in case.items() if key not in {"expect", "topic"}}


def run_engine(cases: list[dict]) -> Run:
    import grading
    from grading import pool

    run = Run("engine")
    # One check before the clock starts: the helper's start-up is not a check's cost.
    _engine_status(grading, _as_submitted(cases[0]), run)
    run.timeouts = run.crashes = 0
    started = time.perf_counter()
    for case in cases:
        submitted = _as_submitted(case)
        t0 = time.perf_counter()
        status = _engine_status(grading, submitted, run)
        run.latencies.append(time.perf_counter() - t0)
        run.statuses.append(status)
    run.seconds = time.perf_counter() - started
    run.parent_peak_kb = _own_peak_kb()
    helpers = pool.default_pool()
    pool.shutdown()
    run.helper_peak_kb = helpers.peak_rss_kb()
    return run


def run_engine_cpu(cases: list[dict]) -> Run:
    """Each case checked in this process, timed by the CPU time it takes.

    Without the helper's round trip and its time bound: what a check itself costs,
    whatever else runs on the machine (costly answers: tests/grading/cases/costly.jsonl).
    """
    import grading

    run = Run("engine, CPU in process")
    # Imports and the caches of the first check are not a check's cost.
    grading.check(_as_submitted(cases[0]), in_process=True)
    started = time.perf_counter()
    for case in cases:
        submitted = _as_submitted(case)
        t0 = time.process_time()
        try:
            status = grading.check(submitted, in_process=True).status
        except Exception as exc:  # a failure of the engine is a result of the benchmark
            run.crashes += 1
            print(
                f"engine failed on {case.get('id')}: {type(exc).__name__}: {exc}", file=sys.stderr
            )
            status = "error"
        run.latencies.append(time.process_time() - t0)
        run.statuses.append(status)
    run.seconds = time.perf_counter() - started
    run.parent_peak_kb = _own_peak_kb()
    return run


def _engine_status(grading, case: dict, run: Run) -> str:
    try:
        verdict = grading.check(case)
    except Exception as exc:  # a failure of the engine is a result of the benchmark
        run.crashes += 1
        print(f"engine failed on {case.get('id')}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return "error"
    # The engine turns an overrun or a dead helper into an `invalid` verdict; count them.
    run.timeouts += bool(verdict.details.get("timed_out"))
    run.crashes += bool(verdict.details.get("crashed"))
    return verdict.status


def probe(payload: dict) -> dict:
    """Does nothing: the helper round trip, timed by `measure_round_trip`."""
    return payload


def measure_round_trip(calls: int = 1000) -> dict:
    """Latency of one call through `grading.pool` that does no work, in microseconds."""
    from grading.pool import Pool

    with Pool(size=1, spares=0) as helpers:
        case = {"kind": "expression", "expected": "2x", "answer": "x + x", "variables": ["x"]}
        helpers.run("grading.bench:probe", case, timeout=60)
        latencies = []
        for _ in range(calls):
            t0 = time.perf_counter()
            helpers.run("grading.bench:probe", case, timeout=10)
            latencies.append(time.perf_counter() - t0)
    return {
        "calls": calls,
        "p50_us": round(_percentile(latencies, 0.50) * 1e6, 1),
        "p99_us": round(_percentile(latencies, 0.99) * 1e6, 1),
    }


def run_baseline(cases: list[dict], timeout: float = BASELINE_TIMEOUT) -> Run:
    from grading.pool import Pool, RemoteError, TimedOut, WorkerCrashed

    run = Run("baseline")
    with Pool(size=1, spares=1) as helpers:
        helpers.run(BASELINE_FUNC, _as_submitted(cases[0]), timeout=60)
        started = time.perf_counter()
        for case in cases:
            t0 = time.perf_counter()
            try:
                status = helpers.run(BASELINE_FUNC, _as_submitted(case), timeout)["status"]
            except TimedOut:
                # As for the engine: an answer that cannot be decided in time is invalid.
                run.timeouts += 1
                status = "invalid"
            except WorkerCrashed:
                run.crashes += 1
                status = "invalid"
            except RemoteError:
                run.crashes += 1
                status = "error"
            run.latencies.append(time.perf_counter() - t0)
            run.statuses.append(status)
        run.seconds = time.perf_counter() - started
    run.parent_peak_kb = _own_peak_kb()
    run.helper_peak_kb = helpers.peak_rss_kb()
    return run


# THE BASELINE -------------------------------------------------------------------------
# A naive grader, for comparison only: it reads both sides with SymPy's parse_expr (which
# evaluates its input as Python) and calls them equal when simplify(a - b) is 0. It is the
# one place in grading/ where parse_expr is allowed. It runs only in this benchmark, on
# the benchmark's own corpus, in a helper process under a deadline and a memory limit.
# Numeric answers (and vectors with a tolerance) get the tolerance of the specification,
# in floating point, so that the comparison is not unfair to it.


def baseline_check(case: dict) -> dict:
    """BASELINE ONLY: naive `parse_expr` + `simplify(a - b) == 0` grading of one case."""
    import sympy
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    names = {name: sympy.Symbol(name) for name in case.get("variables", [])}
    names.setdefault("e", sympy.E)
    names.setdefault("ln", sympy.log)

    def read(text: str):
        return parse_expr(text, local_dict=dict(names), transformations=transformations)

    try:
        for definition in case.get("functions", []):
            head, equals, body = definition.partition("=")
            if equals:
                name, _, argument = head.strip().rstrip(")").partition("(")
                variable = sympy.Symbol(argument.strip())
                names[name.strip()] = sympy.Lambda(variable, read(body))
        expected, answer = read(case["expected"]), read(case["answer"])
    except Exception:
        return {"status": "invalid"}
    numeric = case["kind"] in {"numeric", "points"} or "rtol" in case or "atol" in case
    try:
        same = _baseline_equal(expected, answer, numeric, case)
    except Exception:
        return {"status": "invalid"}
    return {"status": "correct" if same else "incorrect"}


def _baseline_equal(expected, answer, numeric: bool, case: dict) -> bool:
    import sympy

    sequences = (list, tuple, set, frozenset)
    if isinstance(expected, sequences) or isinstance(answer, sequences):
        if not (isinstance(expected, sequences) and isinstance(answer, sequences)):
            return False
        if isinstance(expected, set | frozenset) or isinstance(answer, set | frozenset):
            expected, answer = sorted(expected, key=str), sorted(answer, key=str)
        return len(expected) == len(answer) and all(
            _baseline_equal(e, a, numeric, case) for e, a in zip(expected, answer, strict=True)
        )
    if numeric:
        e, a = complex(sympy.N(expected)), complex(sympy.N(answer))
        return abs(a - e) <= case.get("atol", 1e-12) + case.get("rtol", 1e-3) * abs(e)
    return sympy.simplify(answer - expected) == 0


# Report -------------------------------------------------------------------------------


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import mpmath
    import numpy
    import sympy

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "sympy": sympy.__version__,
        "mpmath": mpmath.__version__,
        "numpy": numpy.__version__,
    }


def report(
    cases: list[dict],
    corpus: Path,
    engine: Run,
    baseline: Run | None,
    round_trip: dict | None,
    measure: str = "latency",
) -> dict:
    result = {
        "corpus": str(corpus),
        "cases": len(cases),
        "machine": machine(),
        "measure": measure,
        "pool_round_trip": round_trip,
        "engine": engine.summary(cases),
        "baseline": baseline.summary(cases) if baseline else None,
        "throughput_ratio": None,
    }
    if baseline and engine.seconds and baseline.seconds:
        result["throughput_ratio"] = round(baseline.seconds / engine.seconds, 1)
    return result


def format_text(result: dict) -> str:
    rows = [("", "engine", "baseline")]
    engine, baseline = result["engine"], result["baseline"] or {}

    def row(label: str, key: str, unit: str = "") -> None:
        values = [engine.get(key), baseline.get(key)]
        rows.append((label, *("-" if v is None else f"{v}{unit}" for v in values)))

    row("checks per second", "checks_per_second")
    measure = "CPU per check" if result.get("measure") == "cpu" else "latency"
    row(f"p50 {measure}", "p50_ms", " ms")
    row(f"p99 {measure}", "p99_ms", " ms")
    row(f"max {measure}", "max_ms", " ms")
    row("peak RSS, parent", "parent_peak_rss_mb", " MB")
    row("peak RSS, helper", "helper_peak_rss_mb", " MB")
    row("peak RSS, total", "peak_rss_mb", " MB")
    for key in ("agreement",):
        values = [
            None if r.get(key) is None else f"{r['agree']}/{r['checks']} ({r[key]:.1%})"
            for r in (engine, baseline)
        ]
        rows.append(("agrees with expect", *(v or "-" for v in values)))
    for expect in STATUSES:
        values = []
        for r in (engine, baseline):
            part = r.get("by_expect", {}).get(expect)
            values.append(f"{part['agree']}/{part['cases']}" if part else "-")
        if values != ["-", "-"]:
            rows.append((f"  of those {expect}", *values))
    row("timeouts", "timeouts")
    row("crashes", "crashes")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"{result['cases']} cases from {result['corpus']}",
        "machine: {nproc} CPUs, {cpu}, Python {python}, SymPy {sympy}".format(**result["machine"]),
        "",
    ]
    lines += [f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
    trip = result["pool_round_trip"]
    if trip:
        lines.append(
            f"\nhelper round trip (no work, {trip['calls']} calls):"
            f" p50 {trip['p50_us']} us, p99 {trip['p99_us']} us"
        )
    if result["throughput_ratio"] is not None:
        lines.append(
            f"\nthe engine checks {result['throughput_ratio']}x as many answers per second"
        )
    if engine["mismatches"]:
        shown = ", ".join(
            f"{m['id']} ({m['got']}, not {m['expect']})" for m in engine["mismatches"]
        )
        lines.append(f"\nengine disagrees with expect on: {shown}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grading bench",
        description="The grading engine against a naive SymPy baseline.",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N cases")
    parser.add_argument("--no-baseline", action="store_true", help="time the engine alone")
    parser.add_argument("--json", action="store_true", help="one JSON object on standard output")
    parser.add_argument(
        "--code",
        action="store_true",
        help="code answers in sandboxes instead (start-up, throughput)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="check in this process and report the CPU time of each check (no baseline)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=CORPUS,
        metavar="FILE",
        help="cases as JSON Lines, with `expect`",
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")

    if args.code:
        from grading.code.bench import main as code_main

        return code_main(as_json=args.json, count=args.limit or 60)
    cases = load_corpus(args.corpus, args.limit)
    if not cases:
        parser.error(f"no cases in {args.corpus}")
    if args.cpu:
        engine = run_engine_cpu(cases)
        result = report(cases, args.corpus, engine, None, None, measure="cpu")
        print(json.dumps(result, indent=2) if args.json else format_text(result))
        return 0
    round_trip = measure_round_trip()
    engine = run_engine(cases)
    baseline = None if args.no_baseline else run_baseline(cases)
    result = report(cases, args.corpus, engine, baseline, round_trip)
    print(json.dumps(result, indent=2) if args.json else format_text(result))
    return 0
