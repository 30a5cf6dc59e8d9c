"""The course (modules, problem sets, exercises, parts) and students' work (submissions)."""

from __future__ import annotations

import pickle
import re
import threading
import time
from datetime import datetime, timedelta
from html import escape

import markdown
import nh3
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

import grading
from exercises import routines, variants
from exercises.definition import ExerciseDef, PartDef, parse, part_data, takes_several


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
    class Kind(models.TextChoices):
        PRACTICE = "practice", "practice: feedback at once"
        QUIZ = "quiz", "quiz: feedback when released"

    class LatePolicy(models.TextChoices):
        ACCEPT = "accept", "accept late answers in full"
        PENALTY = "penalty", "accept late answers with a penalty"
        REFUSE = "refuse", "refuse answers after the due date"

    module = models.ForeignKey(Module, models.CASCADE, related_name="problem_sets")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)
    opens = models.DateTimeField(
        null=True, blank=True, help_text="Students see the exercises from then on; empty: always."
    )
    due = models.DateTimeField(null=True, blank=True, help_text="Empty: no due date.")
    late_policy = models.CharField(
        max_length=10, choices=LatePolicy.choices, default=LatePolicy.ACCEPT
    )
    late_penalty = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="The share of the score a late answer loses, from 0 to 1.",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRACTICE)
    time_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Quizzes: minutes from when a student starts it (they are asked to "
        "confirm); extra time for a student is added to it; empty: no limit.",
    )
    feedback_released = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Quizzes: from then on students see their verdicts, scores and the "
        "solutions; empty: not yet.",
    )

    class Meta:
        ordering = ["module__order", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("ex-problem-set", args=[self.slug])

    def is_open(self, now=None) -> bool:
        return self.opens is None or self.opens <= (now or timezone.now())

    def shown_exercises(self) -> list[Exercise]:
        """What students see of the set once it is open: its own published exercises and
        those of the question bank placed in it (`Placement`), each as shown here
        (`Exercise.placed_in`), in order."""
        own = list(Exercise.published.filter(problem_set=self).select_related("problem_set"))
        if not self.is_open():
            return own
        placements = (
            Placement.objects.filter(problem_set=self, exercise__status=Exercise.Status.PUBLISHED)
            .exclude(exercise__problem_set=self)
            .select_related("exercise")
        )
        placed = [(p.order, p.exercise.placed_in(self)) for p in placements]
        for exercise in own:
            exercise.problem_set = self
        shown = [(e.order, e) for e in own] + placed
        return [e for _, e in sorted(shown, key=lambda pair: (pair[0], pair[1].pk))]

    def exercise_shown(self, slug: str) -> Exercise:
        """The published exercise `slug` as shown in this set (its own or placed in it);
        Exercise.DoesNotExist if it is not shown here."""
        exercise = (
            Exercise.objects.filter(status=Exercise.Status.PUBLISHED, slug=slug)
            .filter(models.Q(problem_set=self) | models.Q(placements__problem_set=self))
            .select_related("problem_set__module")
            .distinct()
            .get()
        )
        return exercise.placed_in(self)

    def due_for(self, student) -> datetime | None:
        """The student's due date: their extension's, if they have one. Read once per
        student for this instance, which lives as long as a request does."""
        known = self.__dict__.setdefault("_due_for", {})
        if student.pk not in known:
            extension = Extension.objects.filter(student=student, problem_set=self).first()
            known[student.pk] = extension.due if extension is not None else self.due
        return known[student.pk]

    def remember_due(self, student, extension_due: datetime | None) -> None:
        """Tell `due_for` the student's extension, read with the exercise
        (`Exercise.published.for_student`): its due date, or None for none."""
        self.__dict__.setdefault("_due_for", {})[student.pk] = (
            extension_due if extension_due is not None else self.due
        )

    def is_late(self, now=None, student=None) -> bool:
        due = self.due if student is None else self.due_for(student)
        return due is not None and (now or timezone.now()) > due

    @property
    def is_quiz(self) -> bool:
        return self.kind == self.Kind.QUIZ

    def shows_feedback(self, now=None) -> bool:
        """Whether students see verdicts and solutions: always in practice, in a quiz
        once the instructor has released them."""
        if not self.is_quiz:
            return True
        return self.feedback_released is not None and self.feedback_released <= (
            now or timezone.now()
        )

    def start_for(self, student, now=None) -> QuizStart | None:
        """The student's start of this quiz, recorded the first time they open it (a
        timed quiz's page asks them to start it first: `exercises.quiz`)."""
        if not self.is_quiz:
            return None
        start, _ = QuizStart.objects.get_or_create(
            student=student, problem_set=self, defaults={"started": now or timezone.now()}
        )
        return start

    def minutes_for(self, student_id: int) -> int | None:
        """A timed quiz's minutes for the student: the time limit and their extra time."""
        if not self.is_quiz or self.time_limit is None:
            return None
        extra = (
            Accommodation.objects.filter(student_id=student_id, problem_set=self)
            .values_list("extra_minutes", flat=True)
            .first()
        )
        return self.time_limit + (extra or 0)

    def closes_for(self, student_id: int) -> datetime | None:
        """When the student may no longer answer whatever their time: their due date
        (their extension's, if they have one) where late answers are refused."""
        if self.late_policy != self.LatePolicy.REFUSE:
            return None
        extension = (
            Extension.objects.filter(student_id=student_id, problem_set=self)
            .values_list("due", flat=True)
            .first()
        )
        return extension or self.due

    def ends_for(self, student) -> datetime | None:
        """When the student's time for this quiz runs out, if it is timed and started."""
        if not self.is_quiz or self.time_limit is None:
            return None
        start = QuizStart.objects.filter(student=student, problem_set=self).first()
        return start.ends() if start is not None else None


class Extension(models.Model):
    """A later due date for one student on one problem set; the late policy applies
    from then."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="extensions")
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="extensions")
    due = models.DateTimeField(help_text="The student's own due date.")
    reason = models.CharField(max_length=200, blank=True, help_text="For the record.")

    class Meta:
        ordering = ["problem_set", "student"]
        constraints = [
            models.UniqueConstraint(fields=["student", "problem_set"], name="extension_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.problem_set.slug}: due {self.due:%Y-%m-%d %H:%M}"


class QuizStart(models.Model):
    """When a student started a quiz: their time limit runs from then."""

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="quiz_starts"
    )
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="starts")
    started = models.DateTimeField(default=timezone.now)
    # When the server submitted the student's last drafts, their time being up
    # (`exercises.quiz.finish`); cleared when they are given extra time.
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["student", "problem_set"], name="quizstart_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student} started {self.problem_set.slug}"

    def ends(self) -> datetime | None:
        """When the student's time runs out: the time limit and their extra time from
        their start, but never after a due date that refuses late answers."""
        problem_set = self.problem_set
        minutes = problem_set.minutes_for(self.student_id)
        if minutes is None:
            return None
        ends = self.started + timedelta(minutes=minutes)
        closes = problem_set.closes_for(self.student_id)
        return ends if closes is None else min(ends, closes)


class Accommodation(models.Model):
    """Extra time for one student in one timed quiz (an agreed accommodation)."""

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="accommodations"
    )
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="accommodations")
    extra_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1)], help_text="Added to the quiz's time limit."
    )
    reason = models.CharField(max_length=200, blank=True, help_text="For the record.")

    class Meta:
        ordering = ["problem_set", "student"]
        constraints = [
            models.UniqueConstraint(fields=["student", "problem_set"], name="accommodation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.student} on {self.problem_set.slug}: {self.extra_minutes} extra minutes"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # A student whose time had run out may have time again: their drafts are
        # submitted when the new time is up.
        QuizStart.objects.filter(
            student_id=self.student_id, problem_set_id=self.problem_set_id
        ).update(finished=None)


class QuizDraft(models.Model):
    """What a student has typed into an exercise of a timed quiz, saved as they type.
    When their time is up, the server submits it for them (`exercises.quiz.finish`)."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="drafts")
    exercise = models.ForeignKey("Exercise", models.CASCADE, related_name="drafts")
    # The quiz it was typed in: the exercise's own set or one it is placed in.
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="drafts")
    answers = models.JSONField(default=dict, help_text="What the student typed, per part key.")
    saved = models.DateTimeField(default=timezone.now)
    # The submission the server made of this draft at time-up, if it made one.
    submission = models.ForeignKey(
        "Submission", models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-saved", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "exercise", "problem_set"], name="quizdraft_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"draft of {self.student} on {self.exercise.slug}"

    def save(self, *args, **kwargs):
        _record_placement(self)
        super().save(*args, **kwargs)


class PublishedManager(models.Manager):
    """What students may see: published exercises of problem sets that have opened."""

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(status=Exercise.Status.PUBLISHED)
            .filter(
                models.Q(problem_set__opens__isnull=True)
                | models.Q(problem_set__opens__lte=timezone.now())
            )
        )

    def for_student(self, student):
        """With the problem set and, as `student_due`, the student's extension on it (its
        due date, or None): one query, where reading the extension took one more."""
        extensions = Extension.objects.filter(problem_set=models.OuterRef("problem_set"))
        return (
            self.get_queryset()
            .select_related("problem_set")
            .annotate(
                student_due=models.Subquery(extensions.filter(student=student).values("due")[:1])
            )
        )


class Exercise(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="exercises")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    prompt = models.TextField(help_text="Markdown, with LaTeX maths between \\( \\) or $$ $$.")
    solution = models.TextField(blank=True, help_text="Markdown; shown after a correct answer.")
    order = models.PositiveIntegerField(default=0)
    # Bumped whenever the exercise or its parts change, and recorded with each verdict.
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.PUBLISHED,
        help_text="Students see only published exercises.",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per name: {"int": [2, 9], "step": 1, "exclude": [0]}, '
        '{"decimal": [0.1, 0.5], "step": 0.1} or {"choice": [1, 2, 5]}.',
    )
    constraints = models.JSONField(
        default=list,
        blank=True,
        help_text='Comparisons the values must meet: ["a != b", "1 <= a/b <= 3"].',
    )
    max_attempts = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Empty: as many attempts as a student likes.",
    )
    retry_penalty = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="The share of the score each attempt after the first loses, from 0 to 1.",
    )
    plot = models.JSONField(
        default=dict,
        blank=True,
        help_text='A picture: {"kind": "function", "f": "sqrt(x)", "x": [0, 9], "y": [0, 4], '
        '"title": "...", "description": "...", "tangent_at": 4}; see docs/authoring.md.',
    )

    objects = models.Manager()
    published = PublishedManager()

    class Meta:
        ordering = ["problem_set__module__order", "problem_set__order", "order", "id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.is_placed:
            raise ValueError(f"{self.slug} is shown as placed in another set: not saved so.")
        moved_from = None
        if self.pk is not None:
            moved_from = (
                Exercise.objects.filter(pk=self.pk).values_list("problem_set_id", flat=True).first()
            )
        super().save(*args, **kwargs)
        if moved_from is not None and moved_from != self.problem_set_id:
            _follow_move(self, moved_from)

    def get_absolute_url(self) -> str:
        return self.url_for("exercise")

    def url_for(self, page: str) -> str:
        """The URL of one of the exercise's pages ("exercise", "run", "quiz-draft") in the
        problem set it is shown in: its own set's, or a placement's under that set."""
        if self.is_placed:
            return reverse(f"ex-placed-{page}", args=[self.problem_set.slug, self.slug])
        return reverse(f"ex-{page}", args=[self.slug])

    def placed_in(self, problem_set: ProblemSet) -> Exercise:
        """This exercise as shown in `problem_set`, its own set or one it is placed in
        (`Placement`): its problem set is that set, for its dates, attempts, quiz and
        the students' work done there. In memory only: a placed exercise is never saved."""
        if problem_set.pk != self.problem_set_id:
            self.__dict__.setdefault("home_set_id", self.problem_set_id)
            self.problem_set = problem_set
        return self

    @property
    def is_placed(self) -> bool:
        """Shown in a set other than its own (see `placed_in`)."""
        home = self.__dict__.get("home_set_id")
        return home is not None and home != self.problem_set_id

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def attempt_limit(self) -> int | None:
        """The attempts a student has: a quiz gives one unless the exercise says more."""
        if self.max_attempts is None and self.problem_set.is_quiz:
            return 1
        return self.max_attempts

    def needs_variants(self, parts=None) -> bool:
        """Whether students get their own variant: there are parameters or computed answers."""
        parts = self.parts.all() if parts is None else parts
        return bool(self.parameters) or any(p.expected_routine for p in parts)

    def values_for_seed(self, seed: int) -> dict:
        return variants.draw(self.parameters, self.constraints, seed)

    def expected_answers(self, values: dict, parts=None) -> dict[str, str]:
        """Each part's expected answer for these parameter values ("" for a code part)."""
        parts = self.parts.all() if parts is None else parts
        return {p.key: p.expected_answer(values) for p in parts}

    def definition(self, parts=None):
        """The exercise as its definition (`exercises.definition.ExerciseDef`)."""
        return ExerciseDef.from_model(self, parts)

    def variant_for(self, student, keep: bool = True) -> Variant | None:
        """The student's variant, drawn and stored the first time they are shown it.
        With `keep` False (staff viewing as the student) nothing is written: a variant
        not drawn yet is the one the student's seed will give, unsaved."""
        if not self.needs_variants():
            return None
        # Read with the exercise (`student_reads.published_exercise`), once: a later call
        # reads again, as it always did.
        read = self.__dict__.pop("_variant_read", None)
        # A read that found none (the student's first sight of the exercise) is not
        # repeated: the insert below finds a variant drawn since by another request.
        absent = read is not None and read[:2] == (student.pk, self.problem_set_id)
        if absent and read[2] is not None:
            variant = read[2]
        elif absent:
            variant = None
        else:
            variant = Variant.objects.filter(
                student=student, exercise=self, problem_set_id=self.problem_set_id
            ).first()
        if variant is not None:
            # This exercise, not a second copy read again for the variant.
            variant.exercise = self
            if keep:
                variant.complete()
            return variant
        # A placement draws a variant of its own: a quiz does not ask the practice's question.
        name = f"{self.slug}@{self.problem_set.slug}" if self.is_placed else self.slug
        seed = variants.seed_for(settings.SECRET_KEY, student.pk, name)
        values = self.values_for_seed(seed)
        drawn = {
            "seed": seed,
            "values": values,
            "expected": self.expected_answers(values),
            "expected_version": self.version,
        }
        if not keep:
            return Variant(
                student=student, exercise=self, problem_set_id=self.problem_set_id, **drawn
            )
        key = dict(student=student, exercise=self, problem_set_id=self.problem_set_id)
        if not absent:
            variant, _ = Variant.objects.get_or_create(**key, defaults=drawn)
            return variant
        try:
            with transaction.atomic():
                return Variant.objects.create(**key, **drawn)
        except IntegrityError:
            # Drawn by another request of the student's in the meantime: the same seed,
            # the same values; theirs is kept.
            variant = Variant.objects.get(**key)
            variant.exercise = self
            return variant

    def prompt_html(self) -> str:
        return render_markdown(self.prompt)

    def solution_html(self) -> str:
        return render_markdown(self.solution)

    def with_parts(self, max_age: float | None = None) -> Exercise:
        """This exercise with `self.parts.all()` filled in from this process's copy of
        its version's parts, read from the database once per version (see `_PARTS`), or
        again when the copy is older than `max_age` seconds."""
        key = (self.pk, self.version)
        with _PARTS_LOCK:
            read, rows = _PARTS.get(key, (0.0, None))
        if rows is not None and max_age is not None and time.monotonic() - read > max_age:
            rows = None
        if rows is None:
            names = [f.attname for f in Part._meta.concrete_fields]
            rows = pickle.dumps(list(Part.objects.filter(exercise_id=self.pk).values_list(*names)))
            with _PARTS_LOCK:
                if len(_PARTS) >= _PARTS_MAX:
                    _PARTS.clear()
                _PARTS[key] = (time.monotonic(), rows)
        # Fresh instances for each request: nothing one request does to a part (or to
        # its JSON fields) reaches another.
        names = [f.attname for f in Part._meta.concrete_fields]
        parts = [Part.from_db(self._state.db, names, values) for values in pickle.loads(rows)]
        for part in parts:
            part.exercise = self
        # What prefetch_related("parts") leaves behind: `self.parts.all()` reads it.
        cached = self.parts.all()
        cached._result_cache = parts
        cached._prefetch_done = True
        self._prefetched_objects_cache = {
            **getattr(self, "_prefetched_objects_cache", {}),
            "parts": cached,
        }
        return self


# The parts of each exercise version that this process has read, pickled. Parts change
# only with their exercise's version (the admin and load_course bump it when they save
# a change), so a request reads them with no query. Saving or deleting a part or an
# exercise in this process drops its entry too, for the changes made without a bump
# (a new exercise getting its first parts, tests).
# Each with the time (`time.monotonic()`) it was read.
_PARTS: dict[tuple[int, int], tuple[float, bytes]] = {}
_PARTS_MAX = 2048
_PARTS_LOCK = threading.Lock()


class Placement(models.Model):
    """An exercise of the question bank shown in a problem set other than its own (a
    practice exercise in a quiz, say) without copying it: students' attempts, scores,
    variants, drafts and the set's dates, extensions and quiz time are this set's.
    The exercise's own set needs no placement."""

    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="placements")
    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="placements")
    order = models.PositiveIntegerField(
        default=0, help_text="Among the set's exercises, as an exercise's own order."
    )

    class Meta:
        ordering = ["problem_set", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["problem_set", "exercise"], name="placement_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} in {self.problem_set.slug}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.exercise_id and self.problem_set_id == self.exercise.problem_set_id:
            raise ValidationError("This is the exercise's own problem set: it is there already.")


def _follow_move(exercise: Exercise, old_set_id: int) -> None:
    """An exercise moved to another set takes its students' work along, as before there
    was a question bank, unless they have worked on it in the new set already (it was
    placed there): then each set keeps its own. A placement in its new own set goes."""
    new_set_id = exercise.problem_set_id
    Placement.objects.filter(exercise=exercise, problem_set_id=new_set_id).delete()
    work = [Submission, Variant, QuizDraft, CodeRun]
    if any(m.objects.filter(exercise=exercise, problem_set_id=new_set_id).exists() for m in work):
        return
    for model in work:
        model.objects.filter(exercise=exercise, problem_set_id=old_set_id).update(
            problem_set_id=new_set_id
        )


def _record_placement(work) -> None:
    """Students' work made without naming its set was made in the exercise's set as
    shown (`Exercise.placed_in`), which is its own unless placed."""
    if work.problem_set_id is None:
        work.problem_set = work.exercise.problem_set


class Part(models.Model):
    class Kind(models.TextChoices):
        EXPRESSION = "expression"
        NUMERIC = "numeric"
        VECTOR = "vector"
        MATRIX = "matrix"
        POINTS = "points"
        CHOICE = "choice"
        CODE = "code"

    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="parts")
    key = models.SlugField(max_length=20, help_text="Short name, unique within the exercise.")
    label = models.CharField(
        max_length=300, blank=True, help_text="Markdown, shown beside the input."
    )
    hint = models.TextField(
        blank=True,
        help_text="Markdown; offered to a student once they have answered this part wrongly.",
    )
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EXPRESSION)
    expected = models.TextField(
        blank=True,
        help_text="The correct answer, in the syntax students use; {{a}} for a parameter.",
    )
    expected_routine = models.JSONField(
        default=dict,
        blank=True,
        help_text='Instead of expected: {"routine": "newton_raphson_steps", '
        '"args": {"f": "x^3 - {{a}}x - 5", "x0": 2, "steps": 2}}.',
    )
    variables = models.JSONField(default=list, blank=True, help_text='e.g. ["x", "y"]')
    domain = models.JSONField(default=dict, blank=True, help_text='e.g. {"x": [0, 10]}')
    functions = models.JSONField(
        default=list, blank=True, help_text='e.g. ["sigma(z) = 1/(1+e^(-z))", "f"]'
    )
    options = models.JSONField(
        default=list, blank=True, help_text='Choice parts: [{"key": "a", "text": "..."}, ...]'
    )
    multiple = models.BooleanField(
        null=True,
        blank=True,
        default=None,
        help_text="Choice parts: several options may be chosen (check boxes), or exactly one "
        "(radio buttons); empty: several when the expected answer names several.",
    )
    scoring = models.CharField(
        max_length=20,
        choices=[
            ("all-or-nothing", "all or nothing"),
            ("partial", "partial credit: a share per right pick, a penalty per wrong one"),
        ],
        default="all-or-nothing",
        help_text="Choice parts with several answers: how a selection is scored.",
    )
    penalty = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Partial credit: the share of the part each wrong pick loses, from 0 to 1; "
        "empty: as much as a right pick earns.",
    )
    mistakes = models.JSONField(
        default=list, blank=True, help_text='Known mistakes: [{"answer": "...", "message": "..."}]'
    )
    rtol = models.FloatField(null=True, blank=True)
    atol = models.FloatField(null=True, blank=True)
    weight = models.FloatField(default=1.0)
    code = models.JSONField(
        default=dict,
        blank=True,
        help_text='Code parts: {"function": "...", "reference": {"routine": "..."}, '
        '"tests": [{"args": [...]}]}; see docs/authoring.md.',
    )
    tests = models.JSONField(
        default=list,
        blank=True,
        help_text='Sample answers and their verdicts: [{"answer": "2x", "expect": "correct"}, ...]',
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "key"], name="part_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug}/{self.key}"

    def label_html(self, values: dict | None = None) -> str:
        return render_markdown(variants.render_text(self.label, values or {}), inline=True)

    def hint_html(self, values: dict | None = None) -> str:
        return render_markdown(variants.render_text(self.hint, values or {}))

    def case(self, answer: str, variant: Variant | None = None, mistakes: bool = True) -> dict:
        """The engine's view of this part with a student's answer (for their variant);
        without its known mistakes when `mistakes` is False (reading an answer needs none)."""
        values = variant.values if variant is not None else {}
        if variant is not None:
            expected = variant.expected_answers().get(self.key, "")
        else:
            expected = self.expected_answer({})
        seed = variant.seed if variant is not None else 0
        return self.case_for(answer, expected, values, seed, mistakes=mistakes)

    def expected_answer(self, values: dict) -> str:
        if self.kind == self.Kind.CODE:
            return ""
        return routines.expected_answer(self.expected, self.expected_routine, values)

    @property
    def takes_several(self) -> bool:
        """A choice part answered with check boxes (several keys), not radio buttons."""
        return takes_several(self.multiple, self.expected, self.expected_routine)

    def definition(self):
        """The part as its definition (`exercises.definition.PartDef`)."""
        return parse(PartDef, part_data(self))

    def case_for(
        self, answer: str, expected: str, values: dict, seed: int = 0, mistakes: bool = True
    ) -> dict:
        """The engine's case, built by the part's definition."""
        return self.definition().case_for(answer, expected, values, seed, mistakes=mistakes)

    def validate_answer(self, answer: str, variant: Variant | None = None) -> str | None:
        """None if the answer can be read as an answer of this part's kind, else why not.
        Reading needs no known mistakes: their templates are not filled in for it."""
        verdict = grading.validate(self.case(answer, variant, mistakes=False))
        return None if verdict is None else verdict.message


def code_queue_for(exercises) -> str | None:
    """The Celery queue for work on these exercises (a queryset): the code queue when
    any has a code part, since only code workers can start sandboxes; else None, the
    default queue."""
    has_code = Part.objects.filter(exercise__in=exercises, kind=Part.Kind.CODE).exists()
    return settings.CODE_QUEUE if has_code else None


@receiver([post_save, post_delete], sender=Part)
@receiver([post_save, post_delete], sender=Exercise)
def _forget_parts(sender, instance, **kwargs) -> None:
    exercise_id = instance.exercise_id if sender is Part else instance.pk
    with _PARTS_LOCK:
        for key in [key for key in _PARTS if key[0] == exercise_id]:
            del _PARTS[key]


class Variant(models.Model):
    """The parameter values one student got for one exercise, kept once they are shown,
    so that editing the exercise never changes a question a student has seen."""

    student = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="variants")
    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="variants")
    # The set it was drawn in: the exercise's own, or one it is placed in.
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="variants")
    seed = models.BigIntegerField()
    values = models.JSONField(default=dict, blank=True)
    # The expected answers for these values, as of `expected_version` of the exercise:
    # recomputed (same values) when the author has changed the exercise since.
    expected = models.JSONField(default=dict, blank=True)
    expected_version = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["student", "exercise", "problem_set"], name="variant_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise.slug} for {self.student} ({variants.describe(self.values)})"

    def save(self, *args, **kwargs):
        _record_placement(self)
        super().save(*args, **kwargs)

    def complete(self) -> None:
        """Give a parameter declared since the variant was drawn its value for this seed,
        keeping every value the student has already seen."""
        missing = [name for name in self.exercise.parameters if name not in self.values]
        if not missing:
            return
        fresh = self.exercise.values_for_seed(self.seed)
        self.values = {**self.values, **{name: fresh[name] for name in missing}}
        self.expected_version = 0
        Variant.objects.filter(pk=self.pk).update(values=self.values, expected_version=0)

    def expected_answers(self) -> dict[str, str]:
        exercise = self.exercise
        if self.expected_version != exercise.version:
            self.expected = exercise.expected_answers(self.values)
            self.expected_version = exercise.version
            Variant.objects.filter(pk=self.pk).update(
                expected=self.expected, expected_version=self.expected_version
            )
        return self.expected

    def prompt_html(self) -> str:
        return render_markdown(variants.render_text(self.exercise.prompt, self.values))

    def solution_html(self) -> str:
        return render_markdown(variants.render_text(self.exercise.solution, self.values))


class QuestionTestRun(models.Model):
    """The question tests of one version of an exercise, run for many seeds."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PASSED = "passed"
        FAILED = "failed"

    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="test_runs")
    exercise_version = models.PositiveIntegerField()
    seeds = models.PositiveIntegerField(default=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    checked = models.PositiveIntegerField(default=0, help_text="Sample answers checked.")
    failures = models.JSONField(
        default=list, blank=True, help_text="Each failure: seed, part, answer, expected and got."
    )
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.exercise.slug} v{self.exercise_version}: {self.status}"

    def summary(self) -> str:
        if self.status == self.Status.PENDING:
            return "running"
        if self.status == self.Status.PASSED:
            return f"passed: {self.checked} answers over {self.seeds} seed(s)"
        return f"failed: {len(self.failures)} of {self.checked} answers"


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        GRADING = "grading"
        GRADED = "graded"
        FAILED = "failed"

    class Queue(models.TextChoices):
        # Which workers grade it: code runs in sandboxes on workers of its own, so that a
        # slow run never holds up the maths answers. The Celery queue's name is a setting.
        GRADING = "grading"
        CODE = "code"

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="submissions"
    )
    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="submissions")
    # The set it was made in: the exercise's own, or one it is placed in. Attempts,
    # dates, quizzes and scores are counted per set.
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="submissions")
    variant = models.ForeignKey(
        Variant, models.CASCADE, null=True, blank=True, related_name="submissions"
    )
    attempt = models.PositiveIntegerField()
    answers = models.JSONField(help_text="What the student typed, per part key.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    score = models.FloatField(null=True, blank=True, help_text="0 to 1, when graded.")
    # What the attempt is worth: retries and lateness cost a share of the score.
    multiplier = models.FloatField(default=1.0)
    late = models.BooleanField(default=False)
    credit = models.FloatField(
        null=True, blank=True, help_text="The score after penalties: what the gradebook counts."
    )
    results = models.JSONField(
        default=dict, blank=True, help_text="Per part key: status and message."
    )
    message = models.TextField(
        blank=True, help_text="Shown to the student when grading failed or is delayed."
    )
    # For staff only: why grading is delayed (no sandbox for code could be started).
    problem = models.TextField(blank=True)
    queue = models.CharField(max_length=10, choices=Queue.choices, default=Queue.GRADING)
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
    # When a regrade last changed the verdict: the pages read the verdict history (its
    # gradings) only for such a submission, so a poll costs no query more.
    regraded = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "exercise", "problem_set", "attempt"],
                name="submission_attempt_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "lease_expires"], name="submission_queue_idx"),
            models.Index(fields=["student", "exercise"], name="submission_student_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.student} {self.exercise.slug} ({self.status})"

    def save(self, *args, **kwargs):
        _record_placement(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("ex-submission", args=[self.pk])

    def placed_exercise(self) -> Exercise:
        """Its exercise as shown in the set the submission was made in (`placed_in`)."""
        return self.exercise.placed_in(self.problem_set)

    @property
    def is_pending(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.GRADING}

    @property
    def is_correct(self) -> bool:
        return self.status == self.Status.GRADED and self.score is not None and self.score >= 1

    @property
    def feedback_shown(self) -> bool:
        """Whether the student may see this attempt's verdict (not yet, in an unreleased quiz)."""
        return self.problem_set.shows_feedback()

    def is_slow(self) -> bool:
        """Pending for longer than a student should wait without being told."""
        return self.is_pending and timezone.now() - self.created > timedelta(seconds=10)

    def part_results(self) -> list[dict]:
        """Each part with what the student typed and, once graded, its verdict."""
        rows = []
        values = self.variant.values if self.variant_id else {}
        for part in self.exercise.parts.all():
            result = self.results.get(part.key, {})
            rows.append(
                {
                    "part": part,
                    "label_html": part.label_html(values) if part.label else "",
                    "answer": self.answers.get(part.key, ""),
                    "status": result.get("status", ""),
                    "message": result.get("message", ""),
                    # Code parts: the share of tests passed and each visible test's feedback.
                    "score": result.get("score"),
                    "details": result.get("details") or {},
                }
            )
        return rows


class Grading(models.Model):
    """One verdict on a submission, kept when a regrade replaces it.

    The submission's own results, score and versions are those of its latest grading:
    what the student sees. These records are the history, for staff.
    """

    submission = models.ForeignKey(Submission, models.CASCADE, related_name="gradings")
    # The regrade that produced it; empty for the grading at submission time.
    job = models.ForeignKey(
        "RegradeJob", models.SET_NULL, null=True, blank=True, related_name="gradings"
    )
    score = models.FloatField(null=True, blank=True)
    credit = models.FloatField(null=True, blank=True)
    results = models.JSONField(default=dict, blank=True)
    exercise_version = models.PositiveIntegerField(null=True, blank=True)
    engine_version = models.CharField(max_length=20, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            # A regrade message delivered twice records its verdict once.
            models.UniqueConstraint(fields=["submission", "job"], name="grading_once_per_job"),
        ]

    def __str__(self) -> str:
        return f"submission #{self.submission_id}: {self.score} (v{self.exercise_version})"


class RegradeJob(models.Model):
    """Grading again every graded submission of an exercise or a problem set, in the
    background, after the author has fixed something."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    exercise = models.ForeignKey(
        Exercise, models.CASCADE, null=True, blank=True, related_name="regrade_jobs"
    )
    problem_set = models.ForeignKey(
        ProblemSet, models.CASCADE, null=True, blank=True, related_name="regrade_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Shown to each student whose verdict the job changes, beside the old and new score.
    reason = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why, for the students whose verdict changes. Empty: the exercise's "
        "version change is given.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Verdicts that changed.")
    # Submissions are regraded in id order; the last one done, so a job resumes there.
    cursor = models.PositiveBigIntegerField(default=0)
    # The last submission when the job was asked for: later ones are graded as they come.
    until = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    # Touched by the worker as it goes: a running job untouched for long was abandoned.
    heartbeat = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exercise__isnull=False) | models.Q(problem_set__isnull=False),
                name="regradejob_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"regrade of {self.target} ({self.status})"

    @property
    def target(self) -> Exercise | ProblemSet | None:
        return self.exercise or self.problem_set

    def submissions(self):
        """The submissions the job regrades: graded ones, in id order."""
        qs = Submission.objects.filter(status=Submission.Status.GRADED, pk__lte=self.until)
        if self.exercise_id:
            qs = qs.filter(exercise_id=self.exercise_id)
        else:
            # Made in the set: its own exercises' and those placed in it.
            qs = qs.filter(problem_set_id=self.problem_set_id)
        return qs.order_by("pk")

    def progress(self) -> str:
        if self.status == self.Status.QUEUED:
            return f"queued: {self.total} submission(s)"
        text = f"{self.status}: {self.done} of {self.total}, {self.changed} verdict(s) changed"
        return f"{text}: {self.message}" if self.message else text


class CodeRun(models.Model):
    """A run of a code part's visible tests on a student's source: feedback before they
    submit, which costs no attempt. Run on the code queue like code submissions."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        # No sandbox could be started: the run waits and the sweep sends it again.
        DELAYED = "delayed"
        FAILED = "failed"

    student = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="code_runs")
    exercise = models.ForeignKey(Exercise, models.CASCADE, related_name="code_runs")
    # The set it was run in: the exercise's own, or one it is placed in.
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, related_name="code_runs")
    variant = models.ForeignKey(
        Variant, models.SET_NULL, null=True, blank=True, related_name="code_runs"
    )
    part_key = models.CharField(max_length=20)
    source = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The verdict: {"status", "message", "details"}, as a code part's result in a submission.
    result = models.JSONField(default=dict, blank=True)
    # For the student while it waits or when it failed; `problem` is for staff.
    message = models.TextField(blank=True)
    problem = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    last_sent = models.DateTimeField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "created"], name="coderun_status_idx")]

    def __str__(self) -> str:
        return f"run #{self.pk} of {self.exercise.slug}:{self.part_key} by {self.student} ({self.status})"

    def save(self, *args, **kwargs):
        _record_placement(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("ex-run-result", args=[self.pk])

    @property
    def is_pending(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING, self.Status.DELAYED}


class AnswerStats(models.Model):
    """The most frequent wrong answers to each part of an exercise, equivalent answers
    counted together; computed in the background (see `exercises.answer_stats`)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"

    exercise = models.OneToOneField(Exercise, models.CASCADE, related_name="answer_stats")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Per part key: {"wrong": n, "groups": [{"answer", "count", "also", "by"}, ...]}.
    parts = models.JSONField(default=dict, blank=True)
    submissions = models.PositiveIntegerField(default=0, help_text="Graded submissions read.")
    requested = models.DateTimeField(default=timezone.now)
    computed = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "answer stats"

    def __str__(self) -> str:
        return f"wrong answers to {self.exercise.slug} ({self.status})"


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
