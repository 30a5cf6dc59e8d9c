"""Authors' expected mistakes: an answer equivalent to one of them gets its message.

A case may list `mistakes`, each `{"answer": ..., "message": ...}`. A wrong answer is
checked against each listed answer in turn, by the case's own kind and setting, as if
it were the expected one. The verdict names the mistake that matched by its place in the
list (`details["mistake_index"]`, from 0), so that statistics can count answers by the
mistake they make, whatever the variant.
"""

from __future__ import annotations

from collections.abc import Mapping

from grading.checkers.base import Checker
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid


def match_mistake(checker: Checker, case: Mapping, setting: Setting) -> str | None:
    """The message of the first listed mistake the answer is equivalent to."""
    found = find_mistake(checker, case, setting)
    return found[1] if found is not None else None


def find_mistake(checker: Checker, case: Mapping, setting: Setting) -> tuple[int, str] | None:
    """The place in the list and the message of the first listed mistake the answer is
    equivalent to."""
    mistakes = case.get("mistakes") or []
    if not isinstance(mistakes, list):
        return None
    for index, mistake in enumerate(mistakes):
        if not isinstance(mistake, Mapping) or "answer" not in mistake or "message" not in mistake:
            continue
        trial = dict(case)
        trial["expected"] = mistake["answer"]
        trial.pop("mistakes", None)
        try:
            verdict = checker.check(trial, setting)
        except (AuthorError, Invalid):
            continue
        if verdict.status == "correct":
            return index, str(mistake["message"])
    return None
