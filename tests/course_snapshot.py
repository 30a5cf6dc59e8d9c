"""The shipped course, loaded once per test process and copied back into the database
for each test that needs it.

Loading the course runs its question tests (about 6 s); a transactional test empties the
database after it, so each browser test would load it again. The first load here is a
real `load_course`; its rows (every model of the exercises app) are kept in memory, and
later calls write them back with new primary keys, so that nothing a server process
keeps by key (parts cached per exercise and version) is taken for a previous test's.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.color import no_style
from django.db import connection

# Each copy's keys are the loaded ones plus a multiple of this, above any loaded key.
_OFFSET = 100_000
_copies = itertools.count(1)
_rows: list[dict] | None = None


def _models() -> list:
    config = apps.get_app_config("exercises")
    return serializers.sort_dependencies([(config, list(config.get_models()))])


def load_course_copy() -> None:
    """The course in the database: loaded the first time, copied back after that."""
    global _rows
    if _rows is None:
        from exercises.management.commands.load_course import load_course

        load_course(Path(settings.BASE_DIR) / "course", seeds=1)
        objects = [obj for model in _models() for obj in model._default_manager.order_by("pk")]
        if any(obj.pk >= _OFFSET for obj in objects):
            raise AssertionError(f"a loaded key is over {_OFFSET}: raise _OFFSET")
        _rows = serializers.serialize("python", objects)
        return
    shift = _OFFSET * next(_copies)
    copied: dict[type, list] = {}
    for row in serializers.deserialize("python", _rows):
        obj = row.object
        model = type(obj)
        obj.pk += shift
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model._meta.app_label == "exercises":
                value = getattr(obj, field.attname)
                if value is not None:
                    setattr(obj, field.attname, value + shift)
        copied.setdefault(model, []).append(obj)
    with connection.constraint_checks_disabled():
        for model, objects in copied.items():
            model._default_manager.bulk_create(objects)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(copied)):
            cursor.execute(sql)
