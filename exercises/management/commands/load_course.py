"""Load the course from its YAML files into the database, idempotently.

Every file is read and every exercise validated through its definition
(`exercises.definition`) and the admin's checks (`question_tests.validate`) before
anything is written: on any error the messages are printed, naming the file, the
exercise and the field, and nothing is loaded. Then, in one transaction, modules,
problem sets, exercises and parts are created or updated in place (matched by slug and
part key); students' submissions are never touched.

Last, the question tests run, as the admin runs them, and are recorded as question test
runs: an exercise is published only once its tests pass; one whose tests fail is left
as a draft, its failures listed. An exercise unchanged since its last run is not run
again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from exercises import question_tests
from exercises.definition import CourseDef, DefinitionError, ExerciseDef, assign, parse
from exercises.models import Exercise, Module
from exercises.porting import (
    ProblemSetFile,
    placement_problems,
    read_problem_set,
    test_and_publish,
    write_placements,
    write_problem_set,
)


class CourseError(CommandError):
    """The course's files hold errors; `messages` names each (file, exercise, field)."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("\n".join(messages))


def read_yaml(path: Path, problems: list[str]):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        problems.append(f"{path}: not valid YAML: {e}")
    except OSError as e:
        problems.append(f"{path}: cannot be read: {e.strerror}")
    return None


@dataclass
class Course:
    modules: CourseDef
    problem_sets: list[ProblemSetFile]


def read_course(
    folder: Path, seeds: int = question_tests.VALIDATION_SEEDS, timeout: float | None = None
) -> Course:
    """Every file of the course as definitions, checked as the admin checks an exercise
    before saving it. Raises CourseError listing every problem found."""
    problems: list[str] = []
    index_path = folder / "course.yaml"
    index = read_yaml(index_path, problems) or {}
    try:
        modules = parse(CourseDef, index)
    except DefinitionError as e:
        problems += e.messages(str(index_path))
        modules = CourseDef()
    module_slugs = {m.slug for m in modules.modules}
    files = []
    slugs: dict[str, str] = {}
    set_slugs: dict[str, Path] = {}
    for path in sorted(folder.glob("*/*.yaml")):
        before = len(problems)
        data = read_yaml(path, problems)
        if data is None:
            if len(problems) == before:
                problems.append(f"{path}: empty: expected a problem set")
            continue
        found = read_problem_set(data, path, problems, slugs, seeds=seeds, timeout=timeout)
        if found is None:
            continue
        ps = found.definition
        if ps.module not in module_slugs:
            problems.append(f"{path} → module: {ps.module!r} is not in course.yaml")
        if ps.slug in set_slugs:
            problems.append(f"{path} → slug: {ps.slug!r} is also the slug of {set_slugs[ps.slug]}")
        set_slugs[ps.slug] = path
        files.append(found)
    problems += placement_problems(files, slugs)
    if problems:
        raise CourseError(problems)
    return Course(modules, files)


@dataclass
class Loaded:
    counts: dict
    # Each exercise loaded, with its definition: the question tests run on them.
    exercises: list[tuple[Exercise, ExerciseDef]]


@transaction.atomic
def write_course(course: Course) -> Loaded:
    counts = {"modules": 0, "problem_sets": 0, "exercises": 0, "changed": 0, "placements": 0}
    modules = {}
    for order, item in enumerate(course.modules.modules, start=1):
        module, _ = Module.objects.get_or_create(slug=item.slug, defaults={"title": item.title})
        if assign(module, {"title": item.title, "summary": item.summary, "order": order}):
            module.save()
        modules[module.slug] = module
        counts["modules"] += 1
    loaded = []
    for found in course.problem_sets:
        _, written, exercises = write_problem_set(found, modules[found.definition.module])
        counts["problem_sets"] += 1
        counts["exercises"] += written["exercises"]
        counts["changed"] += written["changed"]
        loaded += exercises
    # Once every exercise is written: a set may place one defined in a later file.
    for found in course.problem_sets:
        counts["placements"] += write_placements(found)
    return Loaded(counts, loaded)


def load_course(
    folder: Path,
    seeds: int = question_tests.BACKGROUND_SEEDS,
    timeout: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Validate, write and test the course in `folder`; returns the counts, and the
    question tests' summary under "tests". Raises CourseError (nothing written) when a
    file holds an error."""
    course = read_course(folder, seeds=min(seeds, question_tests.VALIDATION_SEEDS), timeout=timeout)
    loaded = write_course(course)
    summary = test_and_publish(loaded.exercises, seeds=seeds, timeout=timeout, progress=progress)
    return {**loaded.counts, "tests": summary}


class Command(BaseCommand):
    help = "Load (or update) the course from the YAML files in course/."

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", default=str(settings.BASE_DIR / "course"))
        parser.add_argument(
            "--seeds",
            type=int,
            default=question_tests.BACKGROUND_SEEDS,
            help="seeds each randomised exercise's question tests are run for",
        )

    def handle(self, *args, folder: str, seeds: int, **options):
        verbose = options["verbosity"] >= 2
        try:
            counts = load_course(
                Path(folder),
                seeds=max(1, seeds),
                timeout=settings.GRADING_TIMEOUT,
                progress=self.stdout.write if verbose else None,
            )
        except CourseError as e:
            for message in e.messages:
                self.stderr.write(message)
            raise CommandError(
                f"{len(e.messages)} problem(s) in the course files: nothing was loaded."
            ) from None
        summary = counts["tests"]
        self.stdout.write(
            f"Loaded {counts['modules']} modules, {counts['problem_sets']} problem sets, "
            f"{counts['exercises']} exercises ({counts['changed']} changed)."
        )
        self.stdout.write(f"Question tests: {summary.line()}.")
        for slug, failures in summary.failed.items():
            for failure in failures:
                self.stderr.write(f"  {slug}: {failure}")
        for where, why in summary.skipped.items():
            self.stdout.write(f"  {where}: {why}")
