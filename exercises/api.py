"""The JSON API: tokens, the course outline, an exercise, submissions, runs of a code
part's visible tests."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from exercises import apischema as shapes
from exercises import coderuns, outline, queue, student_reads, variants, verdict_wait
from exercises.models import CodeRun, Exercise, Part, ProblemSet, Submission
from exercises.presentation import HELD_MESSAGE, StudentView, SubmissionView
from exercises.ratelimit import SubmitThrottle, TokenThrottle


def exception_handler(exc, context):
    """DRF's handler, with a plain message for a body that is not JSON or is too large."""
    if isinstance(exc, ParseError):
        return Response(
            {"detail": f"The request body is not valid JSON: {exc.detail}"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The request body is too large (at most {limit} bytes)."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return drf_exception_handler(exc, context)


def _get_exercise_for_user(request: Request, slug: str, set_slug: str | None = None) -> Exercise:
    """A published exercise, its problem set, the caller's due date on it and its parts,
    in one query (the parts are read once per version). With `set_slug`: as shown in
    that set, its own or one it is placed in (`Placement`), once the set has opened."""
    if set_slug is not None:
        problem_set = get_object_or_404(ProblemSet, slug=set_slug)
        if not problem_set.is_open():
            raise Http404("This problem set is not open yet.")
        try:
            return problem_set.exercise_shown(slug).with_parts()
        except Exercise.DoesNotExist:
            raise Http404("No such exercise in this problem set.") from None
    ex = student_reads.published_exercise(slug, request.user)
    if ex is student_reads.NOTHING:
        ex = get_object_or_404(Exercise.published.for_student(request.user), slug=slug)
    elif ex is None:
        raise Http404("No Exercise matches the given query.")
    ex.problem_set.remember_due(request.user, ex.student_due)
    return ex.with_parts()


def _preferred_wait(request: Request) -> int | None:
    """The seconds of RFC 7240's `Prefer: wait=N`, if the request asks for a wait; a
    value that is not a whole number of seconds, or is zero, asks for none."""
    for preference in request.headers.get("Prefer", "").split(","):
        name, _, value = preference.split(";")[0].partition("=")
        if name.strip().lower() == "wait":
            value = value.strip().strip('"')
            if value.isascii() and value.isdigit() and int(value) > 0:
                return int(value)
            return None
    return None


def _applied(seconds: float) -> dict:
    """The Preference-Applied header of a wait of `seconds`, as capped."""
    seconds = min(seconds, settings.VERDICT_WAIT_MAX)
    return {"Preference-Applied": f"wait={seconds:g}"}


def _json_object(request: Request) -> dict:
    data = request.data
    if not isinstance(data, dict):
        raise ParseError("expected a JSON object")
    return data


@extend_schema(
    operation_id="token",
    summary="Get the caller's API token",
    request=shapes.TokenRequest,
    examples=[shapes.TOKEN_EXAMPLE],
    responses={
        200: shapes.ok(shapes.TokenResponse, "The caller's token, the same one each time."),
        400: shapes.error("Unknown username or wrong password, or a malformed body."),
        401: shapes.error("An Authorization header with an unknown token."),
        403: shapes.NO_CSRF,
        413: shapes.TOO_LARGE,
        415: shapes.NOT_JSON,
        429: shapes.error("Too many token requests from this address."),
    },
    parameters=[shapes.RETRY_AFTER],
    auth=[],
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([TokenThrottle])
def token(request: Request) -> Response:
    data = _json_object(request)
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        return Response(
            {"detail": 'Send {"username": "...", "password": "..."}.'},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if "\x00" in username or "\x00" in password:
        # PostgreSQL cannot even look such a name up.
        return Response(
            {"detail": "A username or password cannot hold a NUL character."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        return Response(
            {"detail": "Unknown username or wrong password."}, status=status.HTTP_400_BAD_REQUEST
        )
    key, _ = Token.objects.get_or_create(user=user)
    return Response({"token": key.key})


@extend_schema(
    operation_id="modules",
    summary="The course outline",
    description="The modules in order, each with its problem sets and their exercises.",
    responses={
        200: shapes.ok(shapes.ModuleOutline(many=True), "The outline."),
        401: shapes.UNAUTHENTICATED,
    },
)
@api_view(["GET"])
def modules(request: Request) -> Response:
    return Response(outline.outline())


@extend_schema(
    operation_id="exercise",
    summary="An exercise, as the caller sees it",
    responses={
        200: shapes.ok(shapes.ExerciseShown, "The caller's variant of the exercise."),
        401: shapes.UNAUTHENTICATED,
        404: shapes.NO_EXERCISE,
        503: shapes.UNAVAILABLE,
    },
    parameters=[shapes.SLUG],
)
@api_view(["GET"])
def exercise(request: Request, slug: str) -> Response:
    """The prompt and the parts of the caller's variant (never the expected answers), and
    what the feedback rules let the caller see: scores, hints and the solution."""
    return _exercise(request, _get_exercise_for_user(request, slug))


@extend_schema(
    operation_id="placed_exercise",
    tags=["exercises"],
    summary="An exercise as shown in a problem set, as the caller sees it",
    description=(
        "An exercise of the question bank may be placed in several problem sets: in "
        "each, the caller has their own variant, attempts, dates and score. Its own set "
        "gives the same as `/api/exercises/{slug}/`."
    ),
    responses={
        200: shapes.ok(shapes.ExerciseShown, "The caller's variant of the exercise in the set."),
        401: shapes.UNAUTHENTICATED,
        404: shapes.NO_PLACED_EXERCISE,
        503: shapes.UNAVAILABLE,
    },
    parameters=[shapes.SET_SLUG, shapes.SLUG],
)
@api_view(["GET"])
def placed_exercise(request: Request, set_slug: str, slug: str) -> Response:
    return _exercise(request, _get_exercise_for_user(request, slug, set_slug))


def _exercise(request: Request, ex: Exercise) -> Response:
    try:
        view = StudentView.opened_by(ex, request.user)
        body = {"slug": ex.slug, "title": ex.title, "prompt": view.prompt}
        parts = []
        for p in view.parts:
            item = {"key": p.key, "kind": p.kind, "label": p.label, "variables": p.variables}
            if p.kind == Part.Kind.CHOICE:
                item["options"] = p.options
                # One key (radio buttons) or several (check boxes), and how they are scored.
                item["multiple"] = p.multiple
                item["scoring"] = p.scoring
            if p.is_code:
                # What the student is asked to write; never the reference, the tests'
                # inputs or the sample answers.
                item.update(
                    {"function": p.function, "signature": p.signature, "starter": p.starter}
                )
            if p.hint:
                item["hint"] = p.hint
            parts.append(item)
    except variants.VariantError:
        return Response({"detail": queue.UNAVAILABLE_MESSAGE}, status=503)
    body.update(
        {
            "parts": parts,
            "max_attempts": view.attempt_limit,
            "attempts_used": view.attempts_used,
            "due": view.due,
            "late": view.late,
            "kind": view.problem_set.kind,
            "quiz_ends": view.quiz_ends,
            "feedback_released": view.feedback,
        }
    )
    if view.feedback:
        body.update({"best_score": view.best, "solved": view.solved})
    if view.solution:
        body["solution"] = view.solution
    return Response(body)


@extend_schema(
    operation_id="submit",
    summary="Submit answers to an exercise",
    description=(
        "Every answer is read at once: an unreadable one is refused with 422 and "
        "nothing is saved. An accepted submission is graded in the background: poll "
        "its `url`, or send `Prefer: wait=N` to be answered with the verdict once it "
        "is in (within N seconds; the answer is 202 all the same)."
    ),
    request=shapes.SubmissionRequest,
    examples=[shapes.SUBMISSION_EXAMPLE],
    responses={
        202: shapes.ok(shapes.Accepted, "Saved and queued for grading."),
        400: shapes.error("A malformed body, or a part the exercise does not have."),
        401: shapes.UNAUTHENTICATED,
        403: shapes.error(
            "Out of attempts, or outside the problem set's dates (or a signed-in "
            "browser session without its CSRF token)."
        ),
        404: shapes.NO_EXERCISE,
        413: shapes.TOO_LARGE,
        415: shapes.NOT_JSON,
        422: shapes.error("Some answers could not be read.", shapes.SubmissionRefusal),
        429: shapes.THROTTLED,
        503: shapes.UNAVAILABLE,
    },
    parameters=[shapes.SLUG, shapes.PREFER, shapes.preference_applied(202), shapes.RETRY_AFTER],
)
@api_view(["POST"])
@throttle_classes([SubmitThrottle])
def submit(request: Request, slug: str) -> Response:
    return _submit(request, _get_exercise_for_user(request, slug))


@extend_schema(
    operation_id="placed_submit",
    tags=["exercises"],
    summary="Submit answers to an exercise as shown in a problem set",
    description=(
        "As `/api/exercises/{slug}/submissions/`, the attempt counted in this set (its "
        "own, or one it is placed in): its attempts, dates and quiz."
    ),
    request=shapes.SubmissionRequest,
    examples=[shapes.SUBMISSION_EXAMPLE],
    responses={
        202: shapes.ok(shapes.Accepted, "Saved and queued for grading."),
        400: shapes.error("A malformed body, or a part the exercise does not have."),
        401: shapes.UNAUTHENTICATED,
        403: shapes.error(
            "Out of attempts in this set, or outside its dates (or a signed-in browser "
            "session without its CSRF token)."
        ),
        404: shapes.NO_PLACED_EXERCISE,
        413: shapes.TOO_LARGE,
        415: shapes.NOT_JSON,
        422: shapes.error("Some answers could not be read.", shapes.SubmissionRefusal),
        429: shapes.THROTTLED,
        503: shapes.UNAVAILABLE,
    },
    parameters=[
        shapes.SET_SLUG,
        shapes.SLUG,
        shapes.PREFER,
        shapes.preference_applied(202),
        shapes.RETRY_AFTER,
    ],
)
@api_view(["POST"])
@throttle_classes([SubmitThrottle])
def placed_submit(request: Request, set_slug: str, slug: str) -> Response:
    return _submit(request, _get_exercise_for_user(request, slug, set_slug))


def _submit(request: Request, ex: Exercise) -> Response:
    data = _json_object(request)
    answers = data.get("answers")
    if not isinstance(answers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in answers.items()
    ):
        return Response(
            {"detail": 'Send {"answers": {"<part key>": "<answer text>", ...}}.'},
            status=status.HTTP_400_BAD_REQUEST,
        )
    try:
        sub = queue.submit(request.user, ex, answers)
    except queue.SubmissionRefused as refused:
        body = {"detail": refused.message}
        if refused.errors:
            body["errors"] = refused.errors
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return Response(body, status=refused.http_status, headers=headers)
    url = request.build_absolute_uri(f"/api/submissions/{sub.pk}/")
    body = {"id": sub.pk, "status": sub.status, "url": url}
    headers = None
    seconds = _preferred_wait(request)
    if seconds is not None:
        # Just saved: pending, and its verdict will leave a token for the wait.
        done = verdict_wait.wait(sub.pk, seconds, seen_pending=True)
        if done is not None:
            headers = _applied(seconds)
        if done:
            body = {**_submission_body(_own_submission(sub.pk, request.user)), "url": url}
    return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)


@extend_schema(
    operation_id="submission",
    summary="A submission and, once released, its verdict",
    description=(
        "With `Prefer: wait=N`, a submission still being graded is answered once its "
        "verdict is in, or after N seconds."
    ),
    responses={
        200: shapes.ok(shapes.SubmissionResult, "The submission."),
        401: shapes.UNAUTHENTICATED,
        404: shapes.NO_SUBMISSION,
    },
    parameters=[shapes.ID, shapes.PREFER, shapes.preference_applied(200)],
)
@api_view(["GET"])
def submission(request: Request, pk: int) -> Response:
    # Polled over and over: only what the reply needs (no variant: 0.13 ms less a poll).
    sub = _own_submission(pk, request.user)
    seconds = _preferred_wait(request)
    if seconds is None:
        return Response(_submission_body(sub))
    if sub.status in verdict_wait.DONE:
        return Response(_submission_body(sub), headers=_applied(seconds))
    done = verdict_wait.wait(sub.pk, seconds, seen_pending=True)
    if done:
        sub = _own_submission(sub.pk, request.user)
    headers = _applied(seconds) if done is not None else None
    return Response(_submission_body(sub), headers=headers)


def _own_submission(pk: int, student) -> Submission:
    """The student's submission with its exercise and problem set: hand-written SQL on
    PostgreSQL (`student_reads`), the ORM elsewhere; 404 for another's or none."""
    sub = student_reads.own_submission(pk, student)
    if sub is student_reads.NOTHING:
        submissions = Submission.objects.select_related("exercise", "problem_set")
        return get_object_or_404(submissions, pk=pk, student=student)
    if sub is None:
        raise Http404("No Submission matches the given query.")
    return sub


def _submission_body(sub: Submission) -> dict:
    """A submission as its student may see it: the verdict once feedback is shown."""
    verdict = SubmissionView.of(sub)
    body = {
        "id": sub.pk,
        "exercise": sub.exercise.slug,
        "attempt": sub.attempt,
        "status": sub.status,
        "late": sub.late,
        "answers": sub.answers,
        "feedback_released": verdict.feedback,
    }
    if not verdict.feedback:
        # A quiz's verdicts wait for the instructor; the grading has happened all the same.
        body["detail"] = HELD_MESSAGE
        if sub.message:
            # Why it failed, or why its grading is delayed: never a verdict.
            body["message"] = sub.message
        return body
    body.update(
        {
            "score": verdict.score,
            "credit": verdict.credit,
            "message": sub.message,
            "parts": {key: _part_result(r) for key, r in sub.results.items()},
            # A regrade may have changed the verdict since the student last saw it.
            "regrades": [change.as_json() for change in verdict.changes],
        }
    )
    return body


def _part_result(result: dict) -> dict:
    """A part's verdict; a code part's also has its score and its tests' feedback."""
    body = {"status": result.get("status"), "message": result.get("message")}
    if "score" in result:
        body["score"] = result["score"]
    if "details" in result:
        body["details"] = result["details"] or {}
    return body


@extend_schema(
    operation_id="run_tests",
    summary="Run a code part's visible tests",
    request=shapes.RunRequest,
    examples=[shapes.RUN_EXAMPLE],
    responses={
        202: shapes.ok(shapes.RunAccepted, "Saved and queued to run."),
        400: shapes.error("A malformed body, or no such code part."),
        401: shapes.UNAUTHENTICATED,
        403: shapes.error(
            "A quiz whose feedback is held, or outside the problem set's dates (or a "
            "signed-in browser session without its CSRF token)."
        ),
        404: shapes.NO_EXERCISE,
        413: shapes.TOO_LARGE,
        415: shapes.NOT_JSON,
        422: shapes.error("No source, or source that does not compile."),
        429: shapes.THROTTLED,
        503: shapes.UNAVAILABLE,
    },
    parameters=[shapes.SLUG, shapes.RETRY_AFTER],
)
@api_view(["POST"])
def run_tests(request: Request, slug: str) -> Response:
    """Run a code part's visible tests on a source: `{"part": "<key>", "answer": "..."}`.
    No attempt is used; the same limits hold as on the exercise page."""
    ex = get_object_or_404(Exercise.published.select_related("problem_set"), slug=slug)
    return _run_tests(request, ex)


@extend_schema(
    operation_id="placed_run_tests",
    tags=["exercises"],
    summary="Run a code part's visible tests, in a problem set the exercise is shown in",
    request=shapes.RunRequest,
    examples=[shapes.RUN_EXAMPLE],
    responses={
        202: shapes.ok(shapes.RunAccepted, "Saved and queued to run."),
        400: shapes.error("A malformed body, or no such code part."),
        401: shapes.UNAUTHENTICATED,
        403: shapes.error(
            "A quiz whose feedback is held, or outside the set's dates (or a signed-in "
            "browser session without its CSRF token)."
        ),
        404: shapes.NO_PLACED_EXERCISE,
        413: shapes.TOO_LARGE,
        415: shapes.NOT_JSON,
        422: shapes.error("No source, or source that does not compile."),
        429: shapes.THROTTLED,
        503: shapes.UNAVAILABLE,
    },
    parameters=[shapes.SET_SLUG, shapes.SLUG, shapes.RETRY_AFTER],
)
@api_view(["POST"])
def placed_run_tests(request: Request, set_slug: str, slug: str) -> Response:
    """As `run_tests`, in the set given (its own, or one it is placed in)."""
    return _run_tests(request, _get_exercise_for_user(request, slug, set_slug))


def _run_tests(request: Request, ex: Exercise) -> Response:
    data = _json_object(request)
    part, answer = data.get("part"), data.get("answer")
    if not isinstance(part, str) or not isinstance(answer, str):
        return Response(
            {"detail": 'Send {"part": "<part key>", "answer": "<Python source>"}.'},
            status=status.HTTP_400_BAD_REQUEST,
        )
    try:
        run = coderuns.start(request.user, ex, part, answer)
    except coderuns.RunRefused as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        return Response({"detail": refused.message}, status=refused.http_status, headers=headers)
    return Response(
        {
            "id": run.pk,
            "status": run.status,
            "url": request.build_absolute_uri(f"/api/runs/{run.pk}/"),
        },
        status=status.HTTP_202_ACCEPTED,
    )


@extend_schema(
    operation_id="run_result",
    summary="A run of the visible tests and, once done, its result",
    responses={
        200: shapes.ok(shapes.RunResult, "The run."),
        401: shapes.UNAUTHENTICATED,
        404: shapes.NO_RUN,
    },
    parameters=[shapes.ID],
)
@api_view(["GET"])
def run_result(request: Request, pk: int) -> Response:
    """A run's status and, once done, its verdict: `{"status", "message", "score",
    "details"}` (visible tests, hidden counts, printed output)."""
    run = get_object_or_404(CodeRun, pk=pk, student=request.user)
    body = {"status": run.status, "result": run.result if run.status == CodeRun.Status.DONE else {}}
    if run.message:
        body["message"] = run.message
    return Response(body)
