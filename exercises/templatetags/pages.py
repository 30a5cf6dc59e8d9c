"""Template tags for the students' pages: plots, syntax examples, attempts' results."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from exercises import plots
from exercises.models import Exercise, Submission
from grading.latex import to_latex
from grading.parser import ParseError, parse

register = template.Library()


@register.simple_tag
def attempt_result(submission: Submission) -> str:
    """An attempt's result in the history table: a symbol and a score, or its status."""
    if submission.status != Submission.Status.GRADED or submission.score is None:
        labels = {"queued": "waiting to be graded", "grading": "being graded"}
        return format_html(
            '<span class="attempt attempt-{}"><span class="icon" aria-hidden="true">\u2026</span>'
            " {}</span>",
            submission.status,
            labels.get(submission.status, submission.status),
        )
    percent = round(submission.score * 100)
    if submission.score >= 1:
        kind, symbol, words = "correct", "\u2713", "all correct"
    elif submission.score > 0:
        kind, symbol, words = "partial", "\u25d0", "partly correct"
    else:
        kind, symbol, words = "incorrect", "\u2717", "not correct"
    return format_html(
        '<span class="attempt attempt-{}"><span class="icon" aria-hidden="true">{}</span>'
        ' {}% <span class="words">({})</span></span>',
        kind,
        symbol,
        percent,
        words,
    )


@register.simple_tag(takes_context=True)
def exercise_plot(context, exercise: Exercise) -> str:
    """The exercise's picture as inline SVG, for the student's variant; what it asks for
    is drawn once it is solved."""
    if not exercise.plot:
        return ""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated:
        return ""
    variant = exercise.variant_for(user)
    solved = Submission.objects.filter(
        student=user, exercise=exercise, status=Submission.Status.GRADED, score__gte=1
    ).exists()
    svg = plots.plot_svg(exercise.plot, variant.values if variant else None, solved)
    if not svg:
        return ""
    note = "Now that you have solved it, the picture shows the answer too." if solved else ""
    return format_html(
        '<figure class="plot-figure">{}{}</figure>',
        mark_safe(svg),  # built by exercises/plots.py, every text escaped
        format_html("<figcaption>{}</figcaption>", note) if note else "",
    )


@register.simple_tag
def syntax_example(text: str, variables: str = "x", functions: str = "") -> str:
    """An answer as typed and what the grader reads, rendered by KaTeX in the browser."""
    try:
        tree = parse(text, variables=variables.split(), functions=functions.split())
    except ParseError as e:
        return format_html(
            '<span class="example"><code>{}</code> <span class="reads reads-invalid">'
            '<span class="icon" aria-hidden="true">\u2717</span> cannot be read: {}</span></span>',
            text,
            e.message,
        )
    return format_html(
        '<span class="example"><code>{}</code> <span class="reads">reads as'
        ' <span class="maths">\\({}\\)</span></span></span>',
        text,
        to_latex(tree),
    )
