"""The exercise admin's preview while an author edits: the unsaved form, read by the engine.

The change (and add) page of an exercise posts its whole form, as it stands, to these
views, which bind it with the admin's own form and part formset and validate it as a
save of a draft would, without saving anything:

- `read_view`: beside each part's expected answer and known mistakes, how the engine
  reads them for the chosen seed (rendered maths, or why it refuses them), and, when the
  form validates, the exercise as a student with that seed would see it (prompt, plot,
  inputs), with the seed's values and expected answers, and the values and expected
  answers of the next few seeds; when it does not, the definition's messages.
- `try_view`: the author's answers to that variant graded by the engine, with its
  verdict and message per part (a known mistake's message when one matches). Maths and
  choices are judged here, in the engine's time-bounded helpers, as the admin's
  validation does. A code part is never run in the web process: its case goes to the
  code queue (`run_code`), a worker runs it in the sandbox as it runs students' code,
  and the page polls `code_result_view` for the verdict, kept a few minutes in the cache.

The staff preview of a saved exercise grades what is typed into it with `grade` too.
Nothing here creates a submission or a variant.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.forms import all_valid
from django.http import Http404, HttpRequest, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse

import grading
from courseserver.celery import publish
from exercises import preview, ratelimit, variants
from exercises.definition import DefinitionError
from exercises.models import Exercise, Part
from exercises.presentation import StudentView

log = logging.getLogger(__name__)

RUN_CODE = "exercises.tasks.run_preview_code"
MAX_SEED = 2**63 - 1
# The seeds after the chosen one whose values and expected answers are listed with it.
SEEDS_COMPARED = 5
# How long a code run's verdict waits in the cache for the page that asked for it.
CODE_RESULT_SECONDS = 600
CODE_PENDING_MESSAGE = "Running in the sandbox…"
NO_SANDBOX_MESSAGE = "No sandbox for code could be started; try again in a moment."
NO_QUEUE_MESSAGE = "The code queue cannot be reached now; try again in a moment."


class BadInput(Exception):
    """A request the preview cannot answer; the message says why, for the author."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def parse_seed(text: str | None) -> int:
    text = (text or "0").strip()
    if not text.isdigit() or int(text) > MAX_SEED:
        raise BadInput(f"The seed must be a whole number from 0 to {MAX_SEED}.")
    return int(text)


# ---------------------------------------------------------------- the unsaved form


@dataclass
class Draft:
    """The exercise as the posted form holds it: the admin's bound form and part formset,
    validated as saving a draft validates them, and nothing saved."""

    form: object
    formset: object
    valid: bool

    @property
    def exercise(self) -> Exercise:
        return self.form.instance

    def part_forms(self) -> list:
        """The part forms in use: neither deleted nor an extra row left empty."""
        live = []
        for form in self.formset.forms:
            cleaned = getattr(form, "cleaned_data", None) or {}
            if cleaned.get("DELETE") or (form.empty_permitted and not form.has_changed()):
                continue
            live.append(form)
        return live

    @property
    def parts(self) -> list[Part]:
        """The parts in the order students see them (by `order`, as saved ones are)."""
        return sorted((form.instance for form in self.part_forms()), key=lambda p: p.order or 0)

    def messages(self) -> list[str]:
        """Every message the admin would show on saving, each saying where."""
        found = []
        for name, errors in self.form.errors.items():
            where = self.form.fields[name].label if name in self.form.fields else ""
            found += [f"{where}: {e}" if where else e for e in errors]
        for n, form in enumerate(self.formset.forms, start=1):
            key = form.data.get(form.add_prefix("key")) or f"#{n}"
            for name, errors in form.errors.items():
                where = f"Part {key}" if name == "__all__" else f"Part {key}, {name}"
                found += [f"{where}: {e}" for e in errors]
        found += [str(e) for e in self.formset.non_form_errors()]
        return found


def bind(model_admin, request: HttpRequest, obj: Exercise | None) -> Draft:
    """Bind the posted form with the admin's form and formsets for this page."""
    data = request.POST.copy()
    # Checked as a draft: publishing also runs every question test (code in sandboxes)
    # on each save, which is no work for a preview to repeat at every keystroke.
    data["status"] = Exercise.Status.DRAFT
    change = obj is not None
    form_class = model_admin.get_form(request, obj, change=change)
    form = form_class(data, request.FILES, instance=obj if change else Exercise())
    form_valid = form.is_valid()
    formsets, _ = model_admin._create_formsets(request, form.instance, change=change)
    formset = next((fs for fs in formsets if fs.model is Part), None)
    if formset is None:
        raise BadInput("This exercise form has no parts.")
    valid = all_valid(formsets) and form_valid
    return Draft(form=form, formset=formset, valid=valid)


def page_object(model_admin, request: HttpRequest, object_id: str | None) -> Exercise | None:
    """The exercise of a change page (None on the add page), for one who may edit it."""
    if request.method != "POST":
        raise BadInput("Send the exercise's form with POST.", 405)
    if object_id is None:
        if not model_admin.has_add_permission(request):
            raise PermissionDenied
        return None
    obj = model_admin.get_object(request, unquote(object_id))
    if obj is None:
        raise Http404("No such exercise.")
    if not model_admin.has_change_permission(request, obj):
        raise PermissionDenied
    return obj


# ---------------------------------------------------------------- the engine's reading


def reading(part: Part, answer: str, expected: str, values: dict, seed: int) -> dict:
    """How the engine reads `answer` to this part: {"ok": True, "latex", "text"} or
    {"ok": False, "message", "column"}, as the students' live preview says it."""
    if len(answer) > preview.MAX_ANSWER_LENGTH:
        return {
            "ok": False,
            "text": answer,
            "message": f"Too long ({len(answer)} characters; at most {preview.MAX_ANSWER_LENGTH}).",
        }
    try:
        case = part.definition().case_for(answer, expected, values, seed)
        verdict = grading.validate(case)
        if verdict is not None:
            return {
                "ok": False,
                "text": answer,
                "message": verdict.message,
                "column": verdict.details.get("column"),
            }
        return {"ok": True, "text": answer, "latex": preview.answer_latex(part, answer)}
    except DefinitionError as e:
        return {"ok": False, "text": answer, "message": "; ".join(e.messages()[:3])}
    except (preview.ParseError, variants.VariantError) as e:
        return {"ok": False, "text": answer, "message": getattr(e, "message", str(e))}
    except RecursionError:
        return {"ok": False, "text": answer, "message": "Nested too deeply."}
    except Exception:
        # A reading is a convenience: a fault here must not break the author's page, and
        # saving goes through the definition's own checks anyway.
        log.exception("no reading of %r for part %s", answer, part.key)
        return {"ok": False, "text": answer, "message": "No reading for this answer."}


def draw(draft: Draft, seed: int) -> tuple[dict, str]:
    """The seed's values, or {} and why there are none."""
    if any(name in draft.form.errors for name in ("parameters", "constraints")):
        return {}, "No values: the parameters or constraints have errors."
    try:
        return draft.exercise.values_for_seed(seed), ""
    except variants.VariantError as e:
        return {}, f"No values for seed {seed}: {e}"


def part_readings(form, values: dict, problem: str, seed: int) -> dict:
    """The engine's reading of one part form's expected answer and known mistakes."""
    part = form.instance
    result = {"key": part.key, "kind": part.kind, "expected": None, "mistakes": []}
    if part.kind == Part.Kind.CODE:
        return result
    errors = [*form.errors.get("expected", []), *form.errors.get("expected_routine", [])]
    expected = ""
    if errors:
        result["expected"] = {"ok": False, "message": " ".join(errors)}
    elif problem:
        result["expected"] = {"ok": False, "message": problem}
    else:
        try:
            expected = part.expected_answer(values)
        except (variants.VariantError, DefinitionError) as e:
            result["expected"] = {"ok": False, "message": getattr(e, "message", str(e))}
        else:
            result["expected"] = reading(part, expected, expected, values, seed)
    if form.errors.get("mistakes"):
        result["mistakes"] = [{"ok": False, "message": " ".join(form.errors["mistakes"])}]
    elif not problem:
        try:
            mistakes = variants.mistakes_for(list(part.mistakes or []), values)
        except variants.VariantError as e:
            result["mistakes"] = [{"ok": False, "message": str(e)}]
        else:
            for mistake in mistakes:
                answer, says = str(mistake.get("answer", "")), str(mistake.get("message", ""))
                row = {**reading(part, answer, expected, values, seed), "says": says}
                if row["ok"] and expected and result["expected"].get("ok"):
                    row["caught"] = mistake_caught(part, answer, expected, says, values, seed)
                result["mistakes"].append(row)
    return result


def mistake_caught(
    part: Part, answer: str, expected: str, says: str, values: dict, seed: int
) -> dict:
    """Whether a student typing the mistake gets its message for this seed: {"ok"} or
    {"ok": False, "message"} saying what they would get instead."""
    verdict = grade(part, answer, expected, values, seed, None)
    if verdict["status"] == "incorrect" and verdict["message"] == says:
        return {"ok": True}
    if verdict["status"] == "correct":
        return {"ok": False, "message": "graded correct: it equals the expected answer here"}
    return {"ok": False, "message": f"answered {verdict['status']}: {verdict['message']}"}


def variant_view(exercise: Exercise, parts: list[Part], seed: int) -> StudentView:
    return StudentView.for_preview(exercise, seed, parts)


def compared_seeds(exercise: Exercise, parts: list[Part], seed: int) -> list[dict]:
    """The values and expected answers of the seeds from `seed` on."""
    rows = []
    for other in range(seed, min(seed + SEEDS_COMPARED, MAX_SEED + 1)):
        try:
            values = exercise.values_for_seed(other)
            expected = exercise.expected_answers(values, parts)
            rows.append({"seed": other, "values": variants.describe(values), "expected": expected})
        except variants.VariantError as e:
            rows.append({"seed": other, "error": str(e)})
    return rows


# ---------------------------------------------------------------- grading an answer


def grade(
    part: Part, answer: str, expected: str, values: dict, seed: int, user
) -> dict[str, object]:
    """The engine's verdict on an answer to this part of a variant: {"status", "message",
    "mistake"}; for a code part {"status": "pending", "poll": url} once its case is on
    the code queue (or why it is not)."""
    if not answer.strip():
        return {"status": "unanswered", "message": ""}
    if part.kind == Part.Kind.CODE:
        return run_code(part, answer, values, seed, user)
    if len(answer) > preview.MAX_ANSWER_LENGTH:
        return {"status": "invalid", "message": "The answer is too long."}
    try:
        case = part.definition().case_for(answer, expected, values, seed)
    except DefinitionError as e:
        return {"status": "error", "message": "; ".join(e.messages()[:3])}
    except variants.VariantError as e:
        return {"status": "error", "message": str(e)}
    verdict = grading.check(case, timeout=settings.GRADING_TIMEOUT)
    return {
        "status": verdict.status,
        "message": verdict.message,
        "mistake": bool(verdict.details.get("mistake")),
    }


def _result_key(token: str) -> str:
    return f"authoring-preview-code:{token}"


def run_code(part: Part, source: str, values: dict, seed: int, user) -> dict:
    """Send a code answer to the code queue, to run in a sandbox on a code worker; the
    verdict is polled for at the returned URL. A source that does not compile is
    refused here, as the students' runs refuse it."""
    try:
        case = part.definition().case_for(source, "", values, seed)
    except (DefinitionError, variants.VariantError) as e:
        message = "; ".join(e.messages()[:3]) if isinstance(e, DefinitionError) else str(e)
        return {"status": "error", "message": message}
    problem = grading.validate(case)
    if problem is not None:
        return {"status": "invalid", "message": problem.message}
    refusal = ratelimit.code_run(user)
    if refusal is not None:
        return {"status": "invalid", "message": refusal.message}
    token = secrets.token_urlsafe(18)
    try:
        cache.set(
            _result_key(token),
            {"user": user.pk, "status": "pending", "message": CODE_PENDING_MESSAGE},
            CODE_RESULT_SECONDS,
        )
    except Exception:  # the cache (Redis) is unreachable: no worker could hand back a verdict
        log.warning("previewed code not sent: the cache is unreachable", exc_info=True)
        return {"status": "invalid", "message": NO_QUEUE_MESSAGE}
    if not publish(RUN_CODE, token, case, queue=settings.CODE_QUEUE):
        cache.delete(_result_key(token))
        return {"status": "invalid", "message": NO_QUEUE_MESSAGE}
    poll = reverse("admin:exercises_exercise_authoring_code", args=[token])
    return {"status": "pending", "message": CODE_PENDING_MESSAGE, "poll": poll}


def perform_code(token: str, case: dict) -> str:
    """On a code worker: run a previewed code answer in the sandbox and keep its verdict
    for the page polling for it. Running it twice keeps the same verdict."""
    key = _result_key(token)
    waiting = cache.get(key)
    if waiting is None:
        return "skipped"  # nobody is waiting for it any more
    if waiting.get("status") != "pending":
        return "skipped"
    try:
        verdict = grading.check(case, timeout=settings.GRADING_TIMEOUT)
    except grading.Unavailable as e:
        log.error("previewed code not run: no sandbox for code could be started: %s", e)
        result = {"status": "invalid", "message": NO_SANDBOX_MESSAGE}
    else:
        details = verdict.details or {}
        result = {
            "status": verdict.status,
            "message": verdict.message,
            "tests": [
                {"name": t.get("name", ""), "passed": bool(t.get("passed")), **_test_text(t)}
                for t in details.get("tests", [])
            ],
            "hidden": details.get("hidden"),
        }
    cache.set(key, {"user": waiting["user"], **result}, CODE_RESULT_SECONDS)
    return result["status"]


def _test_text(test: dict) -> dict:
    error = test.get("error") or {}
    text = test.get("message", "")
    if error:
        text = f"{text} {error.get('type', '')}: {error.get('message', '')}".strip()
    return {"message": text}


def code_result(token: str, user) -> dict | None:
    """The verdict (or "pending") of a previewed code answer sent by `user`; None if
    there is no such run for them."""
    try:
        found = cache.get(_result_key(token))
    except Exception:  # the cache (Redis) is unreachable
        log.warning("no verdict for previewed code: the cache is unreachable", exc_info=True)
        return {"status": "invalid", "message": NO_QUEUE_MESSAGE}
    if found is None or found.get("user") != user.pk:
        return None
    return {k: v for k, v in found.items() if k != "user"}


# ---------------------------------------------------------------- the views


def answers_from(post, prefix: str, keys) -> dict[str, str]:
    """The answers typed per part key: `<prefix><key>`; several ticked options joined
    by commas, as the students' form joins them."""
    return {key: ",".join(v for v in post.getlist(f"{prefix}{key}") if v) for key in keys}


@dataclass
class SeedVariant:
    """A seed's variant of the unsaved exercise: what it is graded against."""

    values: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)
    error: str = ""


def variant_of(exercise: Exercise, parts: list[Part], seed: int) -> SeedVariant:
    try:
        values = exercise.values_for_seed(seed)
        return SeedVariant(values, exercise.expected_answers(values, parts))
    except variants.VariantError as e:
        return SeedVariant(error=str(e))


def _json_error(e: BadInput) -> JsonResponse:
    return JsonResponse({"ok": False, "messages": [e.message]}, status=e.status)


def read_view(model_admin, request: HttpRequest, object_id: str | None = None) -> JsonResponse:
    try:
        obj = page_object(model_admin, request, object_id)
        seed = parse_seed(request.POST.get("preview_seed"))
        draft = bind(model_admin, request, obj)
    except BadInput as e:
        return _json_error(e)
    values, problem = draw(draft, seed)
    result = {
        "ok": draft.valid,
        "seed": seed,
        "messages": draft.messages(),
        "readings": {
            form.prefix: part_readings(form, values, problem, seed) for form in draft.part_forms()
        },
    }
    if draft.valid:
        exercise, parts = draft.exercise, draft.parts
        view = variant_view(exercise, parts, seed)
        result["html"] = render_to_string(
            "admin/exercises/_authoring_preview_variant.html",
            {
                "view": view,
                "seed": seed,
                "randomised": bool(exercise.parameters),
                "seeds": compared_seeds(exercise, parts, seed) if exercise.parameters else [],
            },
            request=request,
        )
    return JsonResponse(result)


def try_view(model_admin, request: HttpRequest, object_id: str | None = None) -> JsonResponse:
    try:
        obj = page_object(model_admin, request, object_id)
        seed = parse_seed(request.POST.get("preview_seed"))
        draft = bind(model_admin, request, obj)
    except BadInput as e:
        return _json_error(e)
    if not draft.valid:
        return JsonResponse({"ok": False, "messages": draft.messages()}, status=422)
    exercise, parts = draft.exercise, draft.parts
    variant = variant_of(exercise, parts, seed)
    if variant.error:
        return JsonResponse({"ok": False, "messages": [variant.error]}, status=422)
    answers = answers_from(request.POST, "try-", [p.key for p in parts])
    verdicts = {
        part.key: grade(
            part,
            answers[part.key],
            variant.expected.get(part.key, ""),
            variant.values,
            seed,
            request.user,
        )
        for part in parts
    }
    return JsonResponse({"ok": True, "seed": seed, "verdicts": verdicts})


def code_result_view(model_admin, request: HttpRequest, token: str) -> JsonResponse:
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    found = code_result(token, request.user)
    if found is None:
        return JsonResponse(
            {"status": "invalid", "message": "No such run: try the answer again."}, status=404
        )
    return JsonResponse(found)


def staff_preview_verdicts(request: HttpRequest, exercise: Exercise, seed: int) -> dict:
    """The staff preview's answers, graded against the seed's variant of the saved
    exercise: {key: (typed, verdict)}. Nothing is stored."""
    parts = list(exercise.parts.all())
    variant = variant_of(exercise, parts, seed)
    answers = answers_from(request.POST, "answer-", [p.key for p in parts])
    if variant.error:
        return {
            key: (answer, {"status": "error", "message": variant.error})
            for key, answer in answers.items()
        }
    return {
        part.key: (
            answers[part.key],
            grade(
                part,
                answers[part.key],
                variant.expected.get(part.key, ""),
                variant.values,
                seed,
                request.user,
            ),
        )
        for part in parts
    }


def urls(model_admin) -> list:
    """The previews' URLs on the exercise admin, for the change and the add page."""
    wrap = model_admin.admin_site.admin_view

    def read(request, object_id=None):
        return read_view(model_admin, request, object_id)

    def tried(request, object_id=None):
        return try_view(model_admin, request, object_id)

    def code(request, token):
        return code_result_view(model_admin, request, token)

    return [
        path(
            "authoring-preview/code/<str:token>/",
            wrap(code),
            name="exercises_exercise_authoring_code",
        ),
        path("authoring-preview/", wrap(read), name="exercises_exercise_authoring_read"),
        path("authoring-preview/try/", wrap(tried), name="exercises_exercise_authoring_try"),
        path(
            "<path:object_id>/authoring-preview/",
            wrap(read),
            name="exercises_exercise_authoring_read",
        ),
        path(
            "<path:object_id>/authoring-preview/try/",
            wrap(tried),
            name="exercises_exercise_authoring_try",
        ),
    ]
