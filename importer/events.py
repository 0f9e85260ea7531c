"""Live import events over Redis pub/sub. Redis holds only the live channel: the database is the
truth, and a subscriber that misses an event re-reads the import.

A session's streams also listen on the session's own channel, where ending the session is
announced (``session_ended``), and each holds a slot of the session (at most
``max_streams_per_session``, shared by every api process): a sorted set per session of stream
ids scored by the end of their lease, refreshed while the stream runs, so the slots of a
crashed process free themselves when their lease runs out."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "importer:events:"
SESSION_CHANNEL_PREFIX = "importer:session:"
SESSION_ENDED = "session_ended"
STREAM_LEASE_S = 30
"""How long a stream's slot lasts without being refreshed (a stream refreshes it far sooner)."""
CLEANUP_S = 2.0


def channel(import_id: str) -> str:
    return f"{CHANNEL_PREFIX}{import_id}"


def session_channel(session_id: str) -> str:
    return f"{SESSION_CHANNEL_PREFIX}{session_id}"


async def publish(redis: Redis, import_id: str, kind: str, **fields: Any) -> None:
    """Publish one change. Never fails the caller: losing an event loses no state."""
    payload = json.dumps({"type": kind, "import_id": import_id, **fields}, default=str)
    try:
        await redis.publish(channel(import_id), payload)
    except (RedisError, OSError):
        log.warning("event not published", extra={"import_id": import_id, "event": kind})


async def announce_session_ended(redis: Redis, session_id: str) -> None:
    """Tell the session's open streams, in every api process, that it has ended. Never fails
    the caller: a stream also reads the session again from the database now and then."""
    payload = json.dumps({"type": SESSION_ENDED, "reason": "ended"})
    try:
        await redis.publish(session_channel(session_id), payload)
    except (RedisError, OSError):
        log.warning("session end not published", extra={"session_id": session_id})


class Subscription:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    async def next(self, wait_s: float = 1.0) -> dict[str, Any] | None:
        """The next event, or ``None`` when none came within ``wait_s`` seconds."""
        message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=wait_s)
        if message is None:
            return None
        data = message.get("data")
        if not isinstance(data, bytes | str):
            return None
        event: dict[str, Any] = json.loads(data)
        return event


@asynccontextmanager
async def subscribe(
    redis: Redis, import_id: str, *, session_id: str | None = None
) -> AsyncIterator[Subscription]:
    """Subscribe first, then read the snapshot: no change can fall between the two. With
    ``session_id``, the session's channel too (``session_ended``)."""
    pubsub = redis.pubsub()
    channels = [channel(import_id)]
    if session_id is not None:
        channels.append(session_channel(session_id))
    await pubsub.subscribe(*channels)
    try:
        yield Subscription(pubsub)
    finally:
        # shielded: a stream ends by cancellation when its client leaves
        with anyio.move_on_after(CLEANUP_S, shield=True):
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]


# Take a slot when fewer than the limit hold a lease still running; the key lives as long as
# the last lease given or refreshed (every lease is as long).
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class StreamSlot:
    """One open stream's slot among its session's (:func:`take_stream_slot`)."""

    def __init__(self, redis: Redis, key: str, stream_id: str) -> None:
        self._redis = redis
        self.key = key
        self.id = stream_id

    async def refresh(self) -> None:
        """Extend the lease (a slot whose lease ran out while its process stalled comes back)."""
        try:
            await self._redis.zadd(self.key, {self.id: time.time() + STREAM_LEASE_S})
            await self._redis.expire(self.key, STREAM_LEASE_S)
        except (RedisError, OSError):
            log.warning("stream lease not refreshed")

    async def release(self) -> None:
        """Free the slot (shielded: called as the stream is cancelled). Never fails: a slot
        not freed frees itself when its lease runs out."""
        with anyio.move_on_after(CLEANUP_S, shield=True):
            try:
                await self._redis.zrem(self.key, self.id)
            except (RedisError, OSError):
                log.warning("stream slot not released")


async def take_stream_slot(
    redis: Redis, *, prefix: str, session_id: str, limit: int
) -> StreamSlot | None:
    """A slot for one more stream of the session, or ``None`` when ``limit`` streams of it are
    open (their leases running) in any api process. Atomic: two requests at once never both
    take the last slot."""
    key = f"{prefix}:streams:{session_id}"
    stream_id = uuid.uuid4().hex
    now = time.time()
    args = (str(now), str(limit), str(now + STREAM_LEASE_S), stream_id, str(STREAM_LEASE_S))
    taken = await redis.eval(_ACQUIRE, 1, key, *args)  # type: ignore[misc]
    return StreamSlot(redis, key, stream_id) if int(taken) == 1 else None
