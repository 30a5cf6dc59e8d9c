"""Local demo accounts: student/student and instructor/instructor.

Made only under the embedded default database, never when DATABASE_URL is set.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

DEMO = [("student", False), ("instructor", True)]

# Instructors author the course and look after submissions; they are staff, not superusers.
INSTRUCTOR_PERMISSIONS = {
    "module": ["add", "change", "delete", "view"],
    "problemset": ["add", "change", "delete", "view"],
    "exercise": ["add", "change", "delete", "view"],
    "part": ["add", "change", "delete", "view"],
    "submission": ["change", "view"],
    "variant": ["view"],
    "questiontestrun": ["view"],
    "grading": ["view"],
    "coderun": ["view"],
    "regradejob": ["add", "view"],
    "quizstart": ["delete", "view"],
    "extension": ["add", "change", "delete", "view"],
    "accommodation": ["add", "change", "delete", "view"],
    "placement": ["add", "change", "delete", "view"],
}


def instructors_group() -> Group:
    group, _ = Group.objects.get_or_create(name="Instructors")
    codenames = [f"{a}_{m}" for m, actions in INSTRUCTOR_PERMISSIONS.items() for a in actions]
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="exercises", codename__in=codenames)
    )
    return group


class Command(BaseCommand):
    help = "Create the local demo accounts (embedded database only)."

    def handle(self, *args, **options):
        if not settings.DEMO_ACCOUNTS:
            self.stdout.write("DATABASE_URL is set: no demo accounts are made.")
            return
        User = get_user_model()
        group = instructors_group()
        for username, staff in DEMO:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(username)
                # So that the password reset can be tried: `make run` prints its e-mail.
                user.email = f"{username}@example.org"
                user.is_staff = staff
                user.save()
                if staff:
                    user.groups.add(group)
        self.stdout.write(
            "Demo accounts: student / student (a student), instructor / instructor (staff, admin)."
        )
