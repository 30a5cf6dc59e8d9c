"""Picking a student in the admin by name, username or e-mail, as they type.

Django's own autocomplete (`autocomplete_fields`) searches through the user admin, and
answers only those who may view it: the Instructors group may not, and should not, for
it would show every account's details. So the admin's autocomplete widget (select2, as
`autocomplete_fields` uses it) asks this search instead. It answers staff who may add
or change the records whose student field it fills, and it finds students only: active
accounts that are not staff.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

PAGE_SIZE = 20
MAX_TERM = 100

# The fields a student is picked for, as the widget names them: (app, model, field).
# Declared here, not as forms are built: the search may reach a process that has built none.
FIELDS: set[tuple[str, str, str]] = {
    ("exercises", "extension", "student"),
    ("exercises", "accommodation", "student"),
    ("exercises", "submission", "student"),
}
# Picked to view the course as the student (`exercises.view_as`): for those who may view.
VIEW_FIELDS = {("exercises", "submission", "student")}


def describe(user) -> str:
    """ "Ada Lovelace (ada, ada@example.org)": what tells two students apart."""
    details = ", ".join(part for part in (user.get_username(), user.email) if part)
    name = user.get_full_name()
    return f"{name} ({details})" if name else details


class StudentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return describe(obj)


class StudentAutocomplete(AutocompleteSelect):
    """The admin's autocomplete select, searching through `search` below."""

    def get_url(self) -> str:
        return reverse("ex-admin-students")


def student_field(db_field, admin_site, **kwargs) -> forms.ModelChoiceField:
    """The form field for a foreign key to a student, from a ModelAdmin's or an inline's
    `formfield_for_foreignkey`; the field must be one of `FIELDS`."""
    opts = db_field.model._meta
    if (opts.app_label, opts.model_name, db_field.name) not in FIELDS:
        raise ValueError(f"{opts.label}.{db_field.name} is not in student_picker.FIELDS")
    kwargs["widget"] = StudentAutocomplete(db_field, admin_site)
    kwargs["form_class"] = StudentChoiceField
    kwargs.setdefault("help_text", "Type a name, a username or an e-mail address.")
    return db_field.formfield(**kwargs)


def _refuse(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
def search(request: HttpRequest) -> JsonResponse:
    """Students matching every word of `term`, in select2's form:
    {"results": [{"id", "text"}], "pagination": {"more"}}. Served under the admin's
    `admin_view`, so only signed-in staff reach it."""
    field = (
        request.GET.get("app_label", ""),
        request.GET.get("model_name", ""),
        request.GET.get("field_name", ""),
    )
    if field not in FIELDS:
        return _refuse("No student is picked for this field.", 403)
    app_label, model_name, _ = field
    actions = ("add", "change", "view") if field in VIEW_FIELDS else ("add", "change")
    if not any(request.user.has_perm(f"{app_label}.{action}_{model_name}") for action in actions):
        return _refuse("You may not pick students for this.", 403)
    # A NUL is no character a name has, and PostgreSQL refuses it in a query.
    term = request.GET.get("term", "").replace("\x00", "")[:MAX_TERM]
    students = get_user_model().objects.filter(is_active=True, is_staff=False)
    for word in term.split():
        students = students.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    students = students.order_by("last_name", "first_name", "username", "pk")
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    paginator = Paginator(students, PAGE_SIZE)
    try:
        page = paginator.page(number)
    except EmptyPage:
        return JsonResponse({"results": [], "pagination": {"more": False}})
    return JsonResponse(
        {
            "results": [{"id": str(user.pk), "text": describe(user)} for user in page],
            "pagination": {"more": page.has_next()},
        }
    )
