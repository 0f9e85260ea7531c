"""A worker killed (SIGKILL) in the middle of an analysis, holding its import: its lease runs
out (``IMPORTER_JOB_LEASE_S`` after its last renewal) and the job, run again by another worker
(after arq's in-progress key, ``IMPORTER_JOB_TIMEOUT_S`` + 10 s), takes the import over,
clears what the killed attempt half-unpacked, and ends with one complete analysis: nothing lost,
nothing indexed twice, no attempt folder left, the import free again."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from sqlalchemy import func, select

from importer.audit.models import AuditEvent
from importer.imports.models import Import, Instance, Study
from importer.spool import ATTEMPT_PREFIX
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
from tests.support.app import Journey, running_api

COUNT = 800
JOB_TIMEOUT_S = 10  # longer than one analysis of the 800 here (4.6 s on a slow machine, idle)
LEASE_S = 3


def attempt_files(media: Path) -> int:
    """Files unpacked so far by analysis attempts under way (or killed)."""
    if not media.is_dir():
        return 0
    return sum(
        sum(1 for _ in (attempt / "f").iterdir())
        for attempt in media.iterdir()
        if attempt.name.startswith(ATTEMPT_PREFIX) and (attempt / "f").is_dir()
    )


async def test_a_worker_killed_holding_its_import_is_taken_over(
    database_url: str, redis_url: str, own_orthanc: CountingOrthanc, tmp_path: Path
) -> None:
    await truncate(database_url)
    settings = make_settings(
        database_url=database_url,
        redis_url=redis_url,
        pacs_url=own_orthanc.dimse_url,
        tmp_path=tmp_path,
        job_timeout_s=JOB_TIMEOUT_S,
        job_lease_s=LEASE_S,
    )
    env = {"IMPORTER_JOB_TIMEOUT_S": str(JOB_TIMEOUT_S), "IMPORTER_JOB_LEASE_S": str(LEASE_S)}
    archive = medium(COUNT)
    log = tmp_path / "worker.log"
    async with running_api(settings) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        journey = Journey(http, settings)
        session = await journey.start()
        created = await journey.create_import(session, len(archive))
        await journey.upload(session, created["upload_url"], archive, chunk=1 << 20)
        import_id = created["id"]
        import_dir = settings.effective_spool_dir / "imports" / import_id
        media = import_dir / "media"

        async def unpacking() -> bool:
            return (
                await status_of(database_url, import_id) == "analyzing"
                and attempt_files(media) >= COUNT // 4
            )

        first = start_worker(settings, log, **env)
        try:
            await wait_for(unpacking, within=60, what="the analysis to start", every=0.01, log=log)
        finally:
            stop_process(first, signal.SIGKILL)
        # the dead job still holds the import, and left its half-unpacked attempt behind
        assert await db_scalar(
            database_url, select(Import.lease_owner).where(Import.id == import_id)
        )
        assert attempt_files(media) > 0

        second = start_worker(settings, log, **env)
        try:

            async def analysed() -> str | None:
                status = await status_of(database_url, import_id)
                assert status in ("analyzing", "awaiting_confirmation"), status
                return status if status == "awaiting_confirmation" else None

            await wait_for(analysed, within=90, what="another worker's analysis", log=log)
        finally:
            stop_process(second)
        imported = await journey.get_import(session, import_id)

    assert imported["error"] is None
    assert (imported["media"]["files"], imported["media"]["dicom"]) == (COUNT, COUNT)
    [study] = imported["studies"]
    assert (study["series_count"], study["instance_count"]) == (1, COUNT)
    assert await db_scalar(database_url, select(func.count()).select_from(Study)) == 1
    count = select(func.count()).select_from(Instance).where(Instance.import_id == import_id)
    assert await db_scalar(database_url, count) == COUNT
    paths = await db_scalar(
        database_url,
        select(func.count(func.distinct(Instance.path))).where(Instance.import_id == import_id),
    )
    assert paths == COUNT
    # the files in force, every one; nothing of the killed attempt left
    assert sorted(p.name for p in media.iterdir()) == ["f"]
    assert sum(1 for _ in (media / "f").iterdir()) == COUNT
    analyses = select(func.count()).where(
        AuditEvent.import_id == import_id, AuditEvent.action == "import.analysed"
    )
    assert await db_scalar(database_url, analyses) == 1
    assert (
        await db_scalar(database_url, select(Import.lease_owner).where(Import.id == import_id))
        is None
    )
