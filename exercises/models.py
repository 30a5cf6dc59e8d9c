"""The course (modules, problem sets, exercises, parts) and students' work (submissions)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import escape

import markdown
import nh3
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

import grading


class Module(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ex-module", args=[self.slug])


class ProblemSet(models.Model):
    module = models.ForeignKey(Module, models.CASCADE, related_name="problem_sets")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["module__order", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ex-problem-set", args=[self.slug])


class Exercise(models.Model):
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="exercises")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    prompt = models.TextField(help_text="Markdown, with LaTeX maths between \\( \\) or $$ $$.")
    solution = models.TextField(blank=True, help_text="Markdown; shown after a correct answer.")
    order = models.PositiveIntegerField(default=0)
    # Bumped whenever the exercise or its parts change, and recorded with each verdict.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["problem_set__module__order", "problem_set__order", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ex-exercise", args=[self.slug])

    def prompt_html(self) -> str:
        return render_markdown(self.prompt)

    def solution_html(self) -> str:
        return render_markdown(self.solution)


class Part(models.Model):
    class Kind(models.TextChoices):
        EXPRESSION = "expression"
        NUMERIC = "numeric"
        VECTOR = "vector"
        MATRIX = "matrix"
        POINTS = "points"
        CHOICE = "choice"

    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="parts")
    key = models.SlugField(max_length=20, help_text="Short name, unique within the exercise.")
    label = models.CharField(
        max_length=300, blank=True, help_text="Markdown, shown beside the input."
    )
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EXPRESSION)
    expected = models.TextField(help_text="The correct answer, in the syntax students use.")
    variables = models.JSONField(default=list, blank=True, help_text='e.g. ["x", "y"]')
    domain = models.JSONField(default=dict, blank=True, help_text='e.g. {"x": [0, 10]}')
    functions = models.JSONField(
        default=list, blank=True, help_text='e.g. ["sigma(z) = 1/(1+e^(-z))", "f"]'
    )
    options = models.JSONField(
        default=list, blank=True, help_text='Choice parts: [{"key": "a", "text": "..."}, ...]'
    )
    mistakes = models.JSONField(
        default=list, blank=True, help_text='Known mistakes: [{"answer": "...", "message": "..."}]'
    )
    rtol = models.FloatField(null=True, blank=True)
    atol = models.FloatField(null=True, blank=True)
    weight = models.FloatField(default=1.0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "key"], name="part_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug}/{self.key}"

    def label_html(self) -> str:
        return render_markdown(self.label, inline=True)

    def case(self, answer: str) -> dict:
        """The engine's view of this part with a student's answer."""
        case: dict = {"kind": self.kind, "expected": self.expected, "answer": answer}
        if self.variables:
            case["variables"] = list(self.variables)
        if self.domain:
            case["domain"] = dict(self.domain)
        if self.functions:
            case["functions"] = list(self.functions)
        if self.kind == self.Kind.CHOICE:
            case["options"] = [option["key"] for option in self.options]
        if self.mistakes:
            case["mistakes"] = list(self.mistakes)
        if self.rtol is not None:
            case["rtol"] = self.rtol
        if self.atol is not None:
            case["atol"] = self.atol
        return case

    def validate_answer(self, answer: str) -> str | None:
        """None if the answer can be read as an answer of this part's kind, else why not."""
        verdict = grading.validate(self.case(answer))
        return None if verdict is None else verdict.message


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        GRADING = "grading"
        GRADED = "graded"
        FAILED = "failed"

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="submissions"
    )
    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="submissions")
    attempt = models.PositiveIntegerField()
    answers = models.JSONField(help_text="What the student typed, per part key.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    score = models.FloatField(null=True, blank=True, help_text="0 to 1, when graded.")
    results = models.JSONField(
        default=dict, blank=True, help_text="Per part key: status and message."
    )
    message = models.TextField(blank=True, help_text="Shown to the student when grading failed.")
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    graded = models.DateTimeField(null=True, blank=True)
    # A worker owns the submission while lease_token is its own and lease_expires is ahead.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    last_sent = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0)
    exercise_version = models.PositiveIntegerField(null=True, blank=True)
    engine_version = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "exercise", "attempt"], name="submission_attempt_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires"], name="submission_queue_idx"),
            models.Index(fields=["student", "exercise"], name="submission_student_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.student} {self.exercise.slug} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("ex-submission", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.GRADING}

    @property
    def is_correct(self) -> bool:
        return self.status == self.Status.GRADED and self.score is not None and self.score >= 1

    def is_slow(self) -> bool:
        """Pending for longer than a student should wait without being told."""
        return self.is_pending and timezone.now() - self.created > timedelta(seconds=10)

    def part_results(self) -> list[dict]:
        """Each part with what the student typed and, once graded, its verdict."""
        rows = []
        for part in self.exercise.parts.all():
            result = self.results.get(part.key, {})
            rows.append(
                {
                    "part": part,
                    "label_html": part.label_html() if part.label else "",
                    "answer": self.answers.get(part.key, ""),
                    "status": result.get("status", ""),
                    "message": result.get("message", ""),
                }
            )
        return rows


_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)", re.DOTALL)


def render_markdown(text: str, inline: bool = False) -> str:
    """Markdown to sanitised HTML, with maths (\\( \\), \\[ \\], $$ $$) kept for KaTeX.

    Maths is taken out before Markdown runs (Markdown would read `x_1 ... x_2` as
    emphasis) and put back escaped, after sanitising.
    """
    maths: list[str] = []

    def stash(match: re.Match) -> str:
        maths.append(match.group(0))
        return f"MATHSPAN{len(maths) - 1}END"

    html = markdown.markdown(
        _MATH.sub(stash, text), extensions=["fenced_code", "tables", "sane_lists"]
    )
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    html = nh3.clean(html)
    return re.sub(r"MATHSPAN(\d+)END", lambda m: escape(maths[int(m.group(1))]), html)
