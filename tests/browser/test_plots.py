"""Exercises with a picture show it as an SVG plot, which shows the answer once solved."""

import importlib.util
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import expected_answers

pytestmark = pytest.mark.browser

PLOTTED = "linearise-square-root"


@pytest.fixture(autouse=True)
def _plots_built():
    if importlib.util.find_spec("exercises.plots") is None:
        pytest.skip("SVG plots are not built yet (no exercises/plots.py)")


def test_it_shows_the_plot_and_the_answer_on_it_once_solved(page, student, browser_worker):
    page.goto(f"/exercises/{PLOTTED}/")
    plot = page.locator("figure.plot-figure svg.plot")
    expect(plot).to_be_visible()
    expect(plot).to_have_attribute("role", "img")
    expect(plot.locator("title")).not_to_be_empty()
    box = plot.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    series = plot.locator("g[data-series]")
    before = series.count()
    assert before > 0
    expect(page.locator("figure.plot-figure figcaption")).to_have_count(0)

    for key, answer in expected_answers(student, PLOTTED).items():
        page.locator(f"#answer-{key}").fill(answer)
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(rf"/exercises/{PLOTTED}/#latest-attempt$"))
    expect(page.locator("#latest-attempt")).to_contain_text("all correct")

    page.goto(f"/exercises/{PLOTTED}/")
    expect(page.locator("figure.plot-figure figcaption")).to_contain_text("solved")
    # What the exercise asked for is drawn now, as a series of its own.
    assert series.count() > before
    assert page.js_errors == []


def test_it_draws_no_plot_for_an_exercise_without_one(page, student):
    page.goto("/exercises/rise-over-run/")
    expect(page.locator("h1")).to_have_text("Rise over run")
    expect(page.locator("figure.plot-figure")).to_have_count(0)
