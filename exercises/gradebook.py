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

from exercises import scoring
from exercises.models import Exercise, ProblemSet, Submission

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def best_credits(
    problem_sets=None, students=None
) -> tuple[list[Exercise], dict[tuple[int, int, int], float]]:
    """The published exercises of these problem sets (all, when None), in course order,
    and each student's best credit on each of them they have a graded attempt at, by
    (student id, problem set id, exercise id). A student with no graded attempt at an
    exercise has no entry: not attempted, which is not 0.

    Three queries, however many students and exercises: every gradebook reads its
    scores here.
    """
    exercises = Exercise.objects.filter(status=Exercise.Status.PUBLISHED)
    if problem_sets is not None:
        exercises = exercises.filter(problem_set__in=problem_sets)
    exercises = list(
        exercises.select_related("problem_set__module")
        .prefetch_related("parts")
        .order_by(
            "problem_set__module__order", "problem_set__order", "problem_set_id", "order", "pk"
        )
    )
    parts = {e.pk: list(e.parts.all()) for e in exercises}
    submissions = Submission.objects.filter(
        exercise__in=[e.pk for e in exercises], status=Submission.Status.GRADED
    )
    if students is not None:
        submissions = submissions.filter(student__in=students)
    graded: dict[tuple[int, int], list] = defaultdict(list)
    for submission in submissions.only("student", "exercise", "results", "multiplier", "credit"):
        graded[(submission.student_id, submission.exercise_id)].append(submission)
    sets = {e.pk: e.problem_set_id for e in exercises}
    # Part by part over the attempts (`exercises.scoring`): a part left blank costs nothing.
    best = {
        (student, sets[exercise], exercise): scoring.best_credit(parts[exercise], attempts)
        for (student, exercise), attempts in graded.items()
    }
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
