"""`{{ part_view|answer_shape }}`: the shape the grid of input cells takes, or ""."""

from __future__ import annotations

from django import template

from exercises.answer_grid import answer_shape as shape_of

register = template.Library()


@register.filter
def answer_shape(part_view) -> str:
    return shape_of(part_view.part, part_view.values)
