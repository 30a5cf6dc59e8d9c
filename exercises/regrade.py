"""Grading again, after an author's fix, every graded submission of an exercise or of a
problem set.

A RegradeJob is saved, and a message carrying its id is published once the transaction
commits. A worker regrades the submissions in id order, a batch at a time, through the
engine's time-bounded path, moving the job's cursor past each one with a conditional
update; a batch ends by publishing the job again, so no task runs for long. Each
verdict is kept as a Grading (the submission shows the latest); a Grading is recorded
once per job and submission, so a message delivered twice regrades once, and a job
abandoned by a dead worker is sent again by the periodic sweep and resumes at its
cursor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F, Max, Prefetch, Q, prefetch_related_objects
from django.utils import timezone

import grading
from courseserver.celery import publish
from exercises import queue
from exercises.models import (
    Exercise,
    Grading,
    ProblemSet,
    RegradeJob,
    Submission,
    code_queue_for,
)
from exercises.signals import verdict_stored

log = logging.getLogger(__name__)

REGRADE = "exercises.tasks.regrade_submissions"

# Submissions per task, and the time a task gives itself before handing on: well under
# Celery's soft time limit even when every answer takes the grading timeout.
BATCH = 25
BATCH_SECONDS = 30
# A running job whose worker has not reported for this long is sent again.
ABANDONED_AFTER = timedelta(minutes=5)


def start(
    *,
    exercise: Exercise | None = None,
    problem_set: ProblemSet | None = None,
    requested_by=None,
    reason: str = "",
) -> RegradeJob:
    """Record a job for the submissions graded so far and send it after the commit.
    `reason` is what the students whose verdict changes are told."""
    if (exercise is None) == (problem_set is None):
        raise ValueError("regrade either an exercise or a problem set")
    job = RegradeJob(
        exercise=exercise,
        problem_set=problem_set,
        requested_by=requested_by,
        reason=" ".join(reason.split())[: RegradeJob._meta.get_field("reason").max_length],
    )
    job.until = Submission.objects.aggregate(last=Max("pk"))["last"] or 0
    job.total = job.submissions().count()
    job.save()
    send(job.pk)
    return job


def send(job_id: int) -> bool:
    """Publish the job, after the commit inside a transaction, to the code queue when it
    regrades code. Never raises: with the broker down the sweep sends it later."""
    job = RegradeJob.objects.filter(pk=job_id).first()
    if job is None:
        return publish(REGRADE, job_id)
    if job.exercise_id:
        target = Exercise.objects.filter(pk=job.exercise_id)
    else:
        # Its own exercises and those placed in it.
        target = Exercise.objects.filter(
            Q(problem_set_id=job.problem_set_id) | Q(placements__problem_set_id=job.problem_set_id)
        )
    return publish(REGRADE, job_id, queue=code_queue_for(target))


def perform(job_id: int) -> str:
    """Regrade the next batch of the job's submissions. Returns what happened."""
    job = RegradeJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (RegradeJob.Status.DONE, RegradeJob.Status.FAILED):
        return "skipped"
    now = timezone.now()
    RegradeJob.objects.filter(pk=job_id, status=RegradeJob.Status.QUEUED).update(
        status=RegradeJob.Status.RUNNING, started=now, heartbeat=now
    )
    stop_at = time.monotonic() + BATCH_SECONDS
    batch = (
        job.submissions()
        .filter(pk__gt=job.cursor)
        .select_related("exercise", "problem_set", "variant", "student")[:BATCH]
    )
    try:
        for submission in batch:
            changed = regrade_one(job, submission)
            moved = RegradeJob.objects.filter(
                pk=job_id, cursor=job.cursor, status=RegradeJob.Status.RUNNING
            ).update(
                cursor=submission.pk,
                done=F("done") + 1,
                changed=F("changed") + int(bool(changed)),
                heartbeat=timezone.now(),
            )
            if not moved:
                # Another delivery of the same message got here first and carries on.
                return "lost-race"
            job.cursor = submission.pk
            if time.monotonic() > stop_at:
                break
    except OperationalError:
        raise  # the database is briefly unreachable: the task retries, the cursor holds
    except grading.Unavailable as e:
        # No sandbox for code: the job waits where it is and the sweep sends it again.
        log.error("regrade job %s waits: no sandbox for code could be started: %s", job_id, e)
        RegradeJob.objects.filter(pk=job_id).update(
            message=f"waiting: no sandbox for code could be started: {e}"
        )
        return "delayed"
    except Exception as e:
        log.exception("regrade job %s failed", job_id)
        RegradeJob.objects.filter(pk=job_id).update(
            status=RegradeJob.Status.FAILED,
            message=f"{type(e).__name__}: {e}",
            finished=timezone.now(),
        )
        return "failed"
    if job.submissions().filter(pk__gt=job.cursor).exists():
        send(job_id)
        return "continued"
    RegradeJob.objects.filter(pk=job_id, status=RegradeJob.Status.RUNNING).update(
        status=RegradeJob.Status.DONE, finished=timezone.now()
    )
    return "done"


def regrade_one(job: RegradeJob, submission: Submission) -> bool | None:
    """Grade the submission again and make that its verdict, keeping the earlier ones.

    Returns whether the verdict changed, or None when there was nothing to do (already
    regraded by this job, or no longer graded).
    """
    if Grading.objects.filter(submission=submission, job=job).exists():
        return None
    # The engine runs before any lock is taken: it is bounded by the grading timeout.
    results, score = queue.judge(submission)
    exercise_version = submission.exercise.version
    with transaction.atomic():
        current = (
            Submission.objects.select_for_update()
            .filter(pk=submission.pk, status=Submission.Status.GRADED)
            .first()
        )
        if current is None:
            return None
        if not current.gradings.exists():
            # Graded before verdicts were kept: keep this one before it is replaced.
            Grading.objects.create(
                submission=current,
                score=current.score,
                credit=current.credit,
                results=current.results,
                exercise_version=current.exercise_version,
                engine_version=current.engine_version,
                created=current.graded or current.created,
            )
        credit = score * current.multiplier
        try:
            with transaction.atomic():
                Grading.objects.create(
                    submission=current,
                    job=job,
                    score=score,
                    credit=credit,
                    results=results,
                    exercise_version=exercise_version,
                    engine_version=grading.ENGINE_VERSION,
                )
        except IntegrityError:
            return None
        changed = score != current.score or _statuses(results) != _statuses(current.results)
        Submission.objects.filter(pk=current.pk).update(
            results=results,
            score=score,
            credit=credit,
            exercise_version=exercise_version,
            engine_version=grading.ENGINE_VERSION,
            **({"regraded": timezone.now()} if changed else {}),
        )
        if changed:
            verdict_stored.send(
                Submission,
                submission_id=current.pk,
                regrade=True,
                student_id=current.student_id,
                exercise_id=current.exercise_id,
                problem_set_id=current.problem_set_id,
            )
    return changed


def _statuses(results: dict) -> dict:
    return {key: r.get("status") for key, r in (results or {}).items()}


# ---------------------------------------------------------------- what the student sees


@dataclass(frozen=True)
class VerdictChange:
    """A regrade that changed a verdict: when, the score before and after, and why."""

    when: datetime
    old_score: float | None
    new_score: float | None
    old_credit: float | None
    new_credit: float | None
    reason: str

    def as_json(self) -> dict:
        return {
            "at": self.when,
            "old_score": self.old_score,
            "new_score": self.new_score,
            "old_credit": self.old_credit,
            "new_credit": self.new_credit,
            "reason": self.reason,
        }


def default_reason(before: Grading, after: Grading) -> str:
    """Why a verdict changed, when the instructor gave no reason: what the records show."""
    if (
        before.exercise_version is not None
        and after.exercise_version is not None
        and before.exercise_version != after.exercise_version
    ):
        return (
            f"The exercise was corrected (version {before.exercise_version} → "
            f"{after.exercise_version}) and every answer was graded again."
        )
    if before.engine_version and after.engine_version != before.engine_version:
        return "The grading engine was updated and every answer was graded again."
    return "Every answer was graded again."


def verdict_changes(submission: Submission) -> list[VerdictChange]:
    """The regrades that changed this submission's verdict, oldest first; none for a
    regrade that gave the same verdict. Reads `submission.gradings` with their jobs
    (prefetched by a page that lists many submissions), only if a regrade changed it."""
    if submission.regraded is None:
        return []
    gradings = list(submission.gradings.all())
    changes = []
    for before, after in pairwise(gradings):
        if after.job_id is None:
            continue
        if after.score == before.score and _statuses(after.results) == _statuses(before.results):
            continue
        reason = after.job.reason if after.job is not None else ""
        changes.append(
            VerdictChange(
                when=after.created,
                old_score=before.score,
                new_score=after.score,
                old_credit=before.credit,
                new_credit=after.credit,
                reason=reason or default_reason(before, after),
            )
        )
    return changes


def read_changes(submissions: list[Submission]) -> None:
    """Fetch at once the gradings `verdict_changes` reads, for the regraded ones of a list
    of submissions: one query if any was, none otherwise."""
    regraded = [s for s in submissions if s.regraded is not None]
    if regraded:
        prefetch_related_objects(
            regraded, Prefetch("gradings", queryset=Grading.objects.select_related("job"))
        )


def sweep() -> dict[str, int]:
    """Send again the jobs whose message was lost or whose worker died."""
    now = timezone.now()
    unsent = Q(
        status=RegradeJob.Status.QUEUED,
        created__lt=now - timedelta(seconds=settings.GRADING_REQUEUE_AFTER),
    )
    abandoned = Q(status=RegradeJob.Status.RUNNING, heartbeat__lt=now - ABANDONED_AFTER)
    resent = 0
    for pk in RegradeJob.objects.filter(unsent | abandoned).values_list("pk", flat=True):
        resent += send(pk)
    return {"regrades_resent": resent}
