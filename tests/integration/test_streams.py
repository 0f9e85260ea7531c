"""Live event streams (``GET /imports/{id}/events``) end with their session, and a session holds
at most ``max_streams_per_session`` of them at once, across api processes."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from api.routers import imports as imports_router
from importer.db import make_engine
from importer.security import hash_token
from importer.settings import Settings
from tests.support.app import Journey, Launched, running_api, sql, sse_events


class Follow:
    """A browser following one import live: the stream read in the background."""

    def __init__(self, client: httpx.AsyncClient, session: Launched, import_id: str) -> None:
        self.chunks: list[str] = []
        self.status: int | None = None
        self.error: dict[str, Any] | None = None
        self.answered = asyncio.Event()
        url = f"/api/v1/imports/{import_id}/events"
        self.task = asyncio.create_task(self._read(client, url, session.headers))

    async def _read(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        try:
            async with client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                if response.status_code != 200:
                    await response.aread()
                    self.error = response.json()["error"]
                    return
                async for text_ in response.aiter_text():
                    self.chunks.append(text_)
                    if self.events():
                        self.answered.set()
        finally:
            self.answered.set()

    def events(self) -> list[tuple[str, Any]]:
        return sse_events("".join(self.chunks))

    async def opened(self) -> Follow:
        """Wait for the answer: the first snapshot, or a refusal."""
        await asyncio.wait_for(self.answered.wait(), timeout=10)
        return self

    async def ended(self, within_s: float) -> list[tuple[str, Any]]:
        """Wait for the server to end the stream; its events."""
        await asyncio.wait_for(asyncio.shield(self.task), timeout=within_s)
        return self.events()

    async def close(self) -> None:
        """The browser leaves (the tab is closed)."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@pytest.fixture
async def streams() -> AsyncIterator[list[Follow]]:
    opened: list[Follow] = []
    yield opened
    for follow in opened:
        await follow.close()


async def follow(
    streams: list[Follow], client: httpx.AsyncClient, session: Launched, import_id: str
) -> Follow:
    stream = Follow(client, session, import_id)
    streams.append(stream)
    return await stream.opened()


async def set_expiry(settings: Settings, session: Launched, seconds_from_now: float) -> None:
    await sql(
        settings,
        "UPDATE sessions SET expires_at = now() + make_interval(secs => :s) WHERE token_hash = :h",
        s=seconds_from_now,
        h=hash_token(session.session_token),
    )


# --- streams end with the session ---


async def test_a_stream_ends_soon_after_its_session_is_ended(
    journey: Journey, streams: list[Follow]
) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)
    stream = await follow(streams, journey.client, session, created["id"])
    assert stream.status == 200

    ended_at = time.monotonic()
    assert (
        await journey.client.delete("/api/v1/session", headers=session.headers)
    ).status_code == 204
    events = await stream.ended(within_s=5)

    assert time.monotonic() - ended_at < 5
    assert [name for name, _ in events] == ["snapshot", "session_ended"]
    assert events[-1][1]["reason"] == "ended"
    assert "RIS" in events[-1][1]["message"]


async def test_a_stream_ends_when_its_session_expires(
    journey: Journey, settings: Settings, streams: list[Follow]
) -> None:
    session = await journey.start()
    created = await journey.create_import(session, 10)
    await set_expiry(settings, session, 3)
    stream = await follow(streams, journey.client, session, created["id"])

    events = await stream.ended(within_s=10)

    assert [name for name, _ in events] == ["snapshot", "session_ended"]
    assert events[-1][1]["reason"] == "expired"


async def test_a_stream_finds_an_end_it_was_not_told_of_in_the_database(
    journey: Journey, settings: Settings, streams: list[Follow], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The announcement over Redis can be lost (the api crashed after the commit): the stream
    reads its session again now and then."""
    monkeypatch.setattr(imports_router, "STREAM_CHECK_S", 1, raising=False)
    session = await journey.start()
    created = await journey.create_import(session, 10)
    stream = await follow(streams, journey.client, session, created["id"])

    await set_expiry(settings, session, -1)  # ended, and nobody said so
    events = await stream.ended(within_s=5)

    assert events[-1][0] == "session_ended"
    assert events[-1][1]["reason"] == "ended"


async def test_a_stream_of_another_session_runs_on(journey: Journey, streams: list[Follow]) -> None:
    leaving = await journey.start()
    staying = await journey.start()
    created = await journey.create_import(staying, 10)
    stream = await follow(streams, journey.client, staying, created["id"])

    assert (
        await journey.client.delete("/api/v1/session", headers=leaving.headers)
    ).status_code == 204
    with pytest.raises(TimeoutError):
        await stream.ended(within_s=2)

    assert [name for name, _ in stream.events()] == ["snapshot"]


# --- at most N streams per session ---


@pytest.fixture
async def two_apis(settings: Settings) -> AsyncIterator[tuple[Journey, Journey]]:
    """Two api processes sharing the database and Redis, two streams per session allowed."""
    capped = settings.model_copy(update={"max_streams_per_session": 2})
    async with (
        running_api(capped) as url_a,
        running_api(capped) as url_b,
        httpx.AsyncClient(base_url=url_a, timeout=30) as http_a,
        httpx.AsyncClient(base_url=url_b, timeout=30) as http_b,
    ):
        yield Journey(http_a, capped), Journey(http_b, capped)


async def test_one_stream_more_than_the_cap_is_refused_until_one_closes(
    two_apis: tuple[Journey, Journey], streams: list[Follow]
) -> None:
    a, b = two_apis
    session = await a.start()
    created = await a.create_import(session, 10)
    first = await follow(streams, a.client, session, created["id"])
    second = await follow(streams, b.client, session, created["id"])
    assert (first.status, second.status) == (200, 200)

    # a third, on either api process, is refused before any event
    for api in (a, b):
        refused = await follow(streams, api.client, session, created["id"])
        assert refused.status == 429
        assert refused.error is not None
        assert refused.error["code"] == "too_many_streams"
        assert "2" in refused.error["message"]
        assert refused.chunks == []

    # another session has places of its own
    other = await a.start()
    assert (await follow(streams, a.client, other, created["id"])).status == 200

    # the user closes a tab: its place is free again within moments
    await first.close()
    deadline = time.monotonic() + 5
    while True:
        again = await follow(streams, b.client, session, created["id"])
        if again.status == 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert again.status == 200
    assert [name for name, _ in again.events()][:1] == ["snapshot"]


async def test_streams_that_end_give_their_places_back(
    two_apis: tuple[Journey, Journey], streams: list[Follow]
) -> None:
    """Streams the server ends (their import is over) give their places back: more of them than
    the cap, one after the other, then the cap still holds, no more, no less."""
    a, _ = two_apis
    session = await a.start()
    over = await a.create_import(session, 10)
    cancelled = await a.client.post(f"/api/v1/imports/{over['id']}/cancel", headers=session.headers)
    assert cancelled.status_code == 202, cancelled.text
    for _ in range(3):
        stream = await follow(streams, a.client, session, over["id"])
        assert stream.status == 200
        assert [name for name, _ in await stream.ended(within_s=5)] == ["snapshot", "snapshot"]

    running = await a.create_import(session, 10)
    opened = [await follow(streams, a.client, session, running["id"]) for _ in range(3)]
    assert [stream.status for stream in opened] == [200, 200, 429]


async def test_the_places_of_a_crashed_process_free_themselves_when_their_lease_runs_out(
    two_apis: tuple[Journey, Journey], streams: list[Follow]
) -> None:
    """A process that crashed never gave its places back: they count until their lease runs
    out, then no more."""
    a, _ = two_apis
    session = await a.start()
    created = await a.create_import(session, 10)
    engine = make_engine(a.settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT id FROM sessions WHERE token_hash = :h"),
                {"h": hash_token(session.session_token)},
            )
            session_id = str(found.scalar_one())
    finally:
        await engine.dispose()
    redis = Redis.from_url(a.settings.redis_url)
    try:
        now = time.time()
        await redis.zadd(
            f"{a.settings.queue_name}:streams:{session_id}",
            {"crashed-lapsed-1": now - 60, "crashed-lapsed-2": now - 1, "crashed-live": now + 30},
        )
    finally:
        await redis.aclose()

    opened = [await follow(streams, a.client, session, created["id"]) for _ in range(2)]

    assert [stream.status for stream in opened] == [200, 429]
