"""Measure what the web tier spends on each request of a student's path to a verdict.

In this process, through Django's test client (every middleware, the URL resolver,
DRF, the templates; no socket and no gunicorn), it sends `--requests` requests to each
endpoint a student's submission goes through and reports, per request, the CPU time of
this process (`time.process_time`), the CPU time of the PostgreSQL backend serving it
(read from /proc, when the database is PostgreSQL on this machine), the wall time and
the number of SQL queries:

- `exercise`: GET /api/exercises/<slug>/ (the prompt and parts of the student's variant);
- `submit`: POST /api/exercises/<slug>/submissions/ (answers read, saved, published);
- `poll`: GET /api/submissions/<id>/ of a graded submission;
- `poll-queued`: the same while it waits for its verdict;
- `fragment`: GET /submissions/<id>/?fragment=1, the verdict the submission page polls;
- `health`: GET /health/ (the database and the broker).

With `--url` (and `--server-pid`, gunicorn's master), it drives a running server over
HTTP instead: `--concurrency` clients, each a student who opens the exercise, submits
and polls the submission `--polls` times, as fast as the server answers, for
`--seconds`; it reports requests per second and the CPU time of the server's processes
(the master and its workers, from /proc) per request. The clients run in this process
and share the machine's cores with the server: the CPU per request is the server's
own, the requests per second are a lower bound.

With `--url` and `--verdicts N`, it measures instead how soon a student sees a verdict
once a worker has recorded it (the server needs a grading worker): N submissions one
after another, each polled on a schedule (first poll after F seconds, each pause 1.5
times the last), for F = 0.5 and F = 0.15; it reports, p50 and p95, the time from the
verdict's recording (`graded`, from the database) to the poll that saw it, and from
the submit to that poll.

It writes to the database in DATABASE_URL and publishes to the broker in REDIS_URL:
run it against a throwaway database with the course loaded, and a Redis of its own
(no worker takes the messages; the submissions it makes are deleted at the end, with
the students it made). The per-student rate limits and the exercise's attempt limit are
lifted for the run.

    createdb bench && DATABASE_URL=postgres:///bench python manage.py migrate
    DATABASE_URL=postgres:///bench python manage.py load_course
    DATABASE_URL=postgres:///bench REDIS_URL=redis://127.0.0.1:6391/0 python manage.py bench_web
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from exercises.models import Exercise, Submission

PREFIX = "bench-web-"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL backend of this connection."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the server is on another machine
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children still running."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


class Command(BaseCommand):
    help = "CPU, wall time and queries per request on the path from a submission to its verdict."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=500)
        parser.add_argument("--students", type=int, default=20)
        parser.add_argument("--exercise", default="chain-rule")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--server-pid", type=int, help="its gunicorn master's pid")
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--seconds", type=float, default=30)
        parser.add_argument("--polls", type=int, default=2)
        parser.add_argument("--verdicts", type=int, default=0)

    def handle(self, *args, requests: int, students: int, exercise: str, **options):
        ex = Exercise.published.filter(slug=exercise).first()
        if ex is None:
            raise CommandError(f"no published exercise {exercise!r}: load the course first")
        limits = {
            "SUBMISSIONS_IN_FLIGHT": 10**9,
            "SUBMISSIONS_PER_MINUTE": 10**9,
            "API_SUBMISSIONS_PER_MINUTE": 10**9,
            "ALLOWED_HOSTS": ["testserver"],
        }
        User = get_user_model()
        users = [
            User.objects.create_user(f"{PREFIX}{os.getpid()}-{n}", password=None)
            for n in range(students)
        ]
        # Each student submits far more often than the exercise's attempt limit allows;
        # the limit is lifted for the run and put back after it, like the rate limits.
        max_attempts = ex.max_attempts
        Exercise.objects.filter(pk=ex.pk).update(max_attempts=None)
        try:
            if options["url"] and options["verdicts"]:
                return self._verdicts(ex, users, options)
            if options["url"]:
                if not options["server_pid"]:
                    raise CommandError("--url needs --server-pid (gunicorn's master)")
                return self._drive(ex, users, options)
            with override_settings(**limits):
                results = self._run(ex, users, requests)
        finally:
            Exercise.objects.filter(pk=ex.pk).update(max_attempts=max_attempts)
            Submission.objects.filter(student__in=users).delete()
            User.objects.filter(pk__in=[u.pk for u in users]).delete()
        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2))
            return
        load = os.getloadavg()[0]
        self.stdout.write(
            f"{requests} requests per endpoint, {students} students, exercise {exercise}, "
            f"database {connection.vendor}; load average {load:.2f}"
        )
        self.stdout.write(
            f"{'endpoint':<12} {'web CPU ms':>10} {'db CPU ms':>10} {'wall p50':>9} "
            f"{'wall p95':>9} {'queries':>8}"
        )
        for name, r in results.items():
            db = "-" if r["db_cpu_ms"] is None else f"{r['db_cpu_ms']:.2f}"
            self.stdout.write(
                f"{name:<12} {r['cpu_ms']:>10.2f} {db:>10} {r['wall_p50_ms']:>9.2f} "
                f"{r['wall_p95_ms']:>9.2f} {r['queries']:>8}"
            )

    def _run(self, ex: Exercise, users, requests: int) -> dict:
        api = {}
        pages = {}
        for user in users:
            token, _ = Token.objects.get_or_create(user=user)
            api[user.pk] = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
            pages[user.pk] = Client()
            pages[user.pk].force_login(user)
        answers = {}
        for user in users:
            # The student's own variant, drawn as the exercise page would.
            api[user.pk].get(f"/api/exercises/{ex.slug}/")
            variant = ex.variant_for(user)
            expected = (
                variant.expected_answers()
                if variant is not None
                else ex.expected_answers({}, list(ex.parts.all()))
            )
            answers[user.pk] = {"answers": expected}

        def submit(user):
            return api[user.pk].post(
                f"/api/exercises/{ex.slug}/submissions/",
                json.dumps(answers[user.pk]),
                content_type="application/json",
            )

        queued = {}
        graded = {}
        for user in users:
            queued[user.pk] = submit(user).json()["id"]
            graded[user.pk] = submit(user).json()["id"]
            sub = Submission.objects.get(pk=graded[user.pk])
            Submission.objects.filter(pk=sub.pk).update(
                status=Submission.Status.GRADED,
                score=1.0,
                credit=1.0,
                results={k: {"status": "correct", "message": ""} for k in sub.answers},
            )

        endpoints = {
            "exercise": lambda u: api[u.pk].get(f"/api/exercises/{ex.slug}/"),
            "submit": submit,
            "poll": lambda u: api[u.pk].get(f"/api/submissions/{graded[u.pk]}/"),
            "poll-queued": lambda u: api[u.pk].get(f"/api/submissions/{queued[u.pk]}/"),
            "fragment": lambda u: pages[u.pk].get(f"/submissions/{graded[u.pk]}/?fragment=1"),
            "health": lambda u: pages[u.pk].get("/health/"),
        }
        ok = {"submit": 202}
        results = {}
        for name, call in endpoints.items():
            for user in users[:3]:  # warm-up: connections, caches, imports
                call(user)
            with CaptureQueriesContext(connection) as queries:
                response = call(users[0])
            # Read now: the next request empties the log the context reads from.
            count = len(queries)
            if response.status_code != ok.get(name, 200):
                raise CommandError(f"{name}: HTTP {response.status_code}: {response.content[:300]}")
            walls = []
            db_before = _backend_cpu()
            cpu_before = time.process_time()
            for i in range(requests):
                user = users[i % len(users)]
                start = time.perf_counter()
                response = call(user)
                walls.append(time.perf_counter() - start)
            cpu = time.process_time() - cpu_before
            db_after = _backend_cpu()
            if response.status_code != ok.get(name, 200):
                raise CommandError(f"{name}: HTTP {response.status_code}")
            walls.sort()
            results[name] = {
                "cpu_ms": 1000 * cpu / requests,
                # The /proc read and pg_backend_pid() cost the backend little beside 500 requests.
                "db_cpu_ms": None
                if db_before is None or db_after is None
                else 1000 * (db_after - db_before) / requests,
                "wall_p50_ms": 1000 * statistics.median(walls),
                "wall_p95_ms": 1000 * walls[int(0.95 * (len(walls) - 1))],
                "queries": count,
            }
        return results

    def _drive(self, ex: Exercise, users, options) -> None:
        """Students opening, submitting and polling over HTTP (keep-alive), as fast as
        the server answers. The server's own limits must be lifted for the run
        (SUBMISSIONS_IN_FLIGHT, SUBMISSIONS_PER_MINUTE, API_SUBMISSIONS_PER_MINUTE)."""
        url = urlsplit(options["url"])
        students = []
        for user in users:
            token, _ = Token.objects.get_or_create(user=user)
            variant = ex.variant_for(user)
            expected = (
                variant.expected_answers()
                if variant is not None
                else ex.expected_answers({}, list(ex.parts.all()))
            )
            students.append((token.key, json.dumps({"answers": expected})))
        counts = {"requests": 0, "errors": 0}
        lock = threading.Lock()
        stop = threading.Event()

        def student(n: int) -> None:
            key, body = students[n % len(students)]
            headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
            conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)

            def call(method, path, payload=None):
                nonlocal conn
                try:
                    conn.request(method, path, payload, headers)
                    response = conn.getresponse()
                    data = response.read()
                    ok = response.status < 300
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
                    ok, data = False, b""
                with lock:
                    counts["requests"] += 1
                    counts["errors"] += not ok
                return data if ok else None

            while not stop.is_set():
                call("GET", f"/api/exercises/{ex.slug}/")
                receipt = call("POST", f"/api/exercises/{ex.slug}/submissions/", body)
                if receipt is None:
                    continue
                pk = json.loads(receipt)["id"]
                for _ in range(options["polls"]):
                    call("GET", f"/api/submissions/{pk}/")

        pid = options["server_pid"]
        threads = [
            threading.Thread(target=student, args=(n,), daemon=True)
            for n in range(options["concurrency"])
        ]
        for t in threads:
            t.start()
        time.sleep(2)  # warm-up: connections, the students' variants
        with lock:
            before = dict(counts)
        cpu_before, start = _tree_cpu(pid), time.perf_counter()
        time.sleep(options["seconds"])
        with lock:
            after = dict(counts)
        cpu, elapsed = _tree_cpu(pid) - cpu_before, time.perf_counter() - start
        stop.set()
        for t in threads:
            t.join(timeout=70)
        done = after["requests"] - before["requests"]
        self.stdout.write(
            f"{options['concurrency']} clients, {elapsed:.0f} s: {done / elapsed:.1f} requests/s, "
            f"{after['errors'] - before['errors']} errors, server CPU "
            f"{1000 * cpu / max(done, 1):.2f} ms per request "
            f"({cpu / elapsed:.2f} cores); load average {os.getloadavg()[0]:.2f}"
        )

    def _verdicts(self, ex: Exercise, users, options) -> None:
        url = urlsplit(options["url"])
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)

        def call(method, path, key, body=None):
            headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")

        students = []
        for user in users:
            token, _ = Token.objects.get_or_create(user=user)
            call("GET", f"/api/exercises/{ex.slug}/", token.key)
            variant = ex.variant_for(user)
            expected = variant.expected_answers() if variant is not None else {}
            students.append((token.key, json.dumps({"answers": expected})))
        for first in (0.5, 0.15):
            after_graded, after_submit, polls = [], [], []
            for n in range(options["verdicts"]):
                key, body = students[n % len(students)]
                sent = time.time()
                status, receipt = call("POST", f"/api/exercises/{ex.slug}/submissions/", key, body)
                if status != 202:
                    raise CommandError(f"submit: HTTP {status}: {receipt}")
                delay, count = first, 0
                while True:
                    time.sleep(max(0.0, sent + delay - time.time()) if count == 0 else delay)
                    count += 1
                    _, sub = call("GET", f"/api/submissions/{receipt['id']}/", key)
                    if sub["status"] in {"graded", "failed"}:
                        seen = time.time()
                        break
                    delay = min(delay * 1.5, 10)
                graded = Submission.objects.get(pk=receipt["id"]).graded.timestamp()
                after_graded.append(1000 * (seen - graded))
                after_submit.append(1000 * (seen - sent))
                polls.append(count)
                time.sleep(0.2)
            self.stdout.write(
                f"first poll {first:.2f} s: recorded -> seen p50 "
                f"{statistics.median(after_graded):.0f} ms p95 {_p95(after_graded):.0f} ms; "
                f"submit -> seen p50 {statistics.median(after_submit):.0f} ms "
                f"p95 {_p95(after_submit):.0f} ms; polls per verdict "
                f"{statistics.mean(polls):.2f}; load average {os.getloadavg()[0]:.2f}"
            )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]
