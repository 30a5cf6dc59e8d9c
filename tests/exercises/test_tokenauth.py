"""API tokens remembered by a web process for a few seconds (`exercises.tokenauth`)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from exercises import tokenauth

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_memory():
    tokenauth._remembered.clear()
    yield
    tokenauth._remembered.clear()


@pytest.fixture
def token(alice):
    return Token.objects.create(user=alice)


def outline(client, key):
    return client.get("/api/modules/", HTTP_AUTHORIZATION=f"Token {key}")


def token_queries(client, key) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert outline(client, key).status_code == 200
    return sum("authtoken_token" in q["sql"] for q in queries.captured_queries)


def test_a_token_is_looked_up_once_while_remembered(client, token):
    assert token_queries(client, token.key) == 1
    assert token_queries(client, token.key) == 0


def test_nothing_is_remembered_when_turned_off(client, token, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    assert token_queries(client, token.key) == 1
    assert token_queries(client, token.key) == 1


def test_a_remembered_token_expires(client, token, monkeypatch):
    assert token_queries(client, token.key) == 1
    later = tokenauth.time.monotonic() + 31
    monkeypatch.setattr(tokenauth.time, "monotonic", lambda: later)
    assert token_queries(client, token.key) == 1


def test_a_deleted_token_is_refused_at_once(client, token):
    assert outline(client, token.key).status_code == 200
    token.delete()
    assert outline(client, token.key).status_code == 401


def test_a_deactivated_student_is_refused_at_once(client, token, alice):
    assert outline(client, token.key).status_code == 200
    alice.is_active = False
    alice.save()
    assert outline(client, token.key).status_code == 401


def test_an_unknown_key_is_never_remembered(client, token):
    assert outline(client, "0" * 40).status_code == 401
    assert "0" * 40 not in tokenauth._remembered
    assert token_queries(client, token.key) == 1


def test_each_request_gets_its_own_user(client, token, alice):
    first = tokenauth.CachedTokenAuthentication().authenticate_credentials(token.key)[0]
    second = tokenauth.CachedTokenAuthentication().authenticate_credentials(token.key)[0]
    assert first.pk == second.pk == alice.pk
    assert first is not second
