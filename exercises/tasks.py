"""Celery tasks: thin wrappers around the modules that do the work, which tests call
directly. Those modules send these tasks by name through `courseserver.celery.publish`:
they never import this module, which imports them."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from exercises import (
    answer_stats,
    authoring_preview,
    coderuns,
    question_tests,
    queue,
    quiz,
    regrade,
)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=3,
    default_retry_delay=5,
    throws=(SoftTimeLimitExceeded,),
)
def grade_submission(
    self, submission_id: int, done: dict | None = None, token: str | None = None
) -> str:
    """Grade submission `submission_id` (`done`: the parts judged before it yielded;
    `token`: its lease, on a retry); running it twice grades once."""
    try:
        outcome = queue.grade(submission_id, done, token)
        left = queue.lease_left(submission_id) if outcome == "held" else None
    except OperationalError as e:
        # The database is busy or briefly unreachable; the lease keeps others off, and
        # the retry takes it up again.
        token = getattr(e, "lease_token", token)
        raise self.retry(exc=e, args=[submission_id, done, token]) from e
    if left is not None and self.request.retries < self.max_retries:
        # Another worker holds the lease. It is this message's own first delivery when
        # the pool process grading it died (the message comes back, the lease does
        # not): try again as the lease lapses rather than wait for the sweep. A live
        # holder renews it, and then the next try finds the verdict recorded.
        raise self.retry(countdown=left + 1, max_retries=self.max_retries)
    return outcome


@shared_task(ignore_result=True)
def sweep_submissions() -> dict:
    return {**queue.sweep(), **regrade.sweep(), **coderuns.sweep()}


@shared_task(ignore_result=True)
def sweep_quiz_drafts() -> dict:
    """Submit the last drafts of students whose time in a timed quiz is up; running it
    twice submits nothing twice."""
    return quiz.finish_due()


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=3,
    default_retry_delay=5,
    throws=(SoftTimeLimitExceeded,),
)
def run_visible_tests(self, run_id: int) -> str:
    """Run the visible tests of code run `run_id` (sent on the code queue); running it
    twice stores one verdict."""
    try:
        return coderuns.perform(run_id)
    except OperationalError as e:
        raise self.retry(exc=e) from e


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=5)
def run_question_tests(self, run_id: int) -> str:
    """Run question test run `run_id`; running it twice records it once."""
    try:
        return question_tests.perform(run_id)
    except OperationalError as e:
        raise self.retry(exc=e) from e


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=5)
def regrade_submissions(self, job_id: int) -> str:
    """Regrade the next batch of regrade job `job_id`; a second delivery regrades nothing twice."""
    try:
        return regrade.perform(job_id)
    except OperationalError as e:
        raise self.retry(exc=e) from e


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=5)
def compute_answer_stats(self, exercise_id: int) -> str:
    """Count exercise `exercise_id`'s wrong answers; computing them twice stores the same."""
    try:
        return answer_stats.perform(exercise_id)
    except OperationalError as e:
        raise self.retry(exc=e) from e


@shared_task(acks_late=True, throws=(SoftTimeLimitExceeded,))
def run_preview_code(token: str, case: dict) -> str:
    """Run an author's code answer from the admin's preview in the sandbox (sent on the
    code queue) and keep its verdict for the page; running it twice keeps one verdict."""
    return authoring_preview.perform_code(token, case)
