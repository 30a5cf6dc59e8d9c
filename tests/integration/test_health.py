"""/health/ against a real database and a real Redis."""

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_it_is_healthy_with_the_database_and_the_broker_reachable(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_it_reports_a_stopped_broker(client, private_redis):
    assert client.get("/health/").status_code == 200
    private_redis.stop()

    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["broker"].startswith("error")
