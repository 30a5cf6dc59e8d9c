from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone

from exercises import queue
from exercises.models import Exercise, Module, Part, ProblemSet, Submission


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


@admin.register(ProblemSet)
class ProblemSetAdmin(admin.ModelAdmin):
    list_display = ["title", "module", "order", "slug"]
    list_filter = ["module"]
    search_fields = ["title", "slug"]
    inlines = [ExerciseInline]


class PartInline(admin.StackedInline):
    model = Part
    extra = 0
    fields = [
        ("key", "order", "kind", "weight"),
        "label",
        "expected",
        ("variables", "domain"),
        "functions",
        ("rtol", "atol"),
        "options",
        "mistakes",
    ]


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["title", "problem_set", "order", "slug", "version"]
    list_filter = ["problem_set__module", "problem_set"]
    search_fields = ["title", "slug", "prompt"]
    inlines = [PartInline]
    readonly_fields = ["version"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            Exercise.objects.filter(pk=form.instance.pk).update(version=form.instance.version + 1)


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Failed submissions, and those waiting for longer than grading ever takes."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("stuck", "Stuck or failed")]

    def queryset(self, request, queryset):
        if self.value() == "stuck":
            waiting = timezone.now() - timedelta(minutes=5)
            return queryset.filter(
                Q(status=Submission.Status.FAILED)
                | Q(
                    status__in=[Submission.Status.QUEUED, Submission.Status.GRADING],
                    created__lt=waiting,
                )
            )
        return queryset


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "student", "exercise", "attempt", "status", "score", "tries", "created"]
    list_filter = [NeedsAttentionFilter, "status", "exercise__problem_set__module"]
    search_fields = ["student__username", "exercise__slug"]
    date_hierarchy = "created"
    actions = ["requeue"]
    readonly_fields = [
        "student",
        "exercise",
        "attempt",
        "answers",
        "status",
        "score",
        "results",
        "message",
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
