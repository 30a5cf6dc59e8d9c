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


def test_it_raises_as_django_s_backend_does_when_redis_is_down():
    # The rate limits let actions through on this error, as with Django's backend.
    cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    with pytest.raises(redis.ConnectionError):
        cache.get("n")
