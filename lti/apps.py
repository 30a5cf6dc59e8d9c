from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI (learning platforms)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The verdict handler connects; the task registers (publish finds it by name).
        from lti import grades, middleware, tasks  # noqa: F401
