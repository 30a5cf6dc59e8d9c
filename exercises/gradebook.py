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
from exercises.models import Exercise, Placement, ProblemSet, Submission

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rows(problem_set: ProblemSet) -> list[list]:
    """A header, then one row per student: names, best credit per exercise, total."""
    # Its own exercises and those placed in it, with the work done in this set.
    exercises = list(
        problem_set.exercises.filter(status=Exercise.Status.PUBLISHED).prefetch_related("parts")
    )
    placed = Placement.objects.filter(
        problem_set=problem_set, exercise__status=Exercise.Status.PUBLISHED
    ).prefetch_related("exercise__parts")
    exercises += [p.exercise for p in placed]
    parts = {e.pk: list(e.parts.all()) for e in exercises}
    graded: dict[tuple[int, int], list] = defaultdict(list)
    for submission in Submission.objects.filter(
        exercise__in=exercises, problem_set=problem_set, status=Submission.Status.GRADED
    ).only("student", "exercise", "results", "multiplier", "credit"):
        graded[(submission.student_id, submission.exercise_id)].append(submission)
    # Part by part over the attempts (`exercises.scoring`): a part left blank costs nothing.
    best: dict[tuple[int, int], float] = {
        key: scoring.best_credit(parts[key[1]], submissions) for key, submissions in graded.items()
    }
    submitted = {student for student, _ in best}
    students = get_user_model().objects.filter(is_active=True, is_staff=False) | (
        get_user_model().objects.filter(pk__in=submitted)
    )
    header = ["username", "first name", "last name", "email"]
    header += [e.slug for e in exercises] + ["total", "out of"]
    table = [header]
    for student in students.distinct().order_by("username"):
        scores = [best.get((student.pk, e.pk)) for e in exercises]
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
