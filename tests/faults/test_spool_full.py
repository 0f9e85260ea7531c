"""The spool filesystem full (a small tmpfs mounted for the test as ``IMPORTER_SPOOL_DIR``).

During an upload: the tus PATCH answers 503 and keeps the offset of what was written whole;
nothing more is taken as received; once space is freed the upload resumes from HEAD and
completes with exactly the bytes sent. During the analysis: unpacking meets a full disk; nothing
half-unpacked is left or indexed, the upload is kept, and once space is freed a retry analyses
the medium. Needs root (mount); skipped otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.connections import RedisSettings, create_pool

from importer.jobs import deserialize, serialize
from importer.settings import Settings
from tests.faults.support import (
    CountingOrthanc,
    fast_forward,
    fill,
    make_settings,
    medium,
    status_of,
    tmpfs,
    truncate,
)
from tests.support.app import Journey, Launched, run_worker, running_api

SPOOL_BYTES = 8 * 1024 * 1024
COUNT = 100  # a ZIP of about 2.4 MB, unpacked about 3.9 MB

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@pytest.fixture
def small_spool() -> Iterator[Path]:
    with tmpfs(SPOOL_BYTES) as mount:
        yield mount


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def head_offset(journey: Journey, session: Launched, url: str) -> int:
    response = await journey.client.head(url, headers={**session.headers, "Tus-Resumable": "1.0.0"})
    assert response.status_code == 200
    return int(response.headers["Upload-Offset"])


async def test_spool_full_during_an_upload(
    database_url: str,
    redis_url: str,
    own_orthanc: CountingOrthanc,
    small_spool: Path,
    tmp_path: Path,
) -> None:
    await truncate(database_url)
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        pacs_url=own_orthanc.dimse_url,
        tmp_path=tmp_path,
        spool_dir=small_spool / "spool",
        spool_free_margin_bytes=0,  # an 8 MiB spool could never keep the 1 GiB default free
    )
    archive = medium(COUNT)
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session = await journey.start()
        created = await journey.create_import(session, len(archive))
        url, import_id = created["upload_url"], created["id"]
        await journey.upload(session, url, archive[: 256 * 1024], chunk=256 * 1024)
        filler = fill(small_spool, leave=1024 * 1024)

        # the rest in one PATCH: the disk fills up half-way
        full = await journey.patch(session, url, 256 * 1024, archive[256 * 1024 :])
        assert full.status_code == 503, full.text
        assert full.json()["error"]["code"] == "service_unavailable"
        assert full.headers["Retry-After"]
        kept = await head_offset(journey, session, url)
        assert 256 * 1024 < kept < len(archive)
        current = await journey.get_import(session, import_id)
        assert current["status"] == "created"  # not complete, not queued
        assert current["upload"]["received"] == kept
        # what the server holds up to the offset is what was sent
        upload = settings.effective_spool_dir / "imports" / import_id / "upload.zip"
        assert upload.read_bytes()[:kept] == archive[:kept]

        # still full: another try changes nothing
        again = await journey.patch(session, url, kept, archive[kept:])
        assert again.status_code == 503
        assert await head_offset(journey, session, url) >= kept

        filler.unlink()  # space freed: resume from HEAD
        offset = await head_offset(journey, session, url)
        await journey.upload_from(session, url, archive, offset, chunk=1 << 20)
        done = await journey.get_import(session, import_id)
        assert done["status"] == "queued"
        assert done["upload"]["received"] == len(archive)
    assert upload.read_bytes() == archive

    await run_worker(settings)
    assert await status_of(database_url, import_id) == "awaiting_confirmation"


@dataclass
class FullAnalysis:
    first_try: dict[str, Any]
    """The import after the first attempt of the analysis met the full disk."""
    media_files_after_first_try: int
    failed: dict[str, Any]
    """The import once the worker gave up."""
    media_files_after_failure: int
    upload_intact: bool
    retried: dict[str, Any]
    """The import after space was freed and the user retried."""


async def _until_idle(settings: Settings) -> None:
    """A burst worker, with every retry of the queue made due at once (the delays between the
    attempts of a job are 5, 10, … 45 s: four minutes in all)."""
    worker = asyncio.create_task(run_worker(settings))
    try:
        while not worker.done():
            await fast_forward(settings)
            await asyncio.sleep(0.1)
        await worker
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


@pytest.fixture(scope="module")
async def full_analysis(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FullAnalysis]:
    tmp_path = tmp_path_factory.mktemp("spool-full-analysis")
    pacs = CountingOrthanc(tmp_path / "orthanc")
    await asyncio.to_thread(pacs.start)
    try:
        with tmpfs(SPOOL_BYTES) as mount:
            yield await _full_analysis(database_url, redis_url, pacs, mount, tmp_path)
    finally:
        pacs.kill()


async def _full_analysis(
    database_url: str, redis_url: str, pacs: CountingOrthanc, mount: Path, tmp_path: Path
) -> FullAnalysis:
    await truncate(database_url)
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        pacs_url=pacs.dimse_url,
        tmp_path=tmp_path,
        spool_dir=mount / "spool",
        spool_free_margin_bytes=0,  # an 8 MiB spool could never keep the 1 GiB default free
    )
    archive = medium(COUNT)
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session = await journey.start()
        created = await journey.create_import(session, len(archive))
        import_id = created["id"]
        await journey.upload(session, created["upload_url"], archive, chunk=1 << 20)
        import_dir = settings.effective_spool_dir / "imports" / import_id
        upload_sha = sha256(import_dir / "upload.zip")
        filler = fill(mount, leave=1024 * 1024)  # the upload fits, its contents do not

        def media_files() -> int:
            files = import_dir / "media" / "f"
            return sum(1 for _ in files.iterdir()) if files.is_dir() else 0

        # the full disk ends the analysis at once, with a clear code (no blind retries)
        await run_worker(settings)
        first_try = failed = await journey.get_import(session, import_id)
        after_first = after_failure = media_files()
        intact = sha256(import_dir / "upload.zip") == upload_sha

        filler.unlink()
        retried = await http.post(f"/api/v1/imports/{import_id}/retry", headers=session.headers)
        if retried.status_code == 202:
            await run_worker(settings)
        again = await journey.get_import(session, import_id)
    return FullAnalysis(first_try, after_first, failed, after_failure, intact, again)


async def _deferred(settings: Settings, job_id: str) -> bool:
    """The job is back in the queue, due later: an attempt ended with a retry."""
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        score = await redis.zscore(settings.queue_name, job_id)
    finally:
        await redis.aclose()
    return score is not None and score > time.time() * 1000


async def test_spool_full_during_analysis_leaves_nothing_half_unpacked(
    full_analysis: FullAnalysis,
) -> None:
    assert full_analysis.media_files_after_first_try == 0
    assert full_analysis.first_try["studies"] == []
    assert full_analysis.failed["status"] == "failed"
    assert full_analysis.media_files_after_failure == 0
    assert full_analysis.failed["studies"] == []
    assert full_analysis.upload_intact


async def test_spool_full_during_analysis_a_retry_works_once_space_is_freed(
    full_analysis: FullAnalysis,
) -> None:
    assert full_analysis.retried["status"] == "awaiting_confirmation", full_analysis.retried
    assert full_analysis.retried["studies"][0]["instance_count"] == COUNT


async def test_spool_full_during_analysis_fails_with_a_clear_code(
    full_analysis: FullAnalysis,
) -> None:
    error = full_analysis.failed["error"]
    assert error["code"] != "internal_error", error
    assert "space" in error["message"].lower(), error
