"""A grid of input cells beside a vector or matrix answer writes the brackets."""

import re

import pytest
from playwright.sync_api import expect

from exercises.models import Submission
from tests.browser.conftest import screenshot
from tests.conftest import make_exercise

pytestmark = pytest.mark.browser


@pytest.fixture
def grid_exercise(course):
    return make_exercise(
        problem_set=course["quick"].problem_set,
        slug="quick-grid",
        title="A gradient and a Hessian",
        prompt="The gradient and the Hessian of \\( x^2 + xy \\).",
        parts=[
            {"key": "g", "kind": "vector", "expected": "[2x + y, x]", "variables": ["x", "y"]},
            {"key": "h", "kind": "matrix", "expected": "[[2, 1], [1, 0]]", "variables": []},
        ],
    )


def test_the_cells_write_the_answer_into_its_box(page, student, grid_exercise):
    page.goto(grid_exercise.get_absolute_url())
    hessian = page.locator("#answer-h")
    cells = page.get_by_role("group", name="Answer h, entry by entry (2 by 2)").locator("input")
    expect(cells).to_have_count(4)

    cells.nth(0).fill("2")
    # The arrow keys move by cell: right at the end of a cell, down a row.
    cells.nth(0).press("ArrowRight")
    expect(cells.nth(1)).to_be_focused()
    page.keyboard.type("1")
    page.keyboard.press("ArrowDown")
    expect(cells.nth(3)).to_be_focused()
    page.keyboard.type("0")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(cells.nth(2)).to_be_focused()
    page.keyboard.type("1")

    expect(hessian).to_have_value("[[2, 1], [1, 0]]")
    expect(page.locator("#preview-h")).to_have_attribute("data-state", "ok")
    screenshot(page, "exercise-answer-grid")

    # The vector's grid is a column; typing in the box fills it.
    page.locator("#answer-g").fill("(2x + y, x)")
    column = page.get_by_role("group", name="Answer g, entry by entry (2 entries)").locator("input")
    expect(column.nth(0)).to_have_value("2x + y")
    expect(column.nth(1)).to_have_value("x")

    # The form sends the boxes, as if the brackets had been typed.
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"#latest-attempt$"))
    submission = Submission.objects.get(student__username=student)
    assert submission.answers == {"g": "(2x + y, x)", "h": "[[2, 1], [1, 0]]"}
    # Back on the exercise, the grids hold the answers submitted.
    expect(page.locator("#latest-attempt")).to_contain_text("Graded: score")
    expect(hessian).to_have_value("[[2, 1], [1, 0]]")
    for n, entry in enumerate(["2", "1", "1", "0"]):
        expect(cells.nth(n)).to_have_value(entry)
    expect(column.nth(0)).to_have_value("2x + y")
    assert page.js_errors == []
