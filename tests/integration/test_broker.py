"""The broker stops while a student submits: the submission waits in the database."""

import threading

import pytest
from django.db import connection

from exercises import queue
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
