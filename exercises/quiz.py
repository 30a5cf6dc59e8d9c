"""Timed quizzes: starting the clock, drafts kept as the student types, and time-up.

The rules:
- A timed quiz's clock starts only when the student asks for it and confirms, on the
  problem set's page; its exercises are not shown before (a student could otherwise
  read the questions with no clock running).
- A student's time is the quiz's time limit plus their extra time (`Accommodation`),
  from their start, and never runs past a due date that refuses late answers.
- While a student types in a timed quiz, the page saves their answers as a draft
  (`QuizDraft`, one per student and exercise). Drafts are accepted until `GRACE`
  after the time is up, for the last one the page sends at zero to arrive.
- When the time is up (and the grace with it), the server submits each draft that is
  newer than the student's own last submission of that exercise and differs from it,
  as a normal submission graded by the workers: the student need not be there. It
  happens in the periodic task (`exercises.tasks.sweep_quiz_drafts`) and, whichever
  comes first, when the student next loads the quiz's pages. One transaction claims
  the student's start (`QuizStart.finished`) before it submits anything, so however
  often and wherever it runs, a draft is submitted once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, transaction
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from exercises import queue, variants
from exercises.models import Exercise, ProblemSet, QuizDraft, QuizStart, Submission

log = logging.getLogger(__name__)

# Drafts are accepted this long after the time is up, and time-up waits as long: the
# page sends its last draft at zero, and it must arrive before the server submits.
GRACE = timedelta(seconds=5)
# What one draft may hold, all parts together: a long code answer fits.
MAX_DRAFT_CHARS = 50_000

START_FIRST_MESSAGE = "This quiz is timed: start it here when you are ready."


def is_timed(problem_set: ProblemSet) -> bool:
    return problem_set.is_quiz and problem_set.time_limit is not None


def waits_for_start(problem_set: ProblemSet, student) -> bool:
    """Whether the student must start this timed quiz before seeing its exercises."""
    return (
        is_timed(problem_set)
        and not QuizStart.objects.filter(student=student, problem_set=problem_set).exists()
    )


# ---------------------------------------------------------------- what the pages show


@dataclass
class QuizState:
    """A timed quiz as one student stands in it, for the set page and the clock."""

    problem_set: ProblemSet
    minutes: int
    extra: int
    start: QuizStart | None
    ends: datetime | None
    # When answers are refused whatever the time (a due date refusing late answers).
    closes: datetime | None
    now: datetime

    @classmethod
    def of(cls, problem_set: ProblemSet, student, now: datetime | None = None) -> QuizState | None:
        """None unless the problem set is a timed quiz."""
        if not is_timed(problem_set):
            return None
        now = now or timezone.now()
        start = QuizStart.objects.filter(student=student, problem_set=problem_set).first()
        if start is not None:
            start.problem_set = problem_set
        minutes = problem_set.minutes_for(student.pk)
        return cls(
            problem_set=problem_set,
            minutes=minutes,
            extra=minutes - problem_set.time_limit,
            start=start,
            ends=start.ends() if start is not None else None,
            closes=problem_set.closes_for(student.pk),
            now=now,
        )

    @property
    def started(self) -> bool:
        return self.start is not None

    @property
    def over(self) -> bool:
        return self.ends is not None and self.now >= self.ends

    @property
    def running(self) -> bool:
        return self.started and not self.over

    @property
    def closed(self) -> bool:
        return self.closes is not None and self.now >= self.closes

    @property
    def can_start(self) -> bool:
        return not self.started and self.problem_set.is_open(self.now) and not self.closed

    @property
    def would_end(self) -> datetime:
        """When the time would be up if the student started now."""
        ends = self.now + timedelta(minutes=self.minutes)
        return ends if self.closes is None else min(ends, self.closes)

    @property
    def cut_short(self) -> bool:
        """Starting now would give less than the full time: the quiz closes first."""
        return self.closes is not None and self.would_end < self.now + timedelta(
            minutes=self.minutes
        )


# ---------------------------------------------------------------- drafts


class DraftRefused(Exception):
    def __init__(self, message: str, http_status: int):
        super().__init__(message)
        self.message = message
        self.http_status = http_status


def save_draft(student, exercise: Exercise, answers, now: datetime | None = None) -> QuizDraft:
    """Keep what the student has typed into an exercise of a timed quiz they are taking.
    Raises DraftRefused for answers that are not text by part, and outside their time."""
    now = now or timezone.now()
    keys = {part.key for part in exercise.parts.all()}
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        raise DraftRefused('Send {"answers": {"<part key>": "<answer text>", ...}}.', 400)
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise DraftRefused(f"This exercise has no part named {', '.join(map(repr, unknown))}.", 400)
    if sum(len(v) for v in answers.values()) > MAX_DRAFT_CHARS:
        raise DraftRefused(f"A draft holds at most {MAX_DRAFT_CHARS} characters.", 400)
    problem_set = exercise.problem_set
    if not is_timed(problem_set):
        raise DraftRefused("Drafts are kept in timed quizzes only.", 403)
    start = QuizStart.objects.filter(student=student, problem_set=problem_set).first()
    if start is None:
        raise DraftRefused("Start the quiz first.", 403)
    start.problem_set = problem_set
    ends = start.ends()
    if ends is not None and now > ends + GRACE:
        raise DraftRefused("Your time for this quiz is up: the draft was not saved.", 403)
    draft, _ = QuizDraft.objects.update_or_create(
        student=student,
        exercise=exercise,
        problem_set=problem_set,
        # New typing: whatever was submitted of the draft before, this is not it.
        defaults={"answers": answers, "saved": now, "submission": None},
    )
    return draft


def draft_answers(student, exercise: Exercise, history: list[Submission]) -> dict[str, str]:
    """The student's draft of a timed quiz's exercise, when it is newer than their last
    submission: what the page shows in the form. Else {}."""
    if not is_timed(exercise.problem_set):
        return {}
    draft = QuizDraft.objects.filter(
        student=student, exercise=exercise, problem_set_id=exercise.problem_set_id
    ).first()
    if draft is None or (history and history[0].created >= draft.saved):
        return {}
    return dict(draft.answers)


# ---------------------------------------------------------------- time-up


def settle(student, now: datetime | None = None) -> int:
    """Submit the drafts of the student's timed quizzes whose time is up (when they next
    load a page, in case the periodic task has not yet). Returns how many."""
    now = now or timezone.now()
    starts = QuizStart.objects.filter(
        student=student,
        finished__isnull=True,
        problem_set__kind=ProblemSet.Kind.QUIZ,
        problem_set__time_limit__isnull=False,
    ).select_related("problem_set")
    return sum(_finish_or_later(start, now) for start in starts if _is_up(start, now))


def finish_due(now: datetime | None = None) -> dict[str, int]:
    """Every student's time-up that has come: their last drafts submitted. For the
    periodic task; running it twice submits nothing twice."""
    now = now or timezone.now()
    starts = QuizStart.objects.filter(
        finished__isnull=True,
        problem_set__kind=ProblemSet.Kind.QUIZ,
        problem_set__time_limit__isnull=False,
    ).select_related("problem_set")
    finished = submitted = 0
    for start in starts:
        if _is_up(start, now):
            submitted += _finish_or_later(start, now)
            finished += 1
    return {"quizzes_finished": finished, "drafts_submitted": submitted}


def _finish_or_later(start: QuizStart, now: datetime) -> int:
    """`finish`, which a database error (the student's own submission numbered in the
    same instant, a lost connection) rolls back whole: the next run takes it up again.
    A student's page never fails for it, nor do other students' time-ups wait on it."""
    try:
        return finish(start, now)
    except DatabaseError:
        log.warning("quiz start %s: time-up failed; it is tried again", start.pk, exc_info=True)
        return 0


def _is_up(start: QuizStart, now: datetime) -> bool:
    problem_set = start.problem_set
    # Extra time only adds to the time limit, so a start within it is not up, whatever
    # the student's extra time: no query for the many students in the middle of a quiz.
    if (
        problem_set.late_policy != ProblemSet.LatePolicy.REFUSE
        and now <= start.started + timedelta(minutes=problem_set.time_limit) + GRACE
    ):
        return False
    ends = start.ends()
    return ends is not None and now > ends + GRACE


def finish(start: QuizStart, now: datetime | None = None) -> int:
    """The student's time in this quiz is up: submit their last drafts. Returns how many
    were submitted; 0 if this start was finished already (by another process, say)."""
    now = now or timezone.now()
    with transaction.atomic():
        # The claim comes first: whoever else finishes this start waits for this
        # transaction, then finds it finished.
        claimed = QuizStart.objects.filter(pk=start.pk, finished__isnull=True).update(finished=now)
        if not claimed:
            return 0
        drafts = QuizDraft.objects.filter(
            student_id=start.student_id,
            problem_set_id=start.problem_set_id,
            submission__isnull=True,
        ).select_related("student", "exercise", "problem_set")
        submitted = [s for s in (submit_draft(draft, now) for draft in drafts) if s is not None]
    if submitted:
        log.info(
            "quiz %s: time up for student %s, %d draft(s) submitted",
            start.problem_set.slug,
            start.student_id,
            len(submitted),
        )
    return len(submitted)


def submit_draft(draft: QuizDraft, now: datetime) -> Submission | None:
    """Submit a draft as the student's next attempt, to be graded as any other: as
    typed by the time it was saved (its lateness, its penalties). Nothing when the
    student submitted since, the draft is what they submitted last, it is blank, or
    they have no attempt left. Inside `finish`'s transaction."""
    student, exercise = draft.student, draft.exercise.placed_in(draft.problem_set).with_parts()
    parts = list(exercise.parts.all())
    # Blank parts are left out: a student who typed nothing there answered nothing.
    answers = {
        p.key: draft.answers[p.key]
        for p in parts
        if isinstance(draft.answers.get(p.key), str) and draft.answers[p.key].strip()
    }
    if not answers:
        return None
    # One student's submissions are numbered one at a time (as `queue.submit` does).
    get_user_model().objects.select_for_update().filter(pk=student.pk).first()
    mine = Submission.objects.filter(
        student=student, exercise=exercise, problem_set_id=exercise.problem_set_id
    )
    last = mine.order_by("-created", "-id").first()
    if last is not None and (last.created >= draft.saved or last.answers == answers):
        return None
    attempts = mine.aggregate(
        earlier=Count("pk", filter=~Q(status=Submission.Status.FAILED)), last=Max("attempt")
    )
    earlier = attempts["earlier"]
    limit = exercise.attempt_limit
    if limit is not None and earlier >= limit:
        return None
    try:
        variant = exercise.variant_for(student)
    except variants.VariantError as e:
        log.error("exercise %s: no variant for student %s: %s", exercise.slug, student.pk, e)
        return None
    late = exercise.problem_set.is_late(draft.saved, student)
    submission = Submission.objects.create(
        student=student,
        exercise=exercise,
        problem_set=exercise.problem_set,
        variant=variant,
        attempt=(attempts["last"] or 0) + 1,
        answers=answers,
        multiplier=queue.attempt_multiplier(exercise, earlier, late),
        late=late,
        exercise_version=exercise.version,
        queue=queue.queue_for(parts),
        created=now,
    )
    draft.submission = submission
    draft.save(update_fields=["submission"])
    queue.send(submission.pk, submission.queue)  # once the transaction commits
    return submission


# ---------------------------------------------------------------- pages


def _get_problem_set(slug: str) -> ProblemSet:
    return get_object_or_404(ProblemSet.objects.select_related("module"), slug=slug)


@login_required
@require_POST
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a timed quiz's clock. Without `confirm`, the page that asks the student to
    confirm, with how long they will have and until when; with it, the clock starts and
    the student goes to the first exercise. Starting twice keeps the first start."""
    problem_set = _get_problem_set(slug)
    state = QuizState.of(problem_set, request.user)
    if state is None:
        raise Http404("This problem set is not a timed quiz: there is nothing to start.")
    if state.started:
        return redirect(problem_set)
    if not state.can_start:
        messages.error(
            request,
            "This quiz is not open yet."
            if not problem_set.is_open(state.now)
            else "This quiz is closed: it can no longer be started.",
        )
        return redirect(problem_set, permanent=False)
    if request.POST.get("confirm") != "yes":
        return render(
            request, "exercises/quiz_start.html", {"problem_set": problem_set, "quiz": state}
        )
    QuizStart.objects.get_or_create(
        student=request.user, problem_set=problem_set, defaults={"started": state.now}
    )
    shown = problem_set.shown_exercises()
    return redirect(shown[0] if shown else problem_set)


@login_required
@require_POST
def draft(request: HttpRequest, slug: str, set_slug: str | None = None) -> JsonResponse:
    """Save what the student has typed into an exercise of the timed quiz they are
    taking: a JSON body {"answers": {"<part key>": "<text>"}}. 200 with when it was
    saved; 400 for a malformed body; 403 outside the student's time."""
    if set_slug is None:
        exercise = get_object_or_404(Exercise.published.select_related("problem_set"), slug=slug)
    else:
        problem_set = get_object_or_404(ProblemSet, slug=set_slug)
        try:
            exercise = problem_set.exercise_shown(slug)
        except Exercise.DoesNotExist:
            raise Http404("No such exercise in this problem set.") from None
    exercise.with_parts()
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    answers = body.get("answers") if isinstance(body, dict) else None
    try:
        saved = save_draft(request.user, exercise, answers)
    except DraftRefused as refused:
        return JsonResponse({"error": refused.message}, status=refused.http_status)
    return JsonResponse({"saved": saved.saved.isoformat()})


def draft_url(exercise: Exercise) -> str:
    return exercise.url_for("quiz-draft")
