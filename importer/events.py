"""Live import events over Redis pub/sub. Redis holds only the live channel: the database is the
truth, and a subscriber that misses an event re-reads the import."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "importer:events:"


def channel(import_id: str) -> str:
    return f"{CHANNEL_PREFIX}{import_id}"


async def publish(redis: Redis, import_id: str, kind: str, **fields: Any) -> None:
    """Publish one change. Never fails the caller: losing an event loses no state."""
    payload = json.dumps({"type": kind, "import_id": import_id, **fields}, default=str)
    try:
        await redis.publish(channel(import_id), payload)
    except (RedisError, OSError):
        log.warning("event not published", extra={"import_id": import_id, "event": kind})


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
async def subscribe(redis: Redis, import_id: str) -> AsyncIterator[Subscription]:
    """Subscribe first, then read the snapshot: no change can fall between the two."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(channel(import_id))
    try:
        yield Subscription(pubsub)
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()  # type: ignore[no-untyped-call]
