"""A regrade seen from the student's side: the attempt's page and the attempts list say
that the verdict changed, when, from what to what, and why."""

import re

import pytest
from playwright.sync_api import expect

from exercises import regrade
from exercises.models import Exercise

pytestmark = pytest.mark.browser

SUBMISSION_URL = re.compile(r"/submissions/\d+/$")


def test_it_shows_the_student_a_verdict_a_regrade_changed(page, student, monkeypatch):
    page.goto("/exercises/quick-power-rule/")
    page.get_by_label("Answer a").fill("x")
    page.get_by_role("button", name="Submit").click()
    # Back to the answers; the attempt's own page is a link away.
    page.wait_for_url(re.compile(r"/exercises/quick-power-rule/#latest-attempt$"))
    expect(page.locator("#verdict-a")).to_contain_text("Not correct")
    page.locator("#latest-attempt").get_by_role("link", name="Attempt 1").click()
    page.wait_for_url(SUBMISSION_URL)
    attempt = page.url
    expect(page.locator("#verdict [data-status]")).to_have_attribute("data-status", "graded")
    expect(page.locator("#verdict .score")).to_contain_text("0%")

    # The instructor fixes the exercise and regrades it; the job runs here, at once.
    monkeypatch.setattr(regrade, "send", lambda job_id: True)
    exercise = Exercise.objects.get(slug="quick-power-rule")
    exercise.parts.update(expected="x")
    exercise.version += 1
    exercise.save()
    job = regrade.start(exercise=exercise, reason="The expected answer had a typo.")
    while regrade.perform(job.pk) == "continued":
        pass

    page.goto(attempt)
    notice = page.get_by_role("region", name="This verdict was changed by a regrade")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("your score went from 0% to 100%")
    expect(notice).to_contain_text("The expected answer had a typo.")
    expect(notice.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(page.locator("#verdict .score")).to_contain_text("100%")

    page.goto("/exercises/quick-power-rule/")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="#1"))
    expect(row).to_contain_text("regraded")
    expect(row).to_contain_text("was 0%")
    assert page.js_errors == []
