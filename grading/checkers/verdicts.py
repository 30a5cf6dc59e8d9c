"""Verdicts, and the two ways a check stops short of one.

A checker returns a `Verdict`: correct, incorrect, invalid (the answer cannot be read
as an answer of its kind; it costs no attempt) or error (the case itself is wrong).
While judging, it raises `Invalid` for an unreadable answer and `AuthorError` for a
case the author got wrong; the engine turns both into verdicts. `Unavailable` is not a
verdict at all: the check could not run here and now (no sandbox for code), and the
caller must try again later rather than tell the student anything about the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    """`status` is correct, incorrect, invalid or error; `details` is JSON-safe.

    The public name is `grading.Verdict` (re-exported by `grading.engine`).
    """

    status: str
    message: str
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"status": self.status, "message": self.message, "details": self.details}


class AuthorError(Exception):
    """The case itself is wrong (expected answer unreadable or undefined, bad options)."""


class Invalid(Exception):
    """The answer cannot be read as an answer of this kind."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.column = column


def correct(message: str = "Correct.", **details) -> Verdict:
    return Verdict("correct", message, details)


def incorrect(message: str, **details) -> Verdict:
    return Verdict("incorrect", message, details)


def invalid(message: str, column: int | None = None, **details) -> Verdict:
    if column is not None:
        details["column"] = column
    return Verdict("invalid", message, details)


def error(message: str, **details) -> Verdict:
    return Verdict("error", message, details)


def sentence(message: str) -> str:
    """A message from the parser as a sentence for the student: capital first, full stop last."""
    message = message.strip()
    if not message:
        return "Your answer cannot be read."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


class Unavailable(RuntimeError):
    """The check cannot run here now (for code: no sandbox can be started); nothing was
    judged, and the same case may be checked again later."""
