"""A new student signs up and finds their way from the course to an exercise."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_up

pytestmark = pytest.mark.browser

MODULES = [
    "1. What is calculus?",
    "2. Multivariate calculus",
    "3. The multivariate chain rule and neural networks",
    "4. Taylor series and linearisation",
    "5. Intro to optimisation",
    "6. Regression",
]


def test_it_signs_up_a_new_student_and_shows_the_six_modules(page):
    page.goto("/")
    # Anonymous: the course asks for an account first.
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_role("link", name="Make an account").click()

    username = sign_up(page)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("button", name=f"Log out {username}")).to_be_visible()
    cards = page.locator("ol.cards > li")
    expect(cards).to_have_count(6)
    for n, title in enumerate(MODULES):
        expect(cards.nth(n).get_by_role("link")).to_have_text(title)
        expect(cards.nth(n)).to_contain_text(re.compile(r"0 of \d+ exercises solved"))
    screenshot(page, "course")
    assert page.js_errors == []


def test_it_leads_from_module_1_to_an_exercise(page, student):
    page.get_by_role("link", name=MODULES[0]).click()
    expect(page).to_have_url(re.compile(r"/modules/what-is-calculus/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(MODULES[0])
    sets = page.locator("ol.cards > li")
    expect(sets).to_have_count(3)
    expect(sets.first).to_contain_text("Derivatives from rise over run to the chain rule")
    expect(sets.last).to_contain_text("Programming")

    sets.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/sets/derivatives/$"))
    exercises = page.locator("ol.exercises > li")
    expect(exercises.first).to_contain_text("Rise over run")
    expect(exercises.first.locator(".badge")).to_have_text("not tried")

    exercises.first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/exercises/rise-over-run/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rise over run")
    expect(page.locator(".prompt")).to_contain_text("rise over run")
    expect(page.get_by_label("Gradient of the chord")).to_be_editable()
    expect(page.get_by_label("Forward-difference estimate")).to_be_editable()
    expect(page.locator("section.history")).to_contain_text("None yet.")
    # The breadcrumbs lead back up.
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("link", name=MODULES[0])).to_be_visible()
    assert page.js_errors == []
