"""Partial submissions: a student answers only some parts; blank parts are not graded
and cost nothing (`exercises.scoring`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from exercises import gradebook
from exercises.management.commands.load_course import load_course
from exercises.models import Exercise, Submission
from exercises.presentation import StudentView
from exercises.scoring import UNANSWERED
from exercises.views import exercise_states
from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db

COURSE = Path(__file__).resolve().parents[2] / "course"


def make_two_part_exercise(**kwargs) -> Exercise:
    return make_exercise(
        [
            {"key": "a", "kind": "expression", "expected": "2x", "variables": ["x"]},
            {"key": "b", "kind": "expression", "expected": "3x^2", "variables": ["x"], "weight": 3},
        ],
        **kwargs,
    )


@pytest.fixture
def two_parts(db):
    return make_two_part_exercise()


@pytest.fixture
def api(client, alice):
    token = Token.objects.create(user=alice)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def submit_page(client, exercise, answers: dict, capture):
    with capture(execute=True):
        return client.post(
            f"/exercises/{exercise.slug}/", {f"answer-{k}": v for k, v in answers.items()}
        )


def test_it_grades_the_readmes_api_example(
    api, alice, tmp_path, eager_celery, django_capture_on_commit_callbacks
):
    # Only the file the README's example comes from, with the course's modules.
    shutil.copy(COURSE / "course.yaml", tmp_path / "course.yaml")
    (tmp_path / "01-what-is-calculus").mkdir()
    shutil.copy(
        COURSE / "01-what-is-calculus" / "derivatives.yaml", tmp_path / "01-what-is-calculus"
    )
    load_course(tmp_path, seeds=1)
    exercise = Exercise.objects.get(slug="chain-rule")
    assert exercise.is_published and exercise.parts.count() > 1

    # Exactly as the README sends it.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/exercises/chain-rule/submissions/",
            '{"answers": {"a": "2x cos(x^2)"}}',
            content_type="application/json",
        )

    assert response.status_code == 202, response.content
    data = api.get(response.json()["url"]).json()
    assert data["status"] == "graded"
    assert data["parts"]["a"]["status"] == "correct"
    for key in {p.key for p in exercise.parts.all()} - {"a"}:
        assert data["parts"][key]["status"] == UNANSWERED
    submission = Submission.objects.get()
    assert submission.student == alice
    assert submission.answers == {"a": "2x cos(x^2)"}
    assert submission.score == pytest.approx(1 / exercise.parts.count())


def test_it_grades_only_the_parts_answered_on_the_page(
    alice_client, two_parts, eager_celery, django_capture_on_commit_callbacks
):
    response = submit_page(
        alice_client, two_parts, {"a": "2x", "b": "  "}, django_capture_on_commit_callbacks
    )

    submission = Submission.objects.get()
    assert response["Location"] == f"{submission.exercise.get_absolute_url()}#latest-attempt"
    submission.refresh_from_db()
    assert submission.answers == {"a": "2x"}
    assert submission.results["a"]["status"] == "correct"
    assert submission.results["b"]["status"] == UNANSWERED
    assert "Not answered" in submission.results["b"]["message"]
    # The graded parts' credit over the whole exercise's weight.
    assert submission.score == pytest.approx(1 / 4)
    page = alice_client.get(submission.get_absolute_url())
    assert b"Not answered" in page.content


def test_it_tells_the_student_a_part_may_be_left_blank(alice_client, two_parts, exercise):
    assert (
        b"a part left blank is not graded"
        in alice_client.get(f"/exercises/{two_parts.slug}/").content
    )
    # Not where there is only one part.
    assert b"a part left blank" not in alice_client.get(f"/exercises/{exercise.slug}/").content


def test_it_refuses_an_all_blank_submission_without_using_an_attempt(alice_client, two_parts):
    two_parts.max_attempts = 1
    two_parts.save()

    response = alice_client.post(f"/exercises/{two_parts.slug}/", {"answer-a": "", "answer-b": " "})

    assert response.status_code == 422
    assert b"Answer at least one part" in response.content
    assert not Submission.objects.exists()


def test_it_refuses_an_all_blank_submission_from_the_api(api, two_parts):
    response = post_json(api, f"/api/exercises/{two_parts.slug}/submissions/", {"answers": {}})

    assert response.status_code == 422
    assert "Answer at least one part" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_it_still_refuses_an_unreadable_part_beside_a_blank_one(api, two_parts):
    response = post_json(
        api, f"/api/exercises/{two_parts.slug}/submissions/", {"answers": {"a": "2x +"}}
    )

    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"a"}
    assert not Submission.objects.exists()


def test_it_combines_the_best_of_each_part_across_attempts(
    alice, alice_client, two_parts, eager_celery, django_capture_on_commit_callbacks
):
    submit_page(alice_client, two_parts, {"a": "2x"}, django_capture_on_commit_callbacks)
    submit_page(alice_client, two_parts, {"b": "3x^2"}, django_capture_on_commit_callbacks)

    scores = sorted(Submission.objects.values_list("score", flat=True))
    assert scores == [pytest.approx(0.25), pytest.approx(0.75)]
    view = StudentView.for_student(two_parts, alice)
    assert view.best == pytest.approx(1.0)
    assert view.solved
    assert exercise_states(alice, [two_parts]) == {two_parts.pk: "solved"}
    row = next(r for r in gradebook.rows(two_parts.problem_set) if r[0] == alice.username)
    assert row[4] == pytest.approx(1.0)


def test_it_never_lowers_a_part_for_being_left_blank_later(
    alice, alice_client, two_parts, eager_celery, django_capture_on_commit_callbacks
):
    submit_page(alice_client, two_parts, {"a": "2x", "b": "x"}, django_capture_on_commit_callbacks)
    # A later attempt at (a) alone, wrong this time, and (b) left blank.
    submit_page(alice_client, two_parts, {"a": "3x"}, django_capture_on_commit_callbacks)

    assert Submission.objects.filter(status="graded").count() == 2
    view = StudentView.for_student(two_parts, alice)
    assert view.best == pytest.approx(0.25)
    assert not view.solved


def test_it_takes_each_parts_credit_from_its_own_attempt(
    alice, alice_client, eager_celery, django_capture_on_commit_callbacks
):
    exercise = make_two_part_exercise(retry_penalty=0.5)
    submit_page(alice_client, exercise, {"a": "2x"}, django_capture_on_commit_callbacks)
    submit_page(alice_client, exercise, {"b": "3x^2"}, django_capture_on_commit_callbacks)

    row = next(r for r in gradebook.rows(exercise.problem_set) if r[0] == alice.username)
    # (a) at full credit from the first attempt, (b) at half from the second.
    assert row[4] == pytest.approx(0.25 * 1 + 0.75 * 0.5)
