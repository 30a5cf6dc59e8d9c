"""Where a student stands: their own due dates, the late policy, the attempts they have
used, and the exercise that comes next.

The course, module and problem set pages list many problem sets and exercises at once:
these functions read a student's extensions and attempts for all of them in one query
each, and word the late policy the same way on every page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils import timezone

from exercises.models import Exercise, Extension, ProblemSet, Submission


def late_policy_text(problem_set: ProblemSet) -> str:
    """What happens to an answer after the due date, in one sentence."""
    policy = ProblemSet.LatePolicy
    if problem_set.late_policy == policy.REFUSE:
        return "No answer is accepted after the due date."
    if problem_set.late_policy == policy.PENALTY and problem_set.late_penalty > 0:
        return f"A late answer loses {percent(problem_set.late_penalty)}% of its score."
    return "A late answer counts in full."


def percent(share: float) -> int | float:
    """A share from 0 to 1 as a percentage, whole where it is whole: 0.25 is 25, 0.125 is 12.5."""
    value = round(share * 100, 1)
    return int(value) if value == int(value) else value


@dataclass
class SetTerms:
    """A problem set's dates as one student has them."""

    problem_set: ProblemSet
    due: datetime | None
    # The due date is the student's own extension's.
    extended: bool = False
    now: datetime = field(default_factory=timezone.now)

    @property
    def late(self) -> bool:
        return self.due is not None and self.now > self.due

    @property
    def closed(self) -> bool:
        """Past the due date, and the set refuses late answers."""
        return self.late and self.problem_set.late_policy == ProblemSet.LatePolicy.REFUSE

    @property
    def late_policy(self) -> str:
        return late_policy_text(self.problem_set)


def set_terms(student, problem_sets, now: datetime | None = None) -> dict[int, SetTerms]:
    """Each problem set's terms for this student, by id: one query for their extensions,
    which `ProblemSet.due_for` then knows too."""
    now = now or timezone.now()
    problem_sets = list(problem_sets)
    extensions = dict(
        Extension.objects.filter(student=student, problem_set__in=problem_sets).values_list(
            "problem_set_id", "due"
        )
    )
    terms = {}
    for ps in problem_sets:
        ps.remember_due(student, extensions.get(ps.pk))
        terms[ps.pk] = SetTerms(ps, ps.due_for(student), extended=ps.pk in extensions, now=now)
    return terms


def next_due(terms: list[SetTerms]) -> SetTerms | None:
    """The earliest due date still ahead, for the course page."""
    ahead = [t for t in terms if t.due is not None and not t.late]
    return min(ahead, key=lambda t: t.due) if ahead else None


def attempts_used(student, exercises) -> dict[int, int]:
    """How many attempts the student has used at each exercise, by id (a failed
    submission was never graded and uses none, as `queue.submit` counts)."""
    ids = [e.pk for e in exercises]
    # In the set each exercise is shown in (`Exercise.placed_in`).
    shown_in = Q(pk__in=[])
    for set_id in {e.problem_set_id for e in exercises}:
        shown_in |= Q(
            problem_set_id=set_id,
            exercise_id__in=[e.pk for e in exercises if e.problem_set_id == set_id],
        )
    counts = dict(
        Submission.objects.filter(shown_in, student=student)
        .values("exercise_id")
        .annotate(used=Count("pk", filter=~Q(status=Submission.Status.FAILED)))
        .values_list("exercise_id", "used")
    )
    return {pk: counts.get(pk, 0) for pk in ids}


def next_exercise(exercise: Exercise) -> Exercise | None:
    """The published exercise after this one in the problem set it is shown in (its own
    or a placement's), or None when it is the last."""
    if not exercise.is_placed and not exercise.problem_set.placements.exists():
        later = Exercise.published.filter(problem_set_id=exercise.problem_set_id).filter(
            Q(order__gt=exercise.order) | Q(order=exercise.order, pk__gt=exercise.pk)
        )
        return later.order_by("order", "pk").first()
    shown = exercise.problem_set.shown_exercises()
    after = [i + 1 for i, e in enumerate(shown) if e.pk == exercise.pk]
    return shown[after[0]] if after and after[0] < len(shown) else None
