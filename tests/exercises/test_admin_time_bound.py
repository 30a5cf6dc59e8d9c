"""The admin's checks of an exercise run the engine through its time-bounded helpers,
so an expected answer the engine cannot settle never holds up the web process."""

from __future__ import annotations

import pytest

import grading
from exercises import question_tests
from exercises.models import Exercise
from tests.exercises.test_question_tests import change_data, change_url, make_randomised

pytestmark = pytest.mark.django_db


@pytest.fixture
def checks(monkeypatch):
    """Every call the admin's checks make to the engine, passed on to the real engine."""
    calls = []
    real = grading.check

    def spy(case, **kwargs):
        calls.append(kwargs)
        return real(case, **kwargs)

    monkeypatch.setattr(question_tests.grading, "check", spy)
    monkeypatch.setattr(question_tests, "send", lambda pk: True)
    return calls


def test_it_bounds_the_validation_and_publish_checks_in_time(client, charlie, checks, settings):
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)

    response = client.post(change_url(exercise), change_data(exercise, status="published"))

    exercise.refresh_from_db()
    assert response.status_code == 302 and exercise.status == Exercise.Status.PUBLISHED
    assert checks
    assert all(
        call.get("timeout") == settings.GRADING_TIMEOUT and not call.get("in_process")
        for call in checks
    )


def test_it_reports_an_expected_answer_the_engine_cannot_settle_in_time(
    client, charlie, checks, settings
):
    # No check can finish in a microsecond: each is abandoned, as a pathological one is.
    settings.GRADING_TIMEOUT = 1e-6
    exercise = make_randomised(status=Exercise.Status.DRAFT)
    client.force_login(charlie)

    response = client.post(change_url(exercise), change_data(exercise, title="Renamed"))

    exercise.refresh_from_db()
    assert response.status_code == 200
    assert "is not graded correct against itself" in response.content.decode()
    assert exercise.title != "Renamed"
