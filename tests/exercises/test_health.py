import pytest

pytestmark = pytest.mark.django_db


def test_it_reports_the_database_and_the_broker(client, monkeypatch):
    from courseserver.celery import app

    class DeadConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def ensure_connection(self, **kwargs):
            raise ConnectionRefusedError

    monkeypatch.setattr(app, "connection_for_write", lambda: DeadConnection())
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "broker": "error: ConnectionRefusedError",
    }
