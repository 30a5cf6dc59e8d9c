"""One checker per kind of answer, and the feedback messages students see."""

from grading.checkers.expressions import (
    CHECKERS,
    DEFAULT_BOX,
    AuthorError,
    Invalid,
    Setting,
    Verdict,
    _describe_region,
    compare_expressions,
    error,
    incorrect,
    invalid,
    match_mistake,
    read_answer,
    read_setting,
    sample_points,
)

__all__ = [
    "CHECKERS",
    "DEFAULT_BOX",
    "AuthorError",
    "Invalid",
    "Setting",
    "Verdict",
    "_describe_region",
    "compare_expressions",
    "error",
    "incorrect",
    "invalid",
    "match_mistake",
    "read_answer",
    "read_setting",
    "sample_points",
]
