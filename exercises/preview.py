"""The live preview: how the grader reads an answer, shown while the student types.

The browser sends each answer as the student types (debounced) and shows the reply
under the input: the answer rendered by KaTeX, or the reason it cannot be read with a
marker at the column. The verdict comes from `grading.validate`, the same reading a
submission gets, so the preview never says "fine" about an answer the grader refuses.
Nothing of the expected answer is ever sent back.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

import grading
from exercises import ratelimit
from exercises.models import Exercise, Part, Variant
from grading.latex import to_latex
from grading.parser import Limits, ParseError, parse, parse_choice, readings

log = logging.getLogger(__name__)

# What a preview request may carry: the parser's own limit, so that the message about a
# long answer is the one a submission would get.
MAX_ANSWER_LENGTH = Limits().max_length


def _function_names(part: Part) -> list[str]:
    """`sigma` from `sigma(z) = ...`, `f` from `f`: the names an answer may call."""
    return [text.partition("=")[0].partition("(")[0].strip() for text in part.functions]


def answer_readings(part: Part, answer: str) -> list[dict]:
    """How letters typed together were split (`xy` read as x·y), for an answer the
    grader reads; none for a choice."""
    if part.kind in (Part.Kind.CHOICE, Part.Kind.CODE):
        return []
    pairs = readings(answer, variables=part.variables or (), functions=_function_names(part))
    return [{"typed": typed, "read": read} for typed, read in pairs]


def answer_latex(part: Part, answer: str) -> str:
    """The answer as the grader reads it, in LaTeX; `ParseError` if it cannot be read."""
    if part.kind == Part.Kind.CHOICE:
        keys = [option["key"] for option in part.options]
        chosen = parse_choice(answer, keys)
        # Option keys are the author's short names; only plain ones are put into LaTeX.
        shown = [key if key.isalnum() else "?" for key in sorted(chosen)]
        return r"\text{" + ", ".join(shown) + "}"
    tree = parse(answer, variables=part.variables or (), functions=_function_names(part))
    return to_latex(tree)


def preview_answer(part: Part, answer: str, variant: Variant | None = None) -> dict:
    """{"ok": True, "latex": ...} or {"ok": False, "message": ..., "column": n or None}.

    `variant` is the student's, when the exercise has them: the expected answer's shape
    (a vector's length, a point's dimension) can decide how an answer is read.
    """
    if len(answer) > MAX_ANSWER_LENGTH:
        return {
            "ok": False,
            "message": f"The answer is too long ({len(answer)} characters;"
            f" at most {MAX_ANSWER_LENGTH}).",
            "column": None,
        }
    verdict = grading.validate(part.case(answer, variant, mistakes=False))
    if verdict is not None:
        return {"ok": False, "message": verdict.message, "column": verdict.details.get("column")}
    try:
        result = {"ok": True, "latex": answer_latex(part, answer)}
        split = answer_readings(part, answer)
        if split:
            result["readings"] = split
        return result
    except ParseError as e:
        return {"ok": False, "message": e.message, "column": e.column}


@login_required
@require_GET
def preview(request: HttpRequest, slug: str) -> JsonResponse:
    exercise = get_object_or_404(Exercise.published, slug=slug)
    key = request.GET.get("part", "")
    # Looked up here, not in a query: a NUL in the key is no key, not a database error.
    part = next((p for p in exercise.parts.all() if p.key == key), None)
    if part is None:
        return JsonResponse(
            {"ok": False, "message": f"This exercise has no part named {key!r}.", "column": None},
            status=404,
        )
    refusal = ratelimit.preview(request.user)
    if refusal is not None:
        return JsonResponse(
            {"ok": False, "message": refusal.message},
            status=429,
            headers={"Retry-After": str(refusal.retry_after)},
        )
    answer = request.GET.get("answer", "")
    if not answer.strip():
        return JsonResponse({"ok": False, "message": "", "column": None, "empty": True})
    try:
        result = preview_answer(part, answer, exercise.variant_for(request.user))
    except RecursionError:
        result = {"ok": False, "message": "The answer is nested too deeply.", "column": None}
    except Exception:
        # A preview is a convenience: a fault here must not show as a broken page, and the
        # submission goes through the grader's own checks anyway.
        log.exception("preview failed for %s/%s", exercise.slug, part.key)
        result = {"ok": False, "message": "No preview for this answer.", "column": None}
    return JsonResponse(result)
