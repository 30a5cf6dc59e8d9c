"""The path of a submission from a student's form to its verdict.

The database is the source of truth. A submission is saved first and a message
carrying only its id is published after the transaction commits. A worker claims
the submission with a conditional update that takes a time-limited lease; only the
holder of the current lease may record the verdict, so a message delivered twice
grades once. A periodic sweep publishes again what is still queued or whose lease
expired (a worker killed outright); after GRADING_MAX_TRIES claims the submission
ends `failed` with a message for the student, so a poison answer never loops.

A submission with a code part goes to the code queue (settings.CODE_QUEUE), whose
workers run code in sandboxes, so that a slow run never delays the maths answers.
Where no sandbox can be started, nothing is run and nothing is recorded as a verdict:
the submission goes back to `queued` without using up a try, with a message for the
student and the reason for staff, and the sweep sends it again later (fail closed).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

import grading
from courseserver.celery import publish
from exercises import ratelimit, variants
from exercises.models import Exercise, Grading, Part, Submission

log = logging.getLogger(__name__)

GRADE = "exercises.tasks.grade_submission"

FAILED_MESSAGE = (
    "We could not grade this submission. Your answers are saved and your teachers "
    "have been told; this attempt does not count against you."
)


UNAVAILABLE_MESSAGE = (
    "This exercise cannot be answered right now because of a problem in it; "
    "your teachers have been told."
)


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

    Raises SubmissionRefused (nothing is saved, no attempt is used) when a part is
    missing or unreadable, or the student is over their limits.
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
        if not isinstance(text, str) or not text.strip():
            errors[part.key] = "This part has no answer yet."
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

    now = timezone.now()
    closed = closed_reason(exercise, student, now)
    if closed:
        raise SubmissionRefused(closed, http_status=403)
    late = exercise.problem_set.is_late(now, student)
    with transaction.atomic():
        # One student's submissions are numbered one at a time.
        get_user_model().objects.select_for_update().filter(pk=student.pk).first()
        # A failed submission was never graded: it does not use up an attempt.
        # One query for the attempts used and the last attempt's number.
        attempts = Submission.objects.filter(student=student, exercise=exercise).aggregate(
            earlier=Count("pk", filter=~Q(status=Submission.Status.FAILED)),
            last=Max("attempt"),
        )
        earlier = attempts["earlier"]
        limit = exercise.attempt_limit
        if limit is not None and earlier >= limit:
            raise SubmissionRefused(
                f"You have used all {limit} attempts at this exercise.",
                http_status=403,
            )
        refusal = ratelimit.submission(student)
        if refusal is not None:
            raise SubmissionRefused(
                refusal.message, http_status=429, retry_after=refusal.retry_after
            )
        submission = Submission.objects.create(
            student=student,
            exercise=exercise,
            variant=variant,
            attempt=(attempts["last"] or 0) + 1,
            answers=clean,
            multiplier=attempt_multiplier(exercise, earlier, late),
            late=late,
            exercise_version=exercise.version,
            queue=queue_for(parts),
            created=now,
        )
        send(submission.pk, submission.queue)  # once the transaction commits
    return submission


def closed_reason(exercise: Exercise, student, now) -> str:
    """Why the student may not answer the exercise now (its problem set's dates, their
    time for a quiz), or "" when they may."""
    problem_set = exercise.problem_set
    if not problem_set.is_open(now):
        return "This problem set is not open yet."
    late = problem_set.is_late(now, student)
    if late and problem_set.late_policy == problem_set.LatePolicy.REFUSE:
        return "The due date of this problem set has passed: answers are no longer accepted."
    start = problem_set.start_for(student, now)
    if start is not None and start.ends() is not None and now > start.ends():
        return (
            f"Your time for this quiz ({problem_set.time_limit} minutes from when you "
            f"started it) is up: answers are no longer accepted."
        )
    return ""


def attempt_multiplier(exercise: Exercise, earlier: int, late: bool) -> float:
    """What an attempt's score is worth after `earlier` counted attempts, late or not."""
    multiplier = max(0.0, 1.0 - exercise.retry_penalty * earlier)
    problem_set = exercise.problem_set
    if late and problem_set.late_policy == problem_set.LatePolicy.PENALTY:
        multiplier *= 1.0 - problem_set.late_penalty
    return multiplier


def queue_for(parts) -> str:
    """Which workers grade answers to these parts (a `Submission.Queue`)."""
    if any(part.kind == Part.Kind.CODE for part in parts):
        return Submission.Queue.CODE
    return Submission.Queue.GRADING


def celery_queue(queue: str) -> str | None:
    """The Celery queue of a `Submission.Queue`; None is the default queue."""
    return settings.CODE_QUEUE if queue == Submission.Queue.CODE else None


def send(submission_id: int, queue: str = Submission.Queue.GRADING) -> bool:
    """Publish "grade this" to the submission's queue, after the commit inside a
    transaction. Never raises: if the broker is down, the sweep sends it later."""
    return publish(
        GRADE,
        submission_id,
        queue=celery_queue(queue),
        on_sent=partial(_mark_sent, submission_id),
    )


def _mark_sent(submission_id: int) -> None:
    Submission.objects.filter(pk=submission_id).update(last_sent=timezone.now())


def claim(submission_id: int) -> uuid.UUID | None:
    """Take the lease on a submission that is queued or whose lease has expired.

    Returns the lease token, or None when there is nothing to do (graded, failed,
    or another worker holds a live lease).
    """
    now = timezone.now()
    token = uuid.uuid4()
    claimable = Q(status=Submission.Status.QUEUED) | Q(
        status=Submission.Status.GRADING, lease_expires__lt=now
    )
    with transaction.atomic():
        taken = (
            Submission.objects.filter(claimable, pk=submission_id)
            .filter(tries__lt=settings.GRADING_MAX_TRIES)
            .update(
                status=Submission.Status.GRADING,
                lease_token=token,
                lease_expires=now + timedelta(seconds=settings.GRADING_LEASE_SECONDS),
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


def grade(submission_id: int) -> str:
    """Claim, grade and record one submission. Returns what happened, for logs and tests."""
    token = claim(submission_id)
    if token is None:
        return "skipped"
    submission = Submission.objects.select_related("exercise", "variant").get(pk=submission_id)
    try:
        results, score = judge(submission)
    except grading.Unavailable as e:
        delay(submission_id, token, str(e))
        return "delayed"
    now = timezone.now()
    with transaction.atomic():
        recorded = Submission.objects.filter(
            pk=submission_id, status=Submission.Status.GRADING, lease_token=token
        ).update(
            status=Submission.Status.GRADED,
            results=results,
            score=score,
            credit=score * submission.multiplier,
            graded=now,
            lease_token=None,
            lease_expires=None,
            engine_version=grading.ENGINE_VERSION,
            message="",
            problem="",
        )
        if recorded:
            # The first entry of the verdict history a regrade adds to.
            Grading.objects.create(
                submission_id=submission_id,
                score=score,
                credit=score * submission.multiplier,
                results=results,
                exercise_version=submission.exercise_version,
                engine_version=grading.ENGINE_VERSION,
                created=now,
            )
    # Lost the lease while grading (it expired and another worker took over): that
    # worker records the verdict instead.
    return "graded" if recorded else "lost-lease"


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


def judge(submission: Submission) -> tuple[dict, float]:
    """The verdict for each part, and the weighted score from 0 to 1.

    A randomised exercise is judged against the expected answers of the variant the
    student was shown. A code part earns its weight times the weighted share of its
    tests passed. Raises `grading.Unavailable` when a code part cannot be run now (no
    sandbox): nothing is judged then.
    """
    results: dict[str, dict] = {}
    total = earned = 0.0
    variant = submission.variant
    exercise = submission.exercise
    broken = ""
    try:
        if variant is None and exercise.needs_variants():
            # Submitted before the exercise was randomised: judge it as the student's variant.
            variant = exercise.variant_for(submission.student)
    except variants.VariantError as e:
        broken = str(e)
    for part in exercise.parts.all():
        answer = submission.answers.get(part.key, "")
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
        results[part.key] = {"status": status, "message": message}
        total += part.weight
        if part.kind == Part.Kind.CODE:
            results[part.key].update(code_result(verdict))
            earned += part.weight * results[part.key]["score"]
        elif status == "correct":
            earned += part.weight
    return results, (earned / total if total else 0.0)


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
    """Publish again what is queued but not taken, and what a dead worker left behind."""
    now = timezone.now()
    stale_send = now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER)
    waiting = Q(status=Submission.Status.QUEUED) & (
        Q(last_sent__isnull=True) | Q(last_sent__lt=stale_send)
    )
    abandoned = Q(status=Submission.Status.GRADING, lease_expires__lt=now)
    counts = {"resent": 0, "failed": 0}
    found = Submission.objects.filter(waiting | abandoned).values_list("pk", "tries", "queue")
    for pk, tries, queue in found:
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
        lease_token=None,
        lease_expires=None,
        message="",
        problem="",
    )
    for pk, queue in found:
        send(pk, queue)
    return len(found)
