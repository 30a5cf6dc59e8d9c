"""The gradebook of a problem set: each student's best credit on each exercise, as CSV.

Credit is the score after penalties for retries and lateness; the best is taken part by
part over a student's attempts (`exercises.scoring`). Cells are written so that
a spreadsheet never takes one for a formula: a username such as `=HYPERLINK(...)` is
prefixed with a quote (the OWASP advice on CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import F

from exercises import scoring
from exercises.models import Exercise, Placement, ProblemSet, Submission

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def best_credits(
    problem_sets=None, students=None
) -> tuple[list[Exercise], dict[tuple[int, int, int], float]]:
    """The published exercises shown in these problem sets (all, when None): each set's
    own and those placed in it from the question bank (`Placement`), each as shown in
    its set (`Exercise.placed_in`), in course order; and each student's best credit on
    each of them they have a graded attempt at in that set, by (student id, problem set
    id, exercise id). A student with no graded attempt at an exercise has no entry: not
    attempted, which is not 0.

    Five queries, however many students and exercises: every gradebook reads its
    scores here.
    """
    published = Exercise.Status.PUBLISHED
    own = Exercise.objects.filter(status=published)
    placements = Placement.objects.filter(exercise__status=published).exclude(
        exercise__problem_set=F("problem_set")
    )
    if problem_sets is not None:
        set_ids = [ps.pk for ps in problem_sets]
        own = own.filter(problem_set__in=set_ids)
        placements = placements.filter(problem_set__in=set_ids)
    shown = [
        (e.order, e) for e in own.select_related("problem_set__module").prefetch_related("parts")
    ]
    shown += [
        (p.order, p.exercise.placed_in(p.problem_set))
        for p in placements.select_related("exercise", "problem_set__module").prefetch_related(
            "exercise__parts"
        )
    ]
    shown.sort(
        key=lambda pair: (
            pair[1].problem_set.module.order,
            pair[1].problem_set.order,
            pair[1].problem_set_id,
            pair[0],
            pair[1].pk,
        )
    )
    exercises = [e for _, e in shown]
    parts = {e.pk: list(e.parts.all()) for e in exercises}
    slots = {(e.problem_set_id, e.pk) for e in exercises}
    submissions = Submission.objects.filter(
        exercise__in={e.pk for e in exercises},
        problem_set__in={e.problem_set_id for e in exercises},
        status=Submission.Status.GRADED,
    )
    if students is not None:
        submissions = submissions.filter(student__in=students)
    graded: dict[tuple[int, int, int], list] = defaultdict(list)
    fields = ("student", "exercise", "problem_set", "results", "multiplier", "credit")
    for submission in submissions.only(*fields):
        slot = (submission.problem_set_id, submission.exercise_id)
        if slot in slots:
            graded[(submission.student_id, *slot)].append(submission)
    # Part by part over the attempts (`exercises.scoring`): a part left blank costs nothing.
    best = {key: scoring.best_credit(parts[key[2]], attempts) for key, attempts in graded.items()}
    return exercises, best


def students_of(best) -> list:
    """Who a gradebook lists: every active student, and anyone else with a score."""
    submitted = {student for student, _, _ in best}
    users = get_user_model().objects
    students = users.filter(is_active=True, is_staff=False) | users.filter(pk__in=submitted)
    return list(students.distinct().order_by("username"))


def rows(problem_set: ProblemSet) -> list[list]:
    """A header, then one row per student: names, best credit per exercise, total."""
    exercises, best = best_credits([problem_set])
    header = ["username", "first name", "last name", "email"]
    header += [e.slug for e in exercises] + ["total", "out of"]
    table = [header]
    for student in students_of(best):
        scores = [best.get((student.pk, problem_set.pk, e.pk)) for e in exercises]
        total = sum(s for s in scores if s is not None)
        table.append(
            [student.username, student.first_name, student.last_name, student.email]
            + ["" if s is None else round(s, 4) for s in scores]
            + [round(total, 4), len(exercises)]
        )
    return table


def as_csv(problem_set: ProblemSet) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows(problem_set):
        writer.writerow([cell(value) for value in row])
    return out.getvalue()
