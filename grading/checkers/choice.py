"""The choice kind: one option or a set of options, by their keys.

Choices are not expressions: they are read by `grading.parser.parse_choice` against
the case's `options` (or, without them, the keys the two answers use).
"""

from __future__ import annotations

from collections.abc import Mapping

from grading.checkers.base import Checker
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict, correct, incorrect, sentence
from grading.parser import ParseError, parse_choice


class ChoiceChecker(Checker):
    """The selected options: exactly the expected ones."""

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        options = case.get("options")
        if options is not None and (
            not isinstance(options, list | tuple) or not all(isinstance(o, str) for o in options)
        ):
            raise AuthorError("`options` must be a list of option keys.")
        expected_text = case["expected"]
        if isinstance(expected_text, list | tuple):
            expected_text = ", ".join(str(x) for x in expected_text)
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
        answer_text = case["answer"]
        if isinstance(answer_text, list | tuple):
            answer_text = ", ".join(str(x) for x in answer_text)
        try:
            answer = parse_choice(answer_text, options)
        except ParseError as e:
            raise Invalid(sentence(e.message), e.column) from None
        if answer == expected:
            return correct()
        if len(expected) > 1 or len(answer) > 1:
            missing = len(expected - answer)
            extra = len(answer - expected)
            return incorrect("Your selection is not right.", missing=missing, extra=extra)
        return incorrect("That is not the right choice.")

    def read(self, case: Mapping, setting: Setting) -> None:
        options = case.get("options")
        if not options:
            # Without options, the keys the two answers use are the options: only the
            # check, which reads the expected answer too, can tell.
            return
        try:
            parse_choice(case["answer"], options)
        except ParseError as e:
            raise Invalid(sentence(e.message), e.column) from None
