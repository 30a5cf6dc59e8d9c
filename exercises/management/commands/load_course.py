"""Load the course from its YAML files into the database, idempotently.

Loading again updates modules, problem sets, exercises and parts in place (matched by
slug and part key) and never touches students' submissions.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from exercises.models import Exercise, Module, Part, ProblemSet

PART_FIELDS = [
    "label",
    "kind",
    "expected",
    "variables",
    "domain",
    "functions",
    "options",
    "mistakes",
    "rtol",
    "atol",
    "weight",
    "tests",
]


def read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise CommandError(f"{path}: not valid YAML: {e}") from e


def _update(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


@transaction.atomic
def load_course(folder: Path) -> dict[str, int]:
    index = read_yaml(folder / "course.yaml") or {}
    counts = {"modules": 0, "problem_sets": 0, "exercises": 0, "changed": 0}
    modules = {}
    for order, item in enumerate(index.get("modules", []), start=1):
        module, _ = Module.objects.get_or_create(
            slug=item["slug"], defaults={"title": item["title"]}
        )
        if _update(
            module, {"title": item["title"], "summary": item.get("summary", ""), "order": order}
        ):
            module.save()
        modules[module.slug] = module
        counts["modules"] += 1
    for path in sorted(folder.glob("*/*.yaml")):
        data = read_yaml(path)
        if not isinstance(data, dict) or "slug" not in data:
            raise CommandError(f"{path}: expected a problem set with a slug")
        module = modules.get(data.get("module"))
        if module is None:
            raise CommandError(f"{path}: module {data.get('module')!r} is not in course.yaml")
        ps, _ = ProblemSet.objects.get_or_create(
            slug=data["slug"], defaults={"module": module, "title": data["title"]}
        )
        if _update(
            ps,
            {
                "module": module,
                "title": data["title"],
                "summary": data.get("summary", ""),
                "order": data.get("order", 0),
            },
        ):
            ps.save()
        counts["problem_sets"] += 1
        for ex_order, ex_data in enumerate(data.get("exercises", []), start=1):
            counts["changed"] += load_exercise(ps, ex_order, ex_data, path)
            counts["exercises"] += 1
    return counts


def load_exercise(ps: ProblemSet, order: int, data: dict, path: Path) -> bool:
    where = f"{path}: exercise {data.get('slug')!r}"
    for key in ("slug", "title", "prompt", "parts"):
        if key not in data:
            raise CommandError(f"{where}: missing {key!r}")
    exercise, created = Exercise.objects.get_or_create(
        slug=data["slug"],
        defaults={"problem_set": ps, "title": data["title"], "prompt": data["prompt"]},
    )
    changed = _update(
        exercise,
        {
            "problem_set": ps,
            "title": data["title"],
            "prompt": data["prompt"],
            "solution": data.get("solution", ""),
            "order": order,
            "parameters": data.get("parameters") or {},
            "constraints": data.get("constraints") or [],
            "status": data.get("status", Exercise.Status.PUBLISHED),
        },
    )
    if exercise.status not in Exercise.Status.values:
        raise CommandError(f"{where}: status must be one of {', '.join(Exercise.Status.values)}")
    keys = []
    for part_order, part_data in enumerate(data["parts"], start=1):
        key = str(part_data.get("key", part_order))
        keys.append(key)
        values = {name: part_data[name] for name in PART_FIELDS if name in part_data}
        values.setdefault("label", "")
        values["order"] = part_order
        if values.get("kind") not in Part.Kind.values:
            raise CommandError(
                f"{where}, part {key}: kind must be one of {', '.join(Part.Kind.values)}"
            )
        expected = values.get("expected", "")
        # A reference routine's call instead of a text: {routine: ..., args: {...}}.
        if isinstance(expected, dict):
            values["expected_routine"] = expected
            values["expected"] = ""
        else:
            values["expected_routine"] = {}
            values["expected"] = str(expected)
        for name, default in (
            ("variables", []),
            ("domain", {}),
            ("functions", []),
            ("options", []),
            ("mistakes", []),
            ("tests", []),
            ("rtol", None),
            ("atol", None),
            ("weight", 1.0),
        ):
            values.setdefault(name, default)
        part = Part.objects.filter(exercise=exercise, key=key).first()
        if part is None:
            Part.objects.create(exercise=exercise, key=key, **values)
            changed = True
        elif _update(part, values):
            part.save()
            changed = True
    removed, _ = exercise.parts.exclude(key__in=keys).delete()
    changed = changed or bool(removed)
    if changed and not created:
        exercise.version += 1
    if changed or created:
        exercise.save()
    return changed and not created


class Command(BaseCommand):
    help = "Load (or update) the course from the YAML files in course/."

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", default=str(settings.BASE_DIR / "course"))

    def handle(self, *args, folder: str, **options):
        counts = load_course(Path(folder))
        self.stdout.write(
            f"Loaded {counts['modules']} modules, {counts['problem_sets']} problem sets, "
            f"{counts['exercises']} exercises ({counts['changed']} changed)."
        )
