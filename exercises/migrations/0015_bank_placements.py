"""The question bank: an exercise placed in problem sets other than its own, and the set
each piece of students' work was done in (their exercise's own set, for the work so far)."""

import django.db.models.deletion
from django.db import migrations, models

WORK = ["submission", "variant", "quizdraft", "coderun"]


def fill_problem_sets(apps, schema_editor):
    """The work done so far was done in its exercise's own set."""
    Exercise = apps.get_model("exercises", "Exercise")
    home = models.Subquery(
        Exercise.objects.filter(pk=models.OuterRef("exercise_id")).values("problem_set_id")[:1]
    )
    for name in WORK:
        apps.get_model("exercises", name).objects.filter(problem_set__isnull=True).update(
            problem_set_id=home
        )


def let_instructors_place_exercises(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Django creates permissions after all migrations have run; the group needs these now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Instructors")
    codenames = [f"{a}_placement" for a in ("add", "change", "delete", "view")]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="exercises", codename__in=codenames)
    )


def nullable(related_name):
    return models.ForeignKey(
        null=True,
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="exercises.problemset",
    )


def required(related_name):
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE,
        related_name=related_name,
        to="exercises.problemset",
    )


RELATED = {
    "submission": "submissions",
    "variant": "variants",
    "quizdraft": "drafts",
    "coderun": "code_runs",
}


class Migration(migrations.Migration):
    dependencies = [
        ("exercises", "0014_merge_20261207_1509"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="Placement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "order",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Among the set's exercises, as an exercise's own order.",
                    ),
                ),
                (
                    "exercise",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="placements",
                        to="exercises.exercise",
                    ),
                ),
                (
                    "problem_set",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="placements",
                        to="exercises.problemset",
                    ),
                ),
            ],
            options={
                "ordering": ["problem_set", "order", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("problem_set", "exercise"), name="placement_unique"
                    )
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="submission", name="submission_attempt_unique"),
        migrations.RemoveConstraint(model_name="variant", name="variant_unique"),
        migrations.RemoveConstraint(model_name="quizdraft", name="quizdraft_unique"),
        *[
            migrations.AddField(model_name=name, name="problem_set", field=nullable(RELATED[name]))
            for name in WORK
        ],
        migrations.RunPython(fill_problem_sets, migrations.RunPython.noop),
        migrations.RunPython(let_instructors_place_exercises, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=name, name="problem_set", field=required(RELATED[name])
            )
            for name in WORK
        ],
        migrations.AddConstraint(
            model_name="submission",
            constraint=models.UniqueConstraint(
                fields=("student", "exercise", "problem_set", "attempt"),
                name="submission_attempt_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="variant",
            constraint=models.UniqueConstraint(
                fields=("student", "exercise", "problem_set"), name="variant_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="quizdraft",
            constraint=models.UniqueConstraint(
                fields=("student", "exercise", "problem_set"), name="quizdraft_unique"
            ),
        ),
    ]
