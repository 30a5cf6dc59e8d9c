"""Code answers as one kind of the table: a thin `Checker` over `grading.code`.

The work (the sandbox, the harness, the comparison with the reference) lives in
`grading.code`; this module only plugs it into the engine's table of kinds, so that
`grading.check` and `grading.validate` take code cases like any other.
"""

from __future__ import annotations

from collections.abc import Mapping

from grading import code
from grading.checkers.base import Checker
from grading.checkers.setting import Setting
from grading.checkers.verdicts import Invalid, Verdict


class CodeChecker(Checker):
    required = ("answer", "function", "reference", "tests")
    # Each run has its own sandbox, deadline and limits (`grading.code.sandbox`).
    isolated = True

    def check(self, case: Mapping, setting: Setting) -> Verdict:
        return code.check_code(case)

    def read(self, case: Mapping, setting: Setting) -> None:
        verdict = code.validate_source(case["answer"], case["function"])
        if verdict is not None:
            raise Invalid(verdict.message, verdict.details.get("column"))
