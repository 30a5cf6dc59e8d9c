"""The exercise admin's preview while editing: the unsaved form read by the engine, a
seed's variant, answers tried against it, and the staff preview's Submit."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from exercises import authoring_preview, variants
from exercises.models import Exercise, Part, Submission, Variant
from tests.conftest import FORWARD_DIFFERENCE, RIGHT_CODE, make_code_exercise, make_exercise
from tests.exercises.test_question_tests import change_data

pytestmark = pytest.mark.django_db

MISTAKE = "Bring down the 2 as a factor."


def make_randomised(**kwargs) -> Exercise:
    kwargs.setdefault("status", Exercise.Status.DRAFT)
    return make_exercise(
        parameters={"a": {"int": [2, 50]}},
        prompt="Differentiate \\( {{a}}x^2 \\).",
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "expected": "{{2*a}}x",
                "variables": ["x"],
                "mistakes": [{"answer": "{{a}}x", "message": MISTAKE}],
            }
        ],
        **kwargs,
    )


def read_url(exercise: Exercise | None = None) -> str:
    if exercise is None:
        return "/admin/exercises/exercise/authoring-preview/"
    return f"/admin/exercises/exercise/{exercise.pk}/authoring-preview/"


def try_url(exercise: Exercise | None = None) -> str:
    return read_url(exercise) + "try/"


@pytest.fixture
def staff(client, charlie):
    client.force_login(charlie)
    return client


# ---------------------------------------------------------------- reading the form


def test_it_reads_the_expected_answer_and_mistakes_of_the_unsaved_form(staff):
    exercise = make_randomised()
    # Typed, not saved: the preview reads the form, not the database.
    data = change_data(exercise, **{"parts-0-expected": "{{3*a}}x^2", "preview_seed": "4"})
    body = staff.post(read_url(exercise), data).json()
    a = exercise.values_for_seed(4)["a"]

    assert body["ok"] is True and body["seed"] == 4 and body["messages"] == []
    reading = body["readings"]["parts-0"]
    assert reading["expected"]["ok"] is True
    typed = variants.render_expression("{{3*a}}x^2", {"a": a})
    assert reading["expected"]["text"] == typed
    assert str(3 * a) in reading["expected"]["latex"] and "^{2}" in reading["expected"]["latex"]
    (mistake,) = reading["mistakes"]
    assert (
        mistake["ok"] is True
        and mistake["text"] == variants.render_expression("{{a}}x", {"a": a})
        and mistake["says"] == MISTAKE
    )
    # A student who types it gets its message, against the typed expected answer too.
    assert mistake["caught"] == {"ok": True}
    # The variant is drawn from the form too, with the typed expected answer.
    assert f"<code>a = {a}</code>" in body["html"]
    assert typed in body["html"]
    exercise.refresh_from_db()
    assert exercise.parts.get().expected == "{{2*a}}x"


def test_it_says_why_the_engine_refuses_an_expected_answer(staff):
    exercise = make_randomised()
    data = change_data(exercise, **{"parts-0-mistakes": [{"answer": "{{a}}x +", "message": "m"}]})
    body = staff.post(read_url(exercise), data).json()
    (mistake,) = body["readings"]["parts-0"]["mistakes"]
    assert mistake["ok"] is False and mistake["message"]


def test_it_says_when_a_known_mistake_would_not_be_caught(staff):
    exercise = make_randomised()
    data = change_data(
        exercise, **{"parts-0-mistakes": [{"answer": "x*{{2*a}}", "message": "Not a mistake."}]}
    )
    (mistake,) = staff.post(read_url(exercise), data).json()["readings"]["parts-0"]["mistakes"]
    assert mistake["ok"] is True
    assert mistake["caught"]["ok"] is False and "graded correct" in mistake["caught"]["message"]


def test_it_shows_the_definitions_messages_instead_of_a_preview_when_invalid(staff):
    exercise = make_randomised()
    data = change_data(exercise, parameters="{'a': {'int': [2, 5]}}")
    response = staff.post(read_url(exercise), data)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and "html" not in body
    assert any(m.startswith("Parameters:") for m in body["messages"])
    assert "No values" in body["readings"]["parts-0"]["expected"]["message"]


def test_it_previews_a_new_exercise_before_it_is_saved(staff, exercise):
    data = change_data(exercise, slug="brand-new", **{"parts-0-id": "", "parts-0-exercise": ""})
    data["parts-INITIAL_FORMS"] = 0
    before = Exercise.objects.count()
    body = staff.post(read_url(), data).json()
    assert body["ok"] is True, body["messages"]
    assert 'Expected: <code class="expected">2x</code>' in body["html"]
    assert Exercise.objects.count() == before


def test_it_gives_different_values_for_different_seeds(staff):
    exercise = make_randomised()
    seen = set()
    for seed in (0, 1, 2, 3):
        body = staff.post(
            read_url(exercise), {**change_data(exercise), "preview_seed": seed}
        ).json()
        seen.add(body["readings"]["parts-0"]["expected"]["text"])
        # The next seeds are listed with the one shown.
        assert f"Show seed {seed + 1}" in body["html"]
    assert len(seen) > 1


def test_it_refuses_a_bad_seed(staff):
    exercise = make_randomised()
    for seed in ("-1", "abc", str(2**63)):
        response = staff.post(read_url(exercise), {**change_data(exercise), "preview_seed": seed})
        assert response.status_code == 400
        assert "seed" in response.json()["messages"][0]


# ---------------------------------------------------------------- trying answers


def tried(client, exercise, seed, **answers):
    data = {**change_data(exercise), "preview_seed": seed}
    data.update({f"try-{key}": value for key, value in answers.items()})
    return client.post(try_url(exercise), data)


def test_it_grades_right_wrong_and_known_mistake_answers(staff):
    exercise = make_randomised()
    a = exercise.values_for_seed(7)["a"]

    right = tried(staff, exercise, 7, a=f"x*{2 * a}").json()["verdicts"]["a"]
    assert right["status"] == "correct"
    wrong = tried(staff, exercise, 7, a=f"{2 * a + 1}x").json()["verdicts"]["a"]
    assert wrong["status"] == "incorrect" and wrong["mistake"] is False
    known = tried(staff, exercise, 7, a=f"{a}x").json()["verdicts"]["a"]
    assert known == {"status": "incorrect", "message": MISTAKE, "mistake": True}
    unread = tried(staff, exercise, 7, a="2x +").json()["verdicts"]["a"]
    assert unread["status"] == "invalid" and unread["message"]
    assert not Submission.objects.exists() and not Variant.objects.exists()


def test_it_grades_against_the_unsaved_expected_answer(staff):
    exercise = make_exercise()
    data = {**change_data(exercise, **{"parts-0-expected": "3x^2"}), "try-a": "3x^2"}
    assert staff.post(try_url(exercise), data).json()["verdicts"]["a"]["status"] == "correct"


def test_it_grades_nothing_while_the_form_is_invalid(staff):
    exercise = make_randomised()
    data = {**change_data(exercise, title=""), "try-a": "2x"}
    response = staff.post(try_url(exercise), data)
    assert response.status_code == 422
    assert any("Title" in m for m in response.json()["messages"])


@pytest.fixture
def published(monkeypatch):
    """What was sent to the workers: (task name, args, queue)."""
    sent = []

    def publish(name, *args, queue=None, **kwargs):
        sent.append((name, args, queue))
        return True

    monkeypatch.setattr(authoring_preview, "publish", publish)
    return sent


def test_it_sends_a_code_answer_to_the_sandbox_on_the_code_queue(
    staff, charlie, published, settings
):
    settings.CODE_QUEUE = "code-here"
    exercise = make_code_exercise(with_maths=True, status=Exercise.Status.DRAFT)
    response = tried(staff, exercise, 0, a="2x", code=RIGHT_CODE)
    verdicts = response.json()["verdicts"]
    assert verdicts["a"]["status"] == "correct"
    code = verdicts["code"]
    assert code["status"] == "pending" and code["poll"]
    # Nothing ran here: the case went to the code queue.
    ((name, (token, case), queue),) = published
    assert name == authoring_preview.RUN_CODE and queue == "code-here"
    assert case["kind"] == "code" and case["answer"] == RIGHT_CODE
    assert staff.get(code["poll"]).json()["status"] == "pending"

    # The code worker's part, which runs it in the sandbox.
    assert authoring_preview.perform_code(token, case) == "correct"
    result = staff.get(code["poll"]).json()
    assert result["status"] == "correct"
    assert [t["passed"] for t in result["tests"]] == [True, True]
    assert result["hidden"] == {"passed": 1, "total": 1}
    assert not Submission.objects.exists()


def test_it_refuses_code_that_does_not_compile_without_sending_it(staff, published):
    exercise = make_code_exercise(status=Exercise.Status.DRAFT)
    verdict = tried(staff, exercise, 0, code="def f(:\n").json()["verdicts"]["code"]
    assert verdict["status"] == "invalid" and published == []


def test_it_shows_a_code_verdict_only_to_whoever_asked(client, staff, charlie, published):
    exercise = make_code_exercise(status=Exercise.Status.DRAFT)
    poll = tried(staff, exercise, 0, code=RIGHT_CODE).json()["verdicts"]["code"]["poll"]
    other = get_user_model().objects.create_user("dora", password="x", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="view_exercise"))
    client.force_login(other)
    assert client.get(poll).status_code == 404


# ---------------------------------------------------------------- who may


def test_it_keeps_students_and_anonymous_visitors_out(client, alice):
    exercise = make_randomised()
    for url in (read_url(exercise), try_url(exercise), read_url()):
        response = client.post(url, change_data(exercise))
        assert response.status_code == 302 and "/login/" in response["Location"]
        client.force_login(alice)
        response = client.post(url, change_data(exercise))
        assert response.status_code == 302 and "/login/" in response["Location"]
        client.logout()


def test_it_refuses_staff_who_may_not_edit_exercises(client):
    exercise = make_randomised()
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_exercise"))
    client.force_login(viewer)
    for url in (read_url(exercise), try_url(exercise), read_url()):
        assert client.post(url, change_data(exercise)).status_code == 403


def test_it_refuses_get_a_missing_exercise_and_requests_without_csrf(staff, charlie):
    exercise = make_randomised()
    assert staff.get(read_url(exercise)).status_code == 405
    missing = f"/admin/exercises/exercise/{exercise.pk + 100}/authoring-preview/"
    assert staff.post(missing, change_data(exercise)).status_code == 404
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(charlie)
    assert strict.post(read_url(exercise), change_data(exercise)).status_code == 403


# ---------------------------------------------------------------- the staff preview


def test_the_staff_preview_grades_what_is_submitted(staff):
    exercise = make_randomised()
    a = exercise.values_for_seed(5)["a"]
    url = f"/admin/exercises/exercise/{exercise.pk}/preview/?seed=5"

    page = staff.post(url, {"answer-a": f"{a}x"}).content.decode()
    assert "Not correct" in page and MISTAKE in page
    assert f'value="{a}x"' in page

    page = staff.post(url, {"answer-a": f"{2 * a}x"}).content.decode()
    assert "result-correct" in page and "Not correct" not in page
    assert not Submission.objects.exists() and not Variant.objects.exists()


def test_the_staff_preview_runs_code_answers_on_the_code_queue(staff, published):
    exercise = make_code_exercise(status=Exercise.Status.DRAFT)
    page = staff.post(
        f"/admin/exercises/exercise/{exercise.pk}/preview/", {"answer-code": RIGHT_CODE}
    ).content.decode()
    ((name, (token, case), _),) = published
    assert name == authoring_preview.RUN_CODE
    assert f"authoring-preview/code/{token}/" in page
    assert Part.objects.get(exercise=exercise).code == FORWARD_DIFFERENCE


def test_the_change_page_includes_the_preview(staff):
    exercise = make_randomised()
    page = staff.get(f"/admin/exercises/exercise/{exercise.pk}/change/").content.decode()
    assert 'id="authoring-preview"' in page
    assert f"/admin/exercises/exercise/{exercise.pk}/authoring-preview/" in page
    page = staff.get("/admin/exercises/exercise/add/").content.decode()
    assert 'data-read-url="/admin/exercises/exercise/authoring-preview/"' in page


def test_it_reads_each_kind_of_answer_json_from_the_form(staff):
    exercise = make_exercise(
        parts=[
            {
                "key": "v",
                "kind": "vector",
                "expected": "[1, 2]",
                "mistakes": [{"answer": "[2, 1]", "message": "Swapped."}],
            },
            {
                "key": "c",
                "kind": "choice",
                "expected": "b",
                "options": [{"key": "a", "text": "one"}, {"key": "b", "text": "two"}],
            },
        ],
        status=Exercise.Status.DRAFT,
    )
    body = staff.post(read_url(exercise), change_data(exercise)).json()
    assert body["ok"] is True, body["messages"]
    assert body["readings"]["parts-0"]["mistakes"][0]["ok"] is True
    assert body["readings"]["parts-1"]["expected"]["latex"] == r"\text{b}"
    verdicts = tried(staff, exercise, 0, v="[2, 1]", c="b").json()["verdicts"]
    assert verdicts["v"]["message"] == "Swapped." and verdicts["c"]["status"] == "correct"
    assert json.loads(json.dumps(verdicts)) == verdicts


def test_it_says_so_when_code_cannot_be_sent(staff, monkeypatch):
    exercise = make_code_exercise(status=Exercise.Status.DRAFT)
    monkeypatch.setattr(authoring_preview, "publish", lambda *args, **kwargs: False)
    verdict = tried(staff, exercise, 0, code=RIGHT_CODE).json()["verdicts"]["code"]
    assert verdict == {"status": "invalid", "message": authoring_preview.NO_QUEUE_MESSAGE}
