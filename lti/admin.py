"""The LTI app's admin: accounts, placements, and score posts, whose failed ones staff
see with their reason and send again. django-lti's registrations and keys have their own."""

from django.contrib import admin, messages
from lti_tool.models import Key, LtiContext
from pylti1p3.exception import LtiException, LtiServiceException

from lti import grades, roster
from lti.models import Account, Placement, ScorePost
from lti.tool import INSTRUCTORS


def _instructor(request) -> bool:
    """Whether the signed-in user is active staff in the Instructors group (or a
    superuser): asked once per request, however many of the admin's lists ask."""
    if not hasattr(request, "_lti_instructor"):
        user = request.user
        request._lti_instructor = bool(
            user.is_active
            and user.is_staff
            and (user.is_superuser or user.groups.filter(name=INSTRUCTORS).exists())
        )
    return request._lti_instructor


class ForInstructors:
    """Instructors see this (and, with `may_change`, act on it) through their group,
    without the group's permissions growing beyond the course's own models."""

    may_change = False

    def has_module_permission(self, request):
        return _instructor(request) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return _instructor(request) or super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if self.may_change and _instructor(request):
            return True
        return super().has_change_permission(request, obj)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["user", "issuer", "subject", "created"]
    search_fields = ["user__username", "user__last_name", "subject"]
    list_filter = ["issuer"]
    readonly_fields = ["issuer", "subject", "user", "created"]


@admin.register(Placement)
class PlacementAdmin(ForInstructors, admin.ModelAdmin):
    list_display = ["resource_link", "module", "problem_set", "exercise", "line_item"]
    readonly_fields = ["resource_link", "line_item", "created"]


@admin.register(ScorePost)
class ScorePostAdmin(ForInstructors, admin.ModelAdmin):
    may_change = True
    list_display = ["created", "student", "line_item", "status", "score_given", "tries", "reason"]
    list_filter = ["status"]
    search_fields = ["student__username", "reason"]
    readonly_fields = [f.name for f in ScorePost._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send the selected failed posts again", permissions=["change"])
    def resend(self, request, queryset):
        count = grades.resend(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} score post(s) sent again.", messages.SUCCESS)


@admin.register(Key)
class KeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_active", "datetime_created"]
    fields = ["public_key", "is_active", "datetime_created"]
    readonly_fields = ["public_key", "datetime_created"]

    def has_add_permission(self, request):
        # New keys come from `manage.py rotate_keys`, which keeps the old ones a while.
        return False


@admin.register(LtiContext)
class LtiContextAdmin(admin.ModelAdmin):
    list_display = ["__str__", "id_on_platform", "deployment", "datetime_modified"]
    fields = ["title", "label", "id_on_platform", "deployment", "memberships_url", "lineitems_url"]
    readonly_fields = fields
    actions = ["sync_roster"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Pull the roster from the platform")
    def sync_roster(self, request, queryset):
        for context in queryset:
            try:
                count = roster.sync(context)
            except (ValueError, LtiException, LtiServiceException, OSError) as e:
                self.message_user(request, f"{context}: {e}", messages.ERROR)
            else:
                self.message_user(request, f"{context}: {count} active member(s).")
