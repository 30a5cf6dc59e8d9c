"""The checkers: one per kind of answer, and the feedback messages students see.

A checker takes a case (the command-line format of the answer specification) and its
`Setting`, and returns a `Verdict`. The modules, by idea:

- `verdicts`: `Verdict`, and the `Invalid` and `AuthorError` a check may raise;
- `setting`: the setting of a case (variables, box, functions, tolerances);
- `sampling`: where the expression rule looks (seeded points, points beside zeros);
- `expressions`: the expression rule, its feedback, and the expression kind;
- `numeric`: the numeric rule, and the numeric kind;
- `entries`: the entries of vectors and matrices, judged by one rule or the other;
- `vector`, `matrix`, `points`, `choice`: the other kinds, each a `Checker` (`base`);
- `mistakes`: the authors' expected mistakes and their messages.

`CHECKERS` below is the one table of kinds: the engine reads the kind of a case there,
and a new kind is plugged in by adding its `Checker` to it.
"""

from grading.checkers.base import Checker
from grading.checkers.choice import ChoiceChecker
from grading.checkers.code import CodeChecker
from grading.checkers.expressions import ExpressionChecker, compare_expressions
from grading.checkers.matrix import MatrixChecker
from grading.checkers.mistakes import find_mistake, match_mistake
from grading.checkers.numeric import NumericChecker
from grading.checkers.points import PointsChecker
from grading.checkers.sampling import sample_points
from grading.checkers.setting import DEFAULT_BOX, Setting, read_setting
from grading.checkers.vector import VectorChecker
from grading.checkers.verdicts import (
    AuthorError,
    Invalid,
    Unavailable,
    Verdict,
    correct,
    error,
    incorrect,
    invalid,
)

# In this order in the message for an unknown kind.
CHECKERS: dict[str, Checker] = {
    "expression": ExpressionChecker(),
    "numeric": NumericChecker(),
    "vector": VectorChecker(),
    "matrix": MatrixChecker(),
    "points": PointsChecker(),
    "choice": ChoiceChecker(),
    "code": CodeChecker(),
}

__all__ = [
    "CHECKERS",
    "DEFAULT_BOX",
    "AuthorError",
    "Checker",
    "Invalid",
    "Setting",
    "Unavailable",
    "Verdict",
    "compare_expressions",
    "correct",
    "error",
    "find_mistake",
    "incorrect",
    "invalid",
    "match_mistake",
    "read_setting",
    "sample_points",
]
