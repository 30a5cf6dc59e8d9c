"""The path of a submission from a student's form to its verdict.

The database is the source of truth. A submission is saved first and a message
carrying only its id is published after the transaction commits. A worker claims
the submission with a conditional update that takes a time-limited lease; only the
holder of the current lease may record the verdict, so a message delivered twice
grades once. The lease is short (GRADING_LEASE_SECONDS) and a heartbeat thread
renews it while the holder grades, so a worker that dies lets go of its submission
within seconds: the message its pool process held is delivered again (acks late,
rejected when the process is lost) and waits for the lease to lapse, and a periodic
sweep publishes again what is still queued or whose lease expired (a worker killed
outright, its message stranded in the broker); after GRADING_MAX_TRIES claims the
submission ends `failed` with a message for the student, so a poison answer never loops.

Students share the workers fairly. A submission whose checks have run past
GRADING_SLICE_SECONDS yields between parts: the parts judged so far travel in a new
message at the back of the queue, and the next worker to take it judges the rest. And
a student has one submission in progress at a time on each queue (being graded, or
part-graded and waiting for its turn): a worker that receives another of theirs
meanwhile sends it back with a short countdown. So a student's slow answers delay other students' by at
most one check. (Claims of one student's submissions in the very same instant may
still overlap; that costs fairness, never correctness.)

A submission with a code part goes to the code queue (settings.CODE_QUEUE), whose
workers run code in sandboxes, so that a slow run never delays the maths answers.
Where no sandbox can be started, nothing is run and nothing is recorded as a verdict:
the submission goes back to `queued` without using up a try, with a message for the
student and the reason for staff, and the sweep sends it again later (fail closed).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from datetime import timedelta
from functools import cache, partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.utils import timezone

import grading
from courseserver.celery import app, in_broker, publish
from exercises import ratelimit, rows, scoring, variants
from exercises.models import Exercise, Grading, Part, Submission, Variant
from exercises.signals import verdict_stored

log = logging.getLogger(__name__)

GRADE = "exercises.tasks.grade_submission"
# Seconds before a submission sent back to wait for the same student's other one is taken.
BUSY_COUNTDOWN = 1
# `_mark_sent`'s default: the time of the call.
NOW = object()

# The time that grading slices are measured by; tests replace it with a fake clock.
clock = time.monotonic

FAILED_MESSAGE = (
    "We could not grade this submission. Your answers are saved and your teachers "
    "have been told; this attempt does not count against you."
)


UNAVAILABLE_MESSAGE = (
    "This exercise cannot be answered right now because of a problem in it; "
    "your teachers have been told."
)


NOTHING_ANSWERED = "Answer at least one part: nothing was submitted, and no attempt was used."


DELAYED_MESSAGE = (
    "Your code is saved; running it is delayed, and it will be graded automatically "
    "— this costs you nothing."
)


class SubmissionRefused(Exception):
    """The submission was not accepted; the message says why, for the student."""

    def __init__(
        self,
        message: str,
        errors: dict[str, str] | None = None,
        http_status: int = 422,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        # Seconds, for a refusal that passes with time (a rate limit).
        self.retry_after = retry_after
        # 422: an answer cannot be read; 400: the request names no such part;
        # 403: out of attempts, or outside the problem set's dates;
        # 429: the student is over a limit; 503: the exercise itself is broken.
        self.http_status = http_status


def submit(student, exercise: Exercise, answers: dict[str, str]) -> Submission:
    """Check the answers can be read, save the submission, queue it for grading.

    A part left blank is not graded and costs nothing (`exercises.scoring`); at least
    one must be answered. Raises SubmissionRefused (nothing is saved, no attempt is
    used) when every part is blank, an answer is unreadable, or the student is over
    their limits.
    """
    parts = list(exercise.parts.all())
    try:
        variant = exercise.variant_for(student)
    except variants.VariantError as e:
        log.error("exercise %s: no variant for student %s: %s", exercise.slug, student.pk, e)
        raise SubmissionRefused(UNAVAILABLE_MESSAGE, http_status=503) from None
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for part in parts:
        text = answers.get(part.key)
        if scoring.is_blank(text):
            continue
        message = part.validate_answer(text, variant)
        if message:
            errors[part.key] = message
        clean[part.key] = text
    unknown = sorted(set(answers) - {part.key for part in parts})
    if unknown:
        raise SubmissionRefused(
            f"This exercise has no part named {', '.join(map(repr, unknown))}.", http_status=400
        )
    if errors:
        raise SubmissionRefused("Some answers could not be read; nothing was submitted.", errors)
    if not clean:
        raise SubmissionRefused(NOTHING_ANSWERED)

    now = timezone.now()
    closed = closed_reason(exercise, student, now)
    if closed:
        raise SubmissionRefused(closed, http_status=403)
    late = exercise.problem_set.is_late(now, student)
    fields = dict(
        student=student,
        exercise=exercise,
        problem_set=exercise.problem_set,
        variant=variant,
        answers=clean,
        late=late,
        exercise_version=exercise.version,
        # A blank code part is not run: only the answered parts say which workers.
        queue=queue_for([part for part in parts if part.key in clean]),
        created=now,
        # Sent at the commit; cleared if the broker refuses it (`send`).
        last_sent=now,
    )
    with transaction.atomic():
        # One student's submissions are numbered one at a time, under a lock on the
        # student; the attempt and in-flight limits are read under it too.
        if connection.vendor == "postgresql":
            submission = _lock_count_and_insert(exercise, fields)
        else:
            submission = _lock_count_and_create(exercise, fields)
        send(submission.pk, submission.queue, marked=True)  # once the transaction commits
    return submission


def _refuse_over_limits(exercise: Exercise, student, earlier: int, in_flight: int) -> None:
    """Raise SubmissionRefused when the student is over a limit: out of attempts (403),
    or too many submissions in flight, or too many a minute (429)."""
    limit = exercise.attempt_limit
    if limit is not None and earlier >= limit:
        raise SubmissionRefused(
            f"You have used all {limit} attempts at this exercise.",
            http_status=403,
        )
    refusal = ratelimit.submission(student, in_flight=in_flight)
    if refusal is not None:
        raise SubmissionRefused(refusal.message, http_status=429, retry_after=refusal.retry_after)


def _lock_count_and_create(exercise: Exercise, fields: dict) -> Submission:
    """`submit`'s lock, limits and insert through the ORM (SQLite)."""
    student = fields["student"]
    # Only the key is read: the lock is what is wanted.
    users = get_user_model().objects.select_for_update()
    list(users.filter(pk=student.pk).values_list("pk", flat=True))
    # A failed submission was never graded: it does not use up an attempt. One query
    # over the student's submissions, which the count of those in flight reads all
    # of anyway: the attempts used here, the last attempt's number, those in flight.
    here = Q(exercise=exercise, problem_set_id=exercise.problem_set_id)
    attempts = Submission.objects.filter(student=student).aggregate(
        earlier=Count("pk", filter=here & ~Q(status=Submission.Status.FAILED)),
        last=Max("attempt", filter=here),
        in_flight=Count("pk", filter=Q(status__in=ratelimit.IN_FLIGHT)),
    )
    earlier = attempts["earlier"]
    _refuse_over_limits(exercise, student, earlier, attempts["in_flight"])
    return Submission.objects.create(
        attempt=(attempts["last"] or 0) + 1,
        multiplier=attempt_multiplier(exercise, earlier, fields["late"]),
        **fields,
    )


def _lock_count_and_insert(exercise: Exercise, fields: dict) -> Submission:
    """`submit`'s lock, limits and insert on PostgreSQL, in two statements written out
    (their compilation by the ORM cost more than running them): the lock, then the
    counts with the insert, which happens only within the attempt and in-flight limits.
    The lock has a statement of its own: a statement sees the rows committed when it
    began, so counts read in the statement that waited for the lock would miss the
    submission of the transaction it waited for.

    The rows stored are those of `_lock_count_and_create`: the same instance, its
    attempt and multiplier computed from the counts in the statement the same way, in
    double precision. The rate limit in the cache is counted only when the database's
    limits pass, as there; when it refuses, the insert is rolled back with the
    transaction."""
    student = fields["student"]
    lock, insert, prepared = _submit_statements()
    submission = Submission(attempt=0, multiplier=0.0, **fields)
    params = {
        f.attname: f.get_db_prep_save(getattr(submission, f.attname), connection) for f in prepared
    }
    params.update(
        student=student.pk,
        exercise=exercise.pk,
        problem_set=exercise.problem_set_id,
        failed=Submission.Status.FAILED,
        **{f"in_flight_{i}": status for i, status in enumerate(ratelimit.IN_FLIGHT)},
        limit=exercise.attempt_limit,
        in_flight_limit=settings.SUBMISSIONS_IN_FLIGHT,
        penalty=float(exercise.retry_penalty),
        late_factor=_late_factor(exercise, fields["late"]),
    )
    with rows.cursor() as cursor:
        cursor.execute(lock, params)
        cursor.fetchall()
        cursor.execute(insert, params)
        earlier, in_flight, pk, attempt, multiplier = cursor.fetchone()
    # Not inserted: over the attempts or in flight, refused here before the cache is
    # asked. Inserted: the cache's limit may still refuse, and the insert rolls back.
    _refuse_over_limits(exercise, student, earlier, in_flight)
    if pk is None:
        raise AssertionError("the database's limits and _refuse_over_limits disagree")
    submission.pk, submission.attempt, submission.multiplier = pk, attempt, multiplier
    submission._state.adding = False
    return submission


def _late_factor(exercise: Exercise, late: bool) -> float | None:
    """What `attempt_multiplier` multiplies by for a late attempt; None for none."""
    problem_set = exercise.problem_set
    if late and problem_set.late_policy == problem_set.LatePolicy.PENALTY:
        return 1.0 - problem_set.late_penalty
    return None


@cache
def _submit_statements():
    """The SQL of `_lock_count_and_insert` (names from the models): the lock, the counts
    with the insert, and the fields whose values are given as parameters by attname."""
    User = get_user_model()
    q, col = connection.ops.quote_name, rows.column
    lock = (
        f"SELECT {col(User, 'id')} FROM {rows.table(User)} "
        f"WHERE {col(User, 'id')} = %(student)s FOR UPDATE"
    )
    computed = {"attempt", "multiplier"}
    prepared = [
        f for f in Submission._meta.concrete_fields if not f.primary_key and f.name not in computed
    ]
    names = [f.column for f in prepared] + [
        Submission._meta.get_field(name).column for name in ("attempt", "multiplier")
    ]
    values = [f"%({f.attname})s" for f in prepared] + [
        "COALESCE(c.last, 0) + 1",
        # `attempt_multiplier`: max(0, 1 - penalty × earlier), × (1 - the late penalty).
        "GREATEST(0::float8, 1::float8 - %(penalty)s::float8 * c.earlier)"
        " * COALESCE(%(late_factor)s::float8, 1::float8)",
    ]
    here = (
        f"s.{col(Submission, 'exercise')} = %(exercise)s "
        f"AND s.{col(Submission, 'problem_set')} = %(problem_set)s"
    )
    status = col(Submission, "status")
    in_flight = ", ".join(f"%(in_flight_{i})s" for i in range(len(ratelimit.IN_FLIGHT)))
    insert = f"""
        WITH c AS (
            SELECT COUNT(*) FILTER (WHERE {here} AND s.{status} <> %(failed)s) AS earlier,
                   MAX(s.{col(Submission, "attempt")}) FILTER (WHERE {here}) AS last,
                   COUNT(*) FILTER (WHERE s.{status} IN ({in_flight})) AS in_flight
            FROM {rows.table(Submission)} AS s
            WHERE s.{col(Submission, "student")} = %(student)s
        ), inserted AS (
            INSERT INTO {rows.table(Submission)} ({", ".join(map(q, names))})
            SELECT {", ".join(values)} FROM c
            WHERE (%(limit)s::integer IS NULL OR c.earlier < %(limit)s::integer)
              AND c.in_flight < %(in_flight_limit)s::integer
            RETURNING {col(Submission, "id")}, {col(Submission, "attempt")},
                      {col(Submission, "multiplier")}
        )
        SELECT c.earlier, c.in_flight, inserted.* FROM c LEFT JOIN inserted ON TRUE
    """
    return lock, insert, prepared


def closed_reason(exercise: Exercise, student, now, keep: bool = True) -> str:
    """Why the student may not answer the exercise now (its problem set's dates, their
    time for a quiz), or "" when they may. `keep` False (staff viewing as the student)
    starts no quiz: it reads the student's start, if any."""
    problem_set = exercise.problem_set
    if not problem_set.is_open(now):
        return "This problem set is not open yet."
    late = problem_set.is_late(now, student)
    if late and problem_set.late_policy == problem_set.LatePolicy.REFUSE:
        return "The due date of this problem set has passed: answers are no longer accepted."
    if keep:
        start = problem_set.start_for(student, now)
        ends = start.ends() if start is not None else None
    else:
        ends = problem_set.ends_for(student)
    if ends is not None and now > ends:
        return (
            f"Your time for this quiz ({problem_set.time_limit} minutes from when you "
            f"started it) is up: answers are no longer accepted."
        )
    return ""


def attempt_multiplier(exercise: Exercise, earlier: int, late: bool) -> float:
    """What an attempt's score is worth after `earlier` counted attempts, late or not."""
    multiplier = max(0.0, 1.0 - exercise.retry_penalty * earlier)
    factor = _late_factor(exercise, late)
    return multiplier if factor is None else multiplier * factor


def queue_for(parts) -> str:
    """Which workers grade answers to these parts (a `Submission.Queue`)."""
    if any(part.kind == Part.Kind.CODE for part in parts):
        return Submission.Queue.CODE
    return Submission.Queue.GRADING


def celery_queue(queue: str) -> str | None:
    """The Celery queue of a `Submission.Queue`; None is the default queue."""
    return settings.CODE_QUEUE if queue == Submission.Queue.CODE else None


def send(
    submission_id: int,
    queue: str = Submission.Queue.GRADING,
    done: dict | None = None,
    countdown: float | None = None,
    marked: bool = False,
) -> bool:
    """Publish "grade this" to the submission's queue, after the commit inside a
    transaction. Never raises: if the broker is down, the sweep sends it later.

    `done`: the verdicts of the parts already judged (a submission that yielded);
    `countdown`: seconds before a worker takes it; `marked`: its `last_sent` was set
    with the row (a new submission), and is cleared if the broker refuses it, rather
    than set once the broker has it: one statement fewer for every submission."""
    if marked:
        sent, failed = None, partial(_mark_sent, submission_id, None)
    else:
        sent, failed = partial(_mark_sent, submission_id), None
    return publish(
        GRADE,
        submission_id,
        *([done] if done else []),
        queue=celery_queue(queue),
        on_sent=sent,
        on_failed=failed,
        countdown=countdown,
    )


def _mark_sent(submission_id: int, now=NOW) -> None:
    """Store when the submission was sent (`now`: the time; None: not sent)."""
    if now is NOW:
        now = timezone.now()
    if connection.vendor != "postgresql":
        Submission.objects.filter(pk=submission_id).update(last_sent=now)
        return
    # After every submission: written out, as its compilation cost more than the update.
    with rows.cursor() as cursor:
        cursor.execute(_mark_sent_statement(), [now, submission_id])


@cache
def _mark_sent_statement() -> str:
    return (
        f"UPDATE {rows.table(Submission)} SET {rows.column(Submission, 'last_sent')} = %s "
        f"WHERE {rows.column(Submission, 'id')} = %s"
    )


def claim(submission_id: int) -> uuid.UUID | None:
    """Take the lease on a submission that is queued or whose lease has expired.

    Returns the lease token, or None when there is nothing to do (graded, failed,
    or another worker holds a live lease: `lease_left` says for how long), or not now:
    another submission of the same student, for the same workers, is in progress.

    One statement, atomic by itself. On PostgreSQL it also reads what grading needs
    (the submission, its exercise and variant), kept for `_grade` in this thread.
    """
    now = timezone.now()
    token = uuid.uuid4()
    expires = now + timedelta(seconds=settings.GRADING_LEASE_SECONDS)
    if connection.vendor == "postgresql":
        submission = _claim_and_read(submission_id, token, now, expires)
        taken = submission is not None
        _claimed.token, _claimed.submission = token, submission
    else:
        claimable = Q(status=Submission.Status.QUEUED) | Q(
            status=Submission.Status.GRADING, lease_expires__lt=now
        )
        # Per queue: the code workers and the maths workers each take turns of their own.
        students_other_lease = Submission.objects.filter(
            _in_progress(now), student_id=OuterRef("student_id"), queue=OuterRef("queue")
        ).exclude(pk=OuterRef("pk"))
        taken = (
            Submission.objects.filter(claimable, pk=submission_id)
            .filter(tries__lt=settings.GRADING_MAX_TRIES)
            .exclude(Exists(students_other_lease))
            .update(
                status=Submission.Status.GRADING,
                lease_token=token,
                lease_expires=expires,
                started=now,
                tries=F("tries") + 1,
            )
        )
    if taken:
        return token
    # Claimable but out of tries: it failed every time it was taken (a poison answer
    # that kills its worker, say). Stop here rather than loop.
    fail(submission_id, only_if_exhausted=True)
    return None


# The submission the last claim in this thread read with its lease, and that lease's
# token: `_grade` uses it for that lease only, and reads the submission otherwise.
_claimed = threading.local()


def _claimed_submission(submission_id: int, token) -> Submission | None:
    claimed, submission = getattr(_claimed, "token", None), getattr(_claimed, "submission", None)
    _claimed.token = _claimed.submission = None
    if submission is not None and submission.pk == submission_id and str(claimed) == str(token):
        return submission
    return None


def _claim_and_read(submission_id: int, token: uuid.UUID, now, expires) -> Submission | None:
    """`claim`'s conditional update on PostgreSQL, returning the submission taken with
    its exercise and variant: the same conditions as the ORM form (see `claim` and
    `_in_progress`), written out because its compilation cost more than the statement."""
    sql, readers = _claim_statement()
    params = {
        "id": submission_id,
        "token": token,
        "now": now,
        "expires": expires,
        "max_tries": settings.GRADING_MAX_TRIES,
        "queued": Submission.Status.QUEUED,
        "grading": Submission.Status.GRADING,
    }
    with rows.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    submission, exercise, variant = (read(row) for read in readers)
    submission.exercise = exercise
    if variant is not None:
        # The exercise read here, not a second copy read again for its expected answers.
        variant.exercise = exercise
        submission.variant = variant
    return submission


@cache
def _claim_statement():
    """The SQL of `_claim_and_read` (names from the models), and a reader per model of
    its row's columns."""
    sub, ex, var, c = Submission, Exercise, Variant, rows.column
    status, lease_expires = c(sub, "status"), c(sub, "lease_expires")
    sql = f"""
        WITH taken AS (
            UPDATE {rows.table(sub)} AS s
            SET {status} = %(grading)s, {c(sub, "lease_token")} = %(token)s,
                {lease_expires} = %(expires)s, {c(sub, "started")} = %(now)s,
                {c(sub, "tries")} = s.{c(sub, "tries")} + 1
            WHERE s.{c(sub, "id")} = %(id)s AND s.{c(sub, "tries")} < %(max_tries)s
              AND (s.{status} = %(queued)s OR (s.{status} = %(grading)s AND s.{lease_expires} < %(now)s))
              AND NOT EXISTS (
                SELECT 1 FROM {rows.table(sub)} AS o
                WHERE o.{c(sub, "student")} = s.{c(sub, "student")}
                  AND o.{c(sub, "queue")} = s.{c(sub, "queue")}
                  AND o.{c(sub, "id")} <> s.{c(sub, "id")}
                  AND ((o.{status} = %(grading)s AND o.{lease_expires} >= %(now)s)
                       OR (o.{status} = %(queued)s AND o.{c(sub, "started")} IS NOT NULL))
              )
            RETURNING {rows.columns("s", Submission)}
        )
        SELECT taken.*, {rows.columns("e", Exercise)}, {rows.columns("v", Variant)}
        FROM taken
        JOIN {rows.table(ex)} AS e ON e.{c(ex, "id")} = taken.{c(sub, "exercise")}
        LEFT JOIN {rows.table(var)} AS v ON v.{c(var, "id")} = taken.{c(sub, "variant")}
    """
    readers, start = [], 0
    for model in (sub, ex, var):
        readers.append(rows.reader(model, start))
        start += readers[-1].width
    return sql, readers


def fail(submission_id: int, *, only_if_exhausted: bool = False, reason: str = "") -> bool:
    now = timezone.now()
    claimable = Q(status=Submission.Status.QUEUED) | Q(
        status=Submission.Status.GRADING, lease_expires__lt=now
    )
    qs = Submission.objects.filter(pk=submission_id)
    if only_if_exhausted:
        qs = qs.filter(claimable, tries__gte=settings.GRADING_MAX_TRIES)
    else:
        qs = qs.filter(status__in=[Submission.Status.QUEUED, Submission.Status.GRADING])
    failed = qs.update(
        status=Submission.Status.FAILED,
        message=FAILED_MESSAGE,
        graded=now,
        lease_token=None,
        lease_expires=None,
    )
    if failed:
        log.error("submission %s failed: %s", submission_id, reason or "out of tries")
    return bool(failed)


def lease_left(submission_id: int) -> float | None:
    """Seconds until the live lease on a submission being graded lapses, or None when
    no lease is live (queued, graded, failed, or its lease already expired)."""
    expires = (
        Submission.objects.filter(pk=submission_id, status=Submission.Status.GRADING)
        .values_list("lease_expires", flat=True)
        .first()
    )
    if expires is None:
        return None
    left = (expires - timezone.now()).total_seconds()
    return left if left > 0 else None


def renew(submission_id: int, token: uuid.UUID) -> bool:
    """Extend the lease by GRADING_LEASE_SECONDS from now, for its holder only. False when
    `token` no longer holds it (it lapsed and another worker took the submission)."""
    return bool(
        Submission.objects.filter(
            pk=submission_id, status=Submission.Status.GRADING, lease_token=token
        ).update(lease_expires=timezone.now() + timedelta(seconds=settings.GRADING_LEASE_SECONDS))
    )


class Heartbeat:
    """Renews a lease every third of GRADING_LEASE_SECONDS while its holder grades.

    The beats come from one thread of the grading process, for every lease the process
    holds (`_Beater`): if the process dies, they stop and the lease lapses within
    GRADING_LEASE_SECONDS. They also stop when grading ends, when the lease is lost
    (`stopped` is then set), and after the task's hard time limit (a process stuck in a
    check must not hold its submission forever). A beat that cannot reach the database
    is tried again at the next one. Most gradings end before their first beat is due:
    they cost the thread nothing, where a thread of their own cost a start and a join.
    """

    def __init__(self, submission_id: int, token: uuid.UUID):
        self.submission_id = submission_id
        self.token = token
        self.interval = settings.GRADING_LEASE_SECONDS / 3
        now = time.monotonic()
        self.limit = now + settings.CELERY_TASK_TIME_LIMIT
        self.due = now + self.interval
        self.stopped = threading.Event()
        self.beats = 0

    def __enter__(self) -> Heartbeat:
        _Beater.here().hold(self)
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        _Beater.here().release(self)


class _Beater:
    """The thread that beats for a process's leases (`Heartbeat`); one per process,
    started at its first lease (a forked child starts its own)."""

    _current: _Beater | None = None
    _lock = threading.Lock()

    @classmethod
    def here(cls) -> _Beater:
        beater = cls._current
        if beater is None or beater.pid != os.getpid():
            with cls._lock:
                beater = cls._current
                if beater is None or beater.pid != os.getpid():
                    beater = cls._current = cls()
        return beater

    def __init__(self):
        self.pid = os.getpid()
        self.held: set[Heartbeat] = set()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        # When the thread wakes next by itself (None: only when woken).
        self.until: float | None = None
        threading.Thread(target=self._run, name="lease-heartbeat", daemon=True).start()

    def hold(self, heartbeat: Heartbeat) -> None:
        with self.lock:
            self.held.add(heartbeat)
            sooner = self.until is None or heartbeat.due < self.until
        if sooner:
            self.wake.set()

    def release(self, heartbeat: Heartbeat) -> None:
        with self.lock:
            self.held.discard(heartbeat)

    def _run(self) -> None:
        while True:
            self.wake.clear()
            now = time.monotonic()
            with self.lock:
                due = [h for h in self.held if h.due <= now]
            for heartbeat in due:
                self._beat(heartbeat)
            if due:
                # This thread's own connections, never a grading thread's.
                connections.close_all()
            with self.lock:
                self.until = min((h.due for h in self.held), default=None)
                until = self.until
            self.wake.wait(None if until is None else max(0.0, until - time.monotonic()))

    def _beat(self, heartbeat: Heartbeat) -> None:
        if heartbeat.stopped.is_set() or time.monotonic() >= heartbeat.limit:
            self._stop(heartbeat)
            return
        heartbeat.due = time.monotonic() + heartbeat.interval
        try:
            if not renew(heartbeat.submission_id, heartbeat.token):
                self._stop(heartbeat)
                return
            heartbeat.beats += 1
        except DatabaseError:
            log.warning("lease on submission %s not renewed", heartbeat.submission_id)
            # A broken connection is replaced at the next beat.
            connections.close_all()

    def _stop(self, heartbeat: Heartbeat) -> None:
        heartbeat.stopped.set()
        self.release(heartbeat)


def _in_progress(now) -> Q:
    """Submissions being graded (a live lease), or part-graded and queued for the rest
    (they yielded: queued, yet started)."""
    return Q(status=Submission.Status.GRADING, lease_expires__gte=now) | Q(
        status=Submission.Status.QUEUED, started__isnull=False
    )


def grade(submission_id: int, done: dict | None = None, token: str | None = None) -> str:
    """Claim, grade and record one submission. Returns what happened, for logs and tests:
    "held" when another worker holds a live lease on it; "deferred" when it was sent
    back to wait for the student's other submission; "yielded" when it was sent back
    with the parts judged so far (`done`, which the next delivery carries).

    `token`: the lease this task took before the database went away (a retry): taken
    up again while it still holds, rather than waiting for it to lapse. A database
    error raised once the lease is taken carries it, as `lease_token`.
    """
    if token is None or not renew(submission_id, token):
        token = claim(submission_id)
    if token is None:
        if lease_left(submission_id):
            return "held"
        queue = _pending_queue(submission_id)
        if queue is not None:
            # Still queued, yet not taken: another of the student's submissions was in
            # progress. Never dropped: it may have finished a moment after the claim.
            send(submission_id, queue, done, countdown=BUSY_COUNTDOWN)
            return "deferred"
        # Neither held nor queued: graded or failed, or a lease that lapsed in the instant
        # since the claim looked at it (the sweep sends a lapsing lease's message a little
        # ahead). Take it in that case, rather than drop the message and leave the
        # submission to a later sweep.
        token = claim(submission_id)
        if token is None:
            return "skipped"
    try:
        return _grade(submission_id, token, done)
    except DatabaseError as e:
        e.lease_token = str(token)
        raise


def _grade(submission_id: int, token, done: dict | None) -> str:
    submission = _claimed_submission(submission_id, token)
    if submission is None:
        submission = Submission.objects.select_related("exercise", "variant").get(pk=submission_id)
        if submission.variant is not None:
            submission.variant.exercise = submission.exercise
    # This process's copy of the parts of the exercise's version (`Exercise.with_parts`):
    # the admin and the course loader bump the version whenever they change the parts
    # (the admin in the same transaction), so a new version is read afresh; a change
    # saved some other way without a bump (a shell) is read within PARTS_MAX_AGE.
    # Regrades read the parts themselves.
    submission.exercise.with_parts(max_age=PARTS_MAX_AGE)
    until = clock() + settings.GRADING_SLICE_SECONDS
    try:
        with Heartbeat(submission_id, token):
            results, score = judge(submission, done=done, until=until)
    except grading.Unavailable as e:
        delay(submission_id, token, str(e))
        return "delayed"
    if score is None:
        return "yielded" if give_back(submission, token, results) else "lost-lease"
    with transaction.atomic():
        recorded = record(submission, token, results, score)
        if recorded:
            verdict_stored.send(
                Submission,
                submission_id=submission_id,
                regrade=False,
                student_id=submission.student_id,
                exercise_id=submission.exercise_id,
                problem_set_id=submission.problem_set_id,
            )
    # Lost the lease while grading (it expired and another worker took over): that
    # worker records the verdict instead.
    return "graded" if recorded else "lost-lease"


# Seconds a worker grades with its copy of an exercise version's parts before reading
# them again.
PARTS_MAX_AGE = 30


def record(submission: Submission, token, results: dict, score: float) -> bool:
    """Store the verdict, for the holder of the lease `token` only, with the first entry
    of the verdict history a regrade adds to (a Grading). Whether it was stored. Both or
    neither: one statement on PostgreSQL, else call it inside a transaction."""
    now = timezone.now()
    credit = score * submission.multiplier
    if connection.vendor == "postgresql":
        fields = {f.name: f for f in Submission._meta.concrete_fields}
        with rows.cursor() as cursor:
            cursor.execute(
                _record_statement(),
                {
                    "id": submission.pk,
                    "token": fields["lease_token"].get_db_prep_value(token, connection),
                    "grading": Submission.Status.GRADING,
                    "graded": Submission.Status.GRADED,
                    "results": fields["results"].get_db_prep_value(results, connection),
                    "score": score,
                    "credit": credit,
                    "now": now,
                    "engine": grading.ENGINE_VERSION,
                    "exercise_version": submission.exercise_version,
                },
            )
            return cursor.rowcount > 0
    recorded = Submission.objects.filter(
        pk=submission.pk, status=Submission.Status.GRADING, lease_token=token
    ).update(
        status=Submission.Status.GRADED,
        results=results,
        score=score,
        credit=credit,
        graded=now,
        lease_token=None,
        lease_expires=None,
        engine_version=grading.ENGINE_VERSION,
        message="",
        problem="",
    )
    if recorded:
        Grading.objects.create(
            submission_id=submission.pk,
            score=score,
            credit=credit,
            results=results,
            exercise_version=submission.exercise_version,
            engine_version=grading.ENGINE_VERSION,
            created=now,
        )
    return bool(recorded)


@cache
def _record_statement() -> str:
    """The SQL of `record` on PostgreSQL: the guarded update of the submission and the
    insert of its Grading in one statement (names from the models)."""
    sub, gr, c = Submission, Grading, rows.column

    def cast(model, name: str, param: str) -> str:
        return f"CAST(%({param})s AS {model._meta.get_field(name).cast_db_type(connection)})"

    inserted = [
        "submission",
        "score",
        "credit",
        "results",
        "exercise_version",
        "engine_version",
        "created",
    ]
    return f"""
        WITH graded AS (
            UPDATE {rows.table(sub)}
            SET {c(sub, "status")} = %(graded)s, {c(sub, "results")} = %(results)s,
                {c(sub, "score")} = %(score)s, {c(sub, "credit")} = %(credit)s,
                {c(sub, "graded")} = %(now)s, {c(sub, "lease_token")} = NULL,
                {c(sub, "lease_expires")} = NULL, {c(sub, "engine_version")} = %(engine)s,
                {c(sub, "message")} = '', {c(sub, "problem")} = ''
            WHERE {c(sub, "id")} = %(id)s AND {c(sub, "status")} = %(grading)s
              AND {c(sub, "lease_token")} = %(token)s
            RETURNING {c(sub, "id")}
        )
        INSERT INTO {rows.table(gr)} ({", ".join(c(gr, name) for name in inserted)})
        SELECT graded.{c(sub, "id")}, {cast(gr, "score", "score")}, {cast(gr, "credit", "credit")},
            {cast(gr, "results", "results")}, {cast(gr, "exercise_version", "exercise_version")},
            {cast(gr, "engine_version", "engine")}, {cast(gr, "created", "now")}
        FROM graded
    """


def _pending_queue(submission_id: int) -> str | None:
    """The queue of a submission still waiting for its verdict, else None."""
    return (
        Submission.objects.filter(pk=submission_id, status=Submission.Status.QUEUED)
        .values_list("queue", flat=True)
        .first()
    )


def give_back(submission: Submission, token: uuid.UUID, done: dict) -> bool:
    """A submission that used up its slice: queued again (still `started`: in progress),
    the try not counted, and sent to the back of its queue with the parts judged so far."""
    with transaction.atomic():
        given = Submission.objects.filter(
            pk=submission.pk, status=Submission.Status.GRADING, lease_token=token
        ).update(
            status=Submission.Status.QUEUED,
            tries=F("tries") - 1,
            lease_token=None,
            lease_expires=None,
        )
        if given:
            send(submission.pk, submission.queue, done)  # once the transaction commits
    return bool(given)


def delay(submission_id: int, token: uuid.UUID, reason: str) -> bool:
    """Give back a submission that could not be judged now (no sandbox for its code):
    queued again, the try not counted, a message for the student and the reason for
    staff. The sweep sends it again after GRADING_REQUEUE_AFTER."""
    now = timezone.now()
    delayed = Submission.objects.filter(
        pk=submission_id, status=Submission.Status.GRADING, lease_token=token
    ).update(
        status=Submission.Status.QUEUED,
        tries=F("tries") - 1,
        started=None,
        lease_token=None,
        lease_expires=None,
        last_sent=now,
        message=DELAYED_MESSAGE,
        problem=f"Grading delayed at {now:%Y-%m-%d %H:%M:%S}: no sandbox for code: {reason}",
    )
    log.error(
        "submission %s not graded: no sandbox for code could be started: %s", submission_id, reason
    )
    return bool(delayed)


def judge(
    submission: Submission, done: dict | None = None, until: float | None = None
) -> tuple[dict, float | None]:
    """The verdict for each part, and the weighted score from 0 to 1.

    A randomised exercise is judged against the expected answers of the variant the
    student was shown. A code part earns its weight times the weighted share of its
    tests passed. Raises `grading.Unavailable` when a code part cannot be run now (no
    sandbox): nothing is judged then.

    `done`: verdicts of parts judged before, kept as they are. `until`: a time
    (`clock()`) past which no further part is begun; the score is then None
    and the verdicts are those of the parts judged so far.
    """
    results: dict[str, dict] = {}
    variant = submission.variant
    exercise = submission.exercise
    parts = list(exercise.parts.all())
    broken = ""
    try:
        if variant is None and exercise.needs_variants():
            # Submitted before the exercise was randomised: judge it as the student's variant.
            variant = submission.placed_exercise().variant_for(submission.student)
    except variants.VariantError as e:
        broken = str(e)
    for part in parts:
        if done and part.key in done:
            results[part.key] = done[part.key]
            continue
        if until is not None and results.keys() - (done or {}).keys():
            # This slice has judged a part already: stop if its time is up.
            if clock() > until:
                return results, None
        answer = submission.answers.get(part.key, "")
        if scoring.is_blank(answer):
            # Left blank: not graded, and no part of the student's best (`exercises.scoring`).
            results[part.key] = scoring.unanswered()
            continue
        results[part.key] = judge_part(part, answer, variant, broken)
    return results, scoring.score(parts, results)


def judge_part(part: Part, answer: str, variant, broken: str = "") -> dict:
    """One part's verdict, for the student; `broken`: why the variant cannot be had."""
    try:
        if broken:
            raise variants.VariantError(broken)
        case = part.case(answer, variant)
    except variants.VariantError as e:
        verdict = grading.Verdict("error", str(e))
    else:
        verdict = grading.check(case, timeout=settings.GRADING_TIMEOUT)
    status = verdict.status
    message = verdict.message
    if status == "error":
        # The exercise itself is wrong: the author must fix it, the student is not blamed.
        log.error("exercise %s part %s: %s", part.exercise.slug, part.key, message)
        message = "This part could not be graded because of a problem in the exercise; your teachers have been told."
    result = {"status": status, "message": message}
    if part.kind == Part.Kind.CODE:
        result.update(code_result(verdict))
    elif status == "incorrect" and "score" in verdict.details:
        # A choice with partial credit: the share of the part its selection earned.
        result["score"] = float(verdict.details["score"])
    if status == "incorrect" and part.mistakes:
        # Which known mistake it made, if any (None: none), for item analysis
        # (`exercises.item_analysis`, which matches them again where this is missing).
        result["mistake"] = verdict.details.get("mistake_index")
    return result


def code_result(verdict: grading.Verdict) -> dict:
    """A code part's score (0..1) and the feedback a student may see: the visible tests,
    the hidden tests' counts (never their inputs) and the printed output."""
    details = verdict.details or {}
    if verdict.status == "correct":
        score = 1.0
    elif verdict.status == "incorrect":
        score = float(details.get("score") or 0.0)
    else:
        score = 0.0
    shown = {key: details[key] for key in ("tests", "hidden", "output") if key in details}
    return {"score": score, "details": shown if verdict.status != "error" else {}}


def sweep() -> dict[str, int]:
    """Publish again what the broker has lost, and what a dead worker left behind.

    A queued submission is sent again once the broker holds no message for it: none
    waiting in its queue, none received by a worker within GRADING_LEASE_SECONDS (a
    live worker takes what it received within a slice or two; a dead one never does).
    One that was never sent (the broker was down) goes at once, one held back for want
    of a sandbox after GRADING_REQUEUE_AFTER. A submission whose lease lapses before the
    next sweep goes too (its worker died; the task waits for the lease to lapse), unless
    a message for it was received after it was taken (a retry already waiting for the
    lapse: the holder's own message does not count, as the holder may be dead).

    So a backlog is graded once, at the pace of the workers, however long it waits.
    Where the broker cannot be read, a queued submission sent more than
    GRADING_REQUEUE_AFTER ago is sent again.
    """
    now = timezone.now()
    lease = timedelta(seconds=settings.GRADING_LEASE_SECONDS)
    stale_send = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER)
    queued = Q(status=Submission.Status.QUEUED) & (
        Q(last_sent__isnull=True)
        | Q(last_sent__lt=stale_send)
        | Q(last_sent__lt=now - lease, problem="")
    )
    # Sooner than a live holder's heartbeat leaves its lease (two thirds of it, at least).
    ahead = min(settings.SWEEP_INTERVAL, settings.GRADING_LEASE_SECONDS / 3)
    abandoned = Q(
        status=Submission.Status.GRADING, lease_expires__lt=now + timedelta(seconds=ahead)
    )
    counts = {"resent": 0, "failed": 0}
    found = list(
        Submission.objects.filter(queued | abandoned).values_list(
            "pk", "tries", "queue", "status", "started", "last_sent"
        )
    )
    if not found:
        return counts
    held = in_broker(
        GRADE,
        {app.conf.task_default_queue, settings.CODE_QUEUE},
        delivered_within=max(settings.GRADING_REQUEUE_AFTER, settings.GRADING_LEASE_SECONDS),
    )
    for pk, tries, queue, status, started, last_sent in found:
        if status == Submission.Status.QUEUED:
            if held is None:
                if last_sent is not None and last_sent >= stale_send:
                    continue
            elif pk in held and held[pk] > (now - lease).timestamp():
                continue
        elif held is not None and pk in held and held[pk] > started.timestamp():
            continue
        if tries >= settings.GRADING_MAX_TRIES:
            counts["failed"] += fail(pk, only_if_exhausted=True)
        else:
            counts["resent"] += send(pk, queue)
    return counts


def requeue(submission_ids) -> int:
    """Staff: put stuck or failed submissions back in the queue with fresh tries."""
    found = list(
        Submission.objects.filter(
            pk__in=submission_ids,
            status__in=[
                Submission.Status.FAILED,
                Submission.Status.QUEUED,
                Submission.Status.GRADING,
            ],
        ).values_list("pk", "queue")
    )
    Submission.objects.filter(pk__in=[pk for pk, _ in found]).update(
        status=Submission.Status.QUEUED,
        tries=0,
        started=None,
        lease_token=None,
        lease_expires=None,
        message="",
        problem="",
    )
    for pk, queue in found:
        send(pk, queue)
    return len(found)
