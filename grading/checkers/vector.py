"""The vector kind: a list of components, each judged as an entry.

A row, a column or a flat list in square brackets is a vector. The feedback names
the wrong components, or says that right components are in the wrong places.
"""

from __future__ import annotations

from collections.abc import Mapping

from grading import nodes as n
from grading.checkers.base import Checker
from grading.checkers.entries import judge_entry, ordinal_list, whole_feedback
from grading.checkers.expressions import rounding_hint
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect


def _as_vector(tree) -> list | None:
    """The items of a vector (row, column or flat list), or None if it is not a vector."""
    if not isinstance(tree, n.Group) or tree.bracket == "{":
        return None
    items = list(tree.items)
    if items and all(isinstance(i, n.Group) for i in items):
        if all(len(i.items) == 1 for i in items):
            return [i.items[0] for i in items]
        if len(items) == 1:
            return list(items[0].items)
        return None
    if any(isinstance(i, n.Group) for i in items):
        return None
    return items


def _read_vector(answer_tree) -> list:
    """The answer's components; Invalid, saying why, if it is not a vector."""
    answer = _as_vector(answer_tree)
    if answer is not None:
        return answer
    if isinstance(answer_tree, n.Group) and answer_tree.bracket == "{":
        raise Invalid(
            "Write a vector in square brackets, e.g. [a, b, c]: braces are for sets.",
            answer_tree.col,
        )
    if isinstance(answer_tree, n.Group):
        raise Invalid(
            "Your answer should be a vector, e.g. [a, b, c], not a matrix.", answer_tree.col
        )
    raise Invalid(
        "Your answer should be a vector, e.g. [a, b, c], not a single expression.",
        answer_tree.col,
    )


def _reordered(expected: list, answer: list, setting: Setting, wrong: list[int]) -> bool:
    """Each wrong component equals the expected one of another wrong position (a swap)."""
    if len(wrong) > 4:
        return False
    try:
        return all(
            any(
                j != i and judge_entry(expected[j - 1], answer[i - 1], setting)[0] == "correct"
                for j in wrong
            )
            for i in wrong
        )
    except (AuthorError, Invalid):
        return False


class VectorChecker(Checker):
    """A vector: the same number of components as the expected one, each equal to its own."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        expected_tree = setting.parse_expected(case["expected"])
        expected = _as_vector(expected_tree)
        if expected is None:
            raise AuthorError("The expected answer of a vector part must be a vector, e.g. [1, 2].")
        answer_tree = setting.parse_answer(case["answer"])
        answer = _read_vector(answer_tree)
        if len(answer) != len(expected):
            message = (
                f"Your vector has {len(answer)} component{'s' if len(answer) != 1 else ''};"
                f" it should have {len(expected)}."
            )
            if len(answer) == 1 and len(expected) > 1:
                # `[14 -3]` is the one component 14 - 3.
                message += " Separate the components with commas."
            return incorrect(message, length=len(answer), expected_length=len(expected))
        statuses, messages = [], []
        for e, a in zip(expected, answer, strict=False):
            status, message, _ = judge_entry(e, a, setting)
            statuses.append(status)
            messages.append(message)
        wrong = [k + 1 for k, s in enumerate(statuses) if s != "correct"]
        if not wrong:
            return correct(components=statuses)
        if len(wrong) > 1 and _reordered(expected, answer, setting, wrong):
            listed = ordinal_list(wrong)
            message = f"Components {listed} are right but in the wrong places: check their order."
        elif len(wrong) == len(statuses) and len(statuses) > 1:
            message = (
                whole_feedback(expected, answer, setting) or "None of the components is right."
            )
        elif len(wrong) == 1:
            message = f"Component {wrong[0]} is wrong."
            if messages[wrong[0] - 1]:
                message += " " + messages[wrong[0] - 1]
        else:
            message = f"Components {ordinal_list(wrong)} are wrong."
        return incorrect(message + rounding_hint(case, setting), components=statuses, wrong=wrong)

    def read(self, case: Mapping, setting: Setting) -> None:
        _read_vector(setting.parse_answer(case["answer"]))
