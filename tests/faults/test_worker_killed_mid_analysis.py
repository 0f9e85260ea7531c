"""A worker killed (SIGKILL) in the middle of an analysis: once the killed job's lease runs out
(``IMPORTER_JOB_TIMEOUT_S`` + 10 s, arq's in-progress key) another worker analyses the medium
again from the start, and the import waits for the user with the right counts: nothing lost,
nothing indexed twice."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from importer.imports.models import Import, Instance, Series, Study
from tests.faults.support import (
    CountingOrthanc,
    db_scalar,
    make_settings,
    medium,
    start_worker,
    status_of,
    stop_process,
    truncate,
    wait_for,
)
from tests.faults.test_worker_killed_holding_its_import import attempt_files
from tests.support.app import Journey, running_api

COUNT = 800
JOB_TIMEOUT_S = 10  # longer than one analysis of the 800 here (4.6 s on a slow machine, idle)


async def test_a_worker_killed_mid_analysis_is_replaced(
    database_url: str, redis_url: str, own_orthanc: CountingOrthanc, tmp_path: Path
) -> None:
    await truncate(database_url)
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        pacs_url=own_orthanc.dimse_url,
        tmp_path=tmp_path,
        job_timeout_s=JOB_TIMEOUT_S,
    )
    archive = medium(COUNT)
    log = tmp_path / "worker.log"
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session = await journey.start()
        created = await journey.create_import(session, len(archive))
        await journey.upload(session, created["upload_url"], archive, chunk=1 << 20)
        import_id = created["id"]
        media = settings.effective_spool_dir / "imports" / import_id / "media"

        async def unpacked() -> bool:
            # the worker is reading the medium: status analyzing and files on the spool
            return (
                await status_of(database_url, import_id) == "analyzing"
                and attempt_files(media) >= COUNT // 4
            )

        first = start_worker(settings, log, IMPORTER_JOB_TIMEOUT_S=str(JOB_TIMEOUT_S))
        try:
            await wait_for(unpacked, within=60, what="the analysis to start", every=0.01, log=log)
        finally:
            stop_process(first, signal.SIGKILL)
        killed_at = time.monotonic()
        assert await status_of(database_url, import_id) == "analyzing"

        second = start_worker(settings, log, IMPORTER_JOB_TIMEOUT_S=str(JOB_TIMEOUT_S))
        try:

            async def analysed() -> str | None:
                status = await status_of(database_url, import_id)
                assert status in ("analyzing", "awaiting_confirmation"), status
                return status if status == "awaiting_confirmation" else None

            await wait_for(analysed, within=60, what="another worker's analysis", log=log)
        finally:
            stop_process(second)
        print(f"taken up and analysed {time.monotonic() - killed_at:.1f} s after the kill")

        imported = await journey.get_import(session, import_id)
    assert imported["error"] is None
    assert imported["media"]["files"] == COUNT
    assert imported["media"]["dicom"] == COUNT
    [study] = imported["studies"]
    assert (study["series_count"], study["instance_count"]) == (1, COUNT)
    assert study["on_pacs"] is False
    # indexed once: the second analysis replaced whatever the first had begun
    assert await db_scalar(database_url, select(func.count()).select_from(Study)) == 1
    assert await db_scalar(database_url, select(func.count()).select_from(Series)) == 1
    assert (
        await db_scalar(
            database_url,
            select(func.count(func.distinct(Instance.sop_instance_uid))).where(
                Instance.import_id == import_id
            ),
        )
        == COUNT
    )
    assert (
        await db_scalar(
            database_url,
            select(func.count()).select_from(Instance).where(Instance.import_id == import_id),
        )
        == COUNT
    )
    assert sum(1 for _ in (media / "f").iterdir()) == COUNT
    assert await db_scalar(database_url, select(Import.upload_received)) == len(archive)
