"""The choice kind: one option or a set of options, by their keys.

Choices are not expressions: they are read by `grading.parser.parse_choice` against
the case's `options` (or, without them, the keys the two answers use).

A case may say how the part is answered and scored (all optional, for the command line
as much as for the site):

- `multiple`: true when several options may be chosen, false when exactly one is (an
  answer naming two is then invalid: it costs no attempt); absent, any number may be;
- `scoring`: `all-or-nothing` (the default: only the exact set earns anything) or
  `partial`: each right pick earns its share of the part, each wrong pick loses
  `penalty` of it (absent: as much as one right pick earns), never below 0.

An incorrect verdict says how many of the right choices are missing and how many
chosen ones are wrong; `details` holds `missing`, `extra` and `score` (0 to 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from grading.checkers.base import Checker
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect, sentence
from grading.parser import ParseError, parse_choice

SCORINGS = ("all-or-nothing", "partial")

ONE_ANSWER = "This question has one answer: choose only one option."


class ChoiceChecker(Checker):
    """The selected options: exactly the expected ones, or a share of them (`partial`)."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        options = _options(case)
        multiple, scoring, penalty = _rules(case)
        expected_text = _as_keys(case["expected"])
        if options is None:
            options = [k.strip() for k in str(expected_text).split(",") if k.strip()]
            answer_text = case["answer"]
            if isinstance(answer_text, str):
                options += [
                    k.strip() for k in answer_text.split(",") if k.strip() and k.strip().isalnum()
                ]
        try:
            expected = parse_choice(str(expected_text), options)
        except ParseError as e:
            raise AuthorError(f"The expected choice cannot be read: {e.message}.") from None
        if multiple is False and len(expected) > 1:
            raise AuthorError("A single-answer choice expects one option; say `multiple: true`.")
        answer = _read_answer(case, options, multiple)
        if answer == expected:
            return correct()
        missing = len(expected - answer)
        extra = len(answer - expected)
        if scoring == "partial":
            if penalty is None:
                penalty = 1 / len(expected)
            score = max(0.0, (len(expected) - missing) / len(expected) - penalty * extra)
        else:
            score = 0.0
        if multiple or len(expected) > 1 or len(answer) > 1:
            return incorrect(
                _what_is_wrong(missing, extra), missing=missing, extra=extra, score=score
            )
        return incorrect("That is not the right choice.")

    def read(self, case: Mapping, setting: Setting) -> None:
        options = case.get("options")
        if not options:
            # Without options, the keys the two answers use are the options: only the
            # check, which reads the expected answer too, can tell.
            return
        multiple, _, _ = _rules(case)
        _read_answer(case, _options(case), multiple)


def _options(case: Mapping) -> list[str] | None:
    options = case.get("options")
    if options is not None and (
        not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options)
    ):
        raise AuthorError("`options` must be a list of option keys.")
    return options


def _rules(case: Mapping) -> tuple[bool | None, str, float | None]:
    """`multiple`, `scoring` and `penalty` of the case; `AuthorError` if one is wrong."""
    multiple = case.get("multiple")
    if multiple is not None and not isinstance(multiple, bool):
        raise AuthorError("`multiple` must be true or false.")
    scoring = case.get("scoring") or "all-or-nothing"
    if scoring not in SCORINGS:
        raise AuthorError(f"`scoring` must be one of {', '.join(SCORINGS)}.")
    penalty = case.get("penalty")
    if penalty is not None:
        if (
            isinstance(penalty, bool)
            or not isinstance(penalty, int | float)
            or not math.isfinite(penalty)
            or not 0 <= penalty <= 1
        ):
            raise AuthorError("`penalty` must be a number from 0 to 1.")
        penalty = float(penalty)
    return multiple, scoring, penalty


def _as_keys(value):
    """A list of keys as the text a student would type."""
    if isinstance(value, list | tuple):
        return ", ".join(str(x) for x in value)
    return value


def _read_answer(case: Mapping, options, multiple: bool | None) -> frozenset[str]:
    try:
        answer = parse_choice(_as_keys(case["answer"]), options)
    except ParseError as e:
        raise Invalid(sentence(e.message), e.column) from None
    if multiple is False and len(answer) > 1:
        raise Invalid(ONE_ANSWER)
    return answer


def _what_is_wrong(missing: int, extra: int) -> str:
    """How many of the right choices are missing and how many chosen ones are wrong."""
    said = []
    if missing:
        said.append(f"{missing} of the right choices {'is' if missing == 1 else 'are'} missing")
    if extra:
        said.append(f"{extra} choice{' is' if extra == 1 else 's are'} wrong")
    return sentence(" and ".join(said)) if said else "Your selection is not right."
