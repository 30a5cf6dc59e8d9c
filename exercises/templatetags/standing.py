"""Template tags for where a student stands: dates in the student's own time zone."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def local_time(value: datetime | None) -> str:
    """A moment as `<time>`: the server's zone, named, until localtime.js rewrites it in
    the browser's own zone (without JavaScript the server's text stays, and says its zone)."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>',
        value.isoformat(timespec="seconds"),
        date_format(local, "D j M Y, H:i T"),
    )
