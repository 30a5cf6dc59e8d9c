"""`python -m grading bench --code`: what running code answers in sandboxes costs.

Start-up: bare Python (`python -c pass`), Python importing NumPy, bwrap running
`true`, and a sandbox from start to ready (NumPy imported), each the median of a few
runs. Then a gradient-descent exercise of six tests is graded with `check_code`, one
submission after another and with two at a time (threads), reporting submissions per
second and the p50/p95 latency of one check.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from grading.code import check_code, sandbox

STUDENT = """\
import numpy as np

def gradient_descent(grad, x0, gamma, steps):
    x = np.array(x0, dtype=float)
    points = [x.copy()]
    for _ in range(steps):
        x = x - gamma * np.asarray(grad(x))
        points.append(x.copy())
    return np.array(points)
"""


def gradient_descent_case() -> dict:
    grad = {"fn": ["2 x", "6 y"], "of": ["x", "y"], "vector": True}
    rosen = {"fn": ["2 (x - 1) - 8 x (y - x^2)", "4 (y - x^2)"], "of": ["x", "y"], "vector": True}
    tests = [
        {"args": [grad, {"array": [2, 1]}, 0.1, 2]},
        {"args": [grad, {"array": [2, 1]}, 0.1, 20]},
        {"args": [{"fn": "2 (x - 3)", "of": ["x"]}, 0.0, 0.25, 10]},
        {"args": [rosen, {"array": [0, 0]}, 0.01, 50]},
        {"args": [grad, {"array": [-1, 3]}, 0.2, 5], "visible": False},
        {"args": [{"fn": "cos(x)", "of": ["x"]}, 1.0, 0.5, 30], "visible": False},
    ]
    return {
        "kind": "code",
        "answer": STUDENT,
        "function": "gradient_descent",
        "reference": {"routine": "gradient_descent"},
        "tests": tests,
    }


def _median_ms(command: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 1)


def startup(config: sandbox.Config) -> dict:
    python = config.python
    numpy_dir = os.path.dirname(os.path.dirname(__import__("numpy").__file__))
    sandbox_times = []
    for _ in range(7):
        t0 = time.perf_counter()
        box = sandbox.Sandbox(config)
        box.wait_ready()
        sandbox_times.append(time.perf_counter() - t0)
        box.close()
    return {
        "python_pass_ms": _median_ms([python, "-I", "-S", "-c", "pass"]),
        "python_numpy_ms": _median_ms(
            [
                python,
                "-I",
                "-S",
                "-c",
                f"import sys; sys.path.insert(0, {numpy_dir!r}); import numpy",
            ]
        ),
        "bwrap_true_ms": _median_ms(
            [
                config.bwrap,
                "--unshare-all",
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/lib",
                "/lib",
                "--symlink",
                "usr/lib64",
                "/lib64",
                "/usr/bin/true",
            ]
        ),
        "sandbox_ready_ms": round(statistics.median(sandbox_times) * 1000, 1),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(q * len(ordered) + 0.999999) - 1)]


def grade_many(count: int, parallel: int) -> dict:
    case = gradient_descent_case()
    latencies = []

    def one(_) -> str:
        t0 = time.perf_counter()
        verdict = check_code(case)
        latencies.append(time.perf_counter() - t0)
        return verdict.status

    one(None)  # the probe and the pool's first start are not a check's cost
    latencies.clear()
    time.sleep(0.5)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as workers:
        statuses = list(workers.map(one, range(count)))
    seconds = time.perf_counter() - started
    return {
        "submissions": count,
        "parallel": parallel,
        "per_second": round(count / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "correct": statuses.count("correct"),
    }


def run(count: int = 60) -> dict:
    config = sandbox.Config.from_env()
    return {
        "bwrap": config.bwrap,
        "python": config.python,
        "pool": config.pool,
        "load": os.getloadavg(),
        "startup": startup(config),
        "sequential": grade_many(count, 1),
        "two_at_a_time": grade_many(count, 2),
    }


def format_text(result: dict) -> str:
    s = result["startup"]
    lines = [
        f"code answers: bwrap {result['bwrap']}, python {result['python']},"
        f" pool of {result['pool']}, load {', '.join(f'{x:.2f}' for x in result['load'])}",
        f"start-up: python -c pass {s['python_pass_ms']} ms, python + numpy"
        f" {s['python_numpy_ms']} ms, bwrap true {s['bwrap_true_ms']} ms,"
        f" sandbox to ready {s['sandbox_ready_ms']} ms",
    ]
    for key in ("sequential", "two_at_a_time"):
        r = result[key]
        lines.append(
            f"gradient descent, {r['parallel']} at a time: {r['per_second']} submissions/s,"
            f" p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms ({r['correct']}/{r['submissions']} correct)"
        )
    return "\n".join(lines)


def main(as_json: bool = False, count: int = 60) -> int:
    result = run(count)
    print(json.dumps(result, indent=2) if as_json else format_text(result))
    sandbox.shutdown()
    return 0
