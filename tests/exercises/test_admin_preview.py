"""The admin's preview: an exercise as a student sees it for a chosen seed, with its
expected answers, for staff only."""

from __future__ import annotations

import pytest

from exercises.models import Exercise, Variant
from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db


def make_randomised(**kwargs) -> Exercise:
    return make_exercise(
        parameters={"a": {"int": [2, 50]}},
        prompt="Differentiate \\( {{a}}x^2 \\).",
        solution="It is \\( {{2*a}}x \\).",
        parts=[
            {
                "key": "a",
                "kind": "expression",
                "label": "Slope for a = {{a}}",
                "expected": "{{2*a}}x",
                "variables": ["x"],
            }
        ],
        **kwargs,
    )


def preview_url(exercise: Exercise, seed=None) -> str:
    url = f"/admin/exercises/exercise/{exercise.pk}/preview/"
    return url if seed is None else f"{url}?seed={seed}"


def test_it_shows_the_variant_of_a_seed_with_its_expected_answers(client, charlie):
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    a = exercise.values_for_seed(5)["a"]
    client.force_login(charlie)

    body = client.get(preview_url(exercise, 5)).content.decode()

    assert f"Differentiate \\( {a}x^2 \\)." in body
    assert f"Slope for a = {a}" in body
    assert f"({2 * a})x" in body  # the expected answer
    assert f"It is \\( {2 * a}x \\)." in body  # the solution, always shown to staff
    assert f"a = {a}" in body
    assert "draft" in body
    # Previewing draws nothing for the instructor.
    assert not Variant.objects.exists()


def test_it_previews_seed_zero_by_default_and_ignores_a_bad_seed(client, charlie):
    exercise = make_randomised()
    a = exercise.values_for_seed(0)["a"]
    client.force_login(charlie)
    for url in (preview_url(exercise), preview_url(exercise, "not-a-number")):
        assert f"Differentiate \\( {a}x^2 \\)." in client.get(url).content.decode()


def test_it_shows_why_a_variant_cannot_be_shown(client, charlie):
    exercise = make_exercise(
        parameters={"a": {"int": [1, 1]}},
        parts=[{"key": "a", "kind": "numeric", "expected": "{{1/(a - 1)}}"}],
    )
    client.force_login(charlie)
    response = client.get(preview_url(exercise, 0))
    assert response.status_code == 200
    assert "This variant cannot be shown" in response.content.decode()


def test_it_links_the_preview_from_the_change_page(client, charlie):
    exercise = make_randomised()
    client.force_login(charlie)
    page = client.get(f"/admin/exercises/exercise/{exercise.pk}/change/").content.decode()
    assert preview_url(exercise) in page


def test_it_keeps_students_and_strangers_out_of_the_preview(client, alice):
    exercise = make_randomised()
    response = client.get(preview_url(exercise, 1))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(alice)
    response = client.get(preview_url(exercise, 1))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "({2 * exercise.values_for_seed(1)['a']})x" not in response.content.decode()


def test_it_answers_a_bad_exercise_id_with_404(client, charlie):
    client.force_login(charlie)
    assert client.get("/admin/exercises/exercise/999999/preview/").status_code == 404
    assert client.get("/admin/exercises/exercise/abc/preview/").status_code == 404
