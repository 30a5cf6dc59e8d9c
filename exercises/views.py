"""Students' pages: the course, a module, a problem set, an exercise, a submission."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import F, Max, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from exercises import accounts, coderuns, queue, quiz, ratelimit, scoring, standing, view_as
from exercises.accounts import SignUpForm
from exercises.models import (
    CodeRun,
    Exercise,
    Module,
    Part,
    Placement,
    ProblemSet,
    Submission,
)
from exercises.presentation import StudentView, SubmissionView
from exercises.variants import VariantError

log = logging.getLogger(__name__)


def site_context(request: HttpRequest) -> dict:
    return {"site_name": settings.SITE_NAME}


# ---------------------------------------------------------------- progress


def exercise_states(user, exercises) -> dict[int, str]:
    """ "solved", "tried" or "new" for each exercise id, for this student, in the
    problem set each exercise is shown in (`Exercise.placed_in`)."""
    return {pk: state for (_, pk), state in set_states(user, exercises).items()}


def set_states(user, exercises) -> dict[tuple[int, int], str]:
    """ "solved", "tried" or "new" for each exercise in the set it is shown in, by
    (problem set id, exercise id): a placed exercise's work is its placement's."""
    slots = [(e.problem_set_id, e.pk) for e in exercises]
    # In a quiz whose feedback is held back, a student only knows they have answered.
    held = {(e.problem_set_id, e.pk) for e in exercises if not e.problem_set.shows_feedback()}
    best = {}
    if slots:
        best = {
            (set_id, pk): score
            for set_id, pk, score in Submission.objects.filter(student=user)
            .filter(in_slots(slots))
            .values("problem_set_id", "exercise_id")
            .annotate(best=Max("score"))
            .values_list("problem_set_id", "exercise_id", "best")
        }
    # Answered part by part: solved once every part was right in some attempt.
    unsolved = [slot for slot, score in best.items() if score is None or score < 1]
    solved = scoring.solved_part_by_part(user, unsolved)
    states = {}
    for slot in slots:
        if slot not in best:
            states[slot] = "new"
        elif slot not in held and (slot in solved or (best[slot] is not None and best[slot] >= 1)):
            states[slot] = "solved"
        else:
            states[slot] = "tried"
    return states


def in_slots(slots) -> Q:
    """Submissions made at these (problem set id, exercise id) pairs."""
    by_set: dict[int, list[int]] = {}
    for set_id, pk in slots:
        by_set.setdefault(set_id, []).append(pk)
    query = Q(pk__in=[])
    for set_id, ids in by_set.items():
        query |= Q(problem_set_id=set_id, exercise_id__in=ids)
    return query


# ---------------------------------------------------------------- accounts


class ThrottledLoginView(auth_views.LoginView):
    """Django's login view, refusing after too many attempts from one address."""

    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        refusal = ratelimit.login(request)
        if refusal is not None:
            return accounts.refused_form(self, refusal)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        # Django's LoginView names the site by its host; the header names the course.
        return {**super().get_context_data(**kwargs), "site_name": settings.SITE_NAME}


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("ex-course")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.username}! Start with module 1.")
        return redirect("ex-course")
    return render(request, "registration/signup.html", {"form": form})


# ---------------------------------------------------------------- course pages


def _published() -> Prefetch:
    """Students see only published exercises; drafts are for the admin's preview."""
    return Prefetch("exercises", queryset=Exercise.published.all())


def _placed() -> Prefetch:
    """The published exercises of the question bank placed in each set."""
    return Prefetch(
        "placements",
        queryset=Placement.objects.filter(exercise__status=Exercise.Status.PUBLISHED)
        .exclude(exercise__problem_set=F("problem_set"))
        .select_related("exercise"),
    )


def _shown(problem_set: ProblemSet) -> list[Exercise]:
    """The set's exercises as `ProblemSet.shown_exercises` gives them, read from what
    `_published()` and `_placed()` prefetched."""
    own = list(problem_set.exercises.all())
    if not problem_set.is_open():
        return own
    return own + [p.exercise.placed_in(problem_set) for p in problem_set.placements.all()]


@login_required
@require_GET
def course(request: HttpRequest) -> HttpResponse:
    modules = Module.objects.prefetch_related(
        Prefetch(
            "problem_sets",
            queryset=ProblemSet.objects.prefetch_related(_published(), _placed()),
        )
    )
    shown = {ps.pk: _shown(ps) for m in modules for ps in m.problem_sets.all()}
    student = view_as.student(request)
    states = set_states(student, [e for exercises in shown.values() for e in exercises])
    terms = standing.set_terms(student, [ps for m in modules for ps in m.problem_sets.all()])
    rows = []
    for module in modules:
        slots = [(ps.pk, e.pk) for ps in module.problem_sets.all() for e in shown[ps.pk]]
        solved = sum(states[slot] == "solved" for slot in slots)
        next_due = standing.next_due([terms[ps.pk] for ps in module.problem_sets.all()])
        rows.append({"module": module, "solved": solved, "total": len(slots), "next_due": next_due})
    return render(request, "exercises/course.html", {"rows": rows})


@login_required
@require_GET
def module(request: HttpRequest, slug: str) -> HttpResponse:
    module = get_object_or_404(Module, slug=slug)
    problem_sets = list(module.problem_sets.prefetch_related(_published(), _placed()))
    shown = {ps.pk: _shown(ps) for ps in problem_sets}
    student = view_as.student(request)
    states = set_states(student, [e for exercises in shown.values() for e in exercises])
    terms = standing.set_terms(student, problem_sets)
    rows = [
        {
            "problem_set": ps,
            "solved": sum(states[(ps.pk, e.pk)] == "solved" for e in shown[ps.pk]),
            "total": len(shown[ps.pk]),
            "terms": terms[ps.pk],
        }
        for ps in problem_sets
    ]
    return render(request, "exercises/module.html", {"module": module, "rows": rows})


@login_required
@require_GET
def problem_set(request: HttpRequest, slug: str) -> HttpResponse:
    problem_set = get_object_or_404(ProblemSet.objects.select_related("module"), slug=slug)
    exercises = problem_set.shown_exercises()
    student = view_as.student(request)
    if not view_as.is_viewing(request):
        quiz.settle(student)
    states = exercise_states(student, exercises)
    used = standing.attempts_used(student, exercises)
    rows = [{"exercise": e, "state": states[e.pk], "used": used[e.pk]} for e in exercises]
    context = {
        "problem_set": problem_set,
        "rows": rows,
        "terms": standing.set_terms(student, [problem_set])[problem_set.pk],
        "quiz": quiz.QuizState.of(problem_set, student),
    }
    return render(request, "exercises/problem_set.html", context)


def _exercise_page(request, exercise, answers=None, errors=None, refusal="", status=200):
    student = view_as.student(request)
    viewing = view_as.is_viewing(request)
    try:
        # Staff viewing as the student: their view, though nothing is drawn or started.
        view = StudentView.opened_by(exercise, student, keep=not viewing)
        view.prompt_html  # noqa: B018 (rendered here: the student's values may break a template)
    except VariantError as e:
        log.error("exercise %s: no variant for user %s: %s", exercise.slug, student.pk, e)
        context = {
            "exercise": exercise,
            "problem_set": exercise.problem_set,
            "refusal": queue.UNAVAILABLE_MESSAGE,
        }
        return render(request, "exercises/exercise.html", context, status=503)
    if answers is None:
        # Start from the last attempt, so a student fixes their answer rather than retyping it.
        answers = dict(view.history[0].answers) if view.history else {}
        # In a timed quiz, what the student has typed since: their draft.
        answers.update(quiz.draft_answers(student, exercise, view.history))
    errors = errors or {}
    fields = [
        {
            "part": p,
            # A code part starts from its starter, until the student has typed something.
            "value": answers.get(p.key, p.starter if p.is_code else ""),
            "error": errors.get(p.key, ""),
        }
        for p in view.parts
    ]
    for f in fields:
        f["verdict"] = view.verdict_beside(f["part"].key, f["value"])
    context = {
        "view": view,
        "exercise": exercise,
        "problem_set": exercise.problem_set,
        "fields": fields,
        "refusal": refusal,
        "draft_url": quiz.draft_url(exercise)
        if quiz.is_timed(exercise.problem_set) and not viewing
        else "",
        "run_url": exercise.url_for("run"),
    }
    return render(request, "exercises/exercise.html", context, status=status)


def _get_exercise_for_user(request: HttpRequest, slug: str, set_slug: str | None) -> Exercise:
    """The published exercise as shown in its own set, or, with `set_slug`, in that set
    (its own or one it is placed in: `Placement`), once the set has opened."""
    if set_slug is None:
        student = view_as.student(request)
        exercise = get_object_or_404(
            Exercise.published.for_student(student).select_related("problem_set__module"),
            slug=slug,
        )
        exercise.problem_set.remember_due(student, exercise.student_due)
        return exercise
    problem_set = get_object_or_404(ProblemSet.objects.select_related("module"), slug=set_slug)
    if not problem_set.is_open():
        raise Http404("This problem set is not open yet.")
    try:
        return problem_set.exercise_shown(slug)
    except Exercise.DoesNotExist:
        raise Http404("No such exercise in this problem set.") from None


@login_required
@require_http_methods(["GET", "POST"])
def exercise(request: HttpRequest, slug: str, set_slug: str | None = None) -> HttpResponse:
    student = view_as.student(request)
    exercise = _get_exercise_for_user(request, slug, set_slug)
    if exercise.problem_set.is_quiz:
        if not view_as.is_viewing(request):
            quiz.settle(student)
        if quiz.waits_for_start(exercise.problem_set, student):
            # The clock starts only when the student asks for it, on the set's page.
            messages.info(request, quiz.START_FIRST_MESSAGE)
            return redirect(f"{exercise.problem_set.get_absolute_url()}#quiz")
    exercise.with_parts()
    if request.method == "GET":
        if request.GET.get("fragment") == "feedback":
            return _exercise_feedback(request, exercise)
        return _exercise_page(request, exercise)

    answers = {p.key: posted_answer(request, p) for p in exercise.parts.all()}
    try:
        submission = queue.submit(request.user, exercise, answers)
    except queue.SubmissionRefused as refused:
        # Nothing saved, no attempt used; the student's typing is kept in the form.
        return _exercise_page(
            request, exercise, answers, refused.errors, refused.message, refused.http_status
        )
    # Back to the answers (POST/redirect/GET): the page keeps them, shows the attempt being
    # graded and puts each part's verdict beside its answer when it arrives. The browser
    # scrolls to the attempt's line and focuses it, so a screen reader reads it (and, the
    # region being live, the verdict when it comes).
    return redirect(f"{submission.exercise.get_absolute_url()}#latest-attempt")


def _exercise_feedback(request, exercise) -> HttpResponse:
    """The exercise page's feedback on the latest attempt, polled by the page while it is
    graded: each part's verdict, the attempt's summary, the solution once earned. It
    starts no quiz's clock, unlike opening the page."""
    try:
        view = StudentView.for_student(
            exercise, view_as.student(request), keep=not view_as.is_viewing(request)
        )
    except VariantError:
        return HttpResponse(queue.UNAVAILABLE_MESSAGE, status=503, content_type="text/plain")
    return render(request, "exercises/_exercise_feedback.html", {"view": view})


def posted_answer(request: HttpRequest, part) -> str:
    """A part's answer as the form posts it: check boxes post one key each, as many
    times as there are boxes ticked; the engine reads them as the keys typed with commas."""
    name = f"answer-{part.key}"
    if part.kind == Part.Kind.CHOICE:
        return ", ".join(key for key in request.POST.getlist(name) if key.strip())
    return request.POST.get(name, "")


def _get_submission_for_user(request: HttpRequest, pk: int) -> Submission:
    """A student sees only their own submissions; anyone else's is a 404. (Staff viewing
    as a student see that student's.)"""
    return get_object_or_404(
        Submission.objects.select_related(
            "exercise__problem_set__module", "problem_set__module", "variant"
        ),
        pk=pk,
        student=view_as.student(request),
    )


@login_required
@require_GET
def submission(request: HttpRequest, pk: int) -> HttpResponse:
    submission = _get_submission_for_user(request, pk)
    submission.placed_exercise().with_parts()
    context = {
        "submission": submission,
        "exercise": submission.exercise,
        "verdict": SubmissionView.of(submission),
    }
    if request.GET.get("fragment"):
        return render(request, "exercises/_verdict.html", context)
    context["next_exercise"] = standing.next_exercise(submission.exercise)
    return render(request, "exercises/submission.html", context)


# ---------------------------------------------------------------- running code's visible tests


@login_required
@require_POST
def run_tests(request: HttpRequest, slug: str, set_slug: str | None = None) -> JsonResponse:
    """Run a code part's visible tests on the source in the form: no attempt is used.

    The form posts `part` (the code part's key) and `answer-<key>`, as the exercise
    form names it. 202 with the run's id and the URL to poll; 422, 403, 429 or 503 with
    the reason (`error`), and Retry-After on a 429.
    """
    if set_slug is None:
        exercise = get_object_or_404(Exercise.published.select_related("problem_set"), slug=slug)
    else:
        exercise = _get_exercise_for_user(request, slug, set_slug)
    key = request.POST.get("part", "")
    try:
        run = coderuns.start(request.user, exercise, key, request.POST.get(f"answer-{key}", ""))
    except coderuns.RunRefused as refused:
        body: dict = {"error": refused.message}
        if refused.retry_after:
            body["retry_after"] = refused.retry_after
        response = JsonResponse(body, status=refused.http_status)
        if refused.retry_after:
            response["Retry-After"] = str(refused.retry_after)
        return response
    return JsonResponse({"id": run.pk, "url": run.get_absolute_url()}, status=202)


def _get_run_for_user(request: HttpRequest, pk: int) -> CodeRun:
    """A student sees only their own runs; anyone else's is a 404."""
    return get_object_or_404(
        CodeRun.objects.select_related("exercise"), pk=pk, student=view_as.student(request)
    )


def run_feedback(run: CodeRun) -> dict:
    """What the student is shown of a run: while it waits, its status and message; once
    done, the verdict ({"status", "message", "details"}) for `_code_feedback.html`."""
    if run.status == CodeRun.Status.DONE:
        return run.result
    return {"status": "", "message": run.message, "details": {}}


@login_required
@require_GET
def run_result(request: HttpRequest, pk: int) -> JsonResponse:
    """A run's status, and its feedback as HTML (polled by the exercise page)."""
    run = _get_run_for_user(request, pk)
    html = render_to_string(
        "exercises/_code_run.html", {"run": run, "result": run_feedback(run)}, request=request
    )
    return JsonResponse({"status": run.status, "html": html})


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For load balancers and Compose: is the database there, and the broker?"""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as e:
        checks["database"] = f"error: {type(e).__name__}"
    from courseserver.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        checks["broker"] = "ok"
    except Exception as e:
        checks["broker"] = f"error: {type(e).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "exercises/help.html")
