"""Write the course in the database back to YAML files, in the format load_course reads.

Each exercise is written as its definition (`exercises.definition`), the same one
load_course reads, so loading the written folder gives back the same modules, problem
sets, exercises and parts, so a course edited in the admin can be versioned, reviewed and moved to
another server like the shipped one.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exercises.models import Module
from exercises.porting import dump, problem_set_data


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
            files[f"{folder}/{ps.slug}.yaml"] = dump(problem_set_data(ps))
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
