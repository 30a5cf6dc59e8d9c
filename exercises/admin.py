import json
import re
from datetime import timedelta
from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Q, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from exercises import (
    admin_porting,
    answer_stats,
    authoring_preview,
    authoring_widgets,
    gradebook,
    item_analysis_admin,
    question_tests,
    queue,
    ratelimit,
    regrade,
    student_picker,
)
from exercises.bank_admin import PlacementInline, placements_of
from exercises.definition import DefinitionError, ExerciseDef, PartDef, parse, part_data
from exercises.models import (
    Accommodation,
    AnswerStats,
    CodeRun,
    Exercise,
    Extension,
    Grading,
    Module,
    Part,
    ProblemSet,
    QuestionTestRun,
    QuizStart,
    RegradeJob,
    Submission,
    Variant,
)
from exercises.presentation import StudentView


class ProblemSetInline(admin.TabularInline):
    model = ProblemSet
    extra = 0
    fields = ["order", "slug", "title"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["order", "title", "slug"]
    list_display_links = ["title"]
    search_fields = ["title", "slug"]
    inlines = [ProblemSetInline]


class ExerciseInline(admin.TabularInline):
    model = Exercise
    extra = 0
    fields = ["order", "slug", "title"]
    show_change_link = True


class RegradeActionForm(ActionForm):
    """The list's action bar, with the reason a regrade gives the students it affects."""

    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Reason (for a regrade)",
        help_text="Shown to each student whose verdict changes. Empty: the version change.",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "Why, for the students"}),
    )


class RegradeActions:
    """The "Regrade all submissions" action in the list, and a button on the change page,
    for staff who may start regrade jobs. Both take the reason the students are told."""

    regrade_field = ""
    action_form = RegradeActionForm

    def has_regrade_permission(self, request) -> bool:
        return request.user.has_perm("exercises.add_regradejob")

    def regrade_url(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return path(
            "<path:object_id>/regrade/",
            self.admin_site.admin_view(self.regrade_view),
            name="{}_{}_regrade".format(*info),
        )

    def regrade_view(self, request, object_id: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not object_id.isdigit():
            raise Http404("No such object.")
        target = get_object_or_404(self.model, pk=object_id)
        if not self.has_regrade_permission(request):
            raise PermissionDenied
        (job,) = self.start_regrades(request, [target], self.regrade_field)
        return redirect(reverse("admin:exercises_regradejob_change", args=[job.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"can_regrade": self.has_regrade_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def start_regrades(self, request, targets, field: str) -> list[RegradeJob]:
        reason = request.POST.get("reason", "")
        jobs = [
            regrade.start(**{field: target, "requested_by": request.user, "reason": reason})
            for target in targets
        ]
        url = reverse("admin:exercises_regradejob_changelist")
        self.message_user(
            request,
            format_html(
                'Regrade started for {} submission(s) in {} job(s): <a href="{}">follow it</a>.',
                sum(job.total for job in jobs),
                len(jobs),
                url,
            ),
            messages.SUCCESS,
        )
        return jobs


def regrade_summary(jobs) -> str:
    latest = jobs.first()
    if latest is None:
        return "No regrade yet."
    url = reverse("admin:exercises_regradejob_change", args=[latest.pk])
    return format_html('Latest regrade: <a href="{}">{}</a>', url, latest.progress())


class ExtensionForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        student = cleaned.get("student")
        # The inline form leaves the problem set out of Django's unique check.
        others = Extension.objects.filter(
            student=student, problem_set_id=self.instance.problem_set_id
        ).exclude(pk=self.instance.pk)
        if student is not None and others.exists():
            self.add_error("student", "This student already has an extension here: change it.")
        return cleaned


class ExtensionInline(admin.TabularInline):
    model = Extension
    form = ExtensionForm
    extra = 0
    fields = ["student", "due", "reason"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Picked by name or e-mail as one types, without the user admin instructors lack.
        if db_field.name == "student":
            return student_picker.student_field(db_field, self.admin_site, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ProblemSet)
class ProblemSetAdmin(RegradeActions, admin.ModelAdmin):
    list_display = [
        "title",
        "module",
        "order",
        "slug",
        "kind",
        "opens",
        "due",
        "feedback_released",
        "gradebook_link",
        "item_analysis_link",
    ]
    list_filter = ["module", "kind"]
    search_fields = ["title", "slug"]
    inlines = [ExerciseInline, PlacementInline, ExtensionInline]
    regrade_field = "problem_set"
    readonly_fields = ["gradebook_link", "item_analysis_link", "regrades"]
    actions = ["regrade_all", "release_feedback"]

    @admin.action(
        description="Release the feedback of the selected quizzes now", permissions=["change"]
    )
    def release_feedback(self, request, queryset):
        count = queryset.filter(kind=ProblemSet.Kind.QUIZ, feedback_released__isnull=True).update(
            feedback_released=timezone.now()
        )
        self.message_user(request, f"Feedback released for {count} quiz(zes).", messages.SUCCESS)

    @admin.action(
        description="Regrade all submissions of the selected problem sets",
        permissions=["regrade"],
    )
    def regrade_all(self, request, queryset):
        self.start_regrades(request, queryset, "problem_set")

    @admin.display(description="regrades")
    def regrades(self, problem_set: ProblemSet) -> str:
        return regrade_summary(problem_set.regrade_jobs.all()) if problem_set.pk else ""

    def get_urls(self):
        csv_view = path(
            "<path:object_id>/gradebook.csv",
            self.admin_site.admin_view(self.gradebook_view),
            name="exercises_problemset_gradebook",
        )
        porting_urls = [
            path(
                "import/",
                self.admin_site.admin_view(lambda r: admin_porting.import_view(r, self)),
                name="exercises_problemset_import",
            ),
            path(
                "<path:object_id>/export.yaml",
                self.admin_site.admin_view(
                    lambda r, object_id: admin_porting.export_view(r, object_id, self)
                ),
                name="exercises_problemset_export",
            ),
        ]
        return [
            csv_view,
            *porting_urls,
            *item_analysis_admin.urls(self),
            self.regrade_url(),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {"can_import": admin_porting.may_import(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    @admin.display(description="item analysis")
    def item_analysis_link(self, problem_set: ProblemSet) -> str:
        if problem_set.pk is None:
            return ""
        url = reverse("admin:exercises_problemset_item_analysis", args=[problem_set.pk])
        return format_html('<a href="{}">Item analysis</a>', url)

    @admin.display(description="gradebook")
    def gradebook_link(self, problem_set: ProblemSet) -> str:
        if problem_set.pk is None:
            return ""
        url = reverse("admin:exercises_problemset_gradebook", args=[problem_set.pk])
        return format_html('<a href="{}">Download (CSV)</a>', url)

    def gradebook_view(self, request, object_id: str):
        if not object_id.isdigit():
            raise Http404("No such problem set.")
        problem_set = get_object_or_404(ProblemSet, pk=object_id)
        # Students' results: for those who may look after submissions.
        if not request.user.has_perm("exercises.view_submission"):
            raise PermissionDenied
        response = HttpResponse(gradebook.as_csv(problem_set), content_type="text/csv")
        filename = f"gradebook-{problem_set.slug}-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


PUBLISH_REFUSED = (
    "This exercise cannot be published: its question tests fail. Save it as a draft, "
    "fix the failures listed below, then publish."
)


def definition_errors(form: forms.BaseForm, error: DefinitionError, aliases=None) -> None:
    """Each problem of a definition as an error on the form field it names (the whole
    path in the message: `tests[0].expect: must be one of ...`), else on the form. A
    field edited as rows shows the message beside the row or input it concerns
    (`authoring_widgets`), and the field itself says where to look."""
    aliases = aliases or {}
    marked: set[str] = set()
    cleaned = getattr(form, "cleaned_data", {})
    rejected = {name for name in form.errors if name not in cleaned}
    for where, message in error.problems:
        name = re.split(r"[.\[]", where, maxsplit=1)[0] if where else ""
        name = aliases.get(name, name)
        text = f"{where}: {message}" if where else message
        if name in form.fields:
            if name in rejected:
                continue  # Django has already said what is wrong with the field
            widget = form.fields[name].widget
            anchor = None
            if isinstance(widget, authoring_widgets.StructuredWidget):
                rest = where[len(re.split(r"[.\[]", where, maxsplit=1)[0]) :]
                anchor = widget.locate(rest, message)
            if anchor is not None:
                shown = getattr(widget, "shown_by", None)
                target = name
                if shown and shown in form.fields:
                    target = shown
                # Beside its row the message needs only the column: `message: ...`.
                column = re.sub(r"^\.?(\w+)?\[\d+\]", "", rest).lstrip(".")
                form.fields[target].widget.note(
                    anchor, f"{column}: {message}" if column else message, text
                )
                if target not in marked:
                    marked.add(target)
                    form.add_error(target, "Change the marked rows or inputs below.")
                continue
            form.add_error(name, text)
        else:
            form.add_error(None, text)


class PartFormSet(BaseInlineFormSet):
    """Validates the exercise as a whole, through its definition, with the parts as they
    are about to be saved: the fields, then parameters, templates and expected answers
    for many seeds, and, to publish, the question tests for a few seeds."""

    # Off for the checks made while the author types: the definition's alone.
    engine_checks = True

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        exercise = self.instance
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        parts = [form.instance for form in kept]
        try:
            definition = ExerciseDef.from_model(exercise, parts)
        except DefinitionError as e:
            # The definition orders the parts as `from_model` does.
            ordered = sorted(kept, key=lambda f: (f.instance.order, f.instance.pk or 0))
            left = []
            for where, message in e.problems:
                found = re.match(r"parts\[(\d+)\]\.?(.*)\Z", where)
                if found and int(found.group(1)) < len(ordered):
                    form = ordered[int(found.group(1))]
                    form.show_problems(DefinitionError([(found.group(2), message)]))
                else:
                    left.append(f"{where}: {message}" if where else message)
            if left:
                raise ValidationError(left[:10]) from None
            return
        if not self.engine_checks:
            return
        # The engine runs in its time-bounded helpers: an expected answer it cannot settle
        # is reported to the author instead of holding up the web process.
        timeout = settings.GRADING_TIMEOUT
        problems = question_tests.validate(definition, timeout=timeout)
        if problems:
            self._on_parts(kept, [(_part_named(p), p) for p in problems])
            return
        if exercise.status == Exercise.Status.PUBLISHED:
            report = question_tests.run(
                definition, seeds=question_tests.PUBLISH_SEEDS, timeout=timeout
            )
            if not report.passed:
                failures = [
                    (f.get("part", ""), question_tests.describe(f)) for f in report.failures
                ]
                self._on_parts(kept, failures, lead=PUBLISH_REFUSED)

    def _on_parts(self, kept, problems: list[tuple[str, str]], lead: str = "") -> None:
        """Messages about one part on that part (at most a few each), the rest on the
        whole; `lead` heads the whole's list."""
        forms_by_key = {form.instance.key: form for form in kept}
        left = []
        shown: dict[str, int] = {}
        for key, message in problems:
            form = forms_by_key.get(key)
            if form is None:
                left.append(message)
            elif shown.get(key, 0) < 5:
                shown[key] = shown.get(key, 0) + 1
                form.add_error(None, message)
        if lead or left:
            raise ValidationError([m for m in [lead, *left[:10]] if m])


def _part_named(message: str) -> str:
    """The part a message of `question_tests.validate` names ("seed 3, part b: ...")."""
    found = re.match(r"seed \d+, part ([-\w]+)", message)
    return found.group(1) if found else ""


class PartForm(forms.ModelForm):
    # The JSON fields, edited as rows and inputs (`authoring_widgets`).
    WIDGETS = {
        "expected_routine": (
            authoring_widgets.RoutineWidget,
            "Instead of the expected answer: a routine that computes it, and its arguments "
            "(text is a template over the parameters).",
        ),
        "variables": (
            authoring_widgets.VariablesWidget,
            "The answer's variables; from and to: the box where answers are compared "
            "(empty: the default).",
        ),
        "domain": (authoring_widgets.DomainWidget, ""),
        "functions": (authoring_widgets.FunctionsWidget, "Functions the answer may use."),
        "options": (authoring_widgets.OptionsWidget, "Choice parts: the options."),
        "mistakes": (
            authoring_widgets.MistakesWidget,
            "An answer students often give, and what to tell them (templates allowed).",
        ),
        "code": (
            authoring_widgets.CodeWidget,
            "Code parts: the function asked for, its reference and its tests.",
        ),
        "tests": (
            authoring_widgets.SampleAnswersWidget,
            "Question tests: answers and the verdict each must get, checked before publishing.",
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (widget, help_text) in self.WIDGETS.items():
            if name in self.fields:
                self.fields[name].widget = widget()
                self.fields[name].help_text = help_text
        for name in ("expected", "hint"):
            if name in self.fields:
                self.fields[name].widget.attrs.update(rows=2)
        if "variables" in self.fields and "domain" in self.fields:
            # One table shows both: the variables' widget needs the domain, and back.
            domain = self._shown_value("domain") or {}
            variables = self._shown_value("variables") or []
            self.fields["variables"].widget.domain = domain if isinstance(domain, dict) else {}
            self.fields["domain"].widget.variable_names = (
                tuple(variables) if isinstance(variables, list) else ()
            )
        # A part posted without it (by a form from before choices were scored) keeps
        # the default rather than failing on a field it never showed.
        if "scoring" in self.fields:
            self.fields["scoring"].required = False

    def has_changed(self) -> bool:
        # A part added in the page and left untouched is no part: its order alone (which
        # the page fills in for each part added) does not make it one.
        if self.instance.pk is None:
            return any(name != "order" for name in self.changed_data)
        return super().has_changed()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("DELETE"):
            return cleaned
        if "scoring" in cleaned and not cleaned["scoring"]:
            cleaned["scoring"] = self.instance.scoring or "all-or-nothing"
        if "code" in cleaned:
            cleaned["code"] = cleaned["code"] or {}
        data = {
            name: cleaned.get(name, getattr(self.instance, name))
            for name in (
                "key",
                "label",
                "kind",
                "expected",
                "expected_routine",
                "hint",
                "variables",
                "domain",
                "functions",
                "options",
                "multiple",
                "scoring",
                "penalty",
                "mistakes",
                "rtol",
                "atol",
                "weight",
                "code",
                "tests",
            )
        }
        try:
            parse(PartDef, part_data(SimpleNamespace(**data)))
        except DefinitionError as e:
            self.show_problems(e, routine=bool(data.get("expected_routine")))
        return cleaned

    def show_problems(self, error: DefinitionError, routine: bool | None = None) -> None:
        if routine is None:
            routine = bool(getattr(self.instance, "expected_routine", None))
        # The definition's `expected` is the text or the routine call.
        alias = "expected_routine" if routine else "expected"
        definition_errors(self, error, {"expected": alias})

    def _shown_value(self, name: str):
        """A JSON field's value as the form shows it: posted, else initial."""
        field = self.fields[name]
        if self.is_bound:
            text = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            if text is None:
                return self.get_initial_for_field(field, name)
            try:
                return json.loads(text)
            except (TypeError, ValueError):
                return None
        return self.get_initial_for_field(field, name)


class PartInline(admin.StackedInline):
    model = Part
    form = PartForm
    formset = PartFormSet
    # What every part has first; the rest folded, by what it is for (authoring-rows.js
    # hides the sections that do not apply to the part's kind).
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("key", "order", "kind", "weight"),
                    "label",
                    "expected",
                    "expected_routine",
                    "hint",
                ]
            },
        ),
        (
            "Variables, tolerances and known mistakes",
            {
                "classes": ["collapse", "authoring-for-maths"],
                "fields": ["variables", "domain", "functions", ("rtol", "atol"), "mistakes"],
            },
        ),
        (
            "Options",
            {
                "classes": ["collapse", "authoring-for-choice"],
                "fields": ["options", ("multiple", "scoring", "penalty")],
            },
        ),
        ("Code", {"classes": ["collapse", "authoring-for-code"], "fields": ["code"]}),
        ("Sample answers (question tests)", {"classes": ["collapse"], "fields": ["tests"]}),
    ]

    def get_extra(self, request, obj=None, **kwargs):
        # A new exercise offers its first part, which a browser without JavaScript
        # (no "Add another Part") needs; a part left as it is is not saved.
        return 1 if obj is None else 0


class ExerciseForm(forms.ModelForm):
    class Meta:
        model = Exercise
        fields = [
            "problem_set",
            "slug",
            "order",
            "status",
            "title",
            "prompt",
            "solution",
            "parameters",
            "constraints",
            "max_attempts",
            "retry_penalty",
            "plot",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        widgets = {
            "parameters": (
                authoring_widgets.ParametersWidget,
                "Randomised values, each drawn for every student: whole numbers or decimals "
                "from, to (with a step), or one of a list. {{a}} in the text writes the value.",
            ),
            "constraints": (
                authoring_widgets.ConstraintsWidget,
                "Comparisons the values must meet (a != b, 1 <= a/b <= 3).",
            ),
            "plot": (authoring_widgets.PlotWidget, "A picture beside the exercise."),
        }
        for name, (widget, help_text) in widgets.items():
            if name in self.fields:
                self.fields[name].widget = widget()
                self.fields[name].help_text = help_text
        for name, rows in (("prompt", 6), ("solution", 3)):
            if name in self.fields:
                self.fields[name].widget.attrs.update(rows=rows)

    # The parts are checked by the formset; a stand-in lets the definition check the rest.
    _STAND_IN_PART = {"key": "a", "kind": "expression", "expected": "x"}

    def clean(self):
        cleaned = super().clean()
        data = {
            name: cleaned.get(name, getattr(self.instance, name, None))
            for name in (
                "slug",
                "title",
                "status",
                "parameters",
                "constraints",
                "max_attempts",
                "retry_penalty",
                "prompt",
                "solution",
            )
        }
        data["parameters"] = data["parameters"] if data["parameters"] is not None else {}
        data["constraints"] = data["constraints"] if data["constraints"] is not None else []
        if "plot" in cleaned:
            cleaned["plot"] = cleaned["plot"] or {}
        data["plot"] = cleaned.get("plot") or None
        try:
            parse(ExerciseDef, {**data, "parts": [self._STAND_IN_PART]})
        except DefinitionError as e:
            definition_errors(self, e)
        return cleaned


@admin.register(Exercise)
class ExerciseAdmin(RegradeActions, admin.ModelAdmin):
    form = ExerciseForm
    list_display = ["title", "problem_set", "order", "slug", "status", "version", "tests_status"]
    list_filter = ["status", "problem_set__module", "problem_set"]
    search_fields = ["title", "slug", "prompt"]
    inlines = [PartInline]
    regrade_field = "exercise"
    actions = ["rerun_question_tests", "regrade_all", "recompute_wrong_answers"]
    readonly_fields = ["version", "question_tests", "regrades", "wrong_answers", "placed_in"]
    # "Save as new" copies the exercise and its parts, as a draft with a fresh slug.
    save_as = True
    prepopulated_fields = {"slug": ["title"]}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "problem_set",
                    "placed_in",
                    ("slug", "order", "status"),
                    "title",
                    "prompt",
                ]
            },
        ),
        (
            "Solution and attempts",
            {"classes": ["collapse"], "fields": ["solution", ("max_attempts", "retry_penalty")]},
        ),
        ("Randomised values", {"classes": ["collapse"], "fields": ["parameters", "constraints"]}),
        ("Plot", {"classes": ["collapse"], "fields": ["plot"]}),
        # The question tests' last result stays in view: it decides publishing.
        ("Question tests", {"fields": ["question_tests"]}),
        (
            "Version, regrades and wrong answers",
            {"classes": ["collapse"], "fields": ["version", "regrades", "wrong_answers"]},
        ),
    ]

    def get_changeform_initial_data(self, request):
        # A new exercise starts as a draft: students see it once it is published.
        return {"status": Exercise.Status.DRAFT, **super().get_changeform_initial_data(request)}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST" and "_authoring_check" in request.POST:
            return self.check_view(request, object_id)
        if request.method == "POST" and "_saveasnew" in request.POST:
            # The copy gets a slug of its own and starts as a draft.
            data = request.POST.copy()
            data["slug"] = _fresh_slug(data.get("slug", ""))
            data["status"] = Exercise.Status.DRAFT
            request.POST = data
        return super().changeform_view(request, object_id, form_url, extra_context)

    def check_view(self, request, object_id=None) -> JsonResponse:
        """The form's problems as it stands, as JSON, for the messages beside its rows
        while the author types (authoring-rows.js): the definition's checks, without
        the engine's, and nothing saved."""
        obj = None
        if object_id is not None:
            if not str(object_id).isdigit():
                raise Http404("No such exercise.")
            obj = get_object_or_404(Exercise, pk=object_id)
            if not self.has_change_permission(request, obj):
                raise PermissionDenied
        elif not self.has_add_permission(request):
            raise PermissionDenied
        change = obj is not None
        fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        form = self.get_form(request, obj, change=change, fields=fields)(
            request.POST, request.FILES, instance=obj
        )
        formsets, _ = self._create_formsets(request, form.instance, change=change)
        form.is_valid()
        forms_ = [form]
        problems = []
        for formset in formsets:
            formset.engine_checks = False
            formset.is_valid()
            forms_ += formset.forms
            problems += formset.non_form_errors()
        return JsonResponse(
            {
                "fields": {
                    k: v for f in forms_ for k, v in authoring_widgets.messages_of(f).items()
                },
                "problems": [*form.non_field_errors(), *problems],
            }
        )

    @admin.action(
        description="Recompute the wrong-answer statistics of the selected exercises",
        permissions=["view"],
    )
    def recompute_wrong_answers(self, request, queryset):
        for exercise in queryset:
            answer_stats.start(exercise)
        self.message_user(
            request,
            f"Wrong-answer statistics are being computed for {queryset.count()} exercise(s).",
            messages.SUCCESS,
        )

    @admin.display(description="also placed in")
    def placed_in(self, exercise: Exercise) -> str:
        return placements_of(exercise)

    @admin.display(description="wrong answers")
    def wrong_answers(self, exercise: Exercise) -> str:
        if exercise.pk is None:
            return ""
        stats = AnswerStats.objects.filter(exercise=exercise).first()
        if stats is None or stats.computed is None:
            state = "being computed" if stats is not None else "not computed yet"
            return f"{state.capitalize()}: choose “Recompute the wrong-answer statistics” in the list of exercises."
        when = stats.computed.strftime("%Y-%m-%d %H:%M")
        head = format_html(
            "{} graded submission(s), computed {}{}. Equivalent answers are counted together "
            "(same values at sample points){}.",
            stats.submissions,
            when,
            ", being recomputed" if stats.status == AnswerStats.Status.PENDING else "",
            "; in this randomised exercise, across every student's variant"
            if exercise.parameters
            else "",
        )
        sections = []
        for part in exercise.parts.all():
            data = stats.parts.get(part.key, {"wrong": 0, "groups": []})
            rows = format_html_join(
                "",
                "<li><code>{}</code>: {}{}</li>",
                (
                    (
                        g["answer"],
                        g["count"],
                        format_html(
                            " (also typed as {})",
                            format_html_join(", ", "<code>{}</code>", ((a,) for a in g["also"])),
                        )
                        if g["also"]
                        else "",
                    )
                    for g in data["groups"]
                ),
            )
            sections.append(
                format_html(
                    '<div class="wrong-answers" data-part="{}"><strong>Part {}</strong>: '
                    "{} wrong answer(s)<ol>{}</ol></div>",
                    part.key,
                    part.key,
                    data["wrong"],
                    rows,
                )
            )
        analysis = reverse(
            "admin:exercises_problemset_item_analysis_exercise",
            args=[exercise.problem_set_id, exercise.pk],
        )
        by_cause = format_html(
            ' <a href="{}">By cause (the known mistake each makes), in the item analysis</a>.',
            analysis,
        )
        return format_html(
            "{}{}{}", head, by_cause, format_html_join("", "{}", ((x,) for x in sections))
        )

    @admin.action(
        description="Regrade all submissions of the selected exercises", permissions=["regrade"]
    )
    def regrade_all(self, request, queryset):
        self.start_regrades(request, queryset, "exercise")

    @admin.display(description="regrades")
    def regrades(self, exercise: Exercise) -> str:
        return regrade_summary(exercise.regrade_jobs.all()) if exercise.pk else ""

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="exercises_exercise_preview",
        )
        return [preview, *authoring_preview.urls(self), self.regrade_url(), *super().get_urls()]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        exercise = form.instance
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            exercise.version += 1
            Exercise.objects.filter(pk=exercise.pk).update(version=exercise.version)
        if not change or form.has_changed() or any(fs.has_changed() for fs in formsets):
            question_tests.start(exercise)

    def get_queryset(self, request):
        latest = QuestionTestRun.objects.filter(exercise=OuterRef("pk")).order_by("-created", "-id")
        return (
            super()
            .get_queryset(request)
            .annotate(
                tests_run_status=Subquery(latest.values("status")[:1]),
                tests_run_version=Subquery(latest.values("exercise_version")[:1]),
            )
        )

    @admin.display(description="question tests")
    def tests_status(self, exercise: Exercise) -> str:
        status = getattr(exercise, "tests_run_status", None)
        if status is None:
            return "not run"
        if exercise.tests_run_version != exercise.version:
            return f"{status} (an older version)"
        return status

    @admin.action(description="Run the question tests of the selected exercises again")
    def rerun_question_tests(self, request, queryset):
        for exercise in queryset:
            question_tests.start(exercise)
        self.message_user(
            request,
            f"Question tests started for {queryset.count()} exercise(s).",
            messages.SUCCESS,
        )

    @admin.display(description="question tests")
    def question_tests(self, exercise: Exercise) -> str:
        if exercise.pk is None:
            return "Run when the exercise is saved."
        latest = exercise.test_runs.first()
        preview = reverse("admin:exercises_exercise_preview", args=[exercise.pk])
        link = format_html('<a href="{}">Preview as a student sees it</a>', preview)
        if latest is None:
            return format_html("Not run yet. {}", link)
        finished = latest.finished.strftime("%Y-%m-%d %H:%M") if latest.finished else ""
        failures = format_html_join(
            "",
            '<li><a href="{}?seed={}">seed {}</a>: {}</li>',
            ((preview, f["seed"], f["seed"], question_tests.describe(f)) for f in latest.failures),
        )
        return format_html(
            "{} (version {}{}{}). {}<ul>{}</ul>",
            latest.summary(),
            latest.exercise_version,
            ", finished " if finished else "",
            finished,
            link,
            failures,
        )

    def preview_view(self, request, object_id: str):
        if not object_id.isdigit():
            raise Http404("No such exercise.")
        exercise = get_object_or_404(
            Exercise.objects.select_related("problem_set__module"), pk=object_id
        )
        if not self.has_view_permission(request, exercise):
            raise PermissionDenied
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        return render(
            request, "admin/exercises/exercise_preview.html", preview_context(request, exercise)
        )


def _fresh_slug(slug: str) -> str:
    """`slug-copy`, else `slug-copy-2`, ...: a slug no exercise has yet."""
    base = re.sub(r"-copy(-\d+)?\Z", "", slug.strip()) or "exercise"
    base = base[: 50 - len("-copy-999")]
    taken = set(
        Exercise.objects.filter(slug__startswith=f"{base}-copy").values_list("slug", flat=True)
    )
    candidate, n = f"{base}-copy", 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-copy-{n}"
    return candidate


def preview_context(request, exercise: Exercise) -> dict:
    """What a student with the chosen seed would see, with everything revealed, and the
    expected answers; after Submit, the engine's verdict on each answer typed, for that
    seed's variant (nothing is stored)."""
    try:
        seed = int(request.GET.get("seed", "0"))
    except ValueError:
        seed = 0
    seed = max(0, min(seed, 2**63 - 1))
    view = StudentView.for_preview(exercise, seed)
    graded = {}
    if request.method == "POST":
        graded = authoring_preview.staff_preview_verdicts(request, exercise, seed)
    fields = []
    for part in view.parts:
        typed, verdict = graded.get(part.key, (None, None))
        if typed is None:
            typed = part.starter if part.is_code else ""
        fields.append({"part": part, "value": typed, "error": "", "verdict": verdict})
    return {
        "view": view,
        "exercise": exercise,
        "problem_set": exercise.problem_set,
        "fields": fields,
        "graded": bool(graded),
        "refusal": "",
        "seed": seed,
        "randomised": bool(exercise.parameters),
    }


@admin.register(QuestionTestRun)
class QuestionTestRunAdmin(admin.ModelAdmin):
    list_display = ["exercise", "exercise_version", "status", "checked", "created", "finished"]
    list_filter = ["status"]
    search_fields = ["exercise__slug"]
    readonly_fields = [
        "exercise",
        "exercise_version",
        "seeds",
        "status",
        "checked",
        "failures",
        "created",
        "finished",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CodeRun)
class CodeRunAdmin(admin.ModelAdmin):
    """Students' runs of visible tests: read-only, for finding out why one is delayed."""

    list_display = ["id", "student", "exercise", "part_key", "status", "created", "problem"]
    list_filter = ["status"]
    search_fields = ["student__username", "exercise__slug"]
    readonly_fields = [
        "student",
        "exercise",
        "variant",
        "part_key",
        "source",
        "status",
        "result",
        "message",
        "problem",
        "created",
        "started",
        "finished",
        "last_sent",
        "tries",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["exercise", "student", "values", "created"]
    search_fields = ["student__username", "exercise__slug"]
    readonly_fields = [
        "student",
        "exercise",
        "seed",
        "values",
        "expected",
        "expected_version",
        "created",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RegradeJob)
class RegradeJobAdmin(admin.ModelAdmin):
    list_display = ["id", "target", "status", "progress", "requested_by", "created", "finished"]
    list_filter = ["status"]
    # While a job runs its page reloads itself, so the progress moves on its own.
    change_form_template = "admin/exercises/regradejob_change_form.html"
    readonly_fields = [
        "exercise",
        "problem_set",
        "requested_by",
        "reason",
        "status",
        "progress",
        "total",
        "done",
        "changed",
        "message",
        "created",
        "started",
        "finished",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, job: RegradeJob) -> str:
        return job.progress()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = RegradeJob.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        running = job is not None and job.status in (
            RegradeJob.Status.QUEUED,
            RegradeJob.Status.RUNNING,
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "refresh": running}
        )


class AccommodationForm(forms.ModelForm):
    problem_set = forms.ModelChoiceField(
        queryset=ProblemSet.objects.filter(kind=ProblemSet.Kind.QUIZ, time_limit__isnull=False),
        help_text="A timed quiz.",
    )

    class Meta:
        model = Accommodation
        fields = ["student", "problem_set", "extra_minutes", "reason"]


@admin.register(Accommodation)
class AccommodationAdmin(admin.ModelAdmin):
    """Extra time in a timed quiz for a student with an accommodation: it lengthens their
    time, even once they have started (and gives time back to one whose time was up)."""

    form = AccommodationForm
    list_display = ["problem_set", "student", "extra_minutes", "reason"]
    list_filter = ["problem_set"]
    search_fields = ["student__username", "student__email", "problem_set__slug"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Picked by name or e-mail as one types, as for extensions.
        if db_field.name == "student":
            return student_picker.student_field(db_field, self.admin_site, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(QuizStart)
class QuizStartAdmin(admin.ModelAdmin):
    """When each student started each quiz. Deleting a start gives the student their full
    time again (after an interruption, say)."""

    list_display = ["problem_set", "student", "started", "ends", "finished"]
    list_filter = ["problem_set"]
    search_fields = ["student__username", "problem_set__slug"]
    readonly_fields = ["student", "problem_set", "started", "finished"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="time ends")
    def ends(self, start: QuizStart):
        return start.ends() or "no time limit"


class GradingInline(admin.TabularInline):
    """The submission's verdicts, oldest first: a regrade adds one, the last is current."""

    model = Grading
    extra = 0
    fields = ["created", "job", "score", "credit", "exercise_version", "engine_version", "results"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Failed submissions, those waiting for longer than grading ever takes, and those
    whose grading is delayed (no sandbox for their code could be started)."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("stuck", "Stuck or failed")]

    def queryset(self, request, queryset):
        if self.value() == "stuck":
            waiting = timezone.now() - timedelta(minutes=5)
            return queryset.filter(
                Q(status=Submission.Status.FAILED)
                | Q(status=Submission.Status.QUEUED, problem__gt="")
                | Q(
                    status__in=[Submission.Status.QUEUED, Submission.Status.GRADING],
                    created__lt=waiting,
                )
            )
        return queryset


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "student",
        "exercise",
        "problem_set",
        "attempt",
        "status",
        "score",
        "credit",
        "tries",
        "created",
        "problem",
    ]
    list_filter = [NeedsAttentionFilter, "status", "queue", "exercise__problem_set__module"]
    search_fields = ["student__username", "exercise__slug"]
    date_hierarchy = "created"
    actions = ["requeue"]
    inlines = [GradingInline]
    readonly_fields = [
        "student",
        "exercise",
        "attempt",
        "answers",
        "status",
        "score",
        "multiplier",
        "late",
        "credit",
        "variant",
        "results",
        "message",
        "problem",
        "queue",
        "created",
        "started",
        "graded",
        "lease_token",
        "lease_expires",
        "last_sent",
        "tries",
        "exercise_version",
        "engine_version",
    ]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Re-queue the selected submissions for grading")
    def requeue(self, request, queryset):
        count = queue.requeue(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} submission(s) queued for grading.", messages.SUCCESS)


# ---------------------------------------------------------------- the admin's log-in


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's log-in form, refusing when the address has used its sign-in budget
    (the same as the site's log-in): no password is even tried then."""

    def clean(self):
        refusal = getattr(self.request, "login_refusal", None)
        if refusal is not None:
            raise ValidationError(refusal.message, code="throttled")
        return super().clean()


admin.site.login_form = ThrottledAdminAuthenticationForm
# The index links the course's own staff pages (the course's gradebook).
admin.site.index_template = "admin/exercises/index.html"


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """`admin.site.login`, counting each attempt against the address's sign-in budget
    and answering 429 with Retry-After past it."""
    refusal = ratelimit.login(request) if request.method == "POST" else None
    request.login_refusal = refusal
    response = admin.site.login(request, extra_context)
    if refusal is not None:
        response.status_code = 429
        response["Retry-After"] = str(refusal.retry_after)
    return response
