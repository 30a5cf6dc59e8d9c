"""How an exercise is scored: each part's share in an attempt, and a student's best.

A student may submit only some parts. A part left blank is not graded: its result says
it was not answered, and it earns nothing in that attempt. It costs nothing either: a
student's best on an exercise is taken part by part, each part's best over their graded
attempts, weighted as the parts are. So answering part (a) now and part (b) later earns
both, and a later attempt that leaves (a) blank never takes back what (a) earned. An
attempt's own score is still its graded parts' weighted share of the whole exercise.

The credit of a part in an attempt is its score times the attempt's multiplier (retries
and lateness), so the best credit takes each part from the attempt where it earned most.
"""

from __future__ import annotations

from collections.abc import Iterable

UNANSWERED = "unanswered"
UNANSWERED_MESSAGE = "Not answered: not graded, and it costs you nothing."


def unanswered() -> dict:
    """The result of a part left blank."""
    return {"status": UNANSWERED, "message": UNANSWERED_MESSAGE}


def is_blank(answer) -> bool:
    return not isinstance(answer, str) or not answer.strip()


def part_score(result: dict | None) -> float:
    """A part's share earned, 0 to 1: its own `score` (code, a choice with partial credit)
    when it has one, else 1 when correct."""
    if not result:
        return 0.0
    if result.get("score") is not None and result.get("status") in ("correct", "incorrect"):
        return float(result["score"])
    return 1.0 if result.get("status") == "correct" else 0.0


def score(parts: Iterable, results: dict) -> float:
    """An attempt's score, 0 to 1: each part's share times its weight, over all weights."""
    total = earned = 0.0
    for part in parts:
        total += part.weight
        earned += part.weight * part_score(results.get(part.key))
    return earned / total if total else 0.0


def best(parts: Iterable, attempts: Iterable[tuple[dict, float, float | None]]) -> float | None:
    """The best combined over attempts, part by part: `attempts` are (results, multiplier,
    recorded) of graded attempts, where the multiplier is 1 for the score and the
    attempt's own for its credit, and `recorded` is the attempt's stored score or credit.
    Never below the best recorded one (an attempt graded before its parts' results were
    kept, say). None when there is no attempt."""
    parts = list(parts)
    attempts = list(attempts)
    if not attempts:
        return None
    total = sum(part.weight for part in parts)
    combined = 0.0
    if total:
        for part in parts:
            combined += part.weight * max(
                part_score(results.get(part.key)) * multiplier
                for results, multiplier, _ in attempts
            )
        combined /= total
    recorded = [value for _, _, value in attempts if value is not None]
    return max([combined, *recorded])


def best_score(parts: Iterable, submissions: Iterable) -> float | None:
    """The best score over these graded submissions, part by part (no penalties)."""
    return best(parts, [(s.results or {}, 1.0, s.score) for s in submissions])


def best_credit(parts: Iterable, submissions: Iterable) -> float | None:
    """The best credit over these graded submissions, part by part (after penalties)."""
    return best(parts, [(s.results or {}, s.multiplier, s.credit) for s in submissions])


def solved_part_by_part(student, slots: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of these (problem set id, exercise id) pairs, those the student has solved across
    attempts made in that set: every part right in some graded attempt, though no one
    attempt had them all."""
    from django.db.models import Q

    from exercises.models import Part, Submission

    slots = list(slots)
    if not slots:
        return set()
    made_in = Q(pk__in=[])
    for set_id, pk in slots:
        made_in |= Q(problem_set_id=set_id, exercise_id=pk)
    graded: dict[tuple[int, int], list] = {}
    for submission in Submission.objects.filter(
        made_in, student=student, status=Submission.Status.GRADED
    ).only("exercise", "problem_set", "results", "score"):
        graded.setdefault((submission.problem_set_id, submission.exercise_id), []).append(
            submission
        )
    parts: dict[int, list] = {}
    exercise_ids = {pk for _, pk in graded}
    for part in Part.objects.filter(exercise_id__in=exercise_ids).only("exercise", "key", "weight"):
        parts.setdefault(part.exercise_id, []).append(part)
    return {
        slot
        for slot, submissions in graded.items()
        if (best_score(parts.get(slot[1], []), submissions) or 0) >= 1
    }
