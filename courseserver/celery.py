"""The Celery app. Tasks live in `exercises/tasks.py`; settings are the CELERY_* ones."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseserver.settings")

app = Celery("courseserver")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
