"""The broker stops while a student submits: the submission waits in the database."""

import pytest

from exercises import queue
from exercises.queue import submit
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_it_keeps_a_submission_made_while_the_broker_is_down(
    private_redis, start_worker, alice, exercise, client
):
    start_worker("through-outage", REDIS_URL=private_redis.url)
    private_redis.stop()

    s = submit(alice, exercise, {"a": "2x"})
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
