"""The page of one submission, and its verdict fragment that the page polls."""

import pytest

from tests.conftest import make_submission

pytestmark = pytest.mark.django_db


def test_it_shows_grading_while_queued(alice_client, alice, exercise):
    s = make_submission(alice, exercise, status="queued")
    response = alice_client.get(f"/submissions/{s.pk}/")
    assert response.status_code == 200
    assert b"Grading" in response.content
    assert b'data-poll="/submissions/' in response.content
    assert b'http-equiv="refresh"' in response.content  # works without JavaScript


def test_it_shows_the_verdict_when_graded(alice_client, alice, exercise):
    s = make_submission(
        alice,
        exercise,
        status="graded",
        score=0.0,
        results={"a": {"status": "incorrect", "message": "Check the sign."}},
    )
    response = alice_client.get(f"/submissions/{s.pk}/?fragment=1")
    assert response.status_code == 200
    assert b"Check the sign." in response.content
    assert b"<html" not in response.content
    page = alice_client.get(f"/submissions/{s.pk}/")
    assert b'data-poll=""' in page.content


def test_it_hides_another_students_submission(client, bob, alice, exercise):
    s = make_submission(alice, exercise)
    client.force_login(bob)
    assert client.get(f"/submissions/{s.pk}/").status_code == 404
    assert client.get(f"/submissions/{s.pk}/?fragment=1").status_code == 404


def test_it_requires_login(client, alice, exercise):
    s = make_submission(alice, exercise)
    response = client.get(f"/submissions/{s.pk}/")
    assert response.status_code == 302


def test_it_404s_a_bad_id(alice_client):
    assert alice_client.get("/submissions/999999/").status_code == 404


def test_it_shows_the_failure_message(alice_client, alice, exercise):
    s = make_submission(
        alice, exercise, status="failed", message="We could not grade this submission."
    )
    response = alice_client.get(f"/submissions/{s.pk}/")
    assert b"We could not grade this submission." in response.content


def test_it_answers_a_fragment_poll_with_three_queries(
    alice_client, alice, exercise, django_assert_num_queries
):
    s = make_submission(alice, exercise, status="graded", score=1.0, results={"a": {}})
    alice_client.get(f"/submissions/{s.pk}/?fragment=1")  # the exercise's parts are read

    # The session, its user, the submission with its exercise, problem set and variant.
    with django_assert_num_queries(3):
        response = alice_client.get(f"/submissions/{s.pk}/?fragment=1")

    assert b"Score: <strong>100%</strong>" in response.content
