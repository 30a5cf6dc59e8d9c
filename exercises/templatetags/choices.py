"""Template filters for choice parts: which options an answer has chosen."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def chosen_keys(answer) -> set[str]:
    """The option keys in an answer as typed or posted (`a, c`), folded to lower case as
    the engine reads them, so that `A` ticks the box of option `a`."""
    if not isinstance(answer, str):
        return set()
    return {key.strip().lower() for key in answer.split(",") if key.strip()}
