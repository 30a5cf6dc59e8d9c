"""Assignment and Grade Services: line items for placed problem sets, and scores.

A placement of a problem set (or a single exercise) has one line item in the platform's
gradebook, found or made on the first graded launch and reused after: by the line item
the platform made for the link (its AGS claim's `lineitem`), else by our resource id
(`problem-set:<slug>`) among the context's line items, ours first and then the
platform's (a copied course brings its line items along), and only then made.

A verdict or a regrade that changes one records a `ScorePost` per line item the student
is in, and a Celery task sends it (`lti.tasks.post_score`). What is sent is the
student's credit on the problem set at that moment (best per exercise, as the gradebook
counts it), so that a post sent again never sends a stale score.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone
from lti_tool.models import LtiContext, LtiLineItem, LtiUser
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from courseserver.celery import publish
from exercises import gradebook, rows, scoring
from exercises.models import Exercise, Submission
from exercises.signals import verdict_stored
from lti.models import Placement, ScorePost
from lti.tool import PlatformSession, ensure_key

log = logging.getLogger(__name__)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
TAG = "course-server"
# A launch making a line item holds it for at most this long; another waits this long.
LINE_ITEM_LOCK_SECONDS = 60
LINE_ITEM_WAIT_SECONDS = 10


class PostFailed(Exception):
    """A score post the platform refused or could not be reached for."""


def service(context: LtiContext, lineitem: str | None = None) -> AssignmentsGradesService:
    """pylti1p3's AGS client for a context, from what its launches said."""
    ensure_key()
    scopes = [
        scope
        for scope, allowed in [
            (SCOPE_LINEITEM, context.can_manage_lineitems),
            (SCOPE_LINEITEM_READONLY, context.can_query_lineitems),
            (SCOPE_RESULT, context.can_access_results),
            (SCOPE_SCORE, context.can_publish_scores),
        ]
        if allowed
    ]
    registration = context.deployment.registration.to_registration()
    data = {"scope": scopes, "lineitems": context.lineitems_url}
    if lineitem:
        data["lineitem"] = lineitem
    return AssignmentsGradesService(ServiceConnector(registration, PlatformSession()), data)


def resource_id(placement: Placement) -> str:
    if placement.exercise_id:
        return f"exercise:{placement.exercise.slug}"
    return f"problem-set:{placement.problem_set.slug}"


def exercises_of(placement: Placement) -> list[Exercise]:
    """The exercises whose scores the placement's line item sums: a linked exercise
    (in its own set), or a linked problem set's published exercises, its own and those
    placed in it from the question bank, each as shown in that set."""
    if placement.exercise_id:
        return [placement.exercise]
    exercises, _ = gradebook.best_credits([placement.problem_set], students=[])
    return exercises


def ensure_line_item(placement: Placement, claimed: str | None = None) -> LtiLineItem | None:
    """The placement's line item, found or made (see the module's docstring); None when
    the placement is not graded or the platform offers no gradebook."""
    if placement.line_item_id or not placement.graded:
        return placement.line_item
    context = placement.resource_link.context
    rid = resource_id(placement)
    item = None
    if claimed:
        item, _ = LtiLineItem.objects.get_or_create(
            url=claimed,
            defaults={
                "context": context,
                "maximum_score": float(len(exercises_of(placement)) or 1),
                "label": placement.target.title,
            },
        )
    if item is None:
        item = LtiLineItem.objects.filter(context=context, resource_id=rid).first()
    if (
        item is None
        and context.lineitems_url
        and (context.can_manage_lineitems or context.can_query_lineitems)
    ):
        # One launch at a time asks the platform, so that two first launches at once
        # never make two line items; the other waits for its result.
        lock = f"lti-line-item:{context.pk}:{rid}"
        if cache.add(lock, 1, LINE_ITEM_LOCK_SECONDS):
            try:
                item = _find_or_make(placement, context, rid)
            finally:
                cache.delete(lock)
        else:
            deadline = time.monotonic() + LINE_ITEM_WAIT_SECONDS
            while item is None and time.monotonic() < deadline:
                time.sleep(0.2)
                item = LtiLineItem.objects.filter(context=context, resource_id=rid).first()
    if item is not None:
        placement.line_item = item
        placement.save(update_fields=["line_item"])
    return item


def _find_or_make(placement: Placement, context: LtiContext, rid: str) -> LtiLineItem | None:
    """The line item with resource id `rid` among the context's on the platform, made
    there if there is none, and stored here; None when the platform cannot say."""
    label = placement.target.title
    maximum = float(len(exercises_of(placement)) or 1)
    ags = service(context)
    try:
        found = ags.find_lineitem_by_resource_id(rid)
        if found is None and context.can_manage_lineitems:
            found = ags.find_or_create_lineitem(
                LineItem()
                .set_label(label)
                .set_score_maximum(maximum)
                .set_resource_id(rid)
                .set_tag(TAG)
                .set_resource_link_id(placement.resource_link.id_on_platform),
                find_by="resource_id",
            )
    except (LtiException, LtiServiceException, OSError) as e:
        log.warning("no line item for %s: %s", placement, e)
        return None
    if found is None or not found.get_id():
        return None
    item, _ = LtiLineItem.objects.get_or_create(
        url=found.get_id(),
        defaults={
            "context": context,
            "maximum_score": found.get_score_maximum() or maximum,
            "label": found.get_label() or label,
            "resource_id": rid,
            "tag": found.get_tag() or "",
            "resource_link": placement.resource_link,
        },
    )
    return item


def held_back(placement: Placement) -> bool:
    """Whether the placement's verdicts are still held back from students (a quiz
    whose feedback is not released): its scores are not sent either."""
    problem_set = placement.problem_set or placement.exercise.problem_set
    return not problem_set.shows_feedback()


def post_all(problem_set) -> int:
    """A score post for every student with an LTI account whose score on this problem
    set (or one of its exercises) goes to a line item: after a quiz's feedback is
    released, or to set the platform's column straight. How many were recorded."""
    placements = Placement.objects.filter(
        Q(problem_set=problem_set) | Q(exercise__problem_set=problem_set)
    ).select_related("line_item", "resource_link__context__deployment")
    count = 0
    for placement in placements:
        for lti_user in learners(placement).filter(auth_user__isnull=False):
            post = ScorePost.objects.create(
                line_item=placement.line_item,
                lti_user=lti_user,
                student_id=lti_user.auth_user_id,
                placement=placement,
                cause="all scores of the problem set",
            )
            send_later(post.pk)
            count += 1
    return count


def score_for(student, placement: Placement) -> tuple[float, float]:
    """(credit, out of): the student's best credit summed over the placement's
    published exercises, one point each, as in the gradebook; the work done in the set
    the exercises are shown in (an exercise of the question bank placed in a quiz and in
    a practice set is scored apart in each)."""
    if placement.exercise_id:
        exercise = placement.exercise
        graded = Submission.objects.filter(
            student=student,
            exercise=exercise,
            problem_set_id=exercise.problem_set_id,
            status=Submission.Status.GRADED,
        ).only("results", "multiplier", "credit")
        best = scoring.best_credit(list(exercise.parts.all()), list(graded))
        return round(best or 0.0, 4), 1.0
    exercises, best = gradebook.best_credits([placement.problem_set], students=[student])
    return round(sum(best.values()), 4), float(len(exercises))


def learners(placement: Placement):
    """The platform users whose scores go to the placement's line item: the learners
    of its course on the platform (known from their launches or the roster)."""
    return LtiUser.objects.filter(
        memberships__context_id=placement.resource_link.context_id,
        memberships__is_learner=True,
        memberships__is_active=True,
    )


def record(student_id: int, exercise: Exercise, cause: str, problem_set_id=None) -> list[int]:
    """A pending ScorePost for every line item this student's score on `exercise`, in
    the problem set `problem_set_id` (its own by default; another where it is placed
    from the question bank), goes to (one per line item, however many links share it);
    their ids. A placement whose line item could not be had at its launch gets a post
    too: it is looked for again when the post is sent."""
    if problem_set_id is None:
        problem_set_id = exercise.problem_set_id
    linked = Q(problem_set_id=problem_set_id)
    if problem_set_id == exercise.problem_set_id:
        # A link to the exercise itself opens it in its own set.
        linked |= Q(exercise=exercise)
    placements = (
        Placement.objects.filter(linked)
        .exclude(problem_set__isnull=True, exercise__isnull=True)
        .select_related("line_item", "resource_link__context__deployment")
        # Those with a line item first: one without, in the same course for the same
        # content, will find that one.
        .order_by(F("line_item_id").desc(nulls_last=True), "pk")
    )
    posts = []
    seen = set()
    for placement in placements:
        keys = {(placement.resource_link.context_id, resource_id(placement))}
        if placement.line_item_id:
            keys.add(placement.line_item_id)
        if keys & seen:
            continue
        lti_user = learners(placement).filter(auth_user_id=student_id).first()
        if lti_user is None:
            continue
        seen |= keys
        posts.append(
            ScorePost.objects.create(
                line_item=placement.line_item,
                lti_user=lti_user,
                student_id=student_id,
                placement=placement,
                cause=cause,
            ).pk
        )
    return posts


def send_later(post_id: int) -> None:
    publish(
        "lti.tasks.post_score",
        post_id,
        queue=settings.LTI_QUEUE,
        on_sent=partial(_published, post_id),
    )


def _published(post_id: int) -> None:
    ScorePost.objects.filter(pk=post_id).update(published=timezone.now())


# A pending post's task lost by the broker (down when it was published, or a worker
# gone with it) is sent again after this long: more than all its retries' waits.
SWEEP_AFTER = timedelta(minutes=15)


def sweep() -> int:
    """Send again the pending posts whose task the broker never took, or took long
    ago; how many. Running a post twice sends it once (`send` skips a sent post)."""
    now = timezone.now()
    lost = ScorePost.objects.filter(status=ScorePost.Status.PENDING).filter(
        Q(published__isnull=True, created__lt=now - timedelta(minutes=1))
        | Q(published__lt=now - SWEEP_AFTER)
    )
    ids = list(lost.values_list("pk", flat=True)[:500])
    for post_id in ids:
        send_later(post_id)
    return len(ids)


@receiver(verdict_stored)
def _on_verdict(
    sender, submission_id: int, regrade: bool = False, student_id: int | None = None, **kwargs
) -> None:
    # Sent inside the transaction that stores the verdict: nothing here may undo it.
    try:
        if student_id is not None and not _launched(student_id):
            # Most students never come through a platform: one indexed look-up, no more.
            return
        with transaction.atomic():
            submission = Submission.objects.select_related("exercise").get(pk=submission_id)
            cause = f"{'regrade of' if regrade else 'verdict on'} submission {submission_id}"
            for post_id in record(
                submission.student_id, submission.exercise, cause, submission.problem_set_id
            ):
                send_later(post_id)
    except DatabaseError:
        log.exception("no score post recorded for submission %s", submission_id)


def _launched(student_id: int) -> bool:
    """Whether the student has a platform account (an `LtiUser`): only then can a score
    of theirs go to a line item. Plain SQL, since it runs for every verdict and the
    ORM's compilation of even this query costs more than the database's answer."""
    with rows.cursor() as cursor:
        cursor.execute(_LAUNCHED_SQL, [student_id])
        return cursor.fetchone() is not None


_LAUNCHED_SQL = (
    f"SELECT 1 FROM {rows.table(LtiUser)} WHERE {rows.column(LtiUser, 'auth_user')} = %s LIMIT 1"
)


def send(post_id: int) -> str:
    """Send a score post: the student's current score on its placement. "sent", or
    "skipped" when it was sent already; raises PostFailed with the reason."""
    post = ScorePost.objects.select_related(
        "line_item", "lti_user", "student", "placement__problem_set", "placement__exercise"
    ).get(pk=post_id)
    if post.status == ScorePost.Status.SENT:
        return "skipped"
    given, maximum = score_for(post.student, post.placement)
    grade = Grade().set_timestamp(timezone.now().isoformat()).set_user_id(post.lti_user.sub)
    if held_back(post.placement):
        # A quiz whose feedback is not released: the platform hears that work came in,
        # not its score (`manage.py lti_post_scores` sends the scores at the release).
        given = None
        grade.set_activity_progress("Submitted").set_grading_progress("Pending")
    else:
        grade.set_score_given(given).set_score_maximum(maximum).set_grading_progress(
            "FullyGraded"
        ).set_activity_progress("Completed" if given >= maximum else "InProgress")
    ScorePost.objects.filter(pk=post_id).update(
        tries=post.tries + 1, score_given=given, score_maximum=maximum
    )
    if post.line_item is None:
        post.line_item = ensure_line_item(post.placement)
        if post.line_item is None:
            raise PostFailed("The platform has no line item for this link, and made none.")
        ScorePost.objects.filter(pk=post_id).update(line_item=post.line_item)
    context = post.line_item.context
    try:
        if not context.can_publish_scores:
            raise PostFailed("The platform did not grant the score scope to this course.")
        ags = service(context, lineitem=post.line_item.url)
        ags.put_grade(grade, LineItem({"id": post.line_item.url}))
    except LtiServiceException as e:
        raise PostFailed(
            f"The platform answered {e.response.status_code}: {e.response.text[:500]}"
        ) from e
    except (LtiException, OSError) as e:
        raise PostFailed(str(e) or e.__class__.__name__) from e
    ScorePost.objects.filter(pk=post_id).update(
        status=ScorePost.Status.SENT, sent=timezone.now(), reason=""
    )
    return "sent"


def failed(post_id: int, reason: str, final: bool) -> None:
    """A try failed: its reason is kept; the post is marked failed after the last try."""
    changes = {"reason": reason}
    if final:
        changes["status"] = ScorePost.Status.FAILED
    ScorePost.objects.filter(pk=post_id).exclude(status=ScorePost.Status.SENT).update(**changes)


def resend(post_ids) -> int:
    """Send these failed posts again: each a new post (the failed one stays, for the
    record); the new ones' count."""
    count = 0
    for post in ScorePost.objects.filter(pk__in=post_ids, status=ScorePost.Status.FAILED):
        again = ScorePost.objects.create(
            line_item=post.line_item,
            lti_user=post.lti_user,
            student=post.student,
            placement=post.placement,
            cause=f"sent again (post {post.pk})",
        )
        send_later(again.pk)
        count += 1
    return count
