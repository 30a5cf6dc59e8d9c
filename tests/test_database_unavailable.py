"""While the database cannot be reached, requests answer 503 with Retry-After, never 500."""

from unittest import mock

import pytest
from django.core.handlers.exception import convert_exception_to_response
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from courseserver.middleware import DatabaseUnavailableMiddleware
from exercises.models import Submission

pytestmark = pytest.mark.django_db

DOWN = OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed: refused')


def database_down():
    return mock.patch.object(CursorWrapper, "execute", side_effect=DOWN)


def test_it_answers_a_page_503_while_the_database_is_down(alice_client, exercise):
    with database_down():
        response = alice_client.get(f"/exercises/{exercise.slug}/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert b"Briefly unavailable" in response.content
    assert b"Traceback" not in response.content


def test_it_answers_the_api_503_with_a_json_message(client, alice, exercise):
    token = Token.objects.create(user=alice)
    with database_down():
        response = client.post(
            f"/api/exercises/{exercise.slug}/submissions/",
            {"answers": {"a": "2x"}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "try again" in response.json()["detail"]
    assert not Submission.objects.exists()


def test_it_answers_503_for_a_database_error_in_a_later_middleware():
    def save_session(request):
        raise DOWN

    # Django turns what an inner middleware raises into a 500 before it gets here.
    middleware = DatabaseUnavailableMiddleware(convert_exception_to_response(save_session))
    response = middleware(RequestFactory().get("/"))
    assert response.status_code == 503
    assert response["Retry-After"] == "10"


def test_it_leaves_other_errors_alone():
    def broken(request):
        raise ZeroDivisionError

    middleware = DatabaseUnavailableMiddleware(convert_exception_to_response(broken))
    assert middleware(RequestFactory().get("/")).status_code == 500
