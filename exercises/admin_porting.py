"""The admin's import and export of a problem set as YAML (`exercises.porting`).

Export downloads one problem set's file. Import takes an uploaded file in two steps:
the upload is checked in full and every problem shown, with nothing saved; a file
without a problem is shown as what saving it would do, with a Confirm button. The
file travels to the confirmation inside the page, signed, so what is confirmed is what
was checked; it is checked again on confirming, as the course may have changed since.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from exercises import porting, question_tests
from exercises.models import ProblemSet

SALT = "exercises.admin_porting.import"
# How long a checked upload may wait for its confirmation.
MAX_AGE = 60 * 60

# Importing creates and changes problem sets, exercises and their parts.
IMPORT_PERMISSIONS = [
    f"exercises.{action}_{model}"
    for model in ("problemset", "exercise", "part")
    for action in ("add", "change")
] + ["exercises.delete_part"]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Problem set file (YAML)",
        help_text=(
            "One problem set, as “Export as YAML” writes it and load_course reads it; "
            f"at most {porting.MAX_UPLOAD_BYTES // 1024} KB."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > porting.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"This file is {upload.size // 1024} KB: a problem set file may be at most "
                f"{porting.MAX_UPLOAD_BYTES // 1024} KB."
            )
        raw = upload.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise forms.ValidationError(
                f"This file is not UTF-8 text (byte {e.start + 1} cannot be read): "
                "save it as UTF-8 and upload it again."
            ) from None
        return {"name": upload.name, "text": text}


def export_view(request: HttpRequest, object_id: str, model_admin) -> HttpResponse:
    if not object_id.isdigit():
        raise Http404("No such problem set.")
    problem_set = get_object_or_404(ProblemSet.objects.select_related("module"), pk=object_id)
    if not model_admin.has_view_permission(request, problem_set):
        raise PermissionDenied
    try:
        text = porting.problem_set_yaml(problem_set)
    except porting.ExportError as e:
        messages.error(request, f"This problem set cannot be exported as it is: {e}")
        return redirect(reverse("admin:exercises_problemset_change", args=[problem_set.pk]))
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{problem_set.slug}.yaml"'
    return response


def may_import(request: HttpRequest) -> bool:
    return request.user.has_perms(IMPORT_PERMISSIONS)


def _check(name: str, text: str) -> porting.Upload:
    return porting.check_upload(text, name=name, timeout=settings.GRADING_TIMEOUT)


@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest, model_admin) -> HttpResponse:
    if not may_import(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import a problem set from YAML",
        "max_kb": porting.MAX_UPLOAD_BYTES // 1024,
    }
    template = "admin/exercises/problemset/import.html"
    if request.method == "POST" and "payload" in request.POST:
        return _confirm(request, context, template)
    form = ImportForm(request.POST or None, request.FILES or None)
    context["form"] = form
    if request.method == "GET" or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, template, context, status=status)
    file = form.cleaned_data["file"]
    upload = _check(file["name"], file["text"])
    porting.run_question_tests(upload, timeout=settings.GRADING_TIMEOUT)
    context["upload"] = upload
    # Valid: the confirmation; else the problems, and the form for the fixed file.
    context["form"] = None if upload.valid else ImportForm()
    if upload.valid:
        context["payload"] = signing.dumps(file, salt=SALT, compress=True)
    return render(request, template, context, status=200 if upload.valid else 422)


def _confirm(request: HttpRequest, context: dict, template: str) -> HttpResponse:
    try:
        file = signing.loads(request.POST["payload"], salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        context["form"] = ImportForm()
        context["refusal"] = "This check is more than an hour old: upload the file again."
        return render(request, template, context, status=400)
    except signing.BadSignature:
        context["form"] = ImportForm()
        context["refusal"] = "This confirmation was altered or is not one: upload the file again."
        return render(request, template, context, status=400)
    upload = _check(file["name"], file["text"])
    if not upload.valid:
        # The course changed since the check (a slug taken meanwhile, say): nothing saved.
        context["upload"] = upload
        context["form"] = ImportForm()
        return render(request, template, context, status=422)
    problem_set, counts, loaded = porting.save_upload(upload)
    summary = porting.test_and_publish(
        loaded, seeds=question_tests.PUBLISH_SEEDS, timeout=settings.GRADING_TIMEOUT
    )
    messages.success(
        request,
        f"Imported problem set “{problem_set.title}” from {file['name']} "
        f"({timezone.localtime():%Y-%m-%d %H:%M}): {counts['exercises']} exercise(s), "
        f"{counts['changed']} changed. Question tests: {summary.line()}.",
    )
    for slug, failures in summary.failed.items():
        messages.warning(request, f"{slug} stays a draft: " + "; ".join(failures))
    return redirect(reverse("admin:exercises_problemset_change", args=[problem_set.pk]))
