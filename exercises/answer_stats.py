"""The most frequent wrong answers to each part of an exercise, for its authors.

Answers are grouped when they are equivalent: each is read by the engine's own parser
and evaluated by its float evaluator at a fixed set of seeded points of the part's
domain, and answers whose rounded values agree everywhere share a group (`2x` and
`x*2`, `0.5` and `1/2`). An answer the evaluator cannot read is grouped by its text,
spaces removed. Only the current verdict of each graded submission counts, and each
attempt counts once.

In a randomised exercise the groups are of answers as typed, across every student's
variant: the same answer may be wrong for different reasons in different variants.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict

import numpy as np
from django.utils import timezone

from courseserver.celery import publish
from exercises.models import AnswerStats, Exercise, Part, Submission
from grading.checkers import DEFAULT_BOX
from grading.evaluate import compile_float
from grading.nodes import Group
from grading.parser import parse, parse_choice, parse_functions

log = logging.getLogger(__name__)

COMPUTE = "exercises.tasks.compute_answer_stats"

POINTS = 8
SEED = 20261124
DIGITS = 6
TOP = 10
ALSO = 5


def points(part: Part) -> list[np.ndarray]:
    """The same points for every answer to a part: one column per variable."""
    rng = np.random.default_rng(SEED)
    domain = part.domain or {}
    columns = []
    for name in part.variables or []:
        low, high = (float(v) for v in domain.get(name, DEFAULT_BOX))
        columns.append(rng.uniform(low, high, POINTS))
    return columns


class _Unusable(Exception):
    """An answer whose values say nothing (undefined or overflowing at every point)."""


def _values(node, names: list[str], table: dict, columns: list[np.ndarray]) -> str:
    if isinstance(node, Group):
        return node.bracket + ",".join(_values(item, names, table, columns) for item in node.items)
    values = np.atleast_1d(compile_float(node, names, table)(columns))
    if not np.isfinite(values).any():
        raise _Unusable
    # Adding 0.0 makes -0.0 and 0.0 one value.
    return (
        "(" + ";".join(f"{v + 0.0:.{DIGITS}g}" if np.isfinite(v) else "nan" for v in values) + ")"
    )


def fingerprint(part: Part, answer: str, columns: list[np.ndarray], table: dict) -> str | None:
    """The answer's values at the part's points, rounded; None if it cannot be evaluated."""
    try:
        if part.kind == Part.Kind.CHOICE:
            keys = [o.get("key", "") for o in part.options]
            return "choice:" + ",".join(sorted(parse_choice(answer, keys)))
        names = list(part.variables or [])
        tree = parse(answer, names, tuple(table))
        if part.kind == Part.Kind.POINTS and isinstance(tree, Group):
            # A set of points: their order does not matter.
            items = sorted(_values(item, names, table, columns) for item in tree.items)
            return tree.bracket + ",".join(items)
        return _values(tree, names, table, columns)
    except Exception:  # noqa: BLE001 - anything the evaluator refuses is grouped by text
        return None


def group(part: Part, answers: list[str]) -> list[dict]:
    """Groups of equivalent answers, the most frequent first."""
    columns = points(part)
    try:
        table = parse_functions(list(part.functions or []))
    except Exception:  # noqa: BLE001 - a broken function list: group every answer by text
        table = None
    typed = Counter(" ".join(a.split()) for a in answers)
    keys: dict[str, str] = {}
    by: dict[str, str] = {}
    for text in typed:
        found = fingerprint(part, text, columns, table) if table is not None else None
        keys[text] = found if found is not None else "text:" + "".join(text.split())
        by[keys[text]] = "value" if found is not None else "text"
    members: dict[str, Counter] = defaultdict(Counter)
    for text, count in typed.items():
        members[keys[text]][text] = count
    groups = []
    for key, texts in members.items():
        # The most typed form names the group; among equals, the shortest.
        ranked = sorted(texts.items(), key=lambda item: (-item[1], len(item[0]), item[0]))
        groups.append(
            {
                "answer": ranked[0][0],
                "count": sum(texts.values()),
                "also": [text for text, _ in ranked[1 : ALSO + 1]],
                "by": by[key],
            }
        )
    groups.sort(key=lambda g: (-g["count"], g["answer"]))
    return groups[:TOP]


def compute(exercise: Exercise) -> tuple[dict, int]:
    """Per part key, the number of wrong answers and their groups; and the submissions read."""
    parts = list(exercise.parts.all())
    wrong: dict[str, list[str]] = {part.key: [] for part in parts}
    read = 0
    graded = Submission.objects.filter(exercise=exercise, status=Submission.Status.GRADED)
    for answers, results in graded.values_list("answers", "results").iterator():
        read += 1
        for key, result in (results or {}).items():
            if key in wrong and result.get("status") == "incorrect":
                wrong[key].append(str((answers or {}).get(key, "")))
    stats = {
        part.key: {"wrong": len(wrong[part.key]), "groups": group(part, wrong[part.key])}
        for part in parts
    }
    return stats, read


# ---------------------------------------------------------------- background runs


def start(exercise: Exercise) -> int:
    """Mark the exercise's statistics as being computed and send the work after the commit."""
    stats, _ = AnswerStats.objects.update_or_create(
        exercise=exercise,
        defaults={"status": AnswerStats.Status.PENDING, "requested": timezone.now()},
    )
    send(exercise.pk)
    return stats.pk


def send(exercise_id: int) -> bool:
    """Publish, after the commit inside a transaction. Never raises: with the broker down
    the statistics stay pending, and asking again sends them again."""
    return publish(COMPUTE, exercise_id)


def perform(exercise_id: int) -> str:
    """Compute and store the statistics; computing them twice stores the same thing."""
    exercise = Exercise.objects.filter(pk=exercise_id).first()
    if exercise is None:
        return "skipped"
    stats, read = compute(exercise)
    AnswerStats.objects.update_or_create(
        exercise=exercise,
        defaults={
            "status": AnswerStats.Status.DONE,
            "parts": stats,
            "submissions": read,
            "computed": timezone.now(),
        },
    )
    return "done"
