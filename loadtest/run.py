"""`make loadtest` and `make faultdrill`: the course server in its production shape under
simulated students, and a report.

    python -m loadtest.run --scenario exam --users 1000 --duration 180
    python -m loadtest.run --scenario saturation --users 200 --duration 120
    python -m loadtest.run --faults --users 200 --duration 180

What runs, all on loopback and all started (and always stopped) here:
- PostgreSQL, a cluster of its own in a temporary directory (unless LOADTEST_DATABASE_URL);
- Redis, a server of its own on a free port (unless LOADTEST_REDIS_URL);
- gunicorn with the image's command line (Dockerfile CMD), one Celery worker and the
  scheduler with Compose's (docker-compose.yml), DEBUG off; WEB_CONCURRENCY,
  WORKER_CONCURRENCY and every other setting come from this environment as in
  production;
- Locust, from `.venv-loadtest`, with `loadtest/locustfile.py`.

The course is migrated and loaded (its question tests on one seed), and the students'
accounts and API tokens are made in bulk. The report comes from the client's log and
from the database; CPU from /proc, per process tree: web (gunicorn master and workers),
worker (Celery worker, its pool, and the scheduler), database (the postmaster and its
backends), broker (Redis).

With --faults the run is the fault drill: under the exam load it kills a worker's pool
process, the whole worker (then starts it again), Redis (started again after 10 s) and
PostgreSQL (`pg_ctl stop -m immediate`, started again after 10 s), waits for the queue
to drain, and counts from the database. Its exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from loadtest import report
from loadtest.services import (
    ROOT,
    PostgresServer,
    RedisServer,
    children_of,
    compose_command,
    cpu_seconds,
    free_port,
    image_web_command,
    local_command,
    machine_speed,
    signal_tree,
    steal_share,
    stop_group,
    wait_until,
)

LOCUST = ROOT / ".venv-loadtest" / "bin" / "locust"
SUBMIT = "/api/exercises/[slug]/submissions/"
# Exercises whose parts are all typed maths (numbers and expressions): a wrong answer is
# the right one plus one, still readable.
TYPED = {"numeric", "expression"}

TARGETS = {
    "request_p95_ms": 300,
    "verdict_p95_ms": 1000,
    "errors": 0,
    "saturation_graded_per_s": 100,
    "cpu_ms_per_verdict": 15,
    "worker_death_to_verdict_s": 15,
    "redis_down_submit_ms": 100,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["exam", "saturation"], default="exam")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--duration", type=int, default=None, help="seconds of load")
    parser.add_argument("--faults", action="store_true", help="the fault drill")
    parser.add_argument("--exercises", type=int, default=6, help="exercises the students answer")
    args = parser.parse_args(argv)
    if args.faults:
        args.scenario = "exam"
    users = args.users or (200 if args.faults or args.scenario == "saturation" else 1000)
    duration = args.duration or (180 if args.scenario == "exam" else 120)
    # Bounded, so that a typo does not hold a shared machine for an hour.
    users = max(1, min(users, 5000))
    duration = max(20, min(duration, 1800))
    if not LOCUST.exists():
        print(f"{LOCUST} is missing: run `make loadtest`, which creates .venv-loadtest")
        return 2
    if args.faults and (os.getenv("LOADTEST_DATABASE_URL") or os.getenv("LOADTEST_REDIS_URL")):
        print("The fault drill kills its own PostgreSQL and Redis: unset LOADTEST_*_URL.")
        return 2

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with ExitStack() as cleanup:
        run = Run(cleanup, args.scenario, users, duration, args.faults, args.exercises)
        try:
            return run.go()
        except KeyboardInterrupt:
            print("Interrupted: stopping everything that was started.")
            return 130
        except Exception:
            run.show_logs()
            raise


class Run:
    def __init__(self, cleanup: ExitStack, scenario, users, duration, faults, exercises):
        self.cleanup = cleanup
        self.scenario = scenario
        self.users = users
        self.duration = duration
        self.faults = faults
        self.exercise_count = exercises
        self.tmp = Path(tempfile.mkdtemp(prefix="courseserver-loadtest-"))
        if os.getenv("LOADTEST_KEEP"):
            cleanup.callback(print, f"Logs kept in {self.tmp}")
        else:
            cleanup.callback(shutil.rmtree, self.tmp, ignore_errors=True)
        self.procs: dict[str, subprocess.Popen] = {}
        # In the drill, an app process that exits by itself is started again, as Compose's
        # restart policy would; each such exit is reported.
        self.supervising = False
        self.exits: list[tuple[float, str, int]] = []
        self.pg: PostgresServer | None = None
        self.redis: RedisServer | None = None

    # --- the servers ---------------------------------------------------------------

    def start_services(self) -> dict[str, str]:
        database_url = os.getenv("LOADTEST_DATABASE_URL")
        if not database_url:
            self.pg = PostgresServer(self.tmp / "pg").init().start()
            self.cleanup.callback(self.pg.stop, "fast")
            self.pg.create_database()
            database_url = self.pg.url
        redis_url = os.getenv("LOADTEST_REDIS_URL")
        if not redis_url:
            self.redis = RedisServer(self.tmp / "redis").start()
            self.cleanup.callback(self.redis.stop)
            redis_url = self.redis.url
        self.web_port = free_port()
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_COOKIES": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "VAR_DIR": str(self.tmp / "var"),
            "STATIC_ROOT": str(self.tmp / "static"),
            "PYTHONUNBUFFERED": "1",
        }
        if self.scenario == "saturation":
            # The ceiling of the server, not of one student's budget: the per-student
            # rate limits (10 and 30 a minute) would otherwise be what is measured.
            env.setdefault("SUBMISSIONS_PER_MINUTE", "100000")
            env.setdefault("API_SUBMISSIONS_PER_MINUTE", "100000")
        for name in ("LOADTEST_DATABASE_URL", "LOADTEST_REDIS_URL"):
            env.pop(name, None)
        (self.tmp / "var").mkdir()
        self.env = env
        return env

    def start_app_process(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start_worker(self) -> subprocess.Popen:
        proc = self.start_app_process("worker", local_command(compose_command("worker")))
        log = self.tmp / "worker.log"
        start = log.stat().st_size if log.exists() else 0

        def ready():
            if proc.poll() is not None:
                raise RuntimeError("the Celery worker exited")
            return b" ready." in log.read_bytes()[start:]

        wait_until(ready, "the Celery worker", timeout=120, interval=0.2)
        return proc

    def start_app(self) -> None:
        bind = f"127.0.0.1:{self.web_port}"
        self.commands = {
            "web": local_command(image_web_command(), bind=bind),
            "worker": local_command(compose_command("worker")),
            "scheduler": local_command(
                compose_command("scheduler"), schedule=self.tmp / "var" / "celerybeat-schedule"
            ),
        }
        self.cleanup.callback(self.stop_app)
        self.start_worker()
        self.start_app_process("scheduler", self.commands["scheduler"])
        self.start_app_process("web", self.commands["web"])
        self.url = f"http://{bind}"

        def healthy():
            if self.procs["web"].poll() is not None:
                raise RuntimeError("gunicorn exited")
            try:
                with urllib.request.urlopen(f"{self.url}/health/", timeout=5) as r:
                    return r.status == 200
            except (urllib.error.URLError, OSError):
                return False

        wait_until(healthy, "gunicorn's /health/", timeout=120, interval=0.3)

    def stop_app(self) -> None:
        # Web first (no new submissions), then the scheduler and the worker.
        for name in ("locust", "web", "scheduler", "worker"):
            proc = self.procs.get(name)
            if proc is not None:
                stop_group(proc)

    def show_logs(self) -> None:
        for path in sorted(self.tmp.glob("**/*.log")):
            lines = path.read_text(errors="replace").splitlines()[-15:]
            print(f"--- {path.name} (last lines)")
            print("\n".join(lines))

    # --- the course and the students -------------------------------------------------

    def prepare_database(self) -> None:
        import django

        os.environ.update(self.env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "courseserver.settings"
        django.setup()
        from django.core.management import call_command

        started = time.monotonic()
        call_command("migrate", "--no-input", verbosity=0)
        call_command("collectstatic", "--no-input", verbosity=0)
        # One seed for the question tests: they pass in CI on many, and here they only
        # stand between the files and a published course.
        call_command("load_course", "--seeds", "1")
        from exercises.models import Exercise

        # Each simulated student submits the same exercises again and again: the
        # course's attempt limits would turn the load into refusals.
        Exercise.objects.update(max_attempts=None)
        self.make_students()
        print(f"Database ready in {time.monotonic() - started:.0f} s.")

    def make_students(self) -> None:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password
        from rest_framework.authtoken.models import Token

        from exercises import variants
        from exercises.models import Exercise

        User = get_user_model()
        unusable = make_password(None)
        prefix = f"loadtest-{secrets.token_hex(3)}-"
        User.objects.bulk_create(
            [User(username=f"{prefix}{i:05d}", password=unusable) for i in range(self.users)],
            batch_size=1000,
        )
        students = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
        Token.objects.bulk_create(
            [Token(key=Token.generate_key(), user=s) for s in students], batch_size=1000
        )
        tokens = dict(Token.objects.filter(user__in=students).values_list("user_id", "key"))

        chosen = []
        for exercise in Exercise.published.select_related("problem_set").prefetch_related("parts"):
            parts = list(exercise.parts.all())
            ps = exercise.problem_set
            if (
                parts
                and all(p.kind in TYPED for p in parts)
                and not ps.is_quiz
                and ps.is_open()
                and ps.due is None
                and exercise.attempt_limit is None
            ):
                chosen.append((exercise, parts))
        if not chosen:
            raise RuntimeError("no published exercise with numeric and expression parts only")
        # Spread over the course rather than the first few of one module.
        step = max(1, len(chosen) // self.exercise_count)
        chosen = chosen[::step][: self.exercise_count]
        self.slugs = [e.slug for e, _ in chosen]

        data = []
        for student in students:
            answers = {}
            for exercise, parts in chosen:
                # What the server will draw for this student on first sight (Exercise.variant_for).
                values = {}
                if exercise.needs_variants(parts):
                    seed = variants.seed_for(settings.SECRET_KEY, student.pk, exercise.slug)
                    values = exercise.values_for_seed(seed)
                right = exercise.expected_answers(values, parts)
                answers[exercise.slug] = {
                    "right": right,
                    "wrong": {key: f"({text})+1" for key, text in right.items()},
                }
            data.append({"token": tokens[student.pk], "answers": answers})
        self.data_path = self.tmp / "students.json"
        self.data_path.write_text(json.dumps({"students": data}))
        print(f"{len(students)} students, exercises: {', '.join(self.slugs)}")

    # --- the load ------------------------------------------------------------------

    def start_locust(self) -> subprocess.Popen:
        self.log_path = self.tmp / "client.jsonl"
        env = {
            **os.environ,
            "LOADTEST_SCENARIO": self.scenario,
            "LOADTEST_DATA": str(self.data_path),
            "LOADTEST_LOG": str(self.log_path),
        }
        spawn_rate = max(1.0, self.users / 10)  # every student within 10 s
        command = [
            str(LOCUST), "-f", str(ROOT / "loadtest" / "locustfile.py"),
            "--headless", "--only-summary", "--loglevel", "WARNING",
            "-u", str(self.users), "-r", f"{spawn_rate:g}", "-t", f"{self.duration}s",
            "-H", self.url, "--stop-timeout", "5", "--exit-code-on-error", "0",
        ]  # fmt: skip
        log = open(self.tmp / "locust.log", "ab")
        proc = subprocess.Popen(
            command, cwd=self.tmp, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.procs["locust"] = proc
        return proc

    def cpu_roots(self) -> dict[str, list[int | None]]:
        return {
            "web": [self.procs["web"].pid],
            "worker": [self.procs["worker"].pid, self.procs["scheduler"].pid],
            "database": [self.pg.pid if self.pg else None],
            "broker": [self.redis.pid if self.redis else None],
        }

    def go(self) -> int:
        load_before = os.getloadavg()
        self.speed = machine_speed()
        self.start_services()
        self.prepare_database()
        self.start_app()
        web_workers = len(children_of(self.procs["web"].pid))
        pool = len(children_of(self.procs["worker"].pid))
        print(
            f"Serving at {self.url}: gunicorn with {web_workers} worker(s) "
            f"({' '.join(self.commands['web'][1:])}), one Celery worker with {pool} pool "
            f"process(es), the scheduler; PostgreSQL "
            f"{'private' if self.pg else 'from LOADTEST_DATABASE_URL'}, Redis "
            f"{'private' if self.redis else 'from LOADTEST_REDIS_URL'}."
        )
        print(
            f"Load average before: {' '.join(f'{v:.2f}' for v in load_before)} "
            f"({os.cpu_count()} CPUs). {self.users} students, {self.scenario}, "
            f"{self.duration} s{', with faults' if self.faults else ''}."
        )
        cpu_before = cpu_seconds(self.cpu_roots())
        steal_before = steal_share()
        # Locust's own CPU (it shares the machine): it is reaped as this process's child.
        client_before = _children_cpu()
        self.t0 = time.time()
        locust = self.start_locust()
        faults = self.drill() if self.faults else []
        deadline = time.monotonic() + self.duration + 120
        while locust.poll() is None and time.monotonic() < deadline:
            self.sleep(0.5)
        if locust.poll() is None:
            stop_group(locust)
        self.t1 = time.time()
        self.client_cpu = _children_cpu() - client_before
        load_during = os.getloadavg()
        self.steal = steal_share(steal_before)
        drained = self.drain(300 if self.faults else 60)
        cpu_after = cpu_seconds(self.cpu_roots())
        self.t2 = time.time()
        print(f"Load average at the end of the load: {' '.join(f'{v:.2f}' for v in load_during)}")
        requests, sent, seen, accepted = self.read_log()
        if self.faults:
            return self.drill_report(faults, requests, sent, seen, accepted, drained)
        return self.load_report(requests, sent, seen, cpu_before, cpu_after, drained)

    def drain(self, bound: float) -> bool:
        """Wait, at most `bound` seconds, until nothing submitted is waiting or being graded."""
        from django.db import connection

        from exercises.models import Submission

        deadline = time.monotonic() + bound
        while True:
            try:
                pending = Submission.objects.filter(
                    status__in=[Submission.Status.QUEUED, Submission.Status.GRADING]
                ).count()
            except Exception:
                connection.close()
                pending = -1
            if pending == 0:
                return True
            if time.monotonic() > deadline:
                print(f"Still {pending} submission(s) waiting after {bound:.0f} s of draining.")
                return False
            self.sleep(1)

    def read_log(self):
        requests, sent, seen, accepted = [], {}, {}, []
        if not self.log_path.exists():
            return requests, sent, seen, accepted
        for line in self.log_path.read_text().splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a line cut short by a stop
            if item["k"] == "r":
                requests.append(
                    report.Request(item["t"], item["n"], item["ms"], item["s"], item["ra"])
                )
            elif item["k"] == "a":
                sent[item["id"]] = item["t"]
                accepted.append(item["id"])
            elif item["k"] == "v":
                seen[item["id"]] = item["seen"]
        return requests, sent, seen, accepted

    def database_figures(self, since: float, until: float) -> dict:
        from datetime import UTC, datetime

        from django.db import connection

        from exercises.models import Submission

        connection.close()
        start = datetime.fromtimestamp(since, UTC)
        end = datetime.fromtimestamp(until, UTC)
        rows = list(
            Submission.objects.filter(
                graded__gte=start, graded__lt=end, status="graded"
            ).values_list("pk", "created", "graded")
        )
        return {
            "graded": len(rows),
            "created_to_graded": [1000 * (g - c).total_seconds() for _, c, g in rows],
            "graded_at": {pk: g.timestamp() for pk, _, g in rows},
        }

    # --- the report ----------------------------------------------------------------

    def print_endpoints(self, requests) -> list[report.Endpoint]:
        rows = report.endpoints(requests)
        print(
            report.format_table(
                ["endpoint", "requests", "5xx/none", "p50", "p95", "p99", "statuses"],
                [
                    [
                        e.name,
                        e.count,
                        e.failures,
                        report.ms(e.p50),
                        report.ms(e.p95),
                        report.ms(e.p99),
                        " ".join(f"{s}:{n}" for s, n in e.statuses.items()),
                    ]
                    for e in rows
                ],
            )  # fmt: skip
        )
        return rows

    def load_report(self, requests, sent, seen, cpu_before, cpu_after, drained) -> int:
        span = self.t1 - self.t0
        print()
        print(f"## {self.scenario}: {self.users} students for {self.duration} s")
        rows = self.print_endpoints(requests)
        total = rows[-1] if rows else None
        verdicts = report.verdict_times(sent, seen)
        during = self.database_figures(self.t0, self.t1)
        after = self.database_figures(self.t0, self.t2)
        cpu = report.cpu_per_verdict(cpu_before, cpu_after, after["graded"])
        late = [1000 * (seen[i] - after["graded_at"][i]) for i in seen if i in after["graded_at"]]
        errors = total.failures if total else 0
        request_p95 = total.p95 if total else None
        verdict_p95 = report.percentile(verdicts, 95)
        graded_per_s = during["graded"] / span
        target = TARGETS

        def mark(ok: bool) -> str:
            return "met" if ok else "NOT met"

        lines = [
            ("requests/s", f"{len(requests) / span:.1f}", ""),
            (
                "request p95 (all endpoints)",
                report.ms(request_p95),
                f"≤ {target['request_p95_ms']} ms at 1,000 students: "
                + mark(request_p95 is not None and request_p95 <= target["request_p95_ms"]),
            ),
            ("errors (5xx or no answer)", str(errors), f"0: {mark(errors == 0)}"),
            (
                "submit→verdict seen by the client p50/p95/p99",
                " / ".join(report.ms(report.percentile(verdicts, q)) for q in (50, 95, 99))
                + f" ({len(verdicts)} verdicts)",
                f"p95 ≤ 1 s: {mark(verdict_p95 is not None and verdict_p95 <= 1000)}",
            ),
            (
                "verdict recorded→seen by the client p50/p95",
                " / ".join(report.ms(report.percentile(late, q)) for q in (50, 95)),
                "≈ 150 ms below saturation",
            ),
            (
                "worker created→graded p50/p95 (database)",
                " / ".join(
                    report.ms(report.percentile(during["created_to_graded"], q)) for q in (50, 95)
                ),
                "",
            ),
            (
                "graded/s (database, during the load)",
                f"{graded_per_s:.1f} ({during['graded']} in {span:.0f} s)",
                f"saturation ≥ {target['saturation_graded_per_s']}/s"
                + (
                    f": {mark(graded_per_s >= target['saturation_graded_per_s'])}"
                    if self.scenario == "saturation"
                    else ""
                ),
            ),
            (
                "CPU per graded submission: web / worker / database / broker",
                " / ".join(
                    f"{cpu[k]:.1f}" if cpu[k] is not None else "—"
                    for k in ("web", "worker", "database", "broker")
                )
                + " ms",
                "",
            ),
            (
                "CPU per graded submission, all together",
                f"{cpu['all']:.1f} ms" if cpu["all"] is not None else "—",
                f"≤ {target['cpu_ms_per_verdict']} ms: "
                + mark(cpu["all"] is not None and cpu["all"] <= target["cpu_ms_per_verdict"]),
            ),
            ("queue drained after the load", "yes" if drained else "NO", ""),
            (
                "CPU of the load driver (Locust), not counted above",
                f"{self.client_cpu:.0f} s in {span:.0f} s",
                "",
            ),
            (
                "the machine's speed: CPU for a fixed Python loop (lower is faster)",
                f"{self.speed * 1000:.0f} ms",
                "",
            ),
            (
                "the cores' time taken by the hypervisor during the load (steal)",
                "unknown" if self.steal is None else f"{self.steal:.1%}",
                "",
            ),
        ]
        print()
        print(report.format_table(["figure", "measured", "target"], lines))
        load = os.getloadavg()
        print()
        print(
            "Row for docs/benchmarks.md (students | requests/s | request p95 | submit→verdict p95 | graded/s):"
        )
        print(
            f"| {self.users:,} | {len(requests) / span:.0f} | {report.ms(request_p95)} | "
            f"{report.ms(verdict_p95)} | {graded_per_s:.1f} |"
        )
        print(f"Load average now: {' '.join(f'{v:.2f}' for v in load)}")
        return 0

    # --- the fault drill -----------------------------------------------------------

    def drill(self) -> list[dict]:
        """Kill, in turn, a pool process, the whole worker, Redis and PostgreSQL, at set
        times after the start of the load; returns what was done and when."""
        d = self.duration
        plan = [
            (0.2 * d, "worker process", self.kill_pool_process),
            (0.37 * d, "whole worker", self.kill_worker),
            (0.55 * d, "redis", self.kill_redis),
            (0.75 * d, "postgresql", self.kill_postgres),
        ]
        faults = []
        self.supervising = True
        for at, name, action in plan:
            while time.time() < self.t0 + at:
                self.sleep(min(0.5, self.t0 + at - time.time()))
            in_flight = self.in_flight()
            fault = {"name": name, "t": time.time(), "in_flight": in_flight}
            fault.update(action())
            print(
                f"[{fault['t'] - self.t0:5.0f} s] {name}: "
                f"{len(fault['in_flight'])} submission(s) in flight"
            )
            faults.append(fault)
        return faults

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
        if not self.supervising:
            return
        for name in ("worker", "scheduler", "web"):
            proc = self.procs[name]
            if proc.poll() is not None:
                self.exits.append((time.time(), name, proc.returncode))
                print(
                    f"[{time.time() - self.t0:5.0f} s] the {name} exited by itself "
                    f"(status {proc.returncode}); starting it again"
                )
                stop_group(proc, grace=1)
                if name == "worker":
                    self.start_worker()
                else:
                    self.start_app_process(name, self.commands[name])

    def in_flight(self) -> list[int]:
        from django.db import connection

        from exercises.models import Submission

        try:
            connection.close()
            return list(
                Submission.objects.filter(
                    status__in=[Submission.Status.QUEUED, Submission.Status.GRADING]
                ).values_list("pk", flat=True)
            )
        except Exception:
            return []

    def kill_pool_process(self) -> dict:
        """Kill a pool process in the middle of a grading: wait (up to 20 s) until a
        submission is being graded, then kill the pool process whose tree (it and its
        grading helpers) is using the CPU."""
        from exercises.models import Submission

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if Submission.objects.filter(status=Submission.Status.GRADING).exists():
                break
            time.sleep(0.01)
        pool = children_of(self.procs["worker"].pid)
        if not pool:
            return {}
        # Ten clock ticks: long enough to tell a busy process from an idle one.
        before = cpu_seconds({pid: [pid] for pid in pool})
        time.sleep(0.1)
        after = cpu_seconds({pid: [pid] for pid in pool})
        busiest = max(pool, key=lambda pid: after[pid] - before[pid])
        signal_tree(busiest, signal.SIGKILL)
        killed = time.time()
        return {"t": killed, "in_flight": self.stranded(killed)}

    def stranded(self, killed: float) -> list[int]:
        """The submissions a killed worker was grading: claimed before the kill and still
        being graded a moment later."""
        from datetime import UTC, datetime

        from exercises.models import Submission

        time.sleep(1.5)
        return list(
            Submission.objects.filter(
                status=Submission.Status.GRADING,
                started__lte=datetime.fromtimestamp(killed, UTC),
            ).values_list("pk", flat=True)
        )

    def kill_worker(self) -> dict:
        proc = self.procs["worker"]
        signal_tree(proc.pid, signal.SIGKILL)
        killed = time.time()
        proc.wait()
        in_flight = self.stranded(killed)
        # What a container's restart policy does: start it again.
        self.start_worker()
        return {"t": killed, "in_flight": in_flight, "up": time.time()}

    def kill_redis(self) -> dict:
        self.redis.kill()
        down = time.time()
        time.sleep(10)
        self.redis.start()
        return {"down": down, "up": time.time()}

    def kill_postgres(self) -> dict:
        self.pg.stop("immediate")
        down = time.time()
        time.sleep(10)
        self.pg.start()
        return {"down": down, "up": time.time(), "database": True}

    def drill_report(self, faults, requests, sent, seen, accepted, drained) -> int:
        from django.db import connection
        from django.db.models import Count

        from exercises.models import Grading, Submission

        connection.close()
        print()
        print(f"## Fault drill: {self.users} students for {self.duration} s")
        self.print_endpoints(requests)

        rows = {
            pk: (status, message, graded)
            for pk, status, message, graded in Submission.objects.filter(
                pk__in=accepted
            ).values_list("pk", "status", "message", "graded")
        }
        missing = [pk for pk in accepted if pk not in rows]
        graded = [pk for pk, (s, _, _) in rows.items() if s == "graded"]
        failed = [pk for pk, (s, m, _) in rows.items() if s == "failed" and m]
        lost = missing + [
            pk
            for pk, (s, m, _) in rows.items()
            if s not in ("graded",) and not (s == "failed" and m)
        ]
        twice = (
            Grading.objects.filter(submission_id__in=accepted, job__isnull=True)
            .values("submission_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        all_graded = sorted(
            g.timestamp()
            for g in Submission.objects.filter(graded__isnull=False).values_list(
                "graded", flat=True
            )
        )

        starts = [self.t0] + [f["t"] for f in faults]
        ends = starts[1:] + [self.t1 + 1]
        phases = [report.Phase("before the faults", self.t0, starts[1] if faults else self.t1 + 1)]
        for fault, start, end in zip(faults, starts[1:], ends[1:], strict=True):
            phases.append(
                report.Phase(
                    fault["name"], start, end, fault.get("down"), fault.get("up"),
                    database_down=bool(fault.get("database")),
                )
            )  # fmt: skip
        per_phase = report.phases_report(requests, phases, SUBMIT)
        verdicts_in = [sum(p.start <= g < p.end for g in all_graded) for p in phases]

        fault_rows, worst_worker = [], None
        ids = {i for fault in faults for i in fault["in_flight"]}
        done_at = {
            pk: graded.timestamp()
            for pk, graded in Submission.objects.filter(
                pk__in=ids, graded__isnull=False
            ).values_list("pk", "graded")
        }
        for fault in faults:
            t, in_flight = fault["t"], fault["in_flight"]
            nxt = next((g for g in all_graded if g > t), None)
            unfinished = [i for i in in_flight if i not in done_at]
            all_done = max((done_at[i] - t for i in in_flight if i in done_at), default=0.0)
            if unfinished:
                last = f"{len(unfinished)} never graded"
            else:
                last = f"{max(all_done, 0.0):.1f} s" if in_flight else "—"
            if fault["name"] in ("worker process", "whole worker") and in_flight:
                seen = float("inf") if unfinished else max(all_done, 0.0)
                worst_worker = max(worst_worker or 0.0, seen)
            fault_rows.append(
                [
                    fault["name"],
                    f"{t - self.t0:.0f} s",
                    len(in_flight),
                    f"{nxt - t:.1f} s" if nxt else "none",
                    last,
                ]
            )
        print()
        print(
            report.format_table(
                [
                    "fault",
                    "at",
                    "in flight (a worker: those it was grading)",
                    "next verdict after",
                    "last in-flight verdict after",
                ],
                fault_rows,
            )
        )
        print()
        print(
            report.format_table(
                [
                    "phase",
                    "requests",
                    "5xx/none (not allowed)",
                    "503+Retry-After (DB down)",
                    "submits OK again after",
                    "submit p50/p95 while down",
                    "verdicts recorded",
                ],
                [
                    [
                        p.name,
                        p.requests,
                        p.failures,
                        p.allowed,
                        f"{p.submits_ok_after:.1f} s" if p.submits_ok_after is not None else "—",
                        f"{report.ms(p.submit_p50)} / {report.ms(p.submit_p95)}",
                        n,
                    ]
                    for p, n in zip(per_phase, verdicts_in, strict=True)
                ],
            )  # fmt: skip
        )
        for p in per_phase:
            if p.failed_by:
                print(f"  {p.name}: " + ", ".join(f"{k}: {n}" for k, n in p.failed_by.items()))
        redis_phase = next((p for p in per_phase if p.name == "redis"), None)
        redis_p95 = redis_phase.submit_p95 if redis_phase else None
        bad_5xx = sum(p.failures for p in per_phase)
        statuses = Counter(s for s, _, _ in rows.values())
        checks = [
            ("accepted (202) vs graded / failed with a message",
             f"{len(accepted)} accepted: {len(graded)} graded, {len(failed)} failed with a message",
             "", True),
            ("lost (accepted, never graded nor failed with a message)",
             f"{len(lost)}" + (f" (statuses {dict(statuses)})" if lost else ""), "0", not lost),
            ("graded twice", str(twice), "0", twice == 0),
            ("5xx or no answer, other than 503 + Retry-After while the database is down",
             str(bad_5xx), "0", bad_5xx == 0),
            ("worker death → its submissions' verdicts",
             "never" if worst_worker == float("inf")
             else f"{worst_worker:.1f} s" if worst_worker is not None
             else "not measured: the killed processes held nothing",
             f"≤ {TARGETS['worker_death_to_verdict_s']} s",
             worst_worker is None or worst_worker <= TARGETS["worker_death_to_verdict_s"]),
            ("submit p95 while Redis is down", report.ms(redis_p95),
             f"< {TARGETS['redis_down_submit_ms']} ms",
             redis_p95 is not None and redis_p95 < TARGETS["redis_down_submit_ms"]),
            ("queue drained", "yes" if drained else "NO", "yes", drained),
        ]  # fmt: skip
        print()
        print(
            report.format_table(
                ["check", "measured", "target", "result"],
                [[c, m, t, "ok" if ok else "FAILED"] for c, m, t, ok in checks],
            )
        )
        for t, name, status in self.exits:
            print(
                f"Unplanned exit: the {name} at {t - self.t0:.0f} s (status {status}), "
                "started again by the drill as a restart policy would"
            )
        alive = {name: self.procs[name].poll() is None for name in ("web", "worker", "scheduler")}
        print(
            "Still running at the end: "
            + ", ".join(f"{n}: {'yes' if a else 'NO'}" for n, a in alive.items())
        )
        failed_checks = [c for c, _, _, ok in checks if not ok]
        print(f"Load average now: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if failed_checks:
            print(f"Fault drill: {len(failed_checks)} target(s) missed.")
            return 1
        print("Fault drill: every target met.")
        return 0


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
