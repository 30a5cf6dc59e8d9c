"""The sweep sends again only what the broker has lost, never a backlog still waiting."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from exercises import queue
from exercises.models import Submission
from tests.conftest import make_submission
from tests.integration.conftest import forget_queue, point_celery_at, redis_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BACKLOG = 25


@pytest.fixture
def idle_queue(redis_url, grading_queue):
    """A grading queue of this test's own, which no worker takes from."""
    name = f"backlog-test-{uuid.uuid4().hex[:12]}"
    point_celery_at(redis_url, name)
    yield name
    point_celery_at(redis_url, grading_queue)
    forget_queue(redis_url, name)


@pytest.fixture
def backlog(alice, exercise, idle_queue):
    """Submissions published long ago, their messages still waiting in the queue."""
    submissions = [make_submission(alice, exercise) for _ in range(BACKLOG)]
    for s in submissions:
        assert queue.send(s.pk) is True
    age()
    return submissions


def age() -> None:
    Submission.objects.update(last_sent=Submission.objects.first().created.replace(year=2000))


def test_it_leaves_a_waiting_backlog_alone(backlog, idle_queue, redis_url):
    broker = redis_client(redis_url)
    assert broker.llen(idle_queue) == BACKLOG

    assert queue.sweep() == {"resent": 0, "failed": 0}
    assert broker.llen(idle_queue) == BACKLOG


def test_it_sends_a_lost_backlog_again_once(backlog, idle_queue, redis_url):
    broker = redis_client(redis_url)
    broker.delete(idle_queue)  # the broker lost them (a restart without persistence)

    assert queue.sweep()["resent"] == BACKLOG
    assert broker.llen(idle_queue) == BACKLOG
    age()
    assert queue.sweep()["resent"] == 0
    assert broker.llen(idle_queue) == BACKLOG
    assert {s.last_sent.year for s in Submission.objects.all()} == {2000}


def test_it_waits_for_a_worker_holding_a_message_but_not_for_a_dead_one(
    backlog, idle_queue, redis_url
):
    # What a worker does on taking a message it acknowledges late: out of the queue, into
    # the `unacked` hash, by delivery time in `unacked_index`.
    broker = redis_client(redis_url)
    tags = []
    for raw in broker.lrange(idle_queue, 0, -1):
        tag = uuid.uuid4().hex
        broker.hset("unacked", tag, json.dumps([json.loads(raw), "", idle_queue]))
        broker.zadd("unacked_index", {tag: time.time()})
        tags.append(tag)
    broker.delete(idle_queue)
    try:
        assert queue.sweep()["resent"] == 0

        # Delivered long ago to a worker that never acknowledged them: it died.
        broker.zadd("unacked_index", {tag: time.time() - 3600 for tag in tags})
        assert queue.sweep()["resent"] == BACKLOG
        assert broker.llen(idle_queue) == BACKLOG
    finally:
        broker.hdel("unacked", *tags)
        broker.zrem("unacked_index", *tags)


def test_it_sends_again_a_submission_whose_holder_died_with_its_message(
    backlog, idle_queue, redis_url
):
    # The worker took the message, then the submission, and was killed: its message
    # stays unacknowledged, its lease lapses.
    broker = redis_client(redis_url)
    s = backlog[0]
    raw = broker.lrange(idle_queue, -1, -1)[0]
    assert json.loads(raw)["headers"]["argsrepr"] == f"[{s.pk}]"
    broker.delete(idle_queue)
    tag = uuid.uuid4().hex
    broker.hset("unacked", tag, json.dumps([json.loads(raw), "", idle_queue]))
    broker.zadd("unacked_index", {tag: time.time() - 2})
    Submission.objects.filter(pk__in=[b.pk for b in backlog[1:]]).update(status="graded")
    Submission.objects.filter(pk=s.pk).update(
        status="grading",
        tries=1,
        started=timezone.now() - timedelta(seconds=1),
        lease_expires=timezone.now() - timedelta(seconds=1),
    )
    try:
        assert queue.sweep()["resent"] == 1
        assert broker.llen(idle_queue) == 1
    finally:
        broker.hdel("unacked", tag)
        broker.zrem("unacked_index", tag)
