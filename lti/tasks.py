"""Celery tasks of the LTI app: thin wrappers around `lti.grades`."""

from celery import shared_task
from django.conf import settings

from lti import grades


@shared_task(bind=True, acks_late=True, max_retries=None)
def post_score(self, post_id: int) -> str:
    """Send score post `post_id`; a refusal or an unreachable platform is tried again
    later, LTI_SCORE_TRIES times in all, then left failed for staff to see and re-send."""
    try:
        return grades.send(post_id)
    except grades.PostFailed as e:
        last = self.request.retries + 1 >= settings.LTI_SCORE_TRIES
        grades.failed(post_id, str(e), final=last)
        if last:
            return "failed"
        # 30 s, 1 min, 2 min, ...: a platform that is down for a while is not hammered.
        raise self.retry(countdown=30 * 2**self.request.retries) from e


@shared_task(ignore_result=True)
def sweep_score_posts() -> int:
    """Send again the score posts whose task was lost (see `grades.sweep`)."""
    return grades.sweep()
