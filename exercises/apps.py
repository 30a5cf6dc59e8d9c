from django.apps import AppConfig


class ExercisesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "exercises"
    verbose_name = "Course"

    def ready(self) -> None:
        # Register the tasks in every process, not only in workers (where Celery's
        # autodiscovery runs): `courseserver.celery.publish` finds them by name. And
        # the receiver that wakes the requests waiting for a verdict (`Prefer: wait=N`).
        from exercises import tasks, verdict_wait  # noqa: F401
