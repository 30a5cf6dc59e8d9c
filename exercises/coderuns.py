"""Running a code part's visible tests before submitting: feedback that costs no attempt.

`start` checks the source compiles (a syntax error is refused there and then, with its
line and column), that the student may run tests now (the problem set's dates, a quiz
whose feedback is held back: the tests' results would be feedback) and is within
CODE_RUNS_PER_MINUTE, saves a `CodeRun` and publishes its id on the code queue once the
transaction commits. `perform`, on a code worker, claims the run with a conditional
update, runs only the visible tests in a sandbox and stores the verdict.

As for submissions, nothing runs unsandboxed: where no sandbox can be started the run
is `delayed` with a message for the student, and the sweep sends it again later. A run
nobody has done after STALE_AFTER is given up (the student has long moved on).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

import grading
from courseserver.celery import publish
from exercises import queue, ratelimit, variants
from exercises.models import CodeRun, Exercise, Part

log = logging.getLogger(__name__)

RUN = "exercises.tasks.run_visible_tests"

DELAYED_MESSAGE = (
    "Running your code is delayed; the results will appear here when it has run "
    "— this costs you nothing."
)
GIVEN_UP_MESSAGE = "Your code was not run in time. Run the tests again."
HELD_MESSAGE = (
    "In this quiz the feedback is released later, so the tests cannot be run before you submit."
)
EXERCISE_PROBLEM = (
    "The tests could not be run because of a problem in the exercise; your teachers have been told."
)
STALE_AFTER = timedelta(hours=1)


class RunRefused(Exception):
    """The run was not started; the message says why, for the student."""

    def __init__(self, message: str, http_status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        # 400: no such code part; 422: the source cannot be read; 403: not now (dates,
        # held feedback); 429: over the rate limit; 503: the exercise itself is broken.
        self.http_status = http_status
        self.retry_after = retry_after


def start(student, exercise: Exercise, part_key: str, source: str) -> CodeRun:
    """Check and save a run of the visible tests of part `part_key` on `source`, and
    queue it. Raises RunRefused (nothing saved, nothing queued)."""
    # Looked up here, not in a query: the key is the client's text, and a NUL or a lone
    # surrogate in it is no key, not a database error.
    part = next(
        (p for p in exercise.parts.all() if p.key == part_key and p.kind == Part.Kind.CODE), None
    )
    if part is None:
        raise RunRefused(f"This exercise has no code part named {part_key!r}.", 400)
    if not isinstance(source, str) or not source.strip():
        raise RunRefused("Write your function first.")
    now = timezone.now()
    if not exercise.problem_set.shows_feedback(now):
        raise RunRefused(HELD_MESSAGE, 403)
    closed = queue.closed_reason(exercise, student, now)
    if closed:
        raise RunRefused(closed, 403)
    try:
        variant = exercise.variant_for(student)
        problem = part.validate_answer(source, variant)
    except variants.VariantError as e:
        log.error("exercise %s: no variant for student %s: %s", exercise.slug, student.pk, e)
        raise RunRefused(queue.UNAVAILABLE_MESSAGE, 503) from None
    if problem:
        raise RunRefused(problem)
    refusal = ratelimit.code_run(student)
    if refusal is not None:
        raise RunRefused(refusal.message, 429, refusal.retry_after)
    run = CodeRun.objects.create(
        student=student,
        exercise=exercise,
        problem_set=exercise.problem_set,
        variant=variant,
        part_key=part.key,
        source=source,
        created=now,
    )
    send(run.pk)
    return run


def send(run_id: int) -> bool:
    """Publish the run on the code queue, after the commit inside a transaction. Never
    raises: with the broker down the run stays queued and the sweep sends it later."""
    return publish(
        RUN,
        run_id,
        queue=settings.CODE_QUEUE,
        on_sent=lambda: CodeRun.objects.filter(pk=run_id).update(last_sent=timezone.now()),
    )


def _claimable(now) -> Q:
    lease = timedelta(seconds=settings.CODE_RUN_LEASE_SECONDS)
    return Q(status__in=[CodeRun.Status.QUEUED, CodeRun.Status.DELAYED]) | Q(
        status=CodeRun.Status.RUNNING, started__lt=now - lease
    )


def perform(run_id: int) -> str:
    """Run the visible tests of a queued run and store the verdict. Returns what happened."""
    now = timezone.now()
    taken = (
        CodeRun.objects.filter(_claimable(now), pk=run_id, tries__lt=settings.GRADING_MAX_TRIES)
        .filter(created__gte=now - STALE_AFTER)
        .update(status=CodeRun.Status.RUNNING, started=now, tries=F("tries") + 1)
    )
    if not taken:
        # Taken every time by a worker that died (code that kills it?), or too old.
        given_up = (
            CodeRun.objects.filter(_claimable(now), pk=run_id)
            .filter(Q(tries__gte=settings.GRADING_MAX_TRIES) | Q(created__lt=now - STALE_AFTER))
            .update(status=CodeRun.Status.FAILED, message=GIVEN_UP_MESSAGE, finished=now)
        )
        return "failed" if given_up else "skipped"
    run = CodeRun.objects.select_related("exercise", "variant").get(pk=run_id)
    part = run.exercise.parts.filter(key=run.part_key).first()
    try:
        if part is None:
            raise variants.VariantError(f"the exercise has no part {run.part_key!r} any more")
        variant = run.variant
        values = variant.values if variant is not None else {}
        case = part.case_for(run.source, "", values, variant.seed if variant is not None else 0)
        case["only_visible"] = True
        verdict = grading.check(case, timeout=settings.GRADING_TIMEOUT)
    except grading.Unavailable as e:
        log.error("code run %s not run: no sandbox for code could be started: %s", run_id, e)
        CodeRun.objects.filter(pk=run_id, status=CodeRun.Status.RUNNING).update(
            status=CodeRun.Status.DELAYED,
            tries=F("tries") - 1,
            last_sent=timezone.now(),
            message=DELAYED_MESSAGE,
            problem=f"no sandbox for code: {e}",
        )
        return "delayed"
    except variants.VariantError as e:
        verdict = grading.Verdict("error", str(e))
    result = {"status": verdict.status, "message": verdict.message, **queue.code_result(verdict)}
    problem = ""
    if verdict.status == "error":
        log.error("exercise %s part %s: %s", run.exercise.slug, run.part_key, verdict.message)
        problem = verdict.message
        result["message"] = EXERCISE_PROBLEM
    done = CodeRun.objects.filter(pk=run_id, status=CodeRun.Status.RUNNING).update(
        status=CodeRun.Status.DONE,
        result=result,
        message="",
        problem=problem,
        finished=timezone.now(),
    )
    return "done" if done else "skipped"


def sweep() -> dict[str, int]:
    """Send again the runs not yet taken, delayed, or left by a dead worker; give up those
    nobody has run within STALE_AFTER."""
    now = timezone.now()
    stale_send = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER)
    waiting = Q(status__in=[CodeRun.Status.QUEUED, CodeRun.Status.DELAYED]) & (
        Q(last_sent__isnull=True) | Q(last_sent__lt=stale_send)
    )
    abandoned = Q(
        status=CodeRun.Status.RUNNING,
        started__lt=now - timedelta(seconds=settings.CODE_RUN_LEASE_SECONDS),
    )
    pending = CodeRun.objects.filter(waiting | abandoned)
    given_up = pending.filter(
        Q(created__lt=now - STALE_AFTER) | Q(tries__gte=settings.GRADING_MAX_TRIES)
    ).update(status=CodeRun.Status.FAILED, message=GIVEN_UP_MESSAGE, finished=now)
    resent = 0
    for pk in pending.values_list("pk", flat=True):
        resent += send(pk)
    return {"runs_resent": resent, "runs_given_up": given_up}
