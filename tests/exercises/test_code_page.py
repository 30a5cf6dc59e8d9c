"""A code part on the exercise page, in its verdict, in the API and in the admin's
preview: the editor's text area and its starter, "Run the visible tests" only where
feedback is shown, the per-test feedback in the verdict, and nothing of the reference,
the hidden tests or the sample answers where a student can read it."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from courseserver import urls as site_urls
from exercises.models import Exercise, ProblemSet, Variant
from tests.conftest import make_exercise, make_problem_set, make_submission

BUNDLE = "vendor/codemirror-6.0.2/codemirror.min.js"
EDITOR = "exercises/code-editor.js"
RUN_BUTTON = "Run the visible tests"
# Text that only the parts a student must never see contain.
REFERENCE_SOURCE = (
    "def forward_difference(f, x, h):\n    # REFERENCE-ONLY\n    return (f(x + h) - f(x)) / h\n"
)
HIDDEN_ARGUMENT = 12345.678
SAMPLE_ANSWER = "def forward_difference(f, x, h):\n    return 'SAMPLE-ONLY'\n"
SOURCE = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x)) / h\n"


def _run_view(request, slug):
    raise AssertionError("only reversed in these tests, never requested")


# The pages offer "Run the visible tests" only where `ex-run` exists: for these tests,
# a stand-in is added when the project does not route it.
try:
    reverse("ex-run", args=["x"])
    urlpatterns = site_urls.urlpatterns
except NoReverseMatch:
    urlpatterns = [
        path("exercises/<slug:slug>/run/", _run_view, name="ex-run"),
        *site_urls.urlpatterns,
    ]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def make_code_exercise(**kwargs) -> Exercise:
    """forward_difference, with a parameter in its starter and one hidden test."""
    code = {
        "function": "forward_difference",
        "signature": "forward_difference(f, x, h)",
        "starter": "def forward_difference(f, x, h):\n    h = {{a}}\n    return 0.0\n",
        "reference": {"source": REFERENCE_SOURCE},
        "tests": [
            {"name": "x^2 at 3", "args": [{"fn": "x^2", "of": ["x"]}, 3, 0.001]},
            {"args": [{"fn": "x^2", "of": ["x"]}, HIDDEN_ARGUMENT, 0.1], "visible": False},
        ],
    }
    part = {
        "key": "fd",
        "kind": "code",
        "label": "Write `forward_difference(f, x, h)`.",
        "code": code,
        "tests": [{"answer": SAMPLE_ANSWER, "expect": "incorrect"}],
    }
    kwargs.setdefault("parameters", {"a": {"int": [100, 999]}})
    kwargs.setdefault("prompt", "Estimate a derivative in Python.")
    return make_exercise(parts=[part], **kwargs)


def make_held_quiz() -> ProblemSet:
    return make_problem_set(kind=ProblemSet.Kind.QUIZ)


def starter_for(student, exercise: Exercise) -> str:
    a = Variant.objects.get(student=student, exercise=exercise).values["a"]
    return f"def forward_difference(f, x, h):\n    h = {a}\n    return 0.0\n"


def textarea(page: str, key: str = "fd") -> str:
    """The text area's opening tag and its text, up to the closing tag."""
    start = page.index(f'<textarea id="answer-{key}"')
    return page[start : page.index("</textarea>", start)]


def textarea_text(page: str, key: str = "fd") -> str:
    tag_and_text = textarea(page, key)
    # HTML drops the newline right after the opening tag.
    return html.unescape(tag_and_text[tag_and_text.index(">") + 2 :])


@pytest.fixture
def code_feedback(settings, tmp_path):
    """The verdict includes exercises/_code_feedback.html; where the project has none yet,
    a stand-in that shows what it is given."""
    try:
        get_template("exercises/_code_feedback.html")
    except TemplateDoesNotExist:
        folder = tmp_path / "exercises"
        folder.mkdir()
        (folder / "_code_feedback.html").write_text(
            '<div class="code-feedback">{{ result.message }}'
            "{% for t in result.details.tests %}<p>{{ t.call }} expected {{ t.expected }}, "
            "received {{ t.received }}</p>{% endfor %}"
            "{% if result.details.hidden %}<p>hidden: {{ result.details.hidden.passed }} of "
            "{{ result.details.hidden.total }}</p>{% endif %}"
            "<pre>{{ result.details.output }}</pre></div>"
        )
        templates = [dict(t) for t in settings.TEMPLATES]
        templates[0]["DIRS"] = [tmp_path, *templates[0].get("DIRS", [])]
        settings.TEMPLATES = templates


# ---------------------------------------------------------------- the exercise page


def test_it_shows_a_code_part_as_a_text_area_with_the_students_starter(alice_client, alice):
    exercise = make_code_exercise()
    page = alice_client.get(exercise.get_absolute_url()).content.decode()

    tag = textarea(page)
    assert 'name="answer-fd"' in tag
    assert "data-code-editor" in tag
    assert textarea_text(page) == starter_for(alice, exercise)
    assert '<code class="signature">forward_difference(f, x, h)</code>' in page
    assert '<label for="answer-fd">' in page
    # No maths preview and no maths typing help for a code part.
    assert 'id="preview-fd"' not in page
    assert "Type maths as on a calculator" not in page
    assert f"/static/{BUNDLE}" in page
    assert f"/static/{EDITOR}" in page


def test_it_loads_no_code_editor_on_a_maths_page(alice_client):
    exercise = make_exercise()
    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert "codemirror" not in page
    assert EDITOR not in page
    assert "<textarea" not in page
    assert RUN_BUTTON not in page


def test_it_keeps_the_typed_source_when_it_cannot_be_read(alice_client, alice):
    exercise = make_code_exercise()
    source = "def forward_difference(f, x, h):\n    return (f(x + h) - f(x) / h\n"
    response = alice_client.post(exercise.get_absolute_url(), {"answer-fd": source})

    assert response.status_code == 422
    page = response.content.decode()
    assert textarea_text(page) == source
    assert 'aria-invalid="true"' in textarea(page)
    assert 'id="error-fd"' in page
    assert "line" in page[page.index('id="error-fd"') :]
    assert not exercise.submissions.exists()


def test_it_starts_from_the_last_attempts_source(alice_client, alice):
    exercise = make_code_exercise()
    make_submission(alice, exercise, answers={"fd": SOURCE}, status="graded", score=1.0)
    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert textarea_text(page) == SOURCE


def test_it_offers_running_the_visible_tests_once_javascript_shows_it(alice_client):
    exercise = make_code_exercise()
    page = alice_client.get(exercise.get_absolute_url()).content.decode()

    assert f'data-run-url="{reverse("ex-run", args=[exercise.slug])}"' in page
    button = page[page.rindex("<button", 0, page.index(RUN_BUTTON)) : page.index(RUN_BUTTON)]
    assert 'type="button"' in button
    assert 'data-part="fd"' in button
    assert " hidden" in button
    assert '<div class="run-output" id="run-fd"' in page
    assert 'aria-live="polite"' in page[page.index('id="run-fd"') :]
    # The main submit button is still the form's.
    assert '<button type="submit" aria-describedby="submit-standing">Submit</button>' in page


def test_it_does_not_offer_running_the_tests_in_a_quiz_whose_feedback_is_held(alice_client):
    exercise = make_code_exercise(problem_set=make_held_quiz())
    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert "data-code-editor" in page
    assert RUN_BUTTON not in page
    assert "data-run-url" not in page
    assert 'id="run-fd"' not in page


def test_it_offers_running_the_tests_once_the_quiz_feedback_is_released(alice_client):
    released = timezone.now() - timedelta(minutes=1)
    exercise = make_code_exercise(
        problem_set=make_problem_set(kind=ProblemSet.Kind.QUIZ, feedback_released=released)
    )
    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert RUN_BUTTON in page


def test_it_shows_nothing_of_the_reference_hidden_tests_or_samples_on_the_page(alice_client):
    exercise = make_code_exercise()
    page = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert "REFERENCE-ONLY" not in page
    assert str(HIDDEN_ARGUMENT) not in page
    assert "SAMPLE-ONLY" not in page


# ---------------------------------------------------------------- the verdict


def graded_code_submission(student, exercise: Exercise, **kwargs):
    details = {
        "score": 0.5,
        "tests": [
            {
                "name": "x^2 at 3",
                "call": "forward_difference(f, 3, 0.001)",
                "passed": False,
                "expected": "6.001",
                "received": "EXPECTED-9.5",
                "message": "a different value",
            }
        ],
        "hidden": {"passed": 1, "total": 1},
        "output": "PRINTED-by-the-student",
    }
    results = {
        "fd": {
            "status": "incorrect",
            "message": "1 of 2 tests passed.",
            "score": 0.5,
            "details": details,
        }
    }
    kwargs.setdefault("status", "graded")
    kwargs.setdefault("score", 0.0)
    return make_submission(student, exercise, answers={"fd": SOURCE}, results=results, **kwargs)


def test_it_shows_the_per_test_feedback_and_the_source_in_the_verdict(
    alice_client, alice, code_feedback
):
    exercise = make_code_exercise()
    submission = graded_code_submission(alice, exercise)
    page = alice_client.get(submission.get_absolute_url()).content.decode()

    escaped = html.escape(SOURCE, quote=False)
    # tabindex: the keyboard reaches the block to scroll a long line sideways.
    assert f'<pre class="typed-code" tabindex="0"><code>{escaped}</code></pre>' in page
    assert '<pre class="code-output" tabindex="0">' in page
    assert '<li class="result-incorrect">' in page
    assert "forward_difference(f, 3, 0.001)" in page
    assert "EXPECTED-9.5" in page
    assert "PRINTED-by-the-student" in page
    assert '<code class="typed">' not in page


def test_it_shows_nothing_of_the_tests_while_a_quiz_holds_the_feedback(
    alice_client, alice, code_feedback
):
    exercise = make_code_exercise(problem_set=make_held_quiz())
    submission = graded_code_submission(alice, exercise)
    page = alice_client.get(submission.get_absolute_url()).content.decode()

    assert "feedback will be released later" in page
    assert html.escape(SOURCE, quote=False) in page
    for told in ("forward_difference(f, 3, 0.001)", "EXPECTED-9.5", "PRINTED", "1 of 2"):
        assert told not in page
    assert '<li class="result-submitted">' in page


def test_it_says_why_a_pending_code_answer_waits(alice_client, alice):
    exercise = make_code_exercise()
    message = "Running your code is delayed: your answer is saved and will be graded."
    submission = make_submission(
        alice, exercise, answers={"fd": SOURCE}, status="queued", message=message
    )
    fragment = alice_client.get(f"{submission.get_absolute_url()}?fragment=1").content.decode()
    assert 'data-status="queued"' in fragment
    assert message in fragment
    assert "Grading…" in fragment


# ---------------------------------------------------------------- the API


def test_it_gives_the_api_what_the_student_writes_and_nothing_else(client, alice):
    exercise = make_code_exercise()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=alice).key}"
    response = client.get(f"/api/exercises/{exercise.slug}/")

    assert response.status_code == 200
    (part,) = response.json()["parts"]
    assert part["kind"] == "code"
    assert part["function"] == "forward_difference"
    assert part["signature"] == "forward_difference(f, x, h)"
    assert part["starter"] == starter_for(alice, exercise)
    assert not {"code", "reference", "tests", "expected"} & set(part)
    text = response.content.decode()
    assert "REFERENCE-ONLY" not in text
    assert str(HIDDEN_ARGUMENT) not in text
    assert "SAMPLE-ONLY" not in text


def test_it_leaves_the_code_fields_out_of_a_maths_part_in_the_api(client, alice):
    exercise = make_exercise()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=alice).key}"
    (part,) = client.get(f"/api/exercises/{exercise.slug}/").json()["parts"]
    assert not {"function", "signature", "starter"} & set(part)


# ---------------------------------------------------------------- the admin's preview


def test_the_admin_preview_shows_the_starter_and_the_reference(client, charlie):
    exercise = make_code_exercise(status=Exercise.Status.DRAFT)
    a = exercise.values_for_seed(3)["a"]
    client.force_login(charlie)
    page = client.get(f"/admin/exercises/exercise/{exercise.pk}/preview/?seed=3").content.decode()

    starter = f"def forward_difference(f, x, h):\n    h = {a}\n    return 0.0\n"
    assert textarea_text(page) == starter
    assert "REFERENCE-ONLY" in page
    # Staff preview a student's page, but run nothing from it.
    assert RUN_BUTTON not in page
    assert f"/static/{EDITOR}" in page


def test_the_admin_preview_names_a_reference_routine_and_its_description(client, charlie):
    exercise = make_code_exercise()
    part = exercise.parts.get()
    part.code = {**part.code, "reference": {"routine": "forward_difference"}}
    part.save()
    client.force_login(charlie)
    page = client.get(f"/admin/exercises/exercise/{exercise.pk}/preview/").content.decode()
    assert '<code class="reference">forward_difference</code>' in page
    assert "forward-difference estimate" in page


def test_it_keeps_students_out_of_the_reference(client, alice):
    exercise = make_code_exercise()
    client.force_login(alice)
    response = client.get(f"/admin/exercises/exercise/{exercise.pk}/preview/")
    assert response.status_code == 302
    assert "REFERENCE-ONLY" not in response.content.decode()
