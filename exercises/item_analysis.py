"""Item analysis: how each exercise and each part of a problem set worked, for its authors.

The figures, per exercise and per part (docs/authoring.md, "Item analysis"):

- facility: the share of the students who answered it who were right at their first
  attempt, and who were right eventually (at any attempt). An exercise is right when an
  attempt scores 1; a part when its verdict is correct. Blank parts are not answers.
- discrimination: the corrected item-total correlation. Pearson's r, over the students
  who answered the item, between their first-attempt score on it (0 to 1; for a right or
  wrong item this is the point-biserial correlation) and the sum of their first-attempt
  scores on the OTHER exercises of the set (an exercise not attempted counts 0). A
  part is set against the other exercises too, never against its own exercise's parts.
- attempts to success: among the students right eventually, how many attempts they
  needed, the right one included (1: right at the first).
- per parameter value of a randomised exercise: the same facilities among the students
  whose variant had that value.
- wrong answers by cause: the known mistake that matched (named by the engine when the
  answer was graded, or matched again now with the student's values), else an
  automatic category found with the engine's float evaluator at the part's sample
  points (`exercises.answer_stats.points`): sign (−expected), factor (k·expected, k a
  small fraction), offset (expected + c), transposed (a matrix), missing point (a
  subset of the expected points); for a code part, each failing test. And by value, as
  the wrong-answer statistics group them (`exercises.answer_stats.group`).

Everything is computed on demand from the graded submissions: a class of a few hundred
takes a second or two (docs/authoring.md gives a measurement).
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from django.conf import settings

import grading
from exercises import answer_stats, scoring, variants
from exercises.models import Exercise, Part, ProblemSet, Submission
from grading.evaluate import compile_float
from grading.nodes import Group
from grading.parser import parse, parse_functions

EXAMPLES = 3
# Answers matched again against the known mistakes, at most, per part and page: each is
# a check by the engine, and the page is computed while the instructor waits.
REMATCH_LIMIT = 1000
# Fewer students than this and a correlation says nothing.
MIN_FOR_DISCRIMINATION = 3
MAX_DENOMINATOR = 12
MAX_FACTOR = 1000

CAUSES = {
    "mistake": "known mistake",
    "sign": "sign: −expected",
    "factor": "factor: k·expected",
    "offset": "offset: expected + c",
    "transposed": "transposed",
    "missing": "missing point(s)",
    "test": "failing test",
    "hidden": "failing hidden test(s)",
    "not-run": "the code could not run",
    "other": "no known cause",
}

DISCRIMINATION_TEXT = (
    "Discrimination is the corrected item-total correlation: Pearson's r (the "
    "point-biserial for a right-or-wrong item) between a student's first-attempt score on "
    "the item and the sum of their first-attempt scores on the other exercises of the set "
    "(not attempted: 0), over the students who answered the item. Below 0.2 it is marked "
    "low: the item hardly tells apart the students who do well on the rest of the set."
)


def submissions(exercise: Exercise, problem_set: ProblemSet):
    """The graded attempts at `exercise` made in `problem_set`, student by student in
    attempt order: the one query every figure here reads."""
    return (
        Submission.objects.filter(
            exercise=exercise,
            problem_set=problem_set,
            status=Submission.Status.GRADED,
        )
        .select_related("variant")
        .only("student_id", "attempt", "answers", "results", "score", "variant", "exercise_version")
        .order_by("student_id", "attempt", "pk")
    )


# ---------------------------------------------------------------- figures


@dataclass
class Item:
    """One exercise or one part: per student who answered it, their answered attempts'
    scores in order."""

    key: str
    label: str
    scores: dict[int, list[float]] = field(default_factory=dict)

    def first(self, student: int) -> float:
        return self.scores[student][0]

    def figures(self, rest: dict[int, float] | None = None) -> dict:
        students = list(self.scores)
        n = len(students)
        first = sum(1 for s in students if self.scores[s][0] >= 1)
        needed = [
            next(i for i, score in enumerate(self.scores[s], start=1) if score >= 1)
            for s in students
            if any(score >= 1 for score in self.scores[s])
        ]
        return {
            "key": self.key,
            "label": self.label,
            "students": n,
            "first": share(first, n),
            "eventual": share(len(needed), n),
            "attempts": dict(sorted(Counter(needed).items())),
            "attempts_mean": round(statistics.fmean(needed), 2) if needed else None,
            "attempts_median": statistics.median(needed) if needed else None,
            "discrimination": None
            if rest is None
            else correlation(
                [self.first(s) for s in students], [rest.get(s, 0.0) for s in students]
            ),
        }


def share(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r; None when it says nothing (too few students, or no spread)."""
    if len(xs) < MIN_FOR_DISCRIMINATION:
        return None
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return round(sxy / math.sqrt(sxx * syy), 4)


def _answered(result: dict | None) -> bool:
    return bool(result) and result.get("status") in ("correct", "incorrect")


def _attempt_score(score: float | None) -> float:
    # Right means a score of 1: a score below it, however close, is not right.
    return 1.0 if (score or 0.0) >= 1 else min(score or 0.0, 0.999999)


def _part_score(result: dict) -> float:
    # Right means correct: a partial score below 1 is not right.
    if result.get("status") == "correct":
        return 1.0
    return min(scoring.part_score(result), 0.999999)


@dataclass
class ExerciseData:
    """An exercise's graded attempts, read once, and its items."""

    exercise: Exercise
    parts: list[Part]
    attempts: dict[int, list[Submission]]
    whole: Item
    items: dict[str, Item]

    @classmethod
    def read(cls, exercise: Exercise, problem_set: ProblemSet) -> ExerciseData:
        parts = list(exercise.parts.all())
        attempts: dict[int, list[Submission]] = defaultdict(list)
        shared = {}
        for submission in submissions(exercise, problem_set):
            if submission.variant is not None:
                # One instance per variant, with this exercise: its expected answers are
                # read (or brought up to date) once.
                submission.variant = shared.setdefault(submission.variant_id, submission.variant)
                submission.variant.exercise = exercise
            attempts[submission.student_id].append(submission)
        whole = Item("", exercise.title)
        items = {p.key: Item(p.key, f"{exercise.title}, part {p.key}") for p in parts}
        for student, tries in attempts.items():
            whole.scores[student] = [_attempt_score(s.score) for s in tries]
            for part in parts:
                results = [(s.results or {}).get(part.key) for s in tries]
                scores = [_part_score(r) for r in results if _answered(r)]
                if scores:
                    items[part.key].scores[student] = scores
        return cls(exercise, parts, dict(attempts), whole, items)

    def first_scores(self) -> dict[int, float]:
        return {student: scores[0] for student, scores in self.whole.scores.items()}


def _rest(student_totals: dict[int, float], own: dict[int, float]) -> dict[int, float]:
    return {s: total - own.get(s, 0.0) for s, total in student_totals.items()}


def _totals(data: list[ExerciseData]) -> dict[int, float]:
    totals: dict[int, float] = defaultdict(float)
    for d in data:
        for student, score in d.first_scores().items():
            totals[student] += score
    return totals


def _first_scores(exercise: Exercise, problem_set: ProblemSet) -> dict[int, float]:
    """Each student's first-attempt score, as `ExerciseData.first_scores` gives it."""
    firsts: dict[int, float] = {}
    for student, score in submissions(exercise, problem_set).values_list("student_id", "score"):
        if student not in firsts:
            firsts[student] = _attempt_score(score)
    return firsts


def set_exercises(problem_set: ProblemSet) -> list[Exercise]:
    """The set's own exercises and those placed in it from the question bank, drafts
    included, in the set's order."""
    own = [(e.order, e) for e in problem_set.exercises.prefetch_related("parts")]
    placed = [
        (p.order, p.exercise.placed_in(problem_set))
        for p in problem_set.placements.exclude(exercise__problem_set=problem_set)
        .select_related("exercise")
        .prefetch_related("exercise__parts")
    ]
    return [e for _, e in sorted(own + placed, key=lambda pair: (pair[0], pair[1].pk))]


def analyse_set(problem_set: ProblemSet) -> list[dict]:
    """Per exercise of the set: its figures and those of its parts (`parts`)."""
    data = [ExerciseData.read(e, problem_set) for e in set_exercises(problem_set)]
    totals = _totals(data)
    rows = []
    for d in data:
        rest = _rest(totals, d.first_scores())
        row = d.whole.figures(rest)
        row.update(exercise=d.exercise, parts=[d.items[p.key].figures(rest) for p in d.parts])
        rows.append(row)
    return rows


def analyse_exercise(exercise: Exercise, problem_set: ProblemSet) -> dict:
    """Everything about one exercise of the set: its figures and its parts', per
    parameter value, and the wrong answers by cause and by value."""
    own = ExerciseData.read(exercise, problem_set)
    # The other exercises give only their first-attempt scores, the rest of the set.
    rest: dict[int, float] = defaultdict(float)
    for other in set_exercises(problem_set):
        if other.pk != exercise.pk:
            for student, score in _first_scores(other, problem_set).items():
                rest[student] += score
    summary = own.whole.figures(rest)
    return {
        "exercise": exercise,
        "summary": summary,
        "parts": [own.items[p.key].figures(rest) for p in own.parts],
        "parameters": per_parameter(own),
        "wrong": wrong_answers(own),
    }


def per_parameter(data: ExerciseData) -> list[dict]:
    """For each parameter and each of its values: the students whose variant had it, and
    the exercise's and each part's facilities among them."""
    by_value: dict[tuple[str, str], set[int]] = defaultdict(set)
    for student, tries in data.attempts.items():
        variant = tries[0].variant
        for name, value in (variant.values if variant is not None else {}).items():
            by_value[(name, _show(value))].add(student)
    rows = []
    for (name, value), students in sorted(by_value.items(), key=lambda kv: _order(kv[0])):
        row = {"parameter": name, "value": value}
        for item in [data.whole, *(data.items[p.key] for p in data.parts)]:
            subset = Item(
                item.key, item.label, {s: item.scores[s] for s in students if s in item.scores}
            )
            figures = subset.figures()
            row[item.key or "exercise"] = {
                "students": figures["students"],
                "first": figures["first"],
                "eventual": figures["eventual"],
            }
        rows.append(row)
    return rows


def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _order(key: tuple[str, str]):
    name, value = key
    try:
        return (name, 0, float(value), value)
    except ValueError:
        return (name, 1, 0.0, value)


# ---------------------------------------------------------------- wrong answers


def wrong_answers(data: ExerciseData) -> dict[str, dict]:
    """Per part key: the wrong answers (each attempt once), by cause and by value."""
    out = {}
    for part in data.parts:
        classifier = Classifier(part)
        wrong: list[str] = []
        causes: dict[tuple[str, str], list] = {}
        for tries in data.attempts.values():
            for submission in tries:
                result = (submission.results or {}).get(part.key)
                if not result or result.get("status") != "incorrect":
                    continue
                answer = str((submission.answers or {}).get(part.key, ""))
                wrong.append(answer)
                if submission.exercise_version != data.exercise.version:
                    # The mistakes may have changed since: the index may name another.
                    result = {k: v for k, v in result.items() if k != "mistake"}
                for cause in classifier.causes(answer, result, submission.variant):
                    entry = causes.setdefault(cause, [0, Counter()])
                    entry[0] += 1
                    shown = answer if part.kind == Part.Kind.CODE else " ".join(answer.split())
                    entry[1][shown] += 1
        rows = [
            {
                "kind": kind,
                "cause": label,
                "count": count,
                "examples": [text for text, _ in examples.most_common(EXAMPLES)],
            }
            for (kind, label), (count, examples) in causes.items()
        ]
        rows.sort(key=lambda r: (-r["count"], r["cause"]))
        out[part.key] = {
            "wrong": len(wrong),
            "causes": rows,
            "values": answer_stats.group(part, wrong),
            "unmatched": classifier.unmatched,
        }
    return out


class Classifier:
    """The causes of wrong answers to one part; each (variant, answer) is worked out once."""

    def __init__(self, part: Part):
        self.part = part
        self.columns = answer_stats.points(part)
        try:
            self.table = parse_functions(list(part.functions or []))
        except Exception:  # noqa: BLE001 - a broken function list: no automatic category
            self.table = None
        self.known: dict[tuple, list[tuple[str, str]]] = {}
        self.rematched = 0
        # Older answers not matched again, past REMATCH_LIMIT.
        self.unmatched = 0

    def causes(self, answer: str, result: dict, variant=None) -> list[tuple[str, str]]:
        """(kind, label) of each cause: one, except for a code part failing several tests."""
        if self.part.kind == Part.Kind.CODE:
            return code_causes(result)
        values = variant.values if variant is not None else {}
        try:
            expected = (
                variant.expected_answers().get(self.part.key, "")
                if variant is not None
                else self.part.expected_answer({})
            )
        except variants.VariantError:
            # The exercise cannot give this variant's answers now: the answer has no cause.
            return [("other", CAUSES["other"])]
        key = (answer, expected, repr(sorted(values.items())), result.get("mistake", "?"))
        if key not in self.known:
            seed = variant.seed if variant is not None else 0
            self.known[key] = [self.cause(answer, result, expected, values, seed)]
        return self.known[key]

    def cause(self, answer: str, result: dict, expected: str, values: dict, seed: int = 0):
        if "mistake" in result:
            index = result["mistake"]
        elif self.part.mistakes and self.rematched < REMATCH_LIMIT:
            # Graded before verdicts named the mistake, or with another version.
            self.rematched += 1
            index = self.rematch(answer, expected, values, seed)
        elif self.part.mistakes:
            self.unmatched += 1
            index = None
        else:
            index = None
        mistakes = self.part.mistakes or []
        if (
            isinstance(index, int)
            and 0 <= index < len(mistakes)
            and isinstance(mistakes[index], dict)
        ):
            mistake = mistakes[index]
            label = f"known mistake {index + 1}: {mistake.get('answer', '')} ({mistake.get('message', '')})"
            return ("mistake", label)
        kind = self.automatic(answer, expected)
        return (kind, CAUSES[kind])

    def rematch(self, answer: str, expected: str, values: dict, seed: int) -> int | None:
        """The known mistake an answer graded before verdicts named it makes, matched now
        with the student's values (the engine, under its time bound)."""
        try:
            case = self.part.case_for(answer, expected, values, seed)
        except Exception:  # noqa: BLE001 - a variant that cannot be had: no mistake
            return None
        verdict = grading.check(case, timeout=settings.GRADING_TIMEOUT)
        index = verdict.details.get("mistake_index") if verdict.status == "incorrect" else None
        return index if isinstance(index, int) else None

    def automatic(self, answer: str, expected: str) -> str:
        if self.table is None or self.part.kind == Part.Kind.CHOICE:
            return "other"
        a = self.evaluate(answer)
        e = self.evaluate(expected)
        if a is None or e is None:
            return "other"
        if self.part.kind == Part.Kind.MATRIX and _transposed(a, e):
            return "transposed"
        if self.part.kind == Part.Kind.POINTS and _missing_points(a, e):
            return "missing"
        pairs = _pairs(a, e)
        if pairs is None:
            return "other"
        return _pattern(pairs)

    def evaluate(self, text: str):
        """The text's values at the part's points: an array, or a list for a bracket."""
        names = list(self.part.variables or [])
        try:
            return _values(parse(text, names, tuple(self.table)), names, self.table, self.columns)
        except Exception:  # noqa: BLE001 - what the evaluator cannot read has no category
            return None


def _values(node, names, table, columns):
    if isinstance(node, Group):
        return [_values(item, names, table, columns) for item in node.items]
    values = np.atleast_1d(np.asarray(compile_float(node, names, table)(columns), dtype=float))
    return np.broadcast_to(values, (answer_stats.POINTS,)) if values.size == 1 else values


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any() or (np.isfinite(a) != np.isfinite(b)).any():
        return False
    return bool(np.allclose(a[both], b[both], rtol=1e-6, atol=1e-9))


def _same(a, e) -> bool:
    pairs = _pairs(a, e)
    return pairs is not None and all(_close(x, y) for x, y in pairs)


def _pairs(a, e) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The leaves of two values of the same shape, side by side; None if shapes differ."""
    if isinstance(a, list) != isinstance(e, list):
        return None
    if not isinstance(a, list):
        return [(a, e)]
    if len(a) != len(e):
        return None
    out = []
    for x, y in zip(a, e, strict=True):
        pairs = _pairs(x, y)
        if pairs is None:
            return None
        out += pairs
    return out


def _transposed(a, e) -> bool:
    if not (isinstance(e, list) and e and all(isinstance(r, list) for r in e)):
        return False
    columns = [list(c) for c in zip(*e, strict=False)]
    return _same(a, columns) and not _same(a, e)


def _missing_points(a, e) -> bool:
    if not isinstance(e, list):
        return False
    # One point on its own, or a set of them.
    points = a if isinstance(a, list) and a and isinstance(a[0], list) else [a]
    if not isinstance(e[0], list) or len(points) >= len(e):
        return False
    return all(any(_same(p, q) for q in e) for p in points)


def _pattern(pairs: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """sign, factor or offset when every leaf of the answer is so related to the expected
    one, at every point; else other.

    Between two numbers every wrong answer is some offset and some ratio: there, a factor
    counts only when it is a whole number up to 10, its inverse, or a power of 10 (a slip
    of units), and an offset never does.
    """
    a = np.concatenate([x for x, _ in pairs])
    e = np.concatenate([y for _, y in pairs])
    finite = np.isfinite(a) & np.isfinite(e)
    if not finite.any():
        return "other"
    a, e = a[finite], e[finite]
    if not np.allclose(e, 0, atol=1e-9) and _close(a, -e):
        return "sign"
    varies = [_varies(y) for _, y in pairs]
    nonzero = np.abs(e) > 1e-9
    if nonzero.all():
        ratios = a / e
        k = float(np.median(ratios))
        fraction = Fraction(k).limit_denominator(MAX_DENOMINATOR)
        if (
            np.allclose(ratios, k, rtol=1e-6)
            and abs(float(fraction) - k) <= 1e-6 * max(1.0, abs(k))
            and fraction not in (0, 1, -1)
            and abs(fraction) <= MAX_FACTOR
            and (any(varies) or _simple_factor(fraction))
        ):
            return "factor"
    offsets = [(x - y)[np.isfinite(x) & np.isfinite(y)] for x, y in pairs]
    constant = all(d.size and np.allclose(d, d[0], rtol=1e-6, atol=1e-9) for d in offsets)
    shifted = [bool(d.size) and abs(d[0]) > 1e-9 for d in offsets]
    if constant and any(shifted) and all(v for v, s in zip(varies, shifted, strict=True) if s):
        return "offset"
    return "other"


def _varies(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 1 and not np.allclose(finite, finite[0], rtol=1e-6, atol=1e-9)


def _simple_factor(k: Fraction) -> bool:
    k = abs(k)
    whole = k if k.denominator == 1 else (1 / k if k.numerator == 1 else None)
    if whole is None:
        return False
    return whole <= 10 or str(whole.numerator).rstrip("0") == "1"


def code_causes(result: dict) -> list[tuple[str, str]]:
    """A wrong code answer's causes: each visible test it fails, the hidden ones, or that
    the code could not run at all (every test "not run")."""
    details = result.get("details") or {}
    tests = details.get("tests") or []
    failing = [t for t in tests if not t.get("passed")]
    if (
        failing
        and all(str(t.get("message", "")).startswith("not run") for t in failing)
        and len(failing) == len(tests)
    ):
        return [("not-run", CAUSES["not-run"])]
    causes = [("test", f"failing test: {t.get('name', '?')}") for t in failing]
    hidden = details.get("hidden") or {}
    if (hidden.get("total") or 0) > (hidden.get("passed") or 0):
        causes.append(("hidden", CAUSES["hidden"]))
    return causes or [("other", CAUSES["other"])]


# ---------------------------------------------------------------- CSV

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # A spreadsheet must never take a typed answer for a formula; numbers stay numbers.
    if text.startswith(FORMULA_STARTS) and not isinstance(value, int | float):
        return "'" + text
    return text


def _csv(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


FIGURE_HEADER = [
    "students",
    "right at first attempt",
    "right eventually",
    "discrimination",
    "mean attempts to success",
    "median attempts to success",
    "students right at attempt n (n: students)",
]


def _figure_cells(f: dict) -> list:
    return [
        f["students"],
        f["first"],
        f["eventual"],
        f["discrimination"],
        f["attempts_mean"],
        f["attempts_median"],
        " ".join(f"{n}: {count}" for n, count in f["attempts"].items()),
    ]


def set_csv(rows: list[dict]) -> str:
    table = [["exercise", "part", *FIGURE_HEADER]]
    for row in rows:
        table.append([row["exercise"].slug, "", *_figure_cells(row)])
        for part in row["parts"]:
            table.append([row["exercise"].slug, part["key"], *_figure_cells(part)])
    return _csv(table)


def exercise_csv(analysis: dict) -> str:
    """One table in sections: the figures, per parameter value, causes, value groups."""
    slug = analysis["exercise"].slug
    table = [["section", "part", "name", "count", *FIGURE_HEADER[1:3], "examples"]]
    for f in [analysis["summary"], *analysis["parts"]]:
        table.append(["figures", f["key"], slug, f["students"], f["first"], f["eventual"], ""])
    for row in analysis["parameters"]:
        for key, f in row.items():
            if isinstance(f, dict):
                name = f"{row['parameter']} = {row['value']}"
                part = "" if key == "exercise" else key
                table.append(
                    ["parameter", part, name, f["students"], f["first"], f["eventual"], ""]
                )
    for key, wrong in analysis["wrong"].items():
        for cause in wrong["causes"]:
            examples = " | ".join(cause["examples"])
            table.append(["cause", key, cause["cause"], cause["count"], "", "", examples])
        for group in wrong["values"]:
            table.append(
                ["value", key, group["answer"], group["count"], "", "", " | ".join(group["also"])]
            )
    return _csv(table)
