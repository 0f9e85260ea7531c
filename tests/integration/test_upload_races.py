"""tus PATCHes racing with a cancel, an expiry, each other and another session, over real HTTP
(uvicorn), on real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from arq.connections import RedisSettings, create_pool
from sqlalchemy import select, text, update

from importer.db import make_engine, utcnow
from importer.imports import upload
from importer.imports.models import Import
from importer.jobs import ANALYSE, deserialize, serialize
from importer.settings import Settings
from tests.support.app import Journey, Launched, run_worker
from worker.enqueue import job_id

TUS = {"Tus-Resumable": "1.0.0"}


def tus_headers(session: Launched, offset: int) -> dict[str, str]:
    return {
        **session.headers,
        **TUS,
        "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream",
    }


def spool_dir(settings: Settings, import_id: str) -> Path:
    return settings.effective_spool_dir / "imports" / import_id


async def until(condition: Callable[[], bool]) -> None:
    """Wait for something the server does that no event announces (bytes reaching the spool)."""
    async with asyncio.timeout(10):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def analysis_queued(settings: Settings, import_id: str) -> bool:
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        queued = await redis.zcard(settings.queue_name)
        job = await redis.exists(f"arq:job:{job_id(ANALYSE, import_id)}")
        return bool(queued or job)
    finally:
        await redis.aclose()


async def head_offset(journey: Journey, session: Launched, url: str) -> int:
    response = await journey.client.head(url, headers={**session.headers, **TUS})
    assert response.status_code == 200
    return int(response.headers["Upload-Offset"])


class SlowBody:
    """A PATCH body that sends all but its last byte, then waits to be released."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.release = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data[:-1]
        await self.release.wait()
        yield self.data[-1:]


async def stream_until_last_byte(
    journey: Journey, settings: Settings, session: Launched, created: dict[str, str], data: bytes
) -> tuple[SlowBody, asyncio.Task[httpx.Response]]:
    """Start a PATCH of ``data`` and return once all but its last byte are on the spool."""
    body = SlowBody(data)
    patch = asyncio.create_task(
        journey.client.patch(created["upload_url"], content=body, headers=tus_headers(session, 0))
    )
    path = spool_dir(settings, created["id"]) / "upload.zip"
    await until(lambda: path.exists() and path.stat().st_size == len(data) - 1)
    return body, patch


async def assert_closed_and_gone(
    journey: Journey,
    settings: Settings,
    session: Launched,
    created: dict[str, str],
    response: httpx.Response,
    status: str,
) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "upload_closed"
    imp = await journey.get_import(session, created["id"])
    assert imp["status"] == status
    assert imp["upload"]["received"] == 0  # nothing recorded
    assert not await analysis_queued(settings, created["id"])
    assert not spool_dir(settings, created["id"]).exists()
    await run_worker(settings)  # nothing to run: it stays as it is
    assert (await journey.get_import(session, created["id"]))["status"] == status
    assert not spool_dir(settings, created["id"]).exists()


async def test_a_patch_finishing_after_a_cancel_does_not_bring_the_import_back(
    journey: Journey, settings: Settings
) -> None:
    session = await journey.start()
    data = b"0123456789"
    created = await journey.create_import(session, len(data))
    body, patch = await stream_until_last_byte(journey, settings, session, created, data)

    cancel = await journey.client.post(
        f"/api/v1/imports/{created['id']}/cancel", headers=session.headers
    )
    assert cancel.status_code == 202
    assert cancel.json()["status"] == "cancelled"
    body.release.set()  # the last byte arrives after the cancel
    await assert_closed_and_gone(journey, settings, session, created, await patch, "cancelled")


async def test_a_patch_finishing_after_an_expiry_does_not_bring_the_import_back(
    journey: Journey, settings: Settings
) -> None:
    session = await journey.start()
    data = b"0123456789"
    created = await journey.create_import(session, len(data))
    body, patch = await stream_until_last_byte(journey, settings, session, created, data)

    # the reconciler (a cron of the worker) expires an upload left too long
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(Import)
                .where(Import.id == created["id"])
                .values(updated_at=utcnow() - timedelta(seconds=settings.upload_timeout_s + 1))
            )
    finally:
        await engine.dispose()
    await run_worker(settings, reconcile=True)
    assert (await journey.get_import(session, created["id"]))["status"] == "expired"
    body.release.set()
    await assert_closed_and_gone(journey, settings, session, created, await patch, "expired")


@asynccontextmanager
async def import_row_locked(settings: Settings, import_id: str) -> AsyncIterator[None]:
    """Hold the import's row lock (as a slow transaction would): a PATCH that has written its
    bytes waits here to commit its offset."""
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn, conn.begin():
            await conn.execute(select(Import.id).where(Import.id == import_id).with_for_update())
            yield
    finally:
        await engine.dispose()


async def waiting_on_a_lock(settings: Settings) -> int:
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_the_lock_is_held_until_the_offset_is_committed(
    journey: Journey, settings: Settings
) -> None:
    """A PATCH at the offset of one that has written but not yet committed is refused: it never
    cuts the file under the first one's feet."""
    session = await journey.start()
    created = await journey.create_import(session, 10)
    url, first, second = created["upload_url"], b"AAAAAA", b"BBBB"

    async with import_row_locked(settings, created["id"]):
        one = asyncio.create_task(
            journey.client.patch(url, content=first, headers=tus_headers(session, 0))
        )
        async with asyncio.timeout(10):  # the first PATCH has written, waits to commit
            while not await waiting_on_a_lock(settings):
                assert not one.done(), one.result().text
                await asyncio.sleep(0.01)
        assert await waiting_on_a_lock(settings) == 1
        two = asyncio.create_task(
            journey.client.patch(url, content=second, headers=tus_headers(session, 0))
        )
        # refused at once (without the lock held, it writes and waits on the row behind the first)
        await asyncio.wait({two}, timeout=5)
        refused_at_once = two.done()
    refused, accepted = await two, await one

    assert accepted.status_code == 204, accepted.text
    assert accepted.headers["Upload-Offset"] == str(len(first))
    path = spool_dir(settings, created["id"]) / "upload.zip"
    assert path.read_bytes() == first
    assert await head_offset(journey, session, url) == path.stat().st_size
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "upload_busy"
    assert refused_at_once


class HeldBack:
    """Holds the next PATCH between its first check and taking the upload's lock (the window a
    slow server leaves open), until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.checked, self.release = asyncio.Event(), asyncio.Event()
        real = upload.locked_upload

        @asynccontextmanager
        async def held_back(path: Path) -> AsyncIterator[upload.UploadFile]:
            if not self.checked.is_set():
                self.checked.set()
                await self.release.wait()
            async with real(path) as opened:
                yield opened

        monkeypatch.setattr(upload, "locked_upload", held_back)

    async def patch(
        self, journey: Journey, session: Launched, url: str, offset: int, data: bytes
    ) -> asyncio.Task[httpx.Response]:
        """Start the PATCH; return once it has passed its first check."""
        task = asyncio.create_task(journey.patch(session, url, offset, data))
        await asyncio.wait_for(self.checked.wait(), timeout=10)
        return task


async def test_a_patch_checked_before_a_cancel_leaves_no_folder(
    journey: Journey, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel deletes the folder; a PATCH checked just before it re-creates it to take the
    lock: it finds the import cancelled under the lock and deletes the folder again."""
    session = await journey.start()
    created = await journey.create_import(session, 10)
    held = HeldBack(monkeypatch)
    patch = await held.patch(journey, session, created["upload_url"], 0, b"0123456789")
    cancel = await journey.client.post(
        f"/api/v1/imports/{created['id']}/cancel", headers=session.headers
    )
    assert cancel.status_code == 202
    held.release.set()
    await assert_closed_and_gone(journey, settings, session, created, await patch, "cancelled")


async def test_a_patch_checked_before_another_committed_is_refused_under_the_lock(
    journey: Journey, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two PATCHes at the same offset, the second checked before the first committed and taking
    the lock after the first let it go: refused (offset_mismatch) without writing a byte."""
    session = await journey.start()
    created = await journey.create_import(session, 10)
    url, first, second = created["upload_url"], b"AAAAAA", b"BBBB"

    held = HeldBack(monkeypatch)
    two = await held.patch(journey, session, url, 0, second)  # checked at offset 0
    accepted = await journey.patch(session, url, 0, first)
    assert accepted.status_code == 204, accepted.text
    held.release.set()
    refused = await two

    path = spool_dir(settings, created["id"]) / "upload.zip"
    assert path.read_bytes() == first
    assert await head_offset(journey, session, url) == path.stat().st_size == len(first)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "offset_mismatch"


async def test_only_the_session_that_created_the_upload_appends_or_reads_it(
    journey: Journey, settings: Settings
) -> None:
    mine = await journey.start()
    again = await journey.start()  # a second launch: same user, same order
    stranger = await journey.start(accession="ACC-OTHER")
    data = b"0123456789"
    created = await journey.create_import(mine, len(data))
    url = created["upload_url"]
    assert (await journey.patch(mine, url, 0, data[:4])).status_code == 204

    # the second session sees the import of its order, but not where the upload stands
    assert (await journey.get_import(again, created["id"]))["upload"]["received"] == 4
    head = await journey.client.head(url, headers={**again.headers, **TUS})
    assert head.status_code == 403
    assert "Upload-Offset" not in head.headers
    for offset in (4, 0):
        refused = await journey.patch(again, url, offset, b"XXXX")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "upload_not_owned"

    # a session of another order does not even learn that the import exists
    head = await journey.client.head(url, headers={**stranger.headers, **TUS})
    assert head.status_code == 404
    hidden = await journey.patch(stranger, url, 4, b"XXXX")
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "import_not_found"

    path = spool_dir(settings, created["id"]) / "upload.zip"
    assert path.read_bytes() == data[:4]
    assert await head_offset(journey, mine, url) == 4
    await journey.upload_from(mine, url, data, 4)
    assert (await journey.get_import(mine, created["id"]))["status"] == "queued"
    assert path.read_bytes() == data
