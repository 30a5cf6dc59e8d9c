"""The broker stops while a student submits: the submission waits in the database."""

import json
import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from exercises import queue
from exercises.models import Submission
from exercises.queue import submit
from tests.integration.conftest import WAIT_SECONDS, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def submit_without_hanging(student, exercise, answers):
    """`submit`, in a thread that the test gives up on rather than hang with it."""
    outcome = {}

    def run():
        try:
            outcome["submission"] = submit(student, exercise, answers)
        except BaseException as e:
            outcome["error"] = e
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive(), "submit hung while the broker was down"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["submission"]


def test_it_grades_a_submission_made_while_the_broker_was_down(
    private_redis, start_worker, alice, exercise, client
):
    start_worker("through-outage", REDIS_URL=private_redis.url)
    private_redis.stop()

    s = submit_without_hanging(alice, exercise, {"a": "2x"})
    s.refresh_from_db()
    assert s.status == "queued"
    assert s.last_sent is None
    assert client.get("/health/").status_code == 503

    private_redis.start()
    wait_for(lambda: queue.sweep()["resent"], "the sweep to send the submission again")

    def graded() -> bool:
        s.refresh_from_db()
        return not s.is_pending

    wait_for(graded, "the verdict")
    assert s.status == "graded"
    assert s.results["a"]["status"] == "correct"
    assert s.tries == 1


def test_it_takes_an_api_submission_while_redis_is_down(
    private_redis, alice, exercise, client, settings
):
    # Redis is both the broker and the cache behind the rate limits.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"unix://{private_redis.socket}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    token = Token.objects.create(user=alice)
    private_redis.stop()

    response = client.post(
        f"/api/exercises/{exercise.slug}/submissions/",
        json.dumps({"answers": {"a": "2x"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 202
    s = Submission.objects.get(pk=response.json()["id"])
    assert s.status == "queued"
    assert s.last_sent is None  # the sweep sends it once the broker is back
