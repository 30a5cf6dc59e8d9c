"""Write the course in the database back to YAML files, in the format load_course reads.

Each exercise is written as its definition (`exercises.definition`), the same one
load_course reads, so loading the written folder gives back the same modules, problem
sets, exercises and parts, so a course edited in the admin can be versioned, reviewed and moved to
another server like the shipped one.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from exercises.definition import DefinitionError, ExerciseDef
from exercises.models import Exercise, Module, ProblemSet


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str):
    # Prompts and solutions read best as literal blocks, as authors write them.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def exercise_data(exercise: Exercise) -> dict:
    """The exercise's definition as YAML writes it: in field order, defaults left out."""
    try:
        return ExerciseDef.from_model(exercise).to_data()
    except DefinitionError as e:
        # A file load_course would refuse is not written: the author fixes it first.
        raise CommandError("\n".join(e.messages(f"exercise {exercise.slug}"))) from None


def placements_data(ps: ProblemSet, own: int) -> list:
    """The exercises placed in the set from elsewhere, as `place` lists them: a slug
    alone where the order is the one loading gives it by default (after the set's own
    exercises and the entry before)."""
    placed, last = [], own
    for placement in ps.placements.all():
        slug = placement.exercise.slug
        if placement.order == max(last, own) + 1:
            placed.append(slug)
        else:
            placed.append({"exercise": slug, "order": placement.order})
        last = placement.order
    return placed


def course_files() -> dict[str, str]:
    """Relative path -> YAML text for the whole course."""
    modules = list(
        Module.objects.prefetch_related(
            "problem_sets__exercises__parts", "problem_sets__placements__exercise"
        )
    )
    files = {
        "course.yaml": dump(
            {"modules": [{"slug": m.slug, "title": m.title, "summary": m.summary} for m in modules]}
        )
    }
    for number, module in enumerate(modules, start=1):
        folder = f"{number:02d}-{module.slug}"
        for ps in module.problem_sets.all():
            data = {
                "module": module.slug,
                "slug": ps.slug,
                "title": ps.title,
                "order": ps.order,
                "summary": ps.summary,
            }
            if ps.opens:
                data["opens"] = ps.opens.isoformat()
            if ps.due:
                data["due"] = ps.due.isoformat()
            if ps.late_policy != ProblemSet.LatePolicy.ACCEPT:
                data["late_policy"] = ps.late_policy
            if ps.late_penalty:
                data["late_penalty"] = ps.late_penalty
            if ps.kind != ProblemSet.Kind.PRACTICE:
                data["kind"] = ps.kind
            if ps.time_limit is not None:
                data["time_limit"] = ps.time_limit
            if ps.feedback_released:
                data["feedback_released"] = ps.feedback_released.isoformat()
            data["exercises"] = [exercise_data(e) for e in ps.exercises.all()]
            placed = placements_data(ps, len(data["exercises"]))
            if placed:
                data["place"] = placed
            files[f"{folder}/{ps.slug}.yaml"] = dump(data)
    return files


def export_course(folder: Path, overwrite: bool = False) -> int:
    """Write the course into `folder`; returns the number of files written."""
    existing = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*/*.yaml"))
    if existing and not overwrite:
        raise CommandError(
            f"{folder} already holds a course; choose an empty folder or pass --overwrite"
        )
    files = course_files()
    for path in existing:
        # A problem set that is gone from the database must not come back on the next load.
        if path.relative_to(folder).as_posix() not in files:
            path.unlink()
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return len(files)


class Command(BaseCommand):
    help = "Write the course in the database to YAML files that load_course reads."

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", default="course-export")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="replace the course files already in the folder",
        )

    def handle(self, *args, folder: str, overwrite: bool, **options):
        count = export_course(Path(folder), overwrite=overwrite)
        self.stdout.write(f"Wrote {count} files to {folder}.")
