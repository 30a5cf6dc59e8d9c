"""The matrix kind: rows of entries, each judged as an entry.

The feedback names the wrong entries by row and column, and recognises the transpose
of the expected matrix.
"""

from __future__ import annotations

from collections.abc import Mapping

from grading import nodes as n
from grading.checkers.base import Checker
from grading.checkers.entries import judge_entry, ordinal_list, whole_feedback
from grading.checkers.expressions import rounding_hint
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect


def _as_matrix(tree) -> list[list] | None:
    if not isinstance(tree, n.Group):
        return None
    items = list(tree.items)
    if not items:
        return None
    if all(isinstance(i, n.Group) for i in items):
        rows = [list(i.items) for i in items]
        if any(isinstance(x, n.Group) for row in rows for x in row):
            return None
        return rows
    if any(isinstance(i, n.Group) for i in items):
        return None
    return [items]


def _read_matrix(answer_tree) -> list[list]:
    """The answer's rows; Invalid if it is not a matrix with rows of one length."""
    answer = _as_matrix(answer_tree)
    if answer is None:
        raise Invalid("Your answer should be a matrix, e.g. [[a, b], [c, d]].", answer_tree.col)
    if len({len(r) for r in answer}) != 1:
        raise Invalid("The rows of your matrix have different lengths.", answer_tree.col)
    return answer


def _all_entries_correct(expected: list[list], answer: list[list], setting: Setting) -> bool:
    if len(expected) != len(answer) or any(
        len(e) != len(a) for e, a in zip(expected, answer, strict=False)
    ):
        return False
    try:
        return all(
            judge_entry(e, a, setting)[0] == "correct"
            for er, ar in zip(expected, answer, strict=False)
            for e, a in zip(er, ar, strict=False)
        )
    except (AuthorError, Invalid):
        return False


class MatrixChecker(Checker):
    """A matrix: the expected shape, each entry equal to its own."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        expected = _as_matrix(setting.parse_expected(case["expected"]))
        if expected is None or len({len(r) for r in expected}) != 1:
            raise AuthorError(
                "The expected answer of a matrix part must be a matrix, e.g. [[1, 2], [3, 4]]."
            )
        answer_tree = setting.parse_answer(case["answer"])
        answer = _as_matrix(answer_tree)
        if answer is None:
            raise Invalid("Your answer should be a matrix, e.g. [[a, b], [c, d]].", answer_tree.col)
        if len({len(r) for r in answer}) != 1:
            raise Invalid("The rows of your matrix have different lengths.", answer_tree.col)
        rows, cols = len(expected), len(expected[0])
        arows, acols = len(answer), len(answer[0])
        shape = {"shape": [arows, acols], "expected_shape": [rows, cols]}
        transposed = [list(r) for r in zip(*expected, strict=False)]
        if (arows, acols) != (rows, cols):
            if (arows, acols) == (cols, rows) and _all_entries_correct(transposed, answer, setting):
                return incorrect(
                    "Your matrix is the transpose of the expected one.", transposed=True, **shape
                )
            return incorrect(
                f"Your matrix is {arows}×{acols}; it should be {rows}×{cols}.", **shape
            )
        statuses = [
            [judge_entry(e, a, setting)[0] for e, a in zip(er, ar, strict=False)]
            for er, ar in zip(expected, answer, strict=False)
        ]
        wrong = [
            [i + 1, j + 1]
            for i, r in enumerate(statuses)
            for j, s in enumerate(r)
            if s != "correct"
        ]
        if not wrong:
            return correct(entries=statuses)
        if rows == cols and rows > 1 and _all_entries_correct(transposed, answer, setting):
            return incorrect(
                "Your matrix is the transpose of the expected one.",
                transposed=True,
                entries=statuses,
                wrong=wrong,
            )
        flat_e = [x for r in expected for x in r]
        flat_a = [x for r in answer for x in r]
        if len(wrong) == len(flat_e) and len(flat_e) > 1:
            message = whole_feedback(flat_e, flat_a, setting) or "None of the entries is right."
        else:
            listed = ordinal_list([f"({i}, {j})" for i, j in wrong])
            message = f"Entr{'y' if len(wrong) == 1 else 'ies'} {listed} {'is' if len(wrong) == 1 else 'are'} wrong (row, column)."
        return incorrect(message + rounding_hint(case, setting), entries=statuses, wrong=wrong)

    def read(self, case: Mapping, setting: Setting) -> None:
        _read_matrix(setting.parse_answer(case["answer"]))
