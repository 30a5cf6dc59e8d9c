"""A problem set as YAML, out and in: the format `export_course` writes and `load_course`
reads, one file per problem set.

The commands handle a whole course folder; the admin downloads one problem set and
uploads one. Both go through the same functions here: `problem_set_data` (the file's
content), `read_problem_set` (a file's data checked through the definitions, every
problem named) and `write_problem_set` (created or updated in place, matched by slug).

An upload is checked in full before anything is saved (`check_upload`): the YAML, each
field of the problem set and of its exercises, the module it names, exercise slugs
already used by another problem set, and each exercise's templates and expected answers
for several seeds, as `load_course` checks them. Only a file without a single problem
can be saved, and then in one transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import yaml
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from exercises import question_tests
from exercises.definition import (
    DefinitionError,
    ExerciseDef,
    ProblemSetDef,
    assign,
    parse,
    part_fields,
)
from exercises.models import Exercise, Module, Part, Placement, ProblemSet, QuestionTestRun

# An upload larger than this is refused unread: the largest shipped problem set is a
# few tens of kilobytes.
MAX_UPLOAD_BYTES = 512 * 1024


class ExportError(CommandError):
    """An exercise in the database that its definition refuses: it is not written."""


# ---------------------------------------------------------------- out


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
        raise ExportError("\n".join(e.messages(f"exercise {exercise.slug}"))) from None


def problem_set_data(ps: ProblemSet) -> dict:
    """The problem set's file: its fields (defaults left out), then its exercises."""
    data = {
        "module": ps.module.slug,
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
    return data


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


def problem_set_yaml(ps: ProblemSet) -> str:
    return dump(problem_set_data(ps))


# ---------------------------------------------------------------- in


def yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error as an author reads it: where (line and column, from 1), then what."""
    mark = getattr(error, "problem_mark", None)
    what = " ".join(
        part for part in (getattr(error, "context", None), getattr(error, "problem", None)) if part
    )
    if mark is None:
        return f"not valid YAML: {what or error}"
    text = f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {what or error}"
    # An unclosed quote or bracket is found at the end: where it opened tells the author more.
    start = getattr(error, "context_mark", None)
    if start is not None and start.line != mark.line:
        text += f" (it began at line {start.line + 1}, column {start.column + 1})"
    return text


def moment(value, where: str, problems: list[str]) -> datetime | None:
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
            value = None
    if not isinstance(value, datetime):
        problems.append(f"{where}: must be a date and time")
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Lines:
    """Where each field of a YAML document is, so that a message can name its line."""

    def __init__(self, text: str):
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            self.root = None

    def of(self, path: str) -> int | None:
        """The line (from 1) of the field at `path` (`exercises[1].parts[0].rtol`), or of
        the nearest field around it that the file has (a missing one's mapping)."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for step in re.findall(r"\[\d+\]|[^.\[\]]+", path):
            if step.startswith("["):
                index = int(step[1:-1])
                if not isinstance(node, yaml.SequenceNode) or index >= len(node.value):
                    break
                node = node.value[index]
            else:
                if not isinstance(node, yaml.MappingNode):
                    break
                found = next(
                    (
                        (key, value)
                        for key, value in node.value
                        if isinstance(key, yaml.ScalarNode) and key.value == step
                    ),
                    None,
                )
                if found is None:
                    break
                key, node = found
                # A field's line is its key's: a block's value starts on the next.
                line = key.start_mark.line + 1
                continue
            line = node.start_mark.line + 1
        return line

    def mark(self, path: str, message: str) -> str:
        line = self.of(path)
        return f"line {line}: {message}" if line is not None else message


def _marked(lines: Lines | None, base: str, error: DefinitionError, prefix: str) -> list[str]:
    """The error's messages, each with its field's line when the document is known."""
    messages = error.messages(prefix)
    if lines is None:
        return messages
    return [
        lines.mark(f"{base}.{where}" if base and where else base or where, message)
        for (where, _), message in zip(error.problems, messages, strict=True)
    ]


@dataclass
class ProblemSetFile:
    path: Path
    definition: ProblemSetDef
    dates: dict
    exercises: list[ExerciseDef] = field(default_factory=list)

    def set_fields(self, module: Module) -> dict:
        """The problem set's fields as the database stores them."""
        data = self.definition
        return {
            "module": module,
            "title": data.title,
            "summary": data.summary,
            "order": data.order,
            "late_policy": data.late_policy,
            "late_penalty": float(data.late_penalty),
            "kind": data.kind,
            "time_limit": data.time_limit,
            **self.dates,
        }

    def placements(self) -> list[tuple[str, int]]:
        """The exercises placed in the set from elsewhere (`place`), with their order:
        by default after the set's own exercises (numbered from 1) and the entry before."""
        own = last = len(self.definition.exercises)
        placed = []
        for p in self.definition.place:
            last = p.order if p.order is not None else max(last, own) + 1
            placed.append((p.exercise, last))
        return placed


def placement_problems(files: list[ProblemSetFile], slugs: dict[str, str]) -> list[str]:
    """What is wrong with the sets' `place` lists: an exercise neither in the files read
    (`slugs`) nor in the database, one placed twice, or one placed in its own set."""
    problems = []
    known = set(
        Exercise.objects.filter(
            slug__in=[p.exercise for f in files for p in f.definition.place]
        ).values_list("slug", flat=True)
    )
    for found in files:
        own = {e.slug for e in found.exercises}
        seen = set()
        for i, placed in enumerate(found.definition.place):
            where = f"{found.path}: place[{i}] ({placed.exercise})"
            if placed.exercise in own:
                problems.append(f"{where}: is an exercise of this set already")
            elif placed.exercise not in slugs and placed.exercise not in known:
                problems.append(f"{where}: no exercise has this slug")
            elif placed.exercise in seen:
                problems.append(f"{where}: is placed twice in this set")
            seen.add(placed.exercise)
    return problems


def write_placements(found: ProblemSetFile) -> int:
    """The set's placements as its file lists them: the others are removed (students'
    work done in them is kept with the set, and shown again if it is placed again).
    Written once every exercise is: a set may place one defined in a later file."""
    ps = ProblemSet.objects.get(slug=found.definition.slug)
    placed = found.placements()
    exercises = dict(
        Exercise.objects.filter(slug__in=[slug for slug, _ in placed]).values_list("slug", "pk")
    )
    Placement.objects.filter(problem_set=ps).exclude(exercise_id__in=exercises.values()).delete()
    for slug, order in placed:
        Placement.objects.update_or_create(
            problem_set=ps, exercise_id=exercises[slug], defaults={"order": order}
        )
    return len(placed)


def read_problem_set(
    data,
    path: Path,
    problems: list[str],
    slugs: dict[str, str],
    seeds: int = question_tests.VALIDATION_SEEDS,
    timeout: float | None = None,
    lines: Lines | None = None,
) -> ProblemSetFile | None:
    """A problem set file's data checked through the definitions; each problem is added
    to `problems`, naming the file, the exercise and the field (and its line, given the
    file's `lines`). `slugs` holds the exercise slugs already read (slug -> where), and
    gets this file's."""

    def mark(where: str, message: str) -> str:
        return lines.mark(where, message) if lines is not None else message

    try:
        ps = parse(ProblemSetDef, data)
    except DefinitionError as e:
        problems += _marked(lines, "", e, str(path))
        ps = None
    if ps is not None:
        dates = {
            name: moment(getattr(ps, name), f"{path} → {name}", problems)
            for name in ("opens", "due", "feedback_released")
        }
        found = ProblemSetFile(path, ps, dates)
        items = ps.exercises
    else:
        # The set's own fields are wrong: its exercises are still checked, so that every
        # problem of the file is told at once.
        found = None
        items = data.get("exercises") if isinstance(data, dict) else None
        items = items if isinstance(items, list) else []
    for i, item in enumerate(items):
        slug = item.get("slug") if isinstance(item, dict) else None
        where = f"{path}: exercises[{i}]" + (f" (slug {slug})" if slug else "")
        if not isinstance(item, dict):
            problems.append(mark(f"exercises[{i}]", f"{where}: must be a mapping"))
            continue
        try:
            exercise = parse(ExerciseDef, {**item, "order": i + 1})
        except DefinitionError as e:
            problems += _marked(lines, f"exercises[{i}]", e, where)
            continue
        if exercise.slug in slugs:
            problems.append(
                mark(
                    f"exercises[{i}].slug",
                    f"{where} → slug: {exercise.slug!r} is already used in {slugs[exercise.slug]}",
                )
            )
            continue
        slugs[exercise.slug] = str(path)
        problems += [
            mark(f"exercises[{i}]", f"{where} → {message}")
            for message in question_tests.validate(exercise, seeds=seeds, timeout=timeout)
        ]
        if found is not None:
            found.exercises.append(exercise)
    return found


def write_problem_set(
    found: ProblemSetFile, module: Module
) -> tuple[ProblemSet, dict, list[tuple[Exercise, ExerciseDef]]]:
    """Create or update the problem set and its exercises in place, matched by slug;
    returns it, the counts (exercises, changed) and each exercise with its definition."""
    data = found.definition
    ps, _ = ProblemSet.objects.get_or_create(
        slug=data.slug, defaults={"module": module, "title": data.title}
    )
    if assign(ps, found.set_fields(module)):
        ps.save()
    counts = {"exercises": 0, "changed": 0}
    loaded = []
    for definition in found.exercises:
        exercise, changed = write_exercise(ps, definition)
        counts["changed"] += changed
        counts["exercises"] += 1
        loaded.append((exercise, definition))
    return ps, counts, loaded


def write_exercise(ps: ProblemSet, definition: ExerciseDef) -> tuple[Exercise, bool]:
    """Create or update the exercise and its parts; True if an existing one changed (its
    version is then bumped). Publishing waits for the question tests: a new exercise is
    written as a draft, and an existing one keeps its status unless the file says draft."""
    exercise = Exercise.objects.filter(slug=definition.slug).first()
    created = exercise is None
    if created:
        exercise = Exercise(problem_set=ps, status=Exercise.Status.DRAFT)
    fields = definition.exercise_fields()
    status = fields.pop("status")
    changed = assign(exercise, {**fields, "problem_set": ps})
    if status == Exercise.Status.DRAFT:
        exercise.status = Exercise.Status.DRAFT
    exercise.save()
    keys = []
    for order, part in enumerate(definition.parts, start=1):
        keys.append(part.key)
        values = part_fields(part, order)
        row = Part.objects.filter(exercise=exercise, key=part.key).first()
        if row is None:
            Part.objects.create(exercise=exercise, **values)
            changed = True
        elif assign(row, values):
            row.save()
            changed = True
    removed, _ = exercise.parts.exclude(key__in=keys).delete()
    changed = changed or bool(removed)
    if changed and not created:
        exercise.version += 1
        Exercise.objects.filter(pk=exercise.pk).update(version=exercise.version)
    return exercise, changed and not created


# ---------------------------------------------------------------- question tests, then publishing


@dataclass
class TestSummary:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    reused: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        total = len(self.passed) + len(self.failed)
        text = f"{total} exercises: {len(self.passed)} passed"
        if self.failed:
            text += f", {len(self.failed)} failed (left as drafts: {', '.join(self.failed)})"
        if self.reused:
            text += f"; {self.reused} unchanged since their last run, not run again"
        return text


def test_and_publish(
    loaded: list[tuple[Exercise, ExerciseDef]],
    seeds: int = question_tests.BACKGROUND_SEEDS,
    timeout: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> TestSummary:
    """Run the question tests of each loaded exercise (unless its current version has
    a finished run), record them as the admin does, then publish the exercises whose
    file says published and whose tests passed; the others stay drafts."""
    summary = TestSummary()
    for number, (exercise, definition) in enumerate(loaded, start=1):
        latest = (
            QuestionTestRun.objects.filter(exercise=exercise, exercise_version=exercise.version)
            .exclude(status=QuestionTestRun.Status.PENDING)
            .first()
        )
        if latest is not None:
            summary.reused += 1
            passed, failures = latest.status == QuestionTestRun.Status.PASSED, latest.failures
        else:
            report = question_tests.run(definition, seeds=seeds, timeout=timeout)
            question_tests.record(exercise, report)
            passed, failures = report.passed, report.failures
            for key, why in report.skipped.items():
                summary.skipped[f"{exercise.slug}/{key}"] = why
        if passed:
            summary.passed.append(exercise.slug)
        else:
            summary.failed[exercise.slug] = [question_tests.describe(f) for f in failures[:5]]
        status = (
            Exercise.Status.PUBLISHED
            if passed and definition.status == Exercise.Status.PUBLISHED
            else Exercise.Status.DRAFT
        )
        Exercise.objects.filter(pk=exercise.pk).update(status=status)
        exercise.status = status
        if progress is not None:
            mark = "passed" if passed else "FAILED"
            progress(f"[{number}/{len(loaded)}] {exercise.slug}: question tests {mark}")
    return summary


# ---------------------------------------------------------------- an upload, in the admin


@dataclass
class Upload:
    """An uploaded problem set file, checked: `problems` lists every error (nothing may
    be saved unless it is empty); `changes` says what saving it would do."""

    name: str
    problems: list[str] = field(default_factory=list)
    found: ProblemSetFile | None = None
    module: Module | None = None
    existing: ProblemSet | None = None
    changes: list[str] = field(default_factory=list)
    exercises: list[tuple[str, str, str]] = field(default_factory=list)  # slug, title, what
    # What saving would not stop, but the author should know: failing question tests.
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and self.found is not None


def check_upload(
    text: str,
    name: str = "upload.yaml",
    seeds: int = question_tests.VALIDATION_SEEDS,
    timeout: float | None = None,
) -> Upload:
    """Everything wrong with an uploaded problem set file, and what saving it would do."""
    upload = Upload(name=name)
    problems = upload.problems
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        problems.append(yaml_problem(e))
        return upload
    if not isinstance(data, dict):
        problems.append(
            "the file must hold one problem set: a mapping with module, slug, title and exercises"
        )
        return upload
    lines = Lines(text)
    found = read_problem_set(
        data, Path(name), problems, {}, seeds=seeds, timeout=timeout, lines=lines
    )
    if found is None:
        return upload
    upload.found = found
    ps = found.definition
    upload.module = Module.objects.filter(slug=ps.module).first()
    if upload.module is None:
        known = ", ".join(Module.objects.values_list("slug", flat=True)) or "none yet"
        problems.append(
            lines.mark(
                "module", f"{name} → module: {ps.module!r} is no module here (modules: {known})"
            )
        )
    upload.existing = ProblemSet.objects.filter(slug=ps.slug).select_related("module").first()
    elsewhere = dict(
        Exercise.objects.filter(slug__in=[e.slug for e in found.exercises])
        .exclude(problem_set__slug=ps.slug)
        .values_list("slug", "problem_set__slug")
    )
    problems += placement_problems([found], {e.slug: name for e in found.exercises})
    for i, exercise in enumerate(found.exercises):
        if exercise.slug in elsewhere:
            problems.append(
                lines.mark(
                    f"exercises[{i}].slug",
                    f"{name}: exercises[{i}] (slug {exercise.slug}) → slug: {exercise.slug!r} "
                    f"is the slug of an exercise in problem set {elsewhere[exercise.slug]!r}: "
                    "exercise slugs are unique across the course",
                )
            )
    if upload.module is not None:
        _describe_changes(upload)
    return upload


def _describe_changes(upload: Upload) -> None:
    found, existing = upload.found, upload.existing
    if existing is None:
        upload.changes.append(
            f"A new problem set {found.definition.slug!r} in module {upload.module.slug!r}."
        )
    else:
        fields = found.set_fields(upload.module)
        changed = [name for name, value in fields.items() if getattr(existing, name) != value]
        upload.changes.append(
            f"Problem set {existing.slug!r} is updated: "
            + (", ".join(changed) + " change." if changed else "its own fields stay the same.")
        )
    current = {
        e.slug: e
        for e in Exercise.objects.filter(
            slug__in=[d.slug for d in found.exercises]
        ).prefetch_related("parts")
    }
    for definition in found.exercises:
        before = current.get(definition.slug)
        if before is None:
            what = "new (saved as a draft until its question tests pass)"
        else:
            try:
                same = ExerciseDef.from_model(before).to_data() == definition.to_data()
            except DefinitionError:
                same = False
            what = "unchanged" if same else "changed (its version goes up)"
        upload.exercises.append((definition.slug, definition.title, what))
    if existing is not None:
        kept = existing.exercises.exclude(slug__in=[d.slug for d in found.exercises])
        for exercise in kept:
            upload.exercises.append(
                (exercise.slug, exercise.title, "not in the file: kept as it is")
            )


def run_question_tests(upload: Upload, timeout: float | None = None) -> None:
    """Run the question tests of the exercises the file publishes, for the few seeds the
    admin's publish gate uses: each that fails is a warning (saved, it stays a draft)."""
    for definition in upload.found.exercises if upload.valid else []:
        if definition.status != Exercise.Status.PUBLISHED:
            continue
        report = question_tests.run(definition, seeds=question_tests.PUBLISH_SEEDS, timeout=timeout)
        if not report.passed:
            failures = "; ".join(question_tests.describe(f) for f in report.failures[:5])
            upload.warnings.append(
                f"{definition.slug}: its question tests fail, so it will be saved as a "
                f"draft: {failures}"
            )


@transaction.atomic
def save_upload(upload: Upload) -> tuple[ProblemSet, dict, list[tuple[Exercise, ExerciseDef]]]:
    """Save a checked upload (with no problem) in one transaction."""
    if not upload.valid:
        raise ValueError("an upload with problems is not saved")
    written = write_problem_set(upload.found, upload.module)
    write_placements(upload.found)
    return written
