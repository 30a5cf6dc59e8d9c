"""`python -m grading bench --code`: what running code answers in sandboxes costs.

Start-up: bare Python (`python -c pass`), Python importing NumPy, bwrap running
`true`, a sandbox from start to ready (NumPy imported), and a sandbox's whole life
with an empty job, each the median of a few runs, in wall-clock time and in CPU time.
Then a gradient-descent exercise of six tests is graded with `check_code`, one
submission after another and two at a time (threads), reporting submissions per
second and the p50/p95 latency of one check, and the CPU one submission costs: the
user and system time of every process of its sandbox plus this process's own (the
reference, the comparison, starting the sandbox, the pool's thread). `2 cores / CPU
per submission` is the rate two idle cores would sustain; on a shared machine it is
the steadier figure of the two, as the measured rate follows the other work's load.

Counting a sandbox's CPU takes care: bwrap's outer process exits as soon as its PID 1
reports the exit status, without waiting for it, so the time of PID 1 and of Python
under it never reaches `RUSAGE_CHILDREN` of the process that started bwrap. For the
benchmark, this process makes itself a child subreaper (`PR_SET_CHILD_SUBREAPER`):
the orphaned PID 1 is then its child, and reaping it adds the sandbox's time to
`RUSAGE_CHILDREN`. A sandbox killed before its end (the pool's spares at shutdown) is
not counted: its PID 1 dies with SIGKILL and its children are reaped by the kernel.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from grading.code import check_code, sandbox

PR_SET_CHILD_SUBREAPER = 36
CORES = 2  # the capacity figure: what two idle cores would sustain

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


def _set_subreaper(on: bool) -> bool:
    """Make this process the reaper of its orphaned descendants (Linux); False if not."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap(grace: float = 1.0) -> None:
    """Reap the descendants that ended (bwrap's orphaned PID 1), waiting a moment for them."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _, _ = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= deadline:
                return
            time.sleep(0.005)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median_ms(action, runs: int = 7) -> tuple[float, float]:
    """Median wall-clock and CPU (of the processes it started) ms of `action`."""
    times, cpu = [], []
    for _ in range(runs):
        _reap(0)
        before, t0 = _children_cpu(), time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
        _reap()
        cpu.append(_children_cpu() - before)
    return round(statistics.median(times) * 1000, 1), round(statistics.median(cpu) * 1000, 1)


def _command(command: list[str]):
    # One BLAS thread, as in the sandbox: OpenBLAS's spinning threads would cost more.
    env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return lambda: subprocess.run(command, check=True, capture_output=True, env=env)


def startup(config: sandbox.Config) -> dict:
    python = config.python
    numpy_dir = os.path.dirname(os.path.dirname(__import__("numpy").__file__))

    def ready() -> None:
        box = sandbox.Sandbox(config)
        box.wait_ready()
        box.close()

    def empty_job() -> None:
        job = {"source": "def f():\n    pass\n", "function": "f", "tests": []}
        sandbox.Sandbox(config).run(job, sandbox.START_TIMEOUT)

    figures = {
        "python_pass": _command([python, "-I", "-S", "-c", "pass"]),
        "python_numpy": _command(
            [
                python,
                "-I",
                "-S",
                "-c",
                f"import sys; sys.path.insert(0, {numpy_dir!r}); import numpy",
            ]
        ),
        "bwrap_true": _command(
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
        "sandbox_ready": ready,
        "sandbox_empty_job": empty_job,
    }
    result = {}
    for name, action in figures.items():
        wall, cpu = _median_ms(action)
        result[f"{name}_ms"] = wall
        if name != "sandbox_ready":  # killed at ready: its CPU cannot be counted
            result[f"{name}_cpu_ms"] = cpu
    return result


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
    _reap(0)
    load_before = os.getloadavg()
    children, own = _children_cpu(), _own_cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as workers:
        statuses = list(workers.map(one, range(count)))
    seconds = time.perf_counter() - started
    own = _own_cpu() - own
    # The spares left in the pool were started for later runs: stop them uncounted,
    # and count the `count` sandboxes used (those taken at the start included).
    sandbox.shutdown()
    _reap()
    children = _children_cpu() - children
    sandbox.reset()
    per_submission = (children + own) / count
    return {
        "submissions": count,
        "parallel": parallel,
        "per_second": round(count / seconds, 1),
        "p50_ms": round(_percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "correct": statuses.count("correct"),
        "cpu_ms": round(per_submission * 1000, 1),
        "sandbox_cpu_ms": round(children / count * 1000, 1),
        "caller_cpu_ms": round(own / count * 1000, 1),
        "two_core_per_second": round(CORES / per_submission, 1) if per_submission else None,
        "load": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


@contextlib.contextmanager
def counting_sandboxes():
    """Within: this process reaps the sandboxes' PID 1, so that their CPU is counted.

    Yields whether it could (Linux only).
    """
    counted = _set_subreaper(True)
    try:
        yield counted
    finally:
        sandbox.shutdown()
        _reap()
        if counted:
            _set_subreaper(False)


def run(count: int = 60) -> dict:
    config = sandbox.Config.from_env()
    with counting_sandboxes() as counted:
        return {
            "bwrap": config.bwrap,
            "python": config.python,
            "pool": config.pool,
            "load": os.getloadavg(),
            "cpu_counted": counted,
            "startup": startup(config),
            "sequential": grade_many(count, 1),
            "two_at_a_time": grade_many(count, 2),
        }


def _load(values) -> str:
    return ", ".join(f"{x:.2f}" for x in values)


def format_text(result: dict) -> str:
    s = result["startup"]
    lines = [
        f"code answers: bwrap {result['bwrap']}, python {result['python']},"
        f" pool of {result['pool']}, load {_load(result['load'])}",
        f"start-up, wall (CPU): python -c pass {s['python_pass_ms']} ms"
        f" ({s['python_pass_cpu_ms']}), python + numpy {s['python_numpy_ms']} ms"
        f" ({s['python_numpy_cpu_ms']}), bwrap true {s['bwrap_true_ms']} ms"
        f" ({s['bwrap_true_cpu_ms']}), sandbox to ready {s['sandbox_ready_ms']} ms,"
        f" sandbox with an empty job {s['sandbox_empty_job_ms']} ms"
        f" ({s['sandbox_empty_job_cpu_ms']})",
    ]
    if not result.get("cpu_counted"):
        lines.append("(no subreaper here: the sandboxes' CPU is not counted)")
    for key in ("sequential", "two_at_a_time"):
        r = result[key]
        lines.append(
            f"gradient descent, {r['parallel']} at a time: {r['per_second']} submissions/s,"
            f" p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms"
            f" ({r['correct']}/{r['submissions']} correct; load {_load(r['load'])})"
        )
        lines.append(
            f"  CPU per submission {r['cpu_ms']} ms (sandbox {r['sandbox_cpu_ms']},"
            f" this process {r['caller_cpu_ms']}): {r['two_core_per_second']} submissions/s"
            f" on {CORES} idle cores"
        )
    return "\n".join(lines)


def main(as_json: bool = False, count: int = 60) -> int:
    result = run(count)
    print(json.dumps(result, indent=2) if as_json else format_text(result))
    return 0
