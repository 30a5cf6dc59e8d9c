"""The cache backend (courseserver/cache.py): Django's Redis cache, one client per pool."""

from __future__ import annotations

import pytest
import redis

from courseserver.cache import RedisCache
from exercises.processes import start_redis, stop


@pytest.fixture
def private_redis(tmp_path):
    socket = tmp_path / "redis.sock"
    proc = start_redis(socket, tmp_path / "redis.log")
    yield f"unix://{socket}"
    stop(proc)


def test_it_keeps_one_client_for_every_operation():
    cache = RedisCache("redis://127.0.0.1:1/0", {})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client("any", write=True) is client
    assert cache._cache.get_client("other") is client


def test_it_stores_counts_as_django_s_backend_does(private_redis):
    cache = RedisCache(private_redis, {"KEY_PREFIX": "t"})
    assert cache.add("n", 0, timeout=60)
    assert not cache.add("n", 5, timeout=60)
    assert [cache.incr("n"), cache.incr("n")] == [1, 2]
    assert cache.get("n") == 2
    assert cache.get("missing", 7) == 7


def test_it_counts_in_one_go_as_add_incr_and_get_do(private_redis):
    cache = RedisCache(private_redis, {"KEY_PREFIX": "t"})
    assert cache.count("n:2", 60, "n:1") == (1, 0)
    cache.add("n:1", 0, timeout=60)
    cache.incr("n:1", 4)
    assert cache.count("n:2", 60, "n:1") == (2, 4)
    # Kept as `incr` keeps it, with the timeout `add` gives it.
    assert cache.incr("n:2") == 3 and cache.get("n:2") == 3
    client = cache._cache.get_client(write=True)
    assert 0 < client.ttl(cache.make_key("n:2")) <= 60


def test_it_raises_as_django_s_backend_does_when_redis_is_down():
    # The rate limits let actions through on this error, as with Django's backend.
    cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    with pytest.raises(redis.ConnectionError):
        cache.get("n")
    with pytest.raises(redis.ConnectionError):
        cache.count("n:2", 60, "n:1")


def test_it_serves_the_rate_limits_as_the_memory_cache_does(private_redis, settings, monkeypatch):
    from exercises import ratelimit

    settings.CACHES = {
        "default": {
            "BACKEND": "courseserver.cache.RedisCache",
            "LOCATION": private_redis,
            "KEY_PREFIX": "t",
        }
    }
    settings.SUBMISSIONS_PER_MINUTE = 2
    monkeypatch.setattr(ratelimit, "clock", lambda: 60 * 1000 + 30.0)  # halfway through

    hits = [ratelimit.SUBMISSION.hit("7") for _ in range(3)]

    assert hits[:2] == [None, None]
    assert hits[2] is not None and hits[2].retry_after == 60
    # The refused one was not counted: the next window sees two, weighted.
    monkeypatch.setattr(ratelimit, "clock", lambda: 60 * 1001 + 30.0)
    assert ratelimit.SUBMISSION.hit("7") is None
    assert ratelimit.SUBMISSION.hit("7") is not None
