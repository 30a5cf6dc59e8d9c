"""What the course keeps of LTI 1.3 beyond django-lti's own models.

django-lti (`lti_tool`) stores the platforms (`LtiRegistration`, `LtiDeployment`), the
tool's keys, and what launches tell: users by (registration, subject), contexts
(courses on the platform), resource links and line items. Here:

- `Account`: the site's user an LTI user signs in as. One per (issuer, subject), made
  on the first launch, never shared between platforms.
- `Placement`: what a resource link on a platform shows (a module, a problem set or an
  exercise) and the line item its scores go to.
- `ScorePost`: one score sent to a platform's gradebook, with its outcome, so that a
  failed one is seen by staff and can be sent again.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from exercises.models import Exercise, Module, ProblemSet


class Account(models.Model):
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="lti_account"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="lti_account_per_subject")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class Placement(models.Model):
    """A resource link on a platform and what it shows; its scores go to `line_item`."""

    resource_link = models.OneToOneField(
        "lti_tool.LtiResourceLink", models.CASCADE, related_name="placement"
    )
    module = models.ForeignKey(Module, models.CASCADE, null=True, blank=True)
    problem_set = models.ForeignKey(ProblemSet, models.CASCADE, null=True, blank=True)
    exercise = models.ForeignKey(Exercise, models.CASCADE, null=True, blank=True)
    line_item = models.ForeignKey(
        "lti_tool.LtiLineItem", models.SET_NULL, null=True, blank=True, related_name="placements"
    )
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.target} at {self.resource_link}"

    @property
    def target(self):
        return self.exercise or self.problem_set or self.module

    @property
    def graded(self) -> bool:
        """Whether scores go back: a problem set or an exercise, not a whole module."""
        return self.problem_set_id is not None or self.exercise_id is not None


class ScorePost(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    line_item = models.ForeignKey(
        "lti_tool.LtiLineItem",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="posts",
        help_text="Empty until the platform gives the link one.",
    )
    lti_user = models.ForeignKey("lti_tool.LtiUser", models.CASCADE, related_name="score_posts")
    student = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    placement = models.ForeignKey(Placement, models.CASCADE, related_name="posts")
    cause = models.CharField(max_length=100, help_text="What changed the score.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    score_given = models.FloatField(null=True, blank=True, help_text="What was sent.")
    score_maximum = models.FloatField(null=True, blank=True)
    tries = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="Why the last try failed.")
    created = models.DateTimeField(default=timezone.now)
    published = models.DateTimeField(
        null=True, blank=True, help_text="When the broker last took its task."
    )
    sent = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["status", "created"])]

    def __str__(self) -> str:
        return f"{self.student} to {self.line_item} ({self.get_status_display()})"
