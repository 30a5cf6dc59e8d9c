"""Redis, broker and cache both, stops: students still submit, and get answers at once."""

import pytest
from rest_framework.authtoken.models import Token

from exercises import queue, ratelimit
from exercises.models import Submission
from tests.integration.conftest import redis_client

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_then_down(private_redis, settings):
    """The cache and the broker on the private Redis, which is then stopped."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"unix://{private_redis.socket}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    private_redis.stop()
    return private_redis


def api_submit(client, token, slug, answers):
    return client.post(
        f"/api/exercises/{slug}/submissions/",
        {"answers": answers},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )


def test_it_takes_submissions_while_redis_is_down(redis_then_down, client, alice, exercise):
    token = Token.objects.create(user=alice)
    response = api_submit(client, token, exercise.slug, {"a": "2x"})
    assert response.status_code == 202
    # Unreadable answers are still refused as such, rate limits or not.
    response = api_submit(client, token, exercise.slug, {"a": "2x +"})
    assert response.status_code == 422
    assert "a" in response.json()["errors"]

    client.force_login(alice)
    response = client.post(f"/exercises/{exercise.slug}/", {"answer-a": "3x"})
    assert response.status_code == 302
    submissions = list(Submission.objects.order_by("pk"))
    assert [s.answers for s in submissions] == [{"a": "2x"}, {"a": "3x"}]
    assert {(s.status, s.last_sent) for s in submissions} == {("queued", None)}
    assert ratelimit.cache_outage

    # Back up: the sweep sends both, once.
    redis_then_down.start()
    broker = redis_client(redis_then_down.url)
    from courseserver.celery import broker_outage

    broker_outage.ended()
    assert queue.sweep()["resent"] == 2
    assert queue.sweep()["resent"] == 0
    assert sum(broker.llen(key) for key in broker.keys("grading-test-*")) == 2


def test_it_fails_the_rate_limits_open_only_while_redis_is_down(
    redis_then_down, client, alice, exercise, settings
):
    settings.API_SUBMISSIONS_PER_MINUTE = 1
    settings.SUBMISSIONS_IN_FLIGHT = 10
    token = Token.objects.create(user=alice)
    assert [
        api_submit(client, token, exercise.slug, {"a": "2x"}).status_code for _ in range(3)
    ] == [202] * 3

    redis_then_down.start()
    ratelimit.cache_outage.ended()  # its few seconds are up
    codes = [api_submit(client, token, exercise.slug, {"a": "2x"}).status_code for _ in range(2)]
    assert codes == [202, 429]
