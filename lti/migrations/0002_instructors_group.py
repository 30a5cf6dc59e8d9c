"""Instructors see the LTI placements and score posts, and send failed posts again;
registrations and keys stay with administrators."""

from django.db import migrations

INSTRUCTOR_PERMISSIONS = {
    "placement": ["view"],
    "scorepost": ["change", "view"],
}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{a}_{m}" for m, actions in INSTRUCTOR_PERMISSIONS.items() for a in actions]
    group, _ = Group.objects.get_or_create(name="Instructors")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="lti", codename__in=codenames)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("lti", "0001_initial"),
        ("exercises", "0007_instructors_group"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
