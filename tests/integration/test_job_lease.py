"""One job per import at a time. Two analyses of one import started at once end with one
complete analysis; a job that lost its import (frozen past its lease while another job took
over) stops and writes nothing, not even the deletion of the files the other job unpacked.

The jobs are the worker's own (``worker.main.analyse_job``), run side by side in this process
on the real PostgreSQL, Redis and Orthanc."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from arq import Retry
from arq.connections import RedisSettings, create_pool
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import func, select, update

from importer.audit.models import AuditEvent
from importer.db import utcnow
from importer.imports.models import Import, Instance
from importer.jobs import deserialize, serialize
from importer.media import scan
from importer.settings import Settings
from tests.integration.test_pipeline import db_execute, db_rows
from tests.support.app import Journey, Launched, make_zip, sample
from worker.main import analyse_job, shutdown, startup

COUNT = 200


def medium() -> bytes:
    base = dcmread(sample("CT_small.dcm"))
    base.StudyInstanceUID = generate_uid()
    base.SeriesInstanceUID = generate_uid()
    files = []
    for i in range(COUNT):
        base.SOPInstanceUID = generate_uid()
        base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
        base.InstanceNumber = i + 1
        out = io.BytesIO()
        base.save_as(out, enforce_file_format=True)
        files.append((f"DICOM/IM{i:05d}", out.getvalue()))
    return make_zip(files)


async def uploaded(journey: Journey) -> tuple[Launched, str]:
    """An import whose medium is uploaded, not analysed yet."""
    session = await journey.start()
    archive = medium()
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive, chunk=1 << 20)
    return session, str(created["id"])


@asynccontextmanager
async def job_context(settings: Settings, job_try: int = 1) -> AsyncIterator[dict[str, Any]]:
    """What arq hands a job of a worker started with ``settings``."""
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    ctx: dict[str, Any] = {"settings": settings, "redis": redis, "job_try": job_try}
    await startup(ctx)
    try:
        yield ctx
    finally:
        await shutdown(ctx)
        await redis.aclose()


async def one_complete_analysis(
    journey: Journey, session: Launched, settings: Settings, import_id: str
) -> None:
    imported = await journey.get_import(session, import_id)
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    assert imported["error"] is None
    assert (imported["media"]["files"], imported["media"]["dicom"]) == (COUNT, COUNT)
    [study] = imported["studies"]
    assert study["instance_count"] == COUNT
    rows = await db_rows(settings, select(Instance).where(Instance.import_id == import_id))
    assert len(rows) == COUNT == len({r.sop_instance_uid for r in rows})
    import_dir = settings.effective_spool_dir / "imports" / import_id
    assert all((import_dir / r.path).is_file() for r in rows)  # every file there, in force
    assert sorted(p.name for p in (import_dir / "media").iterdir()) == ["f"]  # no attempt left
    analysed = await db_rows(
        settings,
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.import_id == import_id, AuditEvent.action == "import.analysed"),
    )
    assert analysed == [1]
    [owner] = await db_rows(settings, select(Import.lease_owner).where(Import.id == import_id))
    assert owner is None  # released


async def test_two_analyses_of_one_import_at_once_end_with_one_analysis(
    journey: Journey, settings: Settings
) -> None:
    session, import_id = await uploaded(journey)

    async with job_context(settings) as first, job_context(settings) as second:
        results = await asyncio.gather(
            analyse_job(first, import_id), analyse_job(second, import_id), return_exceptions=True
        )
    await one_complete_analysis(journey, session, settings, import_id)
    # one analysed the medium; the other found it done once the first let go, or, still held
    # past the grace (a slow machine), was sent back to the queue for later
    assert sorted(type(r).__name__ for r in results) in (
        ["NoneType", "NoneType"],
        ["NoneType", Retry.__name__],
    ), results

    # when it runs again, there is nothing left to do
    async with job_context(settings, job_try=2) as again:
        await analyse_job(again, import_id)
    await one_complete_analysis(journey, session, settings, import_id)


async def test_a_job_that_lost_its_import_stops_and_writes_nothing(
    journey: Journey, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Job A is frozen while reading the medium (a stalled VM, a stopped process) until its
    lease runs out; job B takes the import over and analyses it. When A wakes up it stops:
    it neither indexes the medium again nor deletes what B unpacked."""
    session, import_id = await uploaded(journey)
    blocked, release = threading.Event(), threading.Event()
    lock = threading.Lock()
    calls: list[Path] = []
    read_one = scan._scan

    def frozen_once(file: Any) -> Any:
        with lock:
            calls.append(file.path)
            first = len(calls) == 1
        if first:  # A's first file: A stops here until the test lets it go
            blocked.set()
            assert release.wait(60)
        return read_one(file)

    monkeypatch.setattr(scan, "_scan", frozen_once)
    # headers read in the job's own thread, where the test freezes them (the pool's processes
    # stop as it does: tests/unit/media/test_scan_pool.py)
    here = settings.model_copy(update={"scan_processes": 0})
    # A renews its lease rarely: nothing renews it while it is frozen
    frozen = here.model_copy(update={"job_lease_s": 600})
    async with job_context(frozen) as a_ctx, job_context(here) as b_ctx:
        job_a = asyncio.create_task(analyse_job(a_ctx, import_id))
        try:
            assert await asyncio.to_thread(blocked.wait, 60)
            # ... and its lease runs out
            await db_execute(
                settings,
                update(Import)
                .where(Import.id == import_id)
                .values(lease_expires_at=utcnow() - timedelta(seconds=1)),
            )
            await analyse_job(b_ctx, import_id)  # B takes the import over and analyses it
            await one_complete_analysis(journey, session, settings, import_id)
        finally:
            release.set()
            [outcome] = await asyncio.gather(job_a, return_exceptions=True)
    assert outcome is None  # A ended quietly, neither failing the import nor retrying
    await one_complete_analysis(journey, session, settings, import_id)


async def test_a_job_starting_as_the_one_before_lets_go_runs_at_once(
    journey: Journey, settings: Settings
) -> None:
    """The job before wrote its last state and releases its hold a moment later (here 0.3 s):
    the next job waits for it instead of going back to the queue until the whole lease runs out
    (a confirmation sent as soon as the app showed the analysis waited 30 s)."""
    session, import_id = await uploaded(journey)
    held_until = utcnow() + timedelta(seconds=settings.job_lease_s)
    await db_execute(
        settings,
        update(Import)
        .where(Import.id == import_id)
        .values(lease_owner="the-job-before", lease_expires_at=held_until),
    )

    async def let_go() -> None:
        await asyncio.sleep(0.3)
        await db_execute(
            settings,
            update(Import)
            .where(Import.id == import_id)
            .values(lease_owner=None, lease_expires_at=None),
        )

    async with job_context(settings) as ctx:
        releasing = asyncio.create_task(let_go())
        await analyse_job(ctx, import_id)  # not Retry
        await releasing
    await one_complete_analysis(journey, session, settings, import_id)


async def test_a_job_finding_its_import_held_for_long_runs_later(
    journey: Journey, settings: Settings
) -> None:
    """Held past the grace by a live job: back to the queue until that hold would run out."""
    _session, import_id = await uploaded(journey)
    before = await db_rows(settings, select(Import.status).where(Import.id == import_id))
    await db_execute(
        settings,
        update(Import)
        .where(Import.id == import_id)
        .values(
            lease_owner="a-live-job",
            lease_expires_at=utcnow() + timedelta(seconds=settings.job_lease_s),
        ),
    )

    async with job_context(settings) as ctx:
        with pytest.raises(Retry) as retry:
            await analyse_job(ctx, import_id)

    assert retry.value.defer_score is not None
    assert retry.value.defer_score > (settings.job_lease_s - 5) * 1000
    after = await db_rows(settings, select(Import.status).where(Import.id == import_id))
    assert after == before, "nothing done while another job holds the import"
