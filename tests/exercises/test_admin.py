"""The admin: who gets in, and what staff can do with submissions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exercises import queue
from exercises.models import Submission
from tests.conftest import make_submission

pytestmark = pytest.mark.django_db


def test_it_keeps_students_out(alice_client):
    response = alice_client.get("/admin/exercises/submission/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_lets_instructors_edit_exercises_without_being_superusers(client, charlie, exercise):
    client.force_login(charlie)
    assert not charlie.is_superuser
    assert client.get(f"/admin/exercises/exercise/{exercise.pk}/change/").status_code == 200
    # They cannot manage user accounts.
    assert client.get("/admin/auth/user/").status_code == 403


def test_it_lists_stuck_and_failed_submissions(client, charlie, alice, exercise):
    old = timezone.now() - timedelta(hours=1)
    stuck = make_submission(alice, exercise, status="queued", created=old)
    failed = make_submission(alice, exercise, status="failed")
    fresh = make_submission(alice, exercise, status="queued")
    done = make_submission(alice, exercise, status="graded", created=old)
    client.force_login(charlie)
    response = client.get("/admin/exercises/submission/?attention=stuck")
    shown = {s.pk for s in response.context["cl"].result_list}
    assert shown == {stuck.pk, failed.pk}
    assert fresh.pk not in shown and done.pk not in shown


def test_it_requeues_from_the_admin(
    client, charlie, alice, exercise, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(queue, "send", lambda pk, queue="grading": sent.append(pk) or True)
    failed = make_submission(alice, exercise, status="failed", tries=3)
    client.force_login(charlie)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/exercises/submission/",
            {"action": "requeue", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Submission.Status.QUEUED
    assert failed.tries == 0
    assert sent == [failed.pk]
