"""A student's own rows for the hottest reads of the API, in hand-written SQL on PostgreSQL.

Under exam load every student opens an exercise and polls their submission over and
over; building and compiling those querysets cost the web more CPU than PostgreSQL spent
running them. On PostgreSQL the statements below are written once per process from the
models' names (`exercises.rows`) and read back into instances as the ORM would. On any
other database each function says so by returning NOTHING, and the caller keeps its ORM
query: the fast path is an optimisation, never a second behaviour.
"""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.utils import timezone

from exercises import rows
from exercises.models import Exercise, Extension, ProblemSet, Submission, Variant

# "No fast path here": the caller reads with the ORM.
NOTHING = object()


def enabled() -> bool:
    return connection.vendor == "postgresql"


def published_exercise(slug: str, student):
    """What `Exercise.published.for_student(student).get(slug=slug)` reads (the exercise,
    its problem set, the student's extension due date as `student_due`), plus the
    student's variant for it, if any, for `Exercise.variant_for` to take; None when there
    is no such exercise for students; NOTHING off PostgreSQL."""
    if not enabled():
        return NOTHING
    sql, read_exercise, read_set, due_at, read_variant = _exercise_statement()
    with rows.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "slug": slug,
                "student": student.pk,
                "published": Exercise.Status.PUBLISHED,
                "now": timezone.now(),
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    exercise = read_exercise(row)
    exercise.problem_set = read_set(row)
    exercise.student_due = _due_converter()(row[due_at])
    variant = read_variant(row)
    exercise.__dict__["_variant_read"] = (student.pk, exercise.problem_set_id, variant)
    return exercise


@cache
def _exercise_statement():
    ex, ps, ext, var = Exercise, ProblemSet, Extension, Variant
    c = rows.column
    sql = f"""
        SELECT {rows.columns("e", ex)}, {rows.columns("p", ps)},
               x.{c(ext, "due")}, {rows.columns("v", var)}
        FROM {rows.table(ex)} AS e
        JOIN {rows.table(ps)} AS p ON p.{c(ps, "id")} = e.{c(ex, "problem_set")}
        LEFT JOIN {rows.table(ext)} AS x
          ON x.{c(ext, "problem_set")} = e.{c(ex, "problem_set")}
         AND x.{c(ext, "student")} = %(student)s
        LEFT JOIN {rows.table(var)} AS v
          ON v.{c(var, "student")} = %(student)s
         AND v.{c(var, "exercise")} = e.{c(ex, "id")}
         AND v.{c(var, "problem_set")} = e.{c(ex, "problem_set")}
        WHERE e.{c(ex, "slug")} = %(slug)s AND e.{c(ex, "status")} = %(published)s
          AND (p.{c(ps, "opens")} IS NULL OR p.{c(ps, "opens")} <= %(now)s)
    """
    read_exercise = rows.reader(ex)
    read_set = rows.reader(ps, read_exercise.width)
    due_at = read_exercise.width + read_set.width
    read_variant = rows.reader(var, due_at + 1)
    return sql, read_exercise, read_set, due_at, read_variant


@cache
def _due_converter():
    """The ORM's converters for an extension's due date (its time zone)."""
    return rows.value_reader(Extension, "due")


def history(student, exercise: Exercise):
    """The student's submissions to `exercise` in its problem set, newest first (as
    `Submission.objects.filter(...)` orders them); NOTHING off PostgreSQL."""
    if not enabled():
        return NOTHING
    sql, read = _history_statement()
    with rows.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "student": student.pk,
                "exercise": exercise.pk,
                "problem_set": exercise.problem_set_id,
            },
        )
        found = [read(row) for row in cursor.fetchall()]
    return found


@cache
def _history_statement():
    sub, c = Submission, rows.column
    sql = f"""
        SELECT {rows.columns("s", sub)} FROM {rows.table(sub)} AS s
        WHERE s.{c(sub, "student")} = %(student)s AND s.{c(sub, "exercise")} = %(exercise)s
          AND s.{c(sub, "problem_set")} = %(problem_set)s
        ORDER BY s.{c(sub, "created")} DESC, s.{c(sub, "id")} DESC
    """
    return sql, rows.reader(sub)


def own_submission(pk: int, student):
    """What `Submission.objects.select_related("exercise", "problem_set")
    .get(pk=pk, student=student)` reads; None when there is none; NOTHING off PostgreSQL."""
    if not enabled():
        return NOTHING
    sql, read_sub, read_ex, read_set = _submission_statement()
    with rows.cursor() as cursor:
        cursor.execute(sql, {"id": pk, "student": student.pk})
        row = cursor.fetchone()
    if row is None:
        return None
    submission = read_sub(row)
    submission.exercise = read_ex(row)
    submission.problem_set = read_set(row)
    return submission


@cache
def _submission_statement():
    sub, ex, ps, c = Submission, Exercise, ProblemSet, rows.column
    sql = f"""
        SELECT {rows.columns("s", sub)}, {rows.columns("e", ex)}, {rows.columns("p", ps)}
        FROM {rows.table(sub)} AS s
        JOIN {rows.table(ex)} AS e ON e.{c(ex, "id")} = s.{c(sub, "exercise")}
        JOIN {rows.table(ps)} AS p ON p.{c(ps, "id")} = s.{c(sub, "problem_set")}
        WHERE s.{c(sub, "id")} = %(id)s AND s.{c(sub, "student")} = %(student)s
    """
    read_sub = rows.reader(sub)
    read_ex = rows.reader(ex, read_sub.width)
    read_set = rows.reader(ps, read_sub.width + read_ex.width)
    return sql, read_sub, read_ex, read_set
