"""Staff viewing the course as a given student sees it, read-only.

A member of staff who may look after submissions picks a student in the admin
(/admin/view-as/); from then on, until they stop, the course pages (course, module,
problem set, exercise, attempt) show that student's work: their variants, answers,
scores, and due dates with their extensions. The pages read the student through
`student(request)` where they read `request.user` for a student's data.

Read-only, by three means: the middleware refuses any POST outside the admin (403, with
the reason), so no answer, draft, run or quiz start is ever taken; the exercise page
disables its form; and the pages, viewing, draw no variant (one the student has not
been shown yet is computed for their seed and not kept) and start no quiz clock.

The state is the student's id in the staff member's session; it counts only while the
signed-in user is active staff with the right to view submissions.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from exercises import student_picker
from exercises.models import Submission

SESSION_KEY = "exercises.view_as"
PERMISSION = "exercises.view_submission"
READ_ONLY_MESSAGE = (
    "You are viewing the course as {name}: read-only. Nothing can be submitted, saved "
    "or started for them. Stop viewing as them to act as yourself."
)


def may_view_as(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(PERMISSION)
    )


def _viewed(request: HttpRequest):
    pk = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if pk is None or not may_view_as(getattr(request, "user", None)):
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True, is_staff=False).first()


def viewed_student(request: HttpRequest):
    """The student whose view staff are shown, or None when not viewing as one."""
    if not hasattr(request, "_view_as"):
        request._view_as = _viewed(request)
    return request._view_as


def student(request: HttpRequest):
    """Whose course the pages show: the student viewed as, else the signed-in user."""
    return viewed_student(request) or request.user


def is_viewing(request: HttpRequest) -> bool:
    return viewed_student(request) is not None


def context(request: HttpRequest) -> dict:
    """For every page: `viewing_as`, the student viewed as (or None), for the banner."""
    viewed = viewed_student(request)
    return {
        "viewing_as": viewed,
        "viewing_as_name": student_picker.describe(viewed) if viewed else "",
    }


class ReadOnlyMiddleware:
    """While staff view as a student, any request that would change something, outside
    the admin (where they stop) and logging out, is refused with 403 and the reason."""

    SAFE = ("GET", "HEAD", "OPTIONS")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in self.SAFE and not self._exempt(request.path):
            viewed = viewed_student(request)
            if viewed is not None:
                return refused(request, viewed)
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path.startswith("/admin/") or path == reverse("ex-logout")


def refused(request: HttpRequest, viewed) -> HttpResponse:
    message = READ_ONLY_MESSAGE.format(name=student_picker.describe(viewed))
    wants_json = request.path.startswith("/api/") or (
        "application/json" in request.headers.get("Accept", "")
        or request.content_type == "application/json"
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )
    if wants_json:
        return JsonResponse({"error": message}, status=403)
    return render(request, "exercises/view_as_refused.html", {"message": message}, status=403)


# ---------------------------------------------------------------- the admin's pages


class PickForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"] = student_picker.student_field(
            Submission._meta.get_field("student"),
            admin.site,
            queryset=get_user_model().objects.filter(is_active=True, is_staff=False),
            label="Student",
        )


def _check(request: HttpRequest) -> None:
    if not may_view_as(request.user):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def pick(request: HttpRequest) -> HttpResponse:
    """/admin/view-as/: pick the student to view the course as."""
    _check(request)
    initial = {}
    if request.GET.get("student", "").isdigit() and len(request.GET["student"]) < 10:
        initial["student"] = request.GET["student"]
    form = PickForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        viewed = form.cleaned_data["student"]
        request.session[SESSION_KEY] = viewed.pk
        return redirect("ex-course")
    refused = request.method == "POST"
    if refused:
        # Shown afresh: the picker cannot show a value that names no student.
        form = PickForm()
    context = {
        **admin.site.each_context(request),
        "title": "View the course as a student",
        "form": form,
        "refusal": "That is no student: pick one from the list." if refused else "",
        "viewing_as": viewed_student(request),
    }
    return render(request, "admin/exercises/view_as.html", context, status=400 if refused else 200)


@require_POST
def stop(request: HttpRequest) -> HttpResponse:
    """/admin/view-as/stop/: back to one's own view."""
    viewed = viewed_student(request)
    request.session.pop(SESSION_KEY, None)
    if viewed is not None:
        messages.info(request, f"You no longer view the course as {viewed.get_username()}.")
    return redirect(reverse("ex-admin-view-as"))
