from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI (learning platforms)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lti import grades  # noqa: F401  (connects the verdict handler)
