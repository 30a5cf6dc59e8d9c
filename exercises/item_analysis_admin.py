"""The admin's item-analysis pages and their CSV downloads (`exercises.item_analysis`):
a problem set's table of exercises and parts, and one exercise's details. For staff who
may look at submissions."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone

from exercises import item_analysis
from exercises.models import Exercise, ProblemSet


def urls(model_admin) -> list:
    view = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/item-analysis/",
            view(lambda r, object_id: set_view(r, object_id, model_admin)),
            name="exercises_problemset_item_analysis",
        ),
        path(
            "<path:object_id>/item-analysis.csv",
            view(set_csv_view),
            name="exercises_problemset_item_analysis_csv",
        ),
        path(
            "<path:object_id>/item-analysis/<int:exercise_id>/",
            view(
                lambda r, object_id, exercise_id: exercise_view(
                    r, object_id, exercise_id, model_admin
                )
            ),
            name="exercises_problemset_item_analysis_exercise",
        ),
        path(
            "<path:object_id>/item-analysis/<int:exercise_id>.csv",
            view(exercise_csv_view),
            name="exercises_problemset_item_analysis_exercise_csv",
        ),
    ]


def _get_problem_set_for_user(request: HttpRequest, object_id: str) -> ProblemSet:
    if not object_id.isdigit():
        raise Http404("No such problem set.")
    problem_set = get_object_or_404(ProblemSet, pk=object_id)
    # Students' results: for those who may look at submissions.
    if not request.user.has_perm("exercises.view_submission"):
        raise PermissionDenied
    return problem_set


def _get_exercise(problem_set: ProblemSet, exercise_id: int) -> Exercise:
    """The set's own exercise or one placed in it, as shown in this set."""
    exercise = (
        Exercise.objects.filter(pk=exercise_id)
        .filter(Q(problem_set=problem_set) | Q(placements__problem_set=problem_set))
        .prefetch_related("parts")
        .distinct()
        .first()
    )
    if exercise is None:
        raise Http404("No such exercise in this problem set.")
    return exercise.placed_in(problem_set)


def _context(request, model_admin, problem_set: ProblemSet, **kwargs) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": ProblemSet._meta,
        "problem_set": problem_set,
        "discrimination_text": item_analysis.DISCRIMINATION_TEXT,
        **kwargs,
    }


def set_view(request: HttpRequest, object_id: str, model_admin) -> HttpResponse:
    problem_set = _get_problem_set_for_user(request, object_id)
    rows = item_analysis.analyse_set(problem_set)
    context = _context(
        request, model_admin, problem_set, rows=rows, title=f"Item analysis: {problem_set.title}"
    )
    return render(request, "admin/exercises/item_analysis/problem_set.html", context)


def exercise_view(request: HttpRequest, object_id: str, exercise_id: int, model_admin):
    problem_set = _get_problem_set_for_user(request, object_id)
    exercise = _get_exercise(problem_set, exercise_id)
    analysis = item_analysis.analyse_exercise(exercise, problem_set)
    parts = [
        {"part": part, "figures": figures, "wrong": analysis["wrong"][part.key]}
        for part, figures in zip(exercise.parts.all(), analysis["parts"], strict=True)
    ]
    parameters = [
        {
            "parameter": row["parameter"],
            "value": row["value"],
            "cells": [row["exercise"], *(row[p.key] for p in exercise.parts.all())],
        }
        for row in analysis["parameters"]
    ]
    context = _context(
        request,
        model_admin,
        problem_set,
        exercise=exercise,
        analysis=analysis,
        parts=parts,
        parameters=parameters,
        causes=item_analysis.CAUSES,
        title=f"Item analysis: {exercise.title}",
    )
    return render(request, "admin/exercises/item_analysis/exercise.html", context)


def _csv_response(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv")
    filename = f"item-analysis-{name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def set_csv_view(request: HttpRequest, object_id: str) -> HttpResponse:
    problem_set = _get_problem_set_for_user(request, object_id)
    rows = item_analysis.analyse_set(problem_set)
    return _csv_response(item_analysis.set_csv(rows), problem_set.slug)


def exercise_csv_view(request: HttpRequest, object_id: str, exercise_id: int) -> HttpResponse:
    problem_set = _get_problem_set_for_user(request, object_id)
    exercise = _get_exercise(problem_set, exercise_id)
    analysis = item_analysis.analyse_exercise(exercise, problem_set)
    return _csv_response(item_analysis.exercise_csv(analysis), exercise.slug)
