"""The "Instructors" group, with the permissions instructors need, on every database
(production as well as the demo). Instructors are staff in this group, never superusers.
A later model's permissions are added to the group by the migration that adds the model.
"""

from django.db import migrations

# Frozen here: a migration must not follow later edits of the application's code.
INSTRUCTOR_PERMISSIONS = {
    "module": ["add", "change", "delete", "view"],
    "problemset": ["add", "change", "delete", "view"],
    "exercise": ["add", "change", "delete", "view"],
    "part": ["add", "change", "delete", "view"],
    "submission": ["change", "view"],
    "variant": ["view"],
    "questiontestrun": ["view"],
    "grading": ["view"],
    "regradejob": ["add", "view"],
    "quizstart": ["delete", "view"],
    "extension": ["add", "change", "delete", "view"],
}


def make_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Django creates permissions after all migrations have run; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{a}_{m}" for m, actions in INSTRUCTOR_PERMISSIONS.items() for a in actions]
    group, _ = Group.objects.get_or_create(name="Instructors")
    # Added, not set: what an administrator has given the group since is kept.
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="exercises", codename__in=codenames)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("exercises", "0006_extensions"),
    ]

    operations = [migrations.RunPython(make_group, migrations.RunPython.noop)]
