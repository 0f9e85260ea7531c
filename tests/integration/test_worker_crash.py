"""A worker killed in the middle of a store: another one finishes the import, the PACS holds
each instance once, and nothing is lost."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import func, select

from devstack import OrthancProcess
from importer.db import make_engine, make_sessionmaker
from importer.imports.models import Instance
from importer.settings import Settings
from tests.support.app import Journey, make_zip, sample

ROOT = Path(__file__).resolve().parents[2]
COUNT = 300


def medium() -> bytes:
    base = dcmread(sample("CT_small.dcm"))
    files = []
    for i in range(COUNT):
        base.SOPInstanceUID = generate_uid()
        base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
        base.InstanceNumber = i + 1
        out = io.BytesIO()
        base.save_as(out, enforce_file_format=True)
        files.append((f"DICOM/IM{i:05d}", out.getvalue()))
    return make_zip(files)


def start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "IMPORTER_DATABASE_URL": settings.effective_database_url,
        "IMPORTER_REDIS_URL": settings.redis_url,
        "IMPORTER_QUEUE_NAME": settings.queue_name,
        "IMPORTER_SPOOL_DIR": str(settings.effective_spool_dir),
        "IMPORTER_DATA_DIR": str(settings.data_dir),
        "IMPORTER_PACS_URL": settings.pacs_url,
        "IMPORTER_CALLING_AE": settings.calling_ae,
        "IMPORTER_JOB_TIMEOUT_S": "20",  # a killed worker's job is taken up 30 s later
        "IMPORTER_STORE_PARALLEL": "1",
    }
    with log.open("ab") as out:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "arq", "worker.main.WorkerSettings"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)


async def sent(settings: Settings, import_id: str) -> int:
    engine = make_engine(settings.effective_database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            result = await db.execute(
                select(func.count())
                .select_from(Instance)
                .where(Instance.import_id == import_id, Instance.sent_state == "sent")
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_a_killed_worker_loses_nothing(
    journey: Journey, settings: Settings, pacs: OrthancProcess, tmp_path: Path
) -> None:
    session = await journey.start()
    imported = await journey.import_media(session, medium())
    assert imported["studies"][0]["instance_count"] == COUNT
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success

    log = tmp_path / "worker.log"
    first = start_worker(settings, log)
    try:
        deadline = time.monotonic() + 60
        while (done := await sent(settings, imported["id"])) < 30:
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.05)
    finally:
        stop(first, signal.SIGKILL)  # mid-store, without a chance to clean up
    assert done < COUNT

    second = start_worker(settings, log)
    try:
        deadline = time.monotonic() + 120
        while (current := await journey.get_import(session, imported["id"]))["status"] != (
            "completed"
        ):
            assert current["status"] == "processing", current["error"]
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.5)
    finally:
        stop(second)
    assert await sent(settings, imported["id"]) == COUNT
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        assert len(http.get("/instances").json()) == COUNT
