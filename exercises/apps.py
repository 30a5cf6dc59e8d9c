from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exercises"
    verbose_name = "Course"

    def ready(self) -> None:
        # Register the tasks in every process, not only in workers (where Celery's
        # autodiscovery runs): `courseserver.celery.publish` finds them by name.
        from exercises import tasks  # noqa: F401
