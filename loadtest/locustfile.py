"""Students answering exercises through the JSON API, for Locust.

Run by `loadtest.run` from the load driver's own virtual environment (`.venv-loadtest`):
Locust brings gevent, which never enters the app's environment. Each simulated student
has an account and an API token made by the driver, and the answers to its own variant
of each exercise, right and wrong (LOADTEST_DATA, a JSON file).

The student opens the course outline, then in a loop: thinks (exam: 10-20 s; saturation: not
at all), opens an exercise, submits (about 60% right), and polls the submission until
it has its verdict. It sends `Prefer: wait=N` (LOADTEST_WAIT seconds, 0 for none) with the
submission and the polls: a server that honours it answers with the verdict once it is
in, and is then polled again at once; one that does not (no Preference-Applied) is
polled at the usual pace. Every request and every verdict goes to LOADTEST_LOG (JSON lines),
which the driver reads for its report.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

import gevent
from locust import FastHttpUser, between, constant, events, task

SCENARIO = os.environ.get("LOADTEST_SCENARIO", "exam")
DATA = json.loads(open(os.environ["LOADTEST_DATA"]).read())
STUDENTS = itertools.cycle(DATA["students"])
# The first poll after this many seconds, then every POLL_EVERY, for at most POLL_FOR.
POLL_FIRST = float(os.environ.get("LOADTEST_POLL_FIRST", "0.5"))
POLL_EVERY = float(os.environ.get("LOADTEST_POLL_EVERY", "0.5"))
POLL_FOR = float(os.environ.get("LOADTEST_POLL_FOR", "120"))
# Seconds the server is asked to wait for the verdict (`Prefer: wait=N`); 0: never asked.
WAIT = int(os.environ.get("LOADTEST_WAIT", "2"))
PREFER = {"Prefer": f"wait={WAIT}"} if WAIT > 0 else {}
RIGHT_SHARE = 0.6
DONE = {"graded", "failed"}

_log = open(os.environ["LOADTEST_LOG"], "a", buffering=1 << 16)


def log(**fields) -> None:
    _log.write(json.dumps(fields, separators=(",", ":")) + "\n")


@events.request.add_listener
def on_request(name, response_time, response=None, exception=None, start_time=None, **kw):
    status = getattr(response, "status_code", 0) or 0
    if exception is not None and not status:
        status = 0
    headers = getattr(response, "headers", None) or {}
    log(
        k="r",
        t=start_time or time.time(),
        n=name,
        ms=response_time,
        s=status,
        ra=bool(headers.get("Retry-After")),
    )


@events.quitting.add_listener
def on_quitting(environment, **kw):
    _log.flush()


class Student(FastHttpUser):
    wait_time = between(10, 20) if SCENARIO == "exam" else constant(0)
    # One connection per student, as a browser would hold; no retries hidden in the client.
    connection_timeout = 30.0
    network_timeout = 60.0

    def on_start(self):
        me = next(STUDENTS)
        self.headers = {"Authorization": f"Token {me['token']}"}
        self.answers = me["answers"]
        self.client.get("/api/modules/", headers=self.headers, name="/api/modules/")
        # An exam starts with everyone opening it at once, then reading the first question:
        # the first answers come 10-20 s later, not in the same second.
        self.wait()

    @task
    def answer_an_exercise(self):
        slug = random.choice(list(self.answers))
        with self.client.get(
            f"/api/exercises/{slug}/",
            headers=self.headers,
            name="/api/exercises/[slug]/",
            catch_response=True,
        ) as r:
            if r.status_code >= 500 or r.status_code == 0:
                r.failure(f"{r.status_code}")
                return
            r.success()
        which = "right" if random.random() < RIGHT_SHARE else "wrong"
        sent = time.time()
        with self.client.post(
            f"/api/exercises/{slug}/submissions/",
            json={"answers": self.answers[slug][which]},
            headers={**self.headers, **PREFER},
            name="/api/exercises/[slug]/submissions/",
            catch_response=True,
        ) as r:
            status = r.status_code
            body = _json(r)
            if status == 202:
                r.success()
            elif status in (403, 429) or (status == 503 and r.headers.get("Retry-After")):
                # Refused by a limit, or the database is down and the app says when to retry.
                r.success()
                wait = r.headers.get("Retry-After")
                gevent.sleep(min(float(wait or 1), 10))
                return
            else:
                r.failure(f"{status}: {str(body)[:200]}")
                return
        submission = body.get("id")
        log(k="a", id=submission, t=sent, w=which)
        if body.get("status") in DONE:
            log(k="v", id=submission, t=sent, seen=time.time(), st=body["status"])
            return
        self.poll(submission, sent, waited=_waited(r))

    def poll(self, submission: int, sent: float, waited: bool = False) -> None:
        if not waited:
            gevent.sleep(POLL_FIRST)
        while time.time() - sent < POLL_FOR:
            waited = False
            with self.client.get(
                f"/api/submissions/{submission}/",
                headers={**self.headers, **PREFER},
                name="/api/submissions/[id]/",
                catch_response=True,
            ) as r:
                if r.status_code == 200:
                    r.success()
                    waited = _waited(r)
                    status = _json(r).get("status")
                    if status in DONE:
                        log(k="v", id=submission, t=sent, seen=time.time(), st=status)
                        return
                elif r.status_code == 503 and r.headers.get("Retry-After"):
                    r.success()
                else:
                    r.failure(f"{r.status_code}")
            if not waited:
                gevent.sleep(POLL_EVERY)


def _waited(response) -> bool:
    """Whether the server held the answer until the verdict or the wait's end."""
    return bool((getattr(response, "headers", None) or {}).get("Preference-Applied"))


def _json(response) -> dict:
    try:
        value = response.json()
    except Exception:
        return {}
    return value if isinstance(value, dict) else {}
