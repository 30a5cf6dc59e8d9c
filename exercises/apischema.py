"""The JSON API's OpenAPI schema: its requests and responses, and the view serving it.

The views in `exercises/api.py` build their bodies by hand; these serializers only
describe them, for drf-spectacular (`@extend_schema` on each view). They are never
used to read or write a body. The schemathesis run in the tests checks that every
response matches them, so a view that changes its body without changing its
description here fails a test.
"""

from __future__ import annotations

from functools import cache

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    renderer_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from exercises.models import CodeRun, Part, ProblemSet, Submission

# A part's verdict; "error" is a problem in the exercise itself, not the student's.
PART_STATUSES = ["correct", "incorrect", "invalid", "error"]
# In a submission, a part left blank is "unanswered": not graded, and it costs nothing.
SUBMITTED_PART_STATUSES = [*PART_STATUSES, "unanswered"]


class Error(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong, in words for the student.")


class SubmissionRefusal(Error):
    errors = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="422 only: per part key, why its answer could not be read.",
    )


class TokenRequest(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()


class TokenResponse(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class ExerciseLink(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()


class ProblemSetOutline(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    exercises = ExerciseLink(many=True, help_text="The published exercises, in order.")
    placed = ExerciseLink(
        many=True,
        help_text="Published exercises of other sets placed in this one (the question "
        "bank), in order, once the set has opened: the caller's work on them in this set "
        "is at `/api/sets/{set_slug}/exercises/{slug}/`.",
    )


class ModuleOutline(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    problem_sets = ProblemSetOutline(many=True)


class Option(serializers.Serializer):
    key = serializers.CharField(help_text="What to send as the answer to choose it.")
    text = serializers.CharField()


class PartShown(serializers.Serializer):
    key = serializers.CharField(help_text="The key of its answer in a submission.")
    kind = serializers.ChoiceField(choices=Part.Kind.choices)
    label = serializers.CharField(allow_blank=True)
    variables = serializers.ListField(child=serializers.CharField())
    options = Option(many=True, required=False, help_text="A choice part only.")
    multiple = serializers.BooleanField(
        required=False,
        help_text="A choice part only: several option keys may be sent (`a, c`), else exactly one.",
    )
    scoring = serializers.ChoiceField(
        choices=["all-or-nothing", "partial"],
        required=False,
        help_text="A choice part only: `partial` gives a share per right key and takes a "
        "share per wrong one.",
    )
    function = serializers.CharField(required=False, help_text="A code part only.")
    signature = serializers.CharField(required=False, help_text="A code part only.")
    starter = serializers.CharField(
        required=False, allow_blank=True, help_text="A code part only: the editor's first text."
    )
    hint = serializers.CharField(
        required=False, help_text="Once offered, after a wrong answer to the part."
    )


class ExerciseShown(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    prompt = serializers.CharField(help_text="Markdown with TeX, for the caller's variant.")
    parts = PartShown(many=True)
    max_attempts = serializers.IntegerField(allow_null=True, help_text="null: no limit.")
    attempts_used = serializers.IntegerField()
    due = serializers.DateTimeField(allow_null=True)
    late = serializers.BooleanField(help_text="Past the due date for the caller.")
    kind = serializers.ChoiceField(choices=ProblemSet.Kind.choices)
    quiz_ends = serializers.DateTimeField(
        allow_null=True, help_text="A quiz: when the caller's time is up."
    )
    feedback_released = serializers.BooleanField()
    best_score = serializers.FloatField(
        required=False, allow_null=True, help_text="Once the feedback is released."
    )
    solved = serializers.BooleanField(required=False, help_text="Once the feedback is released.")
    solution = serializers.CharField(required=False, help_text="Once it is revealed.")


class SubmissionRequest(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="Per part key, the answer as the student typed it.",
    )


class TestError(serializers.Serializer):
    type = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    line = serializers.IntegerField(allow_null=True)


class TestShown(serializers.Serializer):
    name = serializers.CharField()
    call = serializers.CharField()
    expected = serializers.CharField()
    passed = serializers.BooleanField()
    received = serializers.CharField(allow_blank=True)
    message = serializers.CharField(required=False)
    error = TestError(required=False, help_text="What the student's code raised.")


class HiddenTests(serializers.Serializer):
    passed = serializers.IntegerField()
    total = serializers.IntegerField()


class CodeDetails(serializers.Serializer):
    """A code part's feedback: the visible tests, the hidden ones' counts, the output."""

    tests = TestShown(many=True, required=False)
    hidden = HiddenTests(required=False)
    output = serializers.CharField(required=False, allow_blank=True)


class PartResult(serializers.Serializer):
    status = serializers.ChoiceField(choices=SUBMITTED_PART_STATUSES)
    message = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(
        required=False,
        help_text="A code part, or a choice with partial credit: the share earned, 0 to 1.",
    )
    details = CodeDetails(required=False, help_text="A code part only.")


class VerdictChange(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When the regrade changed the verdict.")
    old_score = serializers.FloatField(allow_null=True)
    new_score = serializers.FloatField(allow_null=True)
    old_credit = serializers.FloatField(allow_null=True)
    new_credit = serializers.FloatField(allow_null=True)
    reason = serializers.CharField(help_text="Why the answers were graded again.")


class SubmissionResult(serializers.Serializer):
    id = serializers.IntegerField()
    exercise = serializers.SlugField()
    attempt = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    late = serializers.BooleanField()
    answers = serializers.DictField(child=serializers.CharField())
    feedback_released = serializers.BooleanField()
    detail = serializers.CharField(
        required=False, help_text="While a quiz's feedback is held: that it is."
    )
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Why grading failed or is delayed (blank otherwise).",
    )
    score = serializers.FloatField(
        required=False, allow_null=True, help_text="Once released: 0 to 1, null until graded."
    )
    credit = serializers.FloatField(
        required=False, allow_null=True, help_text="Once released: the score after penalties."
    )
    parts = serializers.DictField(
        child=PartResult(), required=False, help_text="Once released: per part key."
    )
    regrades = VerdictChange(
        many=True,
        required=False,
        help_text="Once released: each regrade that changed the verdict, oldest first.",
    )


_WAITED = "Once graded or failed, when asked for with `Prefer: wait=N`: as the submission's."


class Accepted(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Submission.Status.choices)
    url = serializers.URLField(help_text="Where to poll for the verdict.")
    # The rest of SubmissionResult, when the request waited for the verdict and got it.
    exercise = serializers.SlugField(required=False, help_text=_WAITED)
    attempt = serializers.IntegerField(required=False, help_text=_WAITED)
    late = serializers.BooleanField(required=False, help_text=_WAITED)
    answers = serializers.DictField(child=serializers.CharField(), required=False)
    feedback_released = serializers.BooleanField(required=False, help_text=_WAITED)
    detail = serializers.CharField(required=False)
    message = serializers.CharField(required=False, allow_blank=True)
    score = serializers.FloatField(required=False, allow_null=True)
    credit = serializers.FloatField(required=False, allow_null=True)
    parts = serializers.DictField(child=PartResult(), required=False)
    regrades = VerdictChange(many=True, required=False)


class RunRequest(serializers.Serializer):
    part = serializers.CharField(help_text="The key of a code part.")
    answer = serializers.CharField(help_text="The Python source to run.")


class RunAccepted(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CodeRun.Status.choices)
    url = serializers.URLField(help_text="Where to poll for the result.")


class RunVerdict(serializers.Serializer):
    status = serializers.ChoiceField(choices=PART_STATUSES, required=False)
    message = serializers.CharField(required=False, allow_blank=True)
    score = serializers.FloatField(required=False)
    details = CodeDetails(required=False)


class RunResult(serializers.Serializer):
    status = serializers.ChoiceField(choices=CodeRun.Status.choices)
    result = RunVerdict(help_text="Empty until the run is done.")
    message = serializers.CharField(required=False, help_text="Why it waits, or why it failed.")


# ------------------------------------------------------------ parameters, errors

# The routes' own converters: anything else is no API URL at all.
SET_SLUG = OpenApiParameter(
    "set_slug",
    str,
    OpenApiParameter.PATH,
    required=True,
    pattern=r"^[-a-zA-Z0-9_]+$",
    description="The problem set's slug, as in the outline: the exercise's own set or one "
    "it is placed in.",
)
SLUG = OpenApiParameter(
    "slug",
    str,
    OpenApiParameter.PATH,
    required=True,
    pattern=r"^[-a-zA-Z0-9_]+$",
    description="The exercise's slug, as in the outline.",
)
ID = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 0},
    OpenApiParameter.PATH,
    required=True,
    description="The id the POST answered with.",
)


RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    location=OpenApiParameter.HEADER,
    required=True,
    description="Seconds to wait before trying again.",
    response=[429],
)


PREFER = OpenApiParameter(
    "Prefer",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "`wait=N` (RFC 7240): wait up to N seconds (at most the server's limit, 2 by "
        "default) for the verdict and answer with it, instead of polling. Without it, "
        "or when the server cannot wait just then, the answer comes at once."
    ),
)


def preference_applied(status_code: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Preference-Applied",
        str,
        location=OpenApiParameter.HEADER,
        required=False,
        description="`wait=N`, the seconds waited at most, when the wait was honoured.",
        response=[status_code],
    )


def ok(serializer, description: str) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


def error(description: str, serializer=Error) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


UNAUTHENTICATED = error("No token, or an unknown one.")
NO_EXERCISE = error("No published exercise has this slug.")
NO_PLACED_EXERCISE = error(
    "No such problem set, not open yet, or no published exercise of this slug shown in it."
)
NO_SUBMISSION = error("The caller has no submission with this id.")
NO_RUN = error("The caller has no run with this id.")
TOO_LARGE = error("The body is larger than the server accepts.")
NOT_JSON = error("The body is not sent as `application/json`.")
NO_CSRF = error("A signed-in browser session without its CSRF token.")
THROTTLED = error("Over a rate limit: `Retry-After` says when to try again.")
UNAVAILABLE = error("The exercise cannot be answered now because of a problem in it.")


# Requests as a client sends them (the schemathesis run sends them too).
TOKEN_EXAMPLE = OpenApiExample(
    "A demo student", value={"username": "student", "password": "student"}, request_only=True
)
SUBMISSION_EXAMPLE = OpenApiExample(
    "An expression and a choice",
    value={"answers": {"a": "2x cos(x^2)", "b": "B"}},
    request_only=True,
)
RUN_EXAMPLE = OpenApiExample(
    "A function",
    value={
        "part": "code",
        "answer": "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n",
    },
    request_only=True,
)


DATABASE_DOWN = (
    "The database is briefly unavailable (any operation): `Retry-After` says when to try again."
)


def database_unavailable(result: dict, generator, request, public) -> dict:
    """Every operation may answer 503 with `Retry-After` while the database is down
    (`courseserver.middleware`, before any view runs): a drf-spectacular post-processing
    hook, so that no operation's decorator has to say it."""
    header = {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before trying again.",
        }
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "503" in responses:
                # Another 503 of the operation's own comes without the header.
                responses["503"]["description"] += f" Or: {DATABASE_DOWN}"
                responses["503"]["headers"] = header
            else:
                responses["503"] = {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                    "description": DATABASE_DOWN,
                    "headers": {name: {**h, "required": True} for name, h in header.items()},
                }
    return result


# ------------------------------------------------------------ the schema itself


@cache
def document() -> dict:
    """The schema, as `manage.py spectacular` writes it to docs/openapi.yaml. Made once
    per process: it changes only with the code, and making it takes a while."""
    return SchemaGenerator().get_schema(request=None, public=True)


# Public, like the README that documents the same API: a client needs it before it has
# a token, and it holds nothing a student may not know.
@extend_schema(exclude=True)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@renderer_classes([OpenApiYamlRenderer, OpenApiJsonRenderer])
def schema(request: Request) -> Response:
    """YAML, or JSON with `?format=json` or `Accept: application/vnd.oai.openapi+json`."""
    return Response(document())
