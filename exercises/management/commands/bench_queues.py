"""Measure the grading queues end to end: maths answers alone, code answers alone, and
maths answers with code answers graded beside them.

The benchmark runs against a throwaway SQLite database in a temporary directory (or the
database `--database-url` names, which it migrates and writes to), loads the course
(`load_course --seeds 1` by default, to keep it quick) and makes `--students` students.
It starts a private Redis (the one `serve` starts; REDIS_URL, when set, is used
instead), a maths worker with the sweep's scheduler and a code worker, from the command
lines `serve` uses, each on a queue of this run's own; then, after a warm-up of a few
submissions on each queue that is not counted, three scenarios:

1. maths alone: answers to a few maths exercises, two of every three right (each part's
   expected answer for the student's own variant) and one wrong (that answer plus one),
   through `queue.submit` at a steady rate;
2. code alone: the sample answers of `code-gradient-descent` (its question tests that
   are meant to be graded correct or incorrect), through `queue.submit` at a steady rate;
3. both at once, at the same rates.

For each kind of submission in each scenario it reads from the database, once all are
graded: created -> graded (submit to verdict, as the server sees it) and started ->
graded (a worker taking the submission to its verdict), p50, p95 and max; the graded
submissions per second (from the first submitted to the last graded); how many got the
verdict they were meant to get; and the load average at the start and at the end.

The database, the broker and the queue names are chosen before Django reads its
settings, so the work runs in a child process (`--inside`) with them in its
environment. The per-student rate limits are lifted there: a few students send
hundreds of answers in a minute. Ctrl-C or SIGTERM stops everything it started; the
temporary directory is removed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

import grading.pool
from exercises.models import Exercise, Submission
from exercises.processes import (
    code_worker_command,
    die_with_parent,
    maths_worker_command,
    start_redis,
    stop,
)
from exercises.queue import SubmissionRefused, submit
from grading.code import sandbox

# The exercises of the maths scenario: expression and numeric parts, where one more
# than the expected answer is a wrong answer that can be read.
MATHS_EXERCISES = (
    "power-and-sum-rules",
    "product-rule",
    "chain-rule",
    "derivative-at-a-point",
)
CODE_EXERCISE = "code-gradient-descent"
# The options the child process is given.
PLAN = (
    "maths",
    "code",
    "maths_rate",
    "code_rate",
    "students",
    "concurrency",
    "code_concurrency",
    "seeds",
    "timeout",
    "json",
)
WORKER_START_SECONDS = 120.0


class Command(BaseCommand):
    help = "Measure submit-to-verdict latency on the maths and code queues, alone and together."

    def add_arguments(self, parser):
        parser.add_argument("--maths", type=int, default=200, help="maths submissions a scenario")
        parser.add_argument("--code", type=int, default=100, help="code submissions a scenario")
        parser.add_argument(
            "--maths-rate", type=float, default=10.0, help="maths submissions a second"
        )
        parser.add_argument(
            "--code-rate", type=float, default=4.0, help="code submissions a second"
        )
        parser.add_argument("--students", type=int, default=20)
        parser.add_argument(
            "--concurrency", type=int, default=2, help="processes of the maths worker"
        )
        parser.add_argument(
            "--code-concurrency", type=int, default=2, help="processes of the code worker"
        )
        parser.add_argument(
            "--seeds", type=int, default=1, help="seeds of the course's question tests"
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=300.0,
            help="seconds to wait for a scenario's last verdicts",
        )
        parser.add_argument(
            "--database-url",
            default="",
            help="a database the benchmark may migrate and write to (default: a new SQLite)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--inside", default="", help=argparse.SUPPRESS)

    def handle(self, *args, inside: str, **options):
        if inside:
            try:
                result = run(json.loads(inside))
            except KeyboardInterrupt:
                raise CommandError("interrupted; what it started is stopped") from None
            self.stdout.write(
                json.dumps(result, indent=2) if result["json"] else format_text(result)
            )
            return
        for name in ("maths", "code", "students", "concurrency", "code_concurrency", "seeds"):
            if options[name] < (0 if name in ("maths", "code") else 1):
                raise CommandError(f"--{name.replace('_', '-')} is too small")
        if options["maths_rate"] <= 0 or options["code_rate"] <= 0:
            raise CommandError("the rates must be positive")
        self.stdout.write(outside(options), ending="")


def outside(options: dict) -> str:
    """Run the benchmark in a child process whose settings name the throwaway database,
    the broker and this run's queues; return what it printed."""
    tag = uuid.uuid4().hex[:8]
    # The run's tag is in the name of everything it starts: its directory (where the
    # private Redis has its socket), its queues and its workers' names.
    directory = Path(tempfile.mkdtemp(prefix=f"bench-queues-{tag}-"))
    env = dict(os.environ)
    env.update(
        {
            "VAR_DIR": str(directory),
            "DATABASE_URL": options["database_url"] or f"sqlite:///{directory / 'db.sqlite3'}",
            "GRADING_QUEUE": f"bench-grading-{tag}",
            "CODE_QUEUE": f"bench-code-{tag}",
            "WORKER_CONCURRENCY": str(options["concurrency"]),
            "CODE_WORKER_CONCURRENCY": str(options["code_concurrency"]),
            "SUBMISSIONS_PER_MINUTE": "1000000",
            "SUBMISSIONS_IN_FLIGHT": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DATABASE_URL_FILE", None)
    plan = json.dumps({name: options[name] for name in PLAN})
    try:
        child = subprocess.Popen(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "bench_queues",
                "--inside",
                plan,
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        previous = signal.signal(signal.SIGTERM, lambda *_: child.send_signal(signal.SIGTERM))
        try:
            try:
                out, _ = child.communicate()
            except KeyboardInterrupt:
                # The child had the Ctrl-C too: it is stopping what it started.
                try:
                    out, _ = child.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.communicate()
                raise CommandError("interrupted") from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        if child.returncode != 0:
            raise CommandError(f"the benchmark failed (exit status {child.returncode})")
        return out
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# ------------------------------------------------------------------ the child process


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run(plan: dict) -> dict:
    """Set up, start the workers, run the three scenarios, stop everything."""
    signal.signal(signal.SIGTERM, _interrupt)
    var = Path(settings.VAR_DIR)
    env = dict(os.environ)
    children: list[subprocess.Popen] = []
    tag = settings.CODE_QUEUE.rsplit("-", 1)[-1]
    private_redis = "REDIS_URL" not in os.environ
    try:
        if private_redis:
            socket_path = Path(settings.EMBEDDED_REDIS_SOCKET)
            children.append(start_redis(socket_path, var / "redis.log", start_new_session=True))
            env["REDIS_URL"] = f"redis+socket://{socket_path}"
        _progress("migrating the database")
        call_command("migrate", verbosity=0)
        _progress(f"loading the course (question tests for {plan['seeds']} seed)")
        call_command("load_course", seeds=plan["seeds"], stdout=io.StringIO())
        # Students here submit each exercise more often than the course's attempt limits
        # allow; refusals would not measure the queues.
        Exercise.objects.update(max_attempts=None)
        _stop_helpers()
        students = _make_students(plan["students"], tag)
        maths = MathsAnswers(students)
        code = CodeAnswers(students)

        logs = {}
        for name, command in (
            (
                "maths",
                maths_worker_command(
                    var / "celerybeat-schedule",
                    extra=(
                        "--hostname",
                        f"bench-maths-{tag}@%h",
                        "--concurrency",
                        str(plan["concurrency"]),
                    ),
                ),
            ),
            ("code", code_worker_command(f"bench-code-{tag}@%h", plan["code_concurrency"])),
        ):
            logs[name] = var / f"{name}-worker.log"
            with open(logs[name], "ab") as log:
                children.append(
                    subprocess.Popen(
                        command,
                        cwd=settings.BASE_DIR,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=die_with_parent,
                    )
                )
        _progress("starting the workers")
        _wait_ready(children[-2:], list(logs.values()))

        _progress("warming up")
        # Whose CPU time is counted: the workers and, when it is this run's own, Redis.
        workers = {"maths_worker": children[-2].pid, "code_worker": children[-1].pid}
        if private_redis:
            workers["redis"] = children[0].pid
        warm = run_scenario(
            maths, code, 2 * plan["concurrency"], 2 * plan["code_concurrency"], 1000.0, 1000.0,
            plan["timeout"], workers,
        )  # fmt: skip
        if any(warm[kind]["graded"] < warm[kind]["submissions"] for kind in ("maths", "code")):
            raise CommandError(
                f"the warm-up was not all graded: {warm}\n" + _tails(list(logs.values()))
            )
        scenarios = {}
        for name, maths_count, code_count in (
            ("maths alone", plan["maths"], 0),
            ("code alone", 0, plan["code"]),
            ("maths with code", plan["maths"], plan["code"]),
        ):
            _progress(f"{name}: {maths_count} maths and {code_count} code submissions")
            scenarios[name] = run_scenario(
                maths, code, maths_count, code_count, plan["maths_rate"], plan["code_rate"],
                plan["timeout"], workers,
            )  # fmt: skip
        return {
            "json": plan["json"],
            "run": tag,
            "database": connection.vendor,
            "broker": "private Redis" if private_redis else "REDIS_URL",
            "students": plan["students"],
            "concurrency": plan["concurrency"],
            "code_concurrency": plan["code_concurrency"],
            "maths_rate": plan["maths_rate"],
            "code_rate": plan["code_rate"],
            "maths_exercises": list(MATHS_EXERCISES),
            "code_exercise": CODE_EXERCISE,
            "scenarios": scenarios,
        }
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _progress("stopping the workers")
        for proc in reversed(children):
            stop(proc, group=True)
        if not private_redis:
            _forget_queues(
                settings.REDIS_URL, (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CODE_QUEUE)
            )


def _progress(message: str) -> None:
    print(f"bench_queues: {message}", file=sys.stderr, flush=True)


def _stop_helpers() -> None:
    """The course's question tests left grading helpers and spare sandboxes in this
    process; the benchmark's grading is done by the workers."""
    grading.pool.shutdown()
    sandbox.shutdown()


def _make_students(count: int, tag: str) -> list:
    User = get_user_model()
    # Unusable passwords: hashing one takes a good part of a second.
    User.objects.bulk_create(
        [User(username=f"bench-{tag}-{i}", password="!") for i in range(count)]
    )
    return list(User.objects.filter(username__startswith=f"bench-{tag}-").order_by("pk"))


def _wait_ready(procs: list[subprocess.Popen], logs: list[Path]) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while True:
        for proc, log in zip(procs, logs, strict=True):
            if proc.poll() is not None:
                raise CommandError(f"a worker exited at once:\n{_tails([log])}")
        if all(" ready." in log.read_text(errors="replace") for log in logs):
            return
        if time.monotonic() > deadline:
            raise CommandError(f"the workers did not start:\n{_tails(logs)}")
        time.sleep(0.2)


def _tails(logs: list[Path], lines: int = 30) -> str:
    out = []
    for log in logs:
        text = log.read_text(errors="replace") if log.exists() else ""
        out.append(f"--- {log.name}\n" + "\n".join(text.splitlines()[-lines:]))
    return "\n".join(out)


def _forget_queues(url: str, queues) -> None:
    """This run's queues, from a Redis that others use."""
    parts = urlsplit(url)
    client = (
        redis.Redis(unix_socket_path=parts.path)
        if parts.scheme == "redis+socket"
        else redis.Redis.from_url(url)
    )
    try:
        for queue in queues:
            for key in client.scan_iter(match=f"*{queue}*"):
                client.delete(key)
    except redis.RedisError:
        pass


class MathsAnswers:
    """The maths submissions: student, exercise and answers, two right and one wrong in
    every three, each student answering their own variant."""

    def __init__(self, students: list):
        self.students = students
        self.exercises = [Exercise.objects.get(slug=slug) for slug in MATHS_EXERCISES]
        self.count = 0

    def next(self) -> tuple:
        i = self.count
        self.count += 1
        exercise = self.exercises[i % len(self.exercises)]
        student = self.students[(i // len(self.exercises)) % len(self.students)]
        expected = exercise.variant_for(student).expected_answers()
        right = i % 3 != 2
        answers = {key: text if right else f"({text}) + 1" for key, text in expected.items()}
        return student, exercise, answers, right


class CodeAnswers:
    """The code submissions: the sample answers of the gradient-descent exercise that are
    meant to be graded (correct or incorrect), in turn."""

    def __init__(self, students: list):
        self.students = students
        self.exercise = Exercise.objects.get(slug=CODE_EXERCISE)
        part = self.exercise.parts.get()
        self.samples = [
            (t["answer"], t["expect"] == "correct")
            for t in part.tests
            if t.get("expect") in ("correct", "incorrect")
        ]
        self.count = 0

    def next(self) -> tuple:
        i = self.count
        self.count += 1
        answer, right = self.samples[i % len(self.samples)]
        student = self.students[i % len(self.students)]
        return student, self.exercise, {"code": answer}, right


def run_scenario(
    maths: MathsAnswers,
    code: CodeAnswers,
    maths_count: int,
    code_count: int,
    maths_rate: float,
    code_rate: float,
    timeout: float,
    workers: dict[str, int] | None = None,
) -> dict:
    """Submit at steady rates, wait for the verdicts, read the figures from the database.

    `workers`: the process ids whose CPU time is counted (with all processes under
    them), by name: "maths_worker", "code_worker", "redis"."""
    events = sorted(
        [(k / maths_rate, 0, "maths") for k in range(maths_count)]
        + [(k / code_rate, 1, "code") for k in range(code_count)]
    )
    sources = {"maths": maths, "code": code}
    sent: dict[str, list[tuple[int, bool]]] = {"maths": [], "code": []}
    refused = {"maths": 0, "code": 0}
    load_start = os.getloadavg()
    sessions_start = _database_sessions()
    measured = Path("/proc/self/stat").exists()
    cpu_start = _cpu_seconds(workers or {}) if measured else {}
    backends_start = _backends_cpu() if measured else {}
    started = time.monotonic()
    for at, _, kind in events:
        delay = started + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        student, exercise, answers, right = sources[kind].next()
        try:
            submission = submit(student, exercise, answers)
        except SubmissionRefused as e:
            _progress(f"refused: {e.message} {e.errors}")
            refused[kind] += 1
            continue
        sent[kind].append((submission.pk, right))
    submitting = time.monotonic() - started

    ids = [pk for kind in sent for pk, _ in sent[kind]]
    pending = (Submission.Status.QUEUED, Submission.Status.GRADING)
    deadline = time.monotonic() + timeout
    while Submission.objects.filter(pk__in=ids, status__in=pending).exists():
        if time.monotonic() > deadline:
            _progress(f"gave up waiting after {timeout:.0f} s; the rest counts as not graded")
            break
        time.sleep(0.2)
    sessions_end = _database_sessions()
    cpu_end = _cpu_seconds(workers or {}) if measured else {}
    backends_end = _backends_cpu() if measured else {}
    # A process counted at the start that has exited since without a counted parent
    # waiting for it (a sandbox's bwrap is reaped by init) takes its time out of the sum:
    # the figure is a lower bound, and never below nothing.
    cpu = {name: round(max(0.0, cpu_end[name] - start), 3) for name, start in cpu_start.items()}
    if backends_end:
        # Sessions that ended meanwhile are not counted (see database_sessions).
        cpu["database"] = round(
            sum(end - backends_start.get(pid, 0.0) for pid, end in backends_end.items()), 3
        )
    result = {
        "load_start": [round(x, 2) for x in load_start],
        "load_end": [round(x, 2) for x in os.getloadavg()],
        "submitting_seconds": round(submitting, 1),
        # Sessions opened on the database while the scenario ran, by anyone: on a
        # database of the benchmark's own, the workers (this process keeps its one).
        "database_sessions": None if sessions_start is None else sessions_end - sessions_start,
        # CPU seconds each worker (all its processes), the private Redis and the
        # workers' database sessions spent meanwhile, where Linux's /proc tells.
        "cpu_seconds": cpu,
    }
    for kind, count in (("maths", maths_count), ("code", code_count)):
        result[kind] = _figures(sent[kind], refused[kind], count)
    return result


def _process_cpu(pid: int) -> tuple[int, float, float] | None:
    """(parent, CPU seconds of the process, of its children it has waited for)."""
    try:
        # After the command name, which may hold spaces: state, ppid, ... utime, stime,
        # cutime, cstime are fields 14 to 17 of proc(5).
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (
        int(fields[1]),
        (int(fields[11]) + int(fields[12])) / tick,
        (int(fields[13]) + int(fields[14])) / tick,
    )


def _cpu_seconds(processes_named: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each process named and every process under it (a worker's
    pool processes and their grading helpers), with those that exited, through the
    parents that waited for them. A code answer's sandbox may escape the count (it runs
    in a PID namespace of its own and is killed with it): for code answers the figure
    is a lower bound."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            found = _process_cpu(int(entry.name))
            if found:
                processes[int(entry.name)] = found
    totals = dict.fromkeys(processes_named.values(), 0.0)
    for pid, (_, own, children) in processes.items():
        ancestor, seen = pid, 0
        while ancestor in processes and ancestor not in totals and seen < 64:
            ancestor, seen = processes[ancestor][0], seen + 1
        if ancestor in totals:
            totals[ancestor] += own + children
    return {name: totals[pid] for name, pid in processes_named.items()}


def _backends_cpu() -> dict[int, float]:
    """On PostgreSQL, CPU seconds so far of the server process of each other session on
    this database: the workers' sessions, which they keep."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    found = {pid: _process_cpu(pid) for pid in pids}
    return {pid: cpu[1] for pid, cpu in found.items() if cpu}


def _database_sessions() -> int | None:
    """PostgreSQL's count of sessions ever opened on this database (None elsewhere)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        # A backend's statistics reach the shared counters within a second or so, or
        # when it exits; a fresh snapshot, not this transaction's cached one.
        time.sleep(1.5)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _figures(sent: list[tuple[int, bool]], refused: int, count: int) -> dict:
    meant = dict(sent)
    rows = list(
        Submission.objects.filter(pk__in=meant).values_list(
            "pk", "status", "score", "created", "started", "graded"
        )
    )
    graded = [r for r in rows if r[1] == Submission.Status.GRADED]
    figures = {
        "submissions": count,
        "refused": refused,
        "graded": len(graded),
        "failed": sum(r[1] == Submission.Status.FAILED for r in rows),
        "as_meant": sum((r[2] == 1) == meant[r[0]] for r in graded),
    }
    if graded:
        span = (max(r[5] for r in graded) - min(r[3] for r in graded)).total_seconds()
        figures["submit_to_verdict_ms"] = _spread([(r[5] - r[3]).total_seconds() for r in graded])
        figures["take_to_verdict_ms"] = _spread([(r[5] - r[4]).total_seconds() for r in graded])
        figures["graded_per_second"] = round(len(graded) / span, 1) if span > 0 else None
    return figures


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least q of them at or below."""
    ordered = sorted(values)
    return ordered[max(0, int(q * len(ordered) + 0.999999) - 1)]


def _spread(seconds: list[float]) -> dict:
    return {
        "p50": round(percentile(seconds, 0.5) * 1000, 1),
        "p95": round(percentile(seconds, 0.95) * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
    }


def format_text(result: dict) -> str:
    lines = [
        f"queues: maths worker of {result['concurrency']}, code worker of"
        f" {result['code_concurrency']}; {result['students']} students; {result['database']},"
        f" {result['broker']}; maths at {result['maths_rate']}/s"
        f" ({', '.join(result['maths_exercises'])}), code at {result['code_rate']}/s"
        f" ({result['code_exercise']})",
        f"{'scenario':<16} {'kind':<5} {'graded':>9} {'as meant':>8}"
        f" {'submit->verdict p50/p95/max ms':>31} {'take->verdict p50/p95/max ms':>29}"
        f" {'graded/s':>8}  load start -> end",
    ]
    for name, scenario in result["scenarios"].items():
        for kind in ("maths", "code"):
            r = scenario[kind]
            if not r["submissions"]:
                continue
            if r["graded"]:
                s, t = r["submit_to_verdict_ms"], r["take_to_verdict_ms"]
                latency = f"{s['p50']:.0f} / {s['p95']:.0f} / {s['max']:.0f}"
                taking = f"{t['p50']:.0f} / {t['p95']:.0f} / {t['max']:.0f}"
                rate = r["graded_per_second"]
            else:
                latency = taking = rate = "-"
            lines.append(
                f"{name:<16} {kind:<5} {r['graded']:>4}/{r['submissions']:<4}"
                f" {r['as_meant']:>8} {latency:>31} {taking:>29} {rate!s:>8}"
                f"  {scenario['load_start'][0]:.2f} -> {scenario['load_end'][0]:.2f}"
            )
            if r["refused"] or r["failed"]:
                lines.append(f"{'':<16} {r['refused']} refused, {r['failed']} failed")
        verdicts = scenario["maths"]["graded"] + scenario["code"]["graded"]
        cpu = scenario.get("cpu_seconds", {})
        per_verdict = [
            f"{kind} worker{' (at least)' if kind == 'code' else ''}"
            f" {1000 * cpu[f'{kind}_worker'] / scenario[kind]['graded']:.1f}"
            for kind in ("maths", "code")
            if f"{kind}_worker" in cpu and scenario[kind]["graded"]
        ]
        for shared in ("database", "redis"):
            if shared in cpu and verdicts:
                per_verdict.append(f"{shared} {1000 * cpu[shared] / verdicts:.1f}")
        if per_verdict:
            lines.append(f"{name:<16} CPU ms per verdict: {', '.join(per_verdict)}")
        sessions = scenario.get("database_sessions")
        if sessions is not None and verdicts:
            lines.append(
                f"{name:<16} database sessions opened: {sessions}"
                f" ({sessions / verdicts:.2f} per verdict)"
            )
    return "\n".join(lines) + "\n"
