"""The mark an attempt carries in the attempts list once a regrade changed its verdict."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date
from django.utils import timezone
from django.utils.html import format_html

from exercises.models import Submission
from exercises.regrade import verdict_changes

register = template.Library()


@register.simple_tag
def regrade_note(submission: Submission) -> str:
    """ "regraded on 7 Dec, 14:05, was 0%" under the attempt's result, or nothing. Only for
    pages that show verdicts: the score it was is a verdict too."""
    if submission.status != Submission.Status.GRADED:
        return ""
    changes = verdict_changes(submission)
    if not changes:
        return ""
    last = changes[-1]
    was = "" if last.old_score is None else f", was {round(last.old_score * 100)}%"
    return format_html(
        '<small class="regraded" title="{}"><span class="icon" aria-hidden="true">↻</span>'
        ' regraded <time datetime="{}">{}</time>{}</small>',
        last.reason,
        last.when.isoformat(),
        date(timezone.localtime(last.when), "j M, H:i"),
        was,
    )
