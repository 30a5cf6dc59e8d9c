"""The gradebook of the whole course, for staff: one row per student, one column per
problem set (and, on request, per exercise), with totals per module and for the course.

A cell is the student's credit: the sum, over the set's published exercises, of their
best credit on each (after the penalties for retries and lateness, which an extension
spares: `exercises.gradebook.best_credits`, as in a problem set's gradebook). A set at
which the student has no graded attempt is "not attempted", shown as — and left empty
in the CSV, which is not the same as 0: attempted, and nothing earned.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from exercises import gradebook
from exercises.models import Exercise, Extension, Module, ProblemSet


@dataclass
class SetColumn:
    problem_set: ProblemSet
    exercises: list[Exercise] = field(default_factory=list)

    @property
    def out_of(self) -> int:
        return len(self.exercises)


@dataclass
class ModuleColumns:
    module: Module
    sets: list[SetColumn] = field(default_factory=list)

    @property
    def out_of(self) -> int:
        return sum(column.out_of for column in self.sets)


@dataclass
class Cell:
    score: float | None
    # The student's own due date, when they have an extension.
    extended_to: object = None

    @property
    def attempted(self) -> bool:
        return self.score is not None

    @property
    def text(self) -> str:
        return _number(self.score)


@dataclass
class SetCells:
    total: Cell
    exercises: list[Cell]


@dataclass
class ModuleCells:
    sets: list[SetCells]
    total: Cell


@dataclass
class Row:
    student: object
    modules: list[ModuleCells]
    total: Cell


@dataclass
class Gradebook:
    modules: list[ModuleColumns]
    rows: list[Row]

    @property
    def out_of(self) -> int:
        return sum(m.out_of for m in self.modules)


def _sum(scores) -> float | None:
    """The sum of the scores attempted; None when none was."""
    attempted = [s for s in scores if s is not None]
    return sum(attempted) if attempted else None


def build() -> Gradebook:
    """The course's gradebook: a handful of queries, however many students and sets."""
    exercises, best = gradebook.best_credits()
    modules: dict[int, ModuleColumns] = {}
    sets: dict[int, SetColumn] = {}
    for exercise in exercises:
        ps = exercise.problem_set
        if ps.pk not in sets:
            sets[ps.pk] = SetColumn(ps)
            modules.setdefault(ps.module_id, ModuleColumns(ps.module)).sets.append(sets[ps.pk])
        sets[ps.pk].exercises.append(exercise)
    extensions = {
        (student, ps): due
        for student, ps, due in Extension.objects.filter(problem_set__in=list(sets)).values_list(
            "student_id", "problem_set_id", "due"
        )
    }
    rows = []
    for student in gradebook.students_of(best):
        module_cells = []
        for columns in modules.values():
            set_cells = []
            for column in columns.sets:
                ps = column.problem_set.pk
                scores = [best.get((student.pk, ps, e.pk)) for e in column.exercises]
                set_cells.append(
                    SetCells(
                        Cell(_sum(scores), extensions.get((student.pk, ps))),
                        [Cell(s) for s in scores],
                    )
                )
            total = Cell(_sum(c.total.score for c in set_cells))
            module_cells.append(ModuleCells(set_cells, total))
        rows.append(Row(student, module_cells, Cell(_sum(m.total.score for m in module_cells))))
    return Gradebook(list(modules.values()), rows)


def _number(score: float | None) -> str:
    return "" if score is None else f"{round(score, 4):g}"


def table(book: Gradebook, with_exercises: bool = False) -> list[list[str]]:
    """The gradebook as rows of text: a header, then one row per student."""
    header = ["username", "first name", "last name", "email"]
    for columns in book.modules:
        for column in columns.sets:
            if with_exercises:
                header += [f"{column.problem_set.slug}/{e.slug} (/1)" for e in column.exercises]
            header.append(f"{column.problem_set.slug} (/{column.out_of})")
        header.append(f"{columns.module.slug} total (/{columns.out_of})")
    header.append(f"course total (/{book.out_of})")
    out = [header]
    for row in book.rows:
        student = row.student
        line = [student.username, student.first_name, student.last_name, student.email]
        for module in row.modules:
            for cells in module.sets:
                if with_exercises:
                    line += [_number(c.score) for c in cells.exercises]
                line.append(_number(cells.total.score))
            line.append(_number(module.total.score))
        line.append(_number(row.total.score))
        out.append(line)
    return out


def as_csv(book: Gradebook, with_exercises: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in table(book, with_exercises):
        writer.writerow([gradebook.cell(value) for value in row])
    return out.getvalue()


@require_GET
def view(request: HttpRequest) -> HttpResponse:
    """/admin/gradebook/ (served under the admin's `admin_view`: signed-in staff only),
    for those who may look after submissions. `?exercises=1` adds a column per
    exercise; `?download=csv` downloads the same as CSV."""
    if not request.user.has_perm("exercises.view_submission"):
        raise PermissionDenied
    with_exercises = request.GET.get("exercises") == "1"
    book = build()
    if request.GET.get("download") == "csv":
        response = HttpResponse(as_csv(book, with_exercises), content_type="text/csv")
        filename = f"gradebook-course-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    spans = defaultdict(int)
    for columns in book.modules:
        for column in columns.sets:
            spans[columns.module.pk] += 1 + (column.out_of if with_exercises else 0)
        spans[columns.module.pk] += 1
    context = {
        **admin.site.each_context(request),
        "title": "Course gradebook",
        "book": book,
        "with_exercises": with_exercises,
        "headings": [(columns, spans[columns.module.pk]) for columns in book.modules],
    }
    return render(request, "admin/exercises/course_gradebook.html", context)
