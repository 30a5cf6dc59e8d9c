"""The shape of the grid of input cells offered for vector and matrix answers."""

import pytest

from exercises.answer_grid import answer_shape
from tests.conftest import make_exercise

pytestmark = pytest.mark.django_db


def make_part(kind, expected, **kwargs):
    part = {"key": "a", "kind": kind, "expected": expected, "variables": ["x", "y"]}
    part.update(kwargs)
    return make_exercise(parts=[part]).parts.get()


@pytest.mark.parametrize(
    ("kind", "expected", "shape"),
    [
        ("vector", "[2x, 2y]", "2"),
        ("vector", "(1, 2, 3)", "3"),
        ("vector", "[[1], [2], [3]]", "3"),
        ("vector", "[[1, 2, 3]]", "3"),
        ("matrix", "[[1, 2], [3, 4]]", "2x2"),
        ("matrix", "[[1, 2, 3], [4, 5, 6]]", "2x3"),
        ("matrix", "[[x]]", "1x1"),
        ("expression", "2x", ""),
        ("numeric", "2", ""),
        ("points", "[(1, 2)]", ""),
    ],
)
def test_it_sizes_the_grid_to_the_expected_shape(kind, expected, shape):
    assert answer_shape(make_part(kind, expected), {}) == shape


def test_it_follows_the_students_variant():
    part = make_part("vector", "[{{a}}, 2, 3]", variables=[])
    assert answer_shape(part, {"a": 5}) == "3"


def test_it_offers_no_grid_for_a_shape_it_cannot_tell():
    assert answer_shape(make_part("matrix", "[[1, 2], [3]]"), {}) == ""
    assert answer_shape(make_part("vector", "[1, 2"), {}) == ""
    assert answer_shape(make_part("vector", "[" + ", ".join(["1"] * 40) + "]"), {}) == ""


def test_the_exercise_page_gives_the_shape_and_no_expected_entry(alice_client):
    exercise = make_exercise(
        parts=[{"key": "m", "kind": "matrix", "expected": "[[7, 8], [9, 10]]", "variables": []}]
    )
    html = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert 'data-shape="2x2"' in html
    assert "answer-grid.js" in html
    assert "[[7, 8]" not in html


def test_an_expression_part_has_no_grid(alice_client, exercise):
    html = alice_client.get(exercise.get_absolute_url()).content.decode()
    assert "data-shape" not in html
