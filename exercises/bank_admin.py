"""The question bank in the admin: the exercises placed in a problem set, edited on its
page, and the sets an exercise is placed in, shown on the exercise's (`Placement`)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html_join

from exercises.models import Placement


class PlacementInline(admin.TabularInline):
    """On a problem set's page: exercises of other sets shown in this one too."""

    model = Placement
    fk_name = "problem_set"
    extra = 0
    fields = ["exercise", "order"]
    autocomplete_fields = ["exercise"]
    verbose_name = "exercise placed from the question bank"
    verbose_name_plural = (
        "Exercises placed from the question bank (each keeps its own attempts, scores "
        "and variants in this set)"
    )


def placements_of(exercise) -> str:
    """For the exercise's page: the sets it is placed in besides its own, linked to
    their pages, where placements are edited."""
    if exercise.pk is None:
        return ""
    placements = Placement.objects.filter(exercise=exercise).select_related("problem_set")
    if not placements:
        return "Nowhere else. Place it in a problem set from that set's page."
    return format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        (
            (reverse("admin:exercises_problemset_change", args=[p.problem_set_id]), p.problem_set)
            for p in placements
        ),
    )
