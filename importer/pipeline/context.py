"""What a pipeline job needs, made once at worker start-up and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from importer import events
from importer.pacs import PacsClient
from importer.settings import Settings
from importer.spool import Spool


class RetryLater(Exception):
    """Run the job again after ``defer_s`` seconds (the worker maps it to its queue's retry)."""

    def __init__(self, defer_s: float, reason: str) -> None:
        super().__init__(reason)
        self.defer_s = defer_s


@dataclass(slots=True)
class PipelineContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    spool: Spool
    pacs: Callable[[], PacsClient]
    http: httpx.AsyncClient
    temporary_pacs: Callable[[], PacsClient] | None = None

    async def publish(self, import_id: str, kind: str, **fields: Any) -> None:
        await events.publish(self.redis, import_id, kind, **fields)
