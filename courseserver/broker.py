"""Kombu's Redis transport, with one Redis client per channel for its own commands.

Kombu's Redis channel builds a new `redis.Redis` client object for every command it
sends outside its consuming connection (`Channel.conn_or_acquire`): each publish, and
in a worker each message's bookkeeping for a late acknowledgement and the ack itself.
Building one copies redis-py's table of response callbacks, which was about half of
what publishing a task cost the web process and a seventh of the Celery worker's main
process. A client holds no connection of its own (it takes one from the channel's
pool for each command, and redis-py's clients may be shared between threads), so the
channel here keeps the one it built while its pool stays the same.

`courseserver.celery` points kombu's `redis` and `rediss` transports here (and so the
embedded `redis+socket` one, which is `redis` on a socket).
"""

from __future__ import annotations

from kombu.transport import redis


class Channel(redis.Channel):
    _sync_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
