"""What every kind of answer has in common: a `Checker`, and the refusal of lists.

Each kind of answer (expression, numeric, vector, ...) is one `Checker` in its own
module; `grading.checkers.CHECKERS` maps the kind's name to it, and is the one table
the engine dispatches through.
"""

from __future__ import annotations

from collections.abc import Mapping

from grading import nodes as n
from grading.checkers.setting import Setting
from grading.checkers.verdicts import AuthorError, Invalid, Verdict


class Checker:
    """One kind of answer: how to read it, and how to judge it against the expected one.

    Both methods take the case (the command-line format of the answer specification)
    and its `Setting`. They raise `Invalid` for an answer that cannot be read as an
    answer of the kind, and `AuthorError` for a case the author got wrong.
    """

    # The keys a case of this kind must have, besides `kind`.
    required: tuple[str, ...] = ("expected", "answer")
    # A kind that bounds its own time and memory (code runs in a sandbox with its own
    # deadline) is checked in the caller, not in one of `grading.pool`'s helpers.
    isolated: bool = False

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        """The verdict on the case's answer."""
        raise NotImplementedError

    def read(self, case: Mapping, setting: Setting) -> None:
        """Only read the answer, without comparing: raise `Invalid` unless it can be read.

        Used when a submission arrives, so that an unreadable answer is refused at once.
        """
        raise NotImplementedError


def reject_group(tree, what: str) -> None:
    """`Invalid` for a list (`[1, 2]`) where the kind asks for one value."""
    if isinstance(tree, n.Group):
        raise Invalid(f"Your answer should be {what}, not a list.", tree.col)


def reject_expected_group(tree, what: str) -> None:
    """`AuthorError` for an expected list where the kind asks for one value."""
    if isinstance(tree, n.Group):
        raise AuthorError(f"The expected answer should be {what}, not a list.")
