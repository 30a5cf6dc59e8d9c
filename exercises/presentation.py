"""What a student is shown of an exercise, and when.

`StudentView` is an exercise as one student sees it: their variant, the prompt and the
parts, their attempts and due date, and what the feedback rules let them see (scores,
hints, the worked solution, the answer drawn on the plot). The exercise page, the API,
the plot and the admin's preview all read it, so a rule holds on every surface at once.
`SubmissionView` is one attempt's verdict as its student may see it, for the submission
page, its verdict fragment and the API.

The rules:
- Feedback (verdicts, scores, solved marks, hints, the solution, the answer on the plot)
  is shown in practice sets at once, in a quiz once the instructor has released it.
  Before that a student only knows they have answered: a hint offered after a wrong
  answer, or the answer drawn after a right one, would tell the verdict.
- A part's hint is offered once the student's own graded answer to it was wrong.
- The answer (worked solution and plot) is revealed once the exercise is solved or the
  attempts are used up, and in a quiz once its feedback is released.
- Staff previewing a seed see everything, expected answers included.
- Beside each answer, the verdict of the student's latest attempt, as that attempt's
  `SubmissionView` shows it (nothing while the feedback is held back).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.utils import timezone

from exercises import plots, queue, regrade, scoring, standing, student_reads
from exercises.models import Exercise, Part, ProblemSet, Submission, render_markdown
from exercises.variants import VariantError, render_text
from grading.code.references import REFERENCES

HELD_MESSAGE = "Submitted: feedback will be released later."


@dataclass
class PartView:
    """One part as the student sees it: its label, options and, when offered, its hint."""

    part: Part
    values: dict
    hint_offered: bool = False
    # The expected answer, and a code part's reference: only ever filled in for staff's preview.
    expected: str = ""
    shows_reference: bool = False

    @property
    def key(self) -> str:
        return self.part.key

    @property
    def kind(self) -> str:
        return self.part.kind

    @property
    def variables(self) -> list:
        return self.part.variables

    def get_kind_display(self) -> str:
        return self.part.get_kind_display()

    @cached_property
    def label(self) -> str:
        return render_text(self.part.label, self.values)

    @cached_property
    def label_html(self) -> str:
        return self.part.label_html(self.values) if self.part.label else ""

    @cached_property
    def options(self) -> list[dict]:
        return [
            {**o, "text": render_text(o.get("text", ""), self.values)} for o in self.part.options
        ]

    @property
    def multiple(self) -> bool:
        """A choice part with several answers: check boxes, not radio buttons."""
        return self.part.takes_several

    @property
    def scoring(self) -> str:
        return self.part.scoring

    # ------------------------------------------------ code parts

    @property
    def is_code(self) -> bool:
        return self.part.kind == Part.Kind.CODE

    @property
    def function(self) -> str:
        return self.part.code.get("function", "") if self.is_code else ""

    @property
    def signature(self) -> str:
        return self.part.code.get("signature", "") if self.is_code else ""

    @cached_property
    def starter(self) -> str:
        """The editor's first text, for this variant."""
        return render_text(self.part.code.get("starter", ""), self.values) if self.is_code else ""

    @cached_property
    def reference(self) -> dict:
        """Staff only: the reference a code part's answers are compared with, as
        {"routine", "doc"} (a routine of the engine's) or {"source"} (written in the exercise)."""
        if not (self.is_code and self.shows_reference):
            return {}
        reference = self.part.code.get("reference") or {}
        if reference.get("source"):
            return {"source": reference["source"]}
        name = reference.get("routine", "")
        routine = REFERENCES.get(name)
        doc = (inspect.getdoc(routine) or "") if routine is not None else ""
        return {"routine": name, "doc": doc}

    @cached_property
    def hint(self) -> str:
        return render_text(self.part.hint, self.values) if self.hint_offered else ""

    @cached_property
    def hint_html(self) -> str:
        return self.part.hint_html(self.values) if self.hint_offered and self.part.hint else ""


@dataclass
class StudentView:
    """An exercise as one student sees it now (or as staff preview one seed of it)."""

    exercise: Exercise
    values: dict
    parts: list[PartView]
    feedback: bool
    # Solved, as far as the student may know: never while the feedback is held back.
    solved: bool
    best: float | None
    reveals_answer: bool
    attempts_used: int = 0
    history: list[Submission] = field(default_factory=list)
    due: datetime | None = None
    quiz_ends: datetime | None = None
    now: datetime = field(default_factory=timezone.now)
    preview: bool = False
    # Staff's preview only: why this seed's variant cannot be shown.
    error: str = ""
    # Why the student may not answer now (the set's dates, their quiz time), or "".
    closed: str = ""

    # ------------------------------------------------------------ building

    @classmethod
    def for_student(
        cls, exercise: Exercise, student, now: datetime | None = None, keep: bool = True
    ) -> StudentView:
        """The student's view; draws and keeps their variant the first time (unless
        `keep` is False: staff viewing as the student). Raises `VariantError` when no
        variant can be drawn."""
        now = now or timezone.now()
        problem_set = exercise.problem_set
        variant = exercise.variant_for(student, keep=keep)
        values = variant.values if variant is not None else {}
        history = student_reads.history(student, exercise)
        if history is student_reads.NOTHING:
            history = list(
                Submission.objects.filter(
                    student=student, exercise=exercise, problem_set_id=exercise.problem_set_id
                )
            )
        regrade.read_changes(history)
        feedback = problem_set.shows_feedback(now)
        graded = [s for s in history if s.status == Submission.Status.GRADED]
        # Part by part over the attempts: a part left blank never lowers the best.
        best = scoring.best_score(exercise.parts.all(), graded) if feedback else None
        solved = best is not None and best >= 1
        used = sum(s.status != Submission.Status.FAILED for s in history)
        limit = exercise.attempt_limit
        out_of_attempts = limit is not None and used >= limit
        missed = (
            {
                key
                for s in graded
                for key, result in s.results.items()
                if result.get("status") == "incorrect"
            }
            if feedback
            else set()
        )
        return cls(
            exercise=exercise,
            values=values,
            parts=[
                PartView(p, values, hint_offered=bool(p.hint) and p.key in missed)
                for p in exercise.parts.all()
            ],
            feedback=feedback,
            solved=solved,
            best=best,
            reveals_answer=feedback and (problem_set.is_quiz or solved or out_of_attempts),
            attempts_used=used,
            history=history,
            due=problem_set.due_for(student),
            quiz_ends=problem_set.ends_for(student),
            now=now,
        )

    @classmethod
    def opened_by(
        cls, exercise: Exercise, student, now: datetime | None = None, keep: bool = True
    ) -> StudentView:
        """The student's view when they open the exercise: opening one starts its quiz,
        and the quiz's clock if it is timed (not when staff view it as the student,
        `keep` False: then nothing is written)."""
        view = cls.for_student(exercise, student, now, keep=keep)
        problem_set = exercise.problem_set
        if keep and problem_set.is_quiz and problem_set.is_open(now):
            problem_set.start_for(student, now)
            view.quiz_ends = problem_set.ends_for(student)
        view.closed = queue.closed_reason(exercise, student, view.now, keep=keep)
        return view

    @classmethod
    def for_preview(cls, exercise: Exercise, seed: int, parts=None) -> StudentView:
        """Everything, for staff: the variant of `seed`, its expected answers, every hint,
        the solution and the answer on the plot. Draws and keeps nothing. A seed whose
        values break the exercise gives a view with `error` set and what could be shown.
        `parts`: the parts of an exercise being edited, saved or not (default: its own)."""
        parts = list(exercise.parts.all() if parts is None else parts)
        errors = []
        try:
            values = exercise.values_for_seed(seed)
            expected = exercise.expected_answers(values, parts)
        except VariantError as e:
            values, expected = {}, {}
            errors.append(str(e))
        view = cls(
            exercise=exercise,
            values=values,
            parts=[
                PartView(
                    p,
                    values,
                    hint_offered=bool(p.hint),
                    expected=expected.get(p.key, ""),
                    shows_reference=True,
                )
                for p in parts
            ],
            feedback=True,
            solved=False,
            best=None,
            reveals_answer=True,
            due=exercise.problem_set.due,
            preview=True,
        )
        # Rendered now, so that a template these values break shows as this seed's error
        # rather than as a failing page.
        settle = [(view, ("prompt", "prompt_html", "solution", "solution_html"))]
        settle += [
            (part, ("label", "label_html", "options", "hint", "hint_html", "starter"))
            for part in view.parts
        ]
        for obj, names in settle:
            for name in names:
                try:
                    getattr(obj, name)
                except VariantError as e:
                    obj.__dict__[name] = [] if name == "options" else ""
                    errors.append(str(e))
        view.error = errors[0] if errors else ""
        return view

    # ------------------------------------------------------------ what is shown

    @property
    def problem_set(self) -> ProblemSet:
        return self.exercise.problem_set

    @property
    def is_quiz(self) -> bool:
        return self.problem_set.is_quiz

    @cached_property
    def prompt(self) -> str:
        return render_text(self.exercise.prompt, self.values)

    @cached_property
    def prompt_html(self) -> str:
        return render_markdown(self.prompt)

    @cached_property
    def solution(self) -> str:
        if not self.reveals_answer:
            return ""
        return render_text(self.exercise.solution, self.values)

    @cached_property
    def solution_html(self) -> str:
        return render_markdown(self.solution) if self.solution else ""

    @property
    def has_code(self) -> bool:
        """Whether a part is answered in the code editor (the page then loads it)."""
        return any(part.is_code for part in self.parts)

    @property
    def has_maths(self) -> bool:
        """Whether a part is typed as maths: choices are picked, code is written."""
        return any(not part.is_code and part.kind != "choice" for part in self.parts)

    @property
    def offers_runs(self) -> bool:
        """ "Run the visible tests" is offered to a student whose feedback is shown: in a
        quiz that holds it back, passing tests would tell the verdict."""
        return self.has_code and self.feedback and not self.preview

    @property
    def attempt_limit(self) -> int | None:
        return self.exercise.attempt_limit

    @property
    def attempts_left(self) -> int | None:
        limit = self.attempt_limit
        return None if limit is None else max(0, limit - self.attempts_used)

    @property
    def late(self) -> bool:
        """Past the student's own due date (their extension's, if they have one)."""
        return self.due is not None and self.now > self.due

    @property
    def extended(self) -> bool:
        """The due date is the student's own, from an extension."""
        return self.due is not None and self.due != self.problem_set.due

    @property
    def late_policy(self) -> str:
        return standing.late_policy_text(self.problem_set)

    @property
    def retry_penalty(self) -> int | float:
        """The share each attempt after the first loses, in percent."""
        return standing.percent(self.exercise.retry_penalty)

    @property
    def next_worth(self) -> int | float:
        """The most the student's next attempt can count for, in percent, after the
        retry penalty and, when late, the late penalty (as `queue.submit` will take them)."""
        return standing.percent(
            queue.attempt_multiplier(self.exercise, self.attempts_used, self.late)
        )

    @property
    def submit_refusal(self) -> str:
        """Why Submit is disabled, or "" while the student may answer."""
        if self.preview:
            return ""
        if self.closed:
            return self.closed
        if self.attempts_left == 0:
            limit = self.attempt_limit
            attempts = "the one attempt" if limit == 1 else f"all {limit} attempts"
            return f"No attempt left: you have used {attempts} at this exercise."
        return ""

    @cached_property
    def latest(self) -> SubmissionView | None:
        """The student's latest attempt, as they may see it."""
        if not self.history:
            return None
        submission = self.history[0]
        # The exercise as read here, with its parts: not read again for the verdict.
        submission.exercise = self.exercise
        return SubmissionView(submission, self.feedback)

    @cached_property
    def part_verdicts(self) -> dict[str, dict]:
        """The latest attempt's verdict per part key (blank while held back or pending),
        with what was typed: the page shows it beside an answer that still reads so."""
        if self.latest is None:
            return {}
        return {row["part"].key: row for row in self.latest.rows}

    def verdict_beside(self, key: str, value: str) -> dict | None:
        """The latest attempt's verdict on part `key`, to show beside its input while the
        input still holds the answer it judged."""
        row = self.part_verdicts.get(key)
        return row if row is not None and row["answer"] == value else None

    @cached_property
    def next_exercise(self) -> Exercise | None:
        return standing.next_exercise(self.exercise)

    @property
    def quiz_time_left(self) -> timedelta | None:
        if self.quiz_ends is None:
            return None
        return max(timedelta(0), self.quiz_ends - self.now)

    @cached_property
    def plot_svg(self) -> str | None:
        """The exercise's picture for these values; what it asks for is drawn once the
        answer is revealed, never while the feedback is held back."""
        if self.error or not self.exercise.plot:
            return None
        return plots.plot_svg(self.exercise.plot, self.values, self.reveals_answer) or None

    @property
    def plot_note(self) -> str:
        if self.preview or not self.reveals_answer:
            return ""
        if self.solved:
            return "Now that you have solved it, the picture shows the answer too."
        return "The picture shows the answer too, beside the worked solution."


@dataclass
class SubmissionView:
    """One attempt as its student may see it: the verdict only once feedback is shown."""

    submission: Submission
    feedback: bool

    @classmethod
    def of(cls, submission: Submission, now: datetime | None = None) -> SubmissionView:
        return cls(submission, submission.problem_set.shows_feedback(now))

    @property
    def score(self) -> float | None:
        return self.submission.score if self.feedback else None

    @property
    def credit(self) -> float | None:
        return self.submission.credit if self.feedback else None

    @property
    def is_correct(self) -> bool:
        return self.feedback and self.submission.is_correct

    @cached_property
    def rows(self) -> list[dict]:
        """Each part with what the student typed and, when shown, its verdict."""
        rows = self.submission.part_results()
        results = self.submission.results
        for row in rows:
            row["is_code"] = row["part"].kind == Part.Kind.CODE
            if not self.feedback:
                row["status"], row["message"], row["details"] = "", "", {}
            else:
                # A code part's tests: each visible one, the hidden ones' count, the output.
                row["details"] = results.get(row["part"].key, {}).get("details") or {}
        return rows

    @cached_property
    def changes(self) -> list[regrade.VerdictChange]:
        """The regrades that changed this verdict, once the student may see verdicts."""
        if not self.feedback or self.submission.status != Submission.Status.GRADED:
            return []
        return regrade.verdict_changes(self.submission)

    @property
    def summary(self) -> str:
        """One line for screen readers once grading is over."""
        submission = self.submission
        if submission.status == Submission.Status.FAILED:
            return f"Grading failed. {submission.message}"
        if not self.feedback:
            return HELD_MESSAGE
        percent = round((submission.score or 0) * 100)
        return f"Graded: score {percent}%{', all correct' if self.is_correct else ''}."


__all__ = ["HELD_MESSAGE", "PartView", "StudentView", "SubmissionView", "VariantError"]
