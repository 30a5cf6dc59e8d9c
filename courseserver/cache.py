"""The cache: Django's Redis backend, with one Redis client per connection pool.

Django's backend builds a new `redis.Redis` for every operation, and building one
(its table of reply callbacks) costs about as much CPU as sending the command: a
submit's rate limits (six operations) spent half a millisecond on it. The client is
thread-safe and holds no connection of its own (the pool does), so one serves every
operation of the thread that owns the cache.

`count` does in one round trip what a rate limit asked in four (add, incr, which
first asks whether the key exists, and get).
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count(self, key: str, timeout: int, previous_key: str) -> tuple[int, int]:
        """Count one in `key` (made, with `timeout`, at 0 if missing) and read
        `previous_key` (0 if missing): a sliding window's two counters
        (exercises.ratelimit), stored as `add` and `incr` store them, in one atomic
        round trip. Raises as the other operations do when Redis is down."""
        key = self.make_and_validate_key(key)
        previous_key = self.make_and_validate_key(previous_key)
        client = self._cache.get_client(key, write=True)
        with client.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, nx=True, ex=timeout)
            pipe.incr(key)
            pipe.get(previous_key)
            _, count, previous = pipe.execute()
        return count, 0 if previous is None else self._cache._serializer.loads(previous)
