"""Question tests: an exercise's sample answers, checked for many seeds of its parameters.

Each part carries `tests`, sample answers with the verdict each must get
(`{"answer": "{{2*a}}x", "expect": "correct"}`: answers are templates, like expected
answers). For every seed, the runner draws the variant, computes each part's expected
answer, and checks that the expected answer is correct against itself, that every
sample answer gets its verdict and that every listed mistake is answered with its
message. A failure names the seed, so the admin's preview shows the very variant.

The runner works on model instances that need not be saved (the admin validates a form
before anything is written), and without the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

import grading
from courseserver.celery import publish
from exercises import plots, variants
from exercises.definition import DefinitionError, ExerciseDef
from exercises.models import Exercise, QuestionTestRun, code_queue_for

log = logging.getLogger(__name__)

RUN = "exercises.tasks.run_question_tests"

VERDICTS = ("correct", "incorrect", "invalid")
MAX_FAILURES = 50
BACKGROUND_SEEDS = 20
PUBLISH_SEEDS = 3
VALIDATION_SEEDS = 10


@dataclass
class Report:
    seeds: int = 0
    checked: int = 0
    failures: list[dict] = field(default_factory=list)
    # Parts whose sample answers could not be checked here, and why.
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    def fail(self, seed: int, part: str, message: str, **extra) -> None:
        self.failures.append({"seed": seed, "part": part, "message": message, **extra})


CODE_NOT_CHECKED = "not checked: no sandbox for code could be started here"
# Code parts' sample sources are run for this many seeds: each check runs every test
# in a sandbox of its own, and the tests' values are what the seed changes.
CODE_SEEDS = 3


def definition_of(exercise, parts=None) -> ExerciseDef:
    """The definition to test: given as one, or read from a model and its parts (which
    need not be saved). Raises DefinitionError."""
    if isinstance(exercise, ExerciseDef):
        return exercise
    return ExerciseDef.from_model(exercise, parts)


def seeds_for(exercise, count: int) -> list[int]:
    """The seeds to try: 0, 1, 2, ...; one is enough when nothing is random."""
    return list(range(count if exercise.parameters else 1))


def _variant(exercise: ExerciseDef, seed: int, report: Report) -> tuple[dict, dict] | None:
    """Values and expected answers for a seed, or None after recording why not."""
    try:
        values = exercise.values_for_seed(seed)
    except variants.VariantError as e:
        report.fail(seed, "", f"parameters: {e}")
        return None
    parts = exercise.parts
    expected = {}
    for part in parts:
        try:
            expected[part.key] = part.expected_answer(values)
        except variants.VariantError as e:
            report.fail(seed, part.key, f"expected answer: {e}", values=values)
    texts = [("prompt", exercise.prompt), ("solution", exercise.solution)]
    texts += [(f"label of part {p.key}", p.label) for p in parts]
    texts += [(f"hint of part {p.key}", p.hint) for p in parts]
    texts += [(f"option {o.key} of part {p.key}", o.text) for p in parts for o in p.options]
    for where, text in texts:
        try:
            variants.render_text(text, values)
        except variants.VariantError as e:
            report.fail(seed, "", f"{where}: {e}", values=values)
    for part in parts:
        try:
            if part.kind == "code":
                part.case_for("", "", values, seed)
            else:
                variants.mistakes_for([m.to_data() for m in part.mistakes], values)
        except variants.VariantError as e:
            what = "code tests" if part.kind == "code" else "listed mistakes"
            report.fail(seed, part.key, f"{what}: {e}", values=values)
            expected.pop(part.key, None)
    return values, expected


def validate(
    exercise, parts=None, seeds: int = VALIDATION_SEEDS, timeout: float | None = None
) -> list[str]:
    """What is wrong with the exercise as written: fields that do not validate, templates
    that do not render, expected answers that cannot be computed, read or graded, a plot
    that cannot be drawn. Each message names the seed. Sample answers are not checked
    here (see `run`).

    `timeout` None checks in this process (tests, load_course); the admin gives a
    number, so that an expected answer the engine cannot settle quickly is reported,
    not waited for.
    """
    try:
        exercise = definition_of(exercise, parts)
    except DefinitionError as e:
        return e.messages()
    report = Report()
    for seed in seeds_for(exercise, seeds):
        found = _variant(exercise, seed, report)
        if found is None:
            continue
        values, expected = found
        if exercise.plot is not None:
            for reveal in (False, True):
                try:
                    plots.figure_for(exercise.plot, values, reveal)
                except (plots.PlotError, variants.VariantError) as e:
                    report.fail(seed, "", f"plot: {e}", values=values)
                    break
        for part in exercise.parts:
            if part.key not in expected or part.kind == "code":
                continue
            case = part.case_for(expected[part.key], expected[part.key], values)
            if timeout is None:
                verdict = grading.check(case, in_process=True)
            else:
                verdict = grading.check(case, timeout=timeout)
            if verdict.status != "correct":
                report.fail(
                    seed,
                    part.key,
                    f"the expected answer {expected[part.key]!r} is not graded correct "
                    f"against itself ({verdict.status}: {verdict.message})",
                    values=values,
                )
    return [describe(f) for f in report.failures]


def run(
    exercise, parts=None, seeds: int = BACKGROUND_SEEDS, timeout: float | None = None
) -> Report:
    """Check every sample answer and listed mistake of every part for `seeds` seeds.

    `timeout` None checks in this process (tests, load_course); a number uses the
    engine's time-bounded helpers, as grading and the admin's publish check do. Sample
    sources of code parts run in the code engine's sandboxes, for the first
    `CODE_SEEDS` seeds only (each is a run of every test); where no sandbox can be
    started they are skipped, and the report says why.
    """
    report = Report()
    try:
        exercise = definition_of(exercise, parts)
    except DefinitionError as e:
        report.seeds = 1
        for message in e.messages():
            report.fail(0, "", message)
        return report

    def check(case: dict) -> grading.Verdict:
        report.checked += 1
        if timeout is None:
            return grading.check(case, in_process=True)
        return grading.check(case, timeout=timeout)

    for seed in seeds_for(exercise, seeds):
        report.seeds += 1
        found = _variant(exercise, seed, report)
        if found is None:
            continue
        values, expected = found
        for part in exercise.parts:
            if part.key not in expected or part.key in report.skipped:
                continue
            if part.kind == "code" and report.seeds > CODE_SEEDS:
                continue
            answers = []
            if part.kind != "code":
                answers.append((expected[part.key], "correct", "", True))
            for test in part.tests:
                answers.append((test.answer, test.expect, test.message or "", False))
            for mistake in variants.mistakes_for([m.to_data() for m in part.mistakes], values):
                answers.append((mistake["answer"], "incorrect", mistake["message"], True))
            for template, expect, message, exact in answers:
                try:
                    if part.kind == "code":
                        answer = template
                    else:
                        answer = variants.render_expression(str(template), values)
                except variants.VariantError as e:
                    report.fail(seed, part.key, f"sample answer {template!r}: {e}", values=values)
                    continue
                try:
                    verdict = check(part.case_for(answer, expected[part.key], values, seed))
                except grading.Unavailable as e:
                    report.skipped[part.key] = f"{CODE_NOT_CHECKED}: {e}"
                    break
                if exact:
                    wrong_message = message and verdict.message != message
                else:
                    wrong_message = message and message not in _feedback_text(verdict)
                if verdict.status != expect or wrong_message:
                    report.fail(
                        seed,
                        part.key,
                        verdict.message,
                        answer=answer,
                        expect=expect,
                        got=verdict.status,
                        values=values,
                    )
    return report


def _feedback_text(verdict: grading.Verdict) -> str:
    """All a student would read of a verdict: the message, and for code the message of
    each visible test (the value, shape or exception it names)."""
    texts = [verdict.message]
    for test in verdict.details.get("tests", []):
        texts.append(test.get("message", ""))
        error = test.get("error") or {}
        texts.append(f"{error.get('type', '')}: {error.get('message', '')}")
    return "\n".join(texts)


def describe(failure: dict) -> str:
    where = f"seed {failure['seed']}"
    if failure.get("part"):
        where += f", part {failure['part']}"
    if failure.get("values"):
        where += f" ({variants.describe(failure['values'])})"
    if "answer" in failure:
        return (
            f"{where}: {failure['answer']!r} should be {failure['expect']} "
            f"but is {failure['got']}: {failure['message']}"
        )
    return f"{where}: {failure['message']}"


# ---------------------------------------------------------------- background runs


def start(exercise) -> int:
    """Record a pending run for the exercise's current version and send it to a worker
    once the transaction commits. Returns the run's id."""
    test_run = QuestionTestRun.objects.create(
        exercise=exercise, exercise_version=exercise.version, seeds=BACKGROUND_SEEDS
    )
    send(test_run.pk)
    return test_run.pk


def record(exercise, report: Report):
    """Record a run made here (by load_course) as a finished run of the exercise's
    current version, as the admin's background run records its own."""
    return QuestionTestRun.objects.create(
        exercise=exercise,
        exercise_version=exercise.version,
        seeds=report.seeds,
        status=QuestionTestRun.Status.PASSED if report.passed else QuestionTestRun.Status.FAILED,
        checked=report.checked,
        failures=report.failures[:MAX_FAILURES],
        finished=timezone.now(),
    )


def send(run_id: int) -> bool:
    """Publish the run, after the commit inside a transaction. Never raises: with the
    broker down the run stays pending, and the next save of the exercise starts another.
    A run of an exercise with a code part goes to the code queue, whose workers can start
    sandboxes."""
    exercises = Exercise.objects.filter(test_runs__pk=run_id)
    return publish(RUN, run_id, queue=code_queue_for(exercises))


def perform(run_id: int) -> str:
    """Run the tests of a pending run and record the result; a finished run is left alone."""
    test_run = QuestionTestRun.objects.select_related("exercise").filter(pk=run_id).first()
    if test_run is None or test_run.status != QuestionTestRun.Status.PENDING:
        return "skipped"
    exercise = test_run.exercise
    report = run(exercise, None, test_run.seeds, settings.GRADING_TIMEOUT)
    updated = QuestionTestRun.objects.filter(
        pk=run_id, status=QuestionTestRun.Status.PENDING
    ).update(
        status=QuestionTestRun.Status.PASSED if report.passed else QuestionTestRun.Status.FAILED,
        checked=report.checked,
        failures=report.failures[:MAX_FAILURES],
        finished=timezone.now(),
    )
    return ("passed" if report.passed else "failed") if updated else "skipped"
