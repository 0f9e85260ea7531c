"""Response headers that protect the app, rate limits on the doors a stranger can knock on
(launch creation, session opening), and the cap on a session's live streams."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, Request
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from api.deps import RedisDep, SettingsDep
from api.errors import error_json
from importer.errors import ImporterError
from importer.events import StreamSlot, take_stream_slot
from importer.settings import Settings


class RateLimited(ImporterError):
    """Too many requests from one address this minute: ``params`` give ``limit`` (a minute)
    and ``retry_after_s`` (seconds until the next minute), said in ``Retry-After`` too."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, *, limit: int, retry_after_s: int) -> None:
        super().__init__(
            f"Too many requests from this address; at most {limit} a minute. "
            f"Wait {retry_after_s} s and try again.",
            params={"limit": limit, "retry_after_s": retry_after_s},
        )
        self.headers = {"Retry-After": str(retry_after_s)}


class TooManyStreams(ImporterError):
    """The session follows as many imports live as it may: ``params`` give ``limit``."""

    status_code = 429
    code = "too_many_streams"


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, *, frame_ancestors: str, https: bool) -> None:
        super().__init__(app)
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            # launch links carry a token: never send the address to another site
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data: blob:; worker-src 'self' blob:; "
                "style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; "
                f"base-uri 'self'; frame-ancestors {frame_ancestors}"
            ),
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        }
        if https:
            self.headers["Strict-Transport-Security"] = "max-age=31536000"

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if "\x00" in request.url.path or "%00" in request.url.query.lower():
            response: Response = error_json(
                422, "invalid_input", "The address must not contain NUL characters."
            )
        else:
            response = await call_next(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def rate_limit(bucket: str, setting: str) -> Any:
    """A dependency allowing ``settings.<setting>`` requests a minute per client address."""

    async def check(request: Request, redis: RedisDep, settings: SettingsDep) -> None:
        limit: int = getattr(settings, setting)
        client = request.client.host if request.client else "unknown"
        now = time.time()
        window = int(now // 60)
        key = f"{settings.queue_name}:rate:{bucket}:{client}:{window}"
        try:
            count = await redis.incr(key)
            if count == 1:
                await redis.expire(key, 120)
        except (RedisError, OSError):
            return  # no Redis, no limit: the request itself will say what is wrong
        if count > limit:
            raise RateLimited(limit=limit, retry_after_s=max(1, math.ceil((window + 1) * 60 - now)))

    return Depends(check)


async def stream_slot(redis: Redis, settings: Settings, session_id: str) -> StreamSlot:
    """A slot for one more live stream of the session, or ``429 too_many_streams`` when
    ``settings.max_streams_per_session`` of its streams are open (in any api process)."""
    limit = settings.max_streams_per_session
    slot = await take_stream_slot(
        redis, prefix=settings.queue_name, session_id=session_id, limit=limit
    )
    if slot is None:
        raise TooManyStreams(
            f"This session already follows {limit} imports live, the most it may. Close another "
            "window or tab that shows an import, then try again.",
            params={"limit": limit},
        )
    return slot
