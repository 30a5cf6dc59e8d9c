"""Load the course from its YAML files into the database, idempotently.

Loading again updates modules, problem sets, exercises and parts in place (matched by
slug and part key) and never touches students' submissions.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from exercises import variants
from exercises.models import Exercise, Module, Part, ProblemSet

PART_FIELDS = [
    "label",
    "hint",
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


def _moment(value, path, name: str) -> datetime | None:
    """A date and time from YAML (which reads `2026-10-05 09:00` itself), in the server's
    time zone unless it names one."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(f"{path}: {name} is not a date and time: {value!r}") from None
    if not isinstance(value, datetime):
        raise CommandError(f"{path}: {name} is not a date and time: {value!r}")
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _share(value, where, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise CommandError(f"{where}: {name} must be a number from 0 to 1")
    return float(value)


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
        late_policy = data.get("late_policy", ProblemSet.LatePolicy.ACCEPT)
        if late_policy not in ProblemSet.LatePolicy.values:
            raise CommandError(
                f"{path}: late_policy must be one of {', '.join(ProblemSet.LatePolicy.values)}"
            )
        kind = data.get("kind", ProblemSet.Kind.PRACTICE)
        if kind not in ProblemSet.Kind.values:
            raise CommandError(f"{path}: kind must be one of {', '.join(ProblemSet.Kind.values)}")
        time_limit = data.get("time_limit")
        if time_limit is not None and (
            isinstance(time_limit, bool) or not isinstance(time_limit, int) or time_limit < 1
        ):
            raise CommandError(f"{path}: time_limit must be a whole number of minutes, 1 or more")
        if _update(
            ps,
            {
                "module": module,
                "title": data["title"],
                "summary": data.get("summary", ""),
                "order": data.get("order", 0),
                "opens": _moment(data.get("opens"), path, "opens"),
                "due": _moment(data.get("due"), path, "due"),
                "late_policy": late_policy,
                "late_penalty": _share(data.get("late_penalty", 0.0), path, "late_penalty"),
                "kind": kind,
                "time_limit": time_limit,
                "feedback_released": _moment(
                    data.get("feedback_released"), path, "feedback_released"
                ),
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
            "max_attempts": data.get("max_attempts"),
            "retry_penalty": _share(data.get("retry_penalty", 0.0), where, "retry_penalty"),
        },
    )
    if exercise.max_attempts is not None and (
        not isinstance(exercise.max_attempts, int) or exercise.max_attempts < 1
    ):
        raise CommandError(f"{where}: max_attempts must be a whole number of at least 1")
    try:
        variants.check_parameters(exercise.parameters, exercise.constraints)
    except variants.VariantError as e:
        raise CommandError(f"{where}: {e}") from None
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
