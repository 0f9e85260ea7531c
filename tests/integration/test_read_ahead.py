"""The medium read while its PATCHes arrive, through the real api, worker, PostgreSQL, Redis and
Orthanc: the confirmation screen and the PACS get what reading the whole medium gives, the
files the analysis took from the read-ahead included; a cancel during the upload leaves
nothing behind, whatever read ahead."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from arq.connections import RedisSettings, create_pool
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import select

from devstack import OrthancProcess
from importer.imports.models import Instance
from importer.jobs import ANALYSE, READ_AHEAD, deserialize, serialize
from importer.settings import Settings
from tests.integration.test_pipeline import db_rows, orthanc_sop_uids
from tests.support.app import DEMO_PATIENT, Journey, Launched, run_worker, sample
from worker.enqueue import job_id

COUNT = 24


def medium() -> tuple[bytes, set[str]]:
    """A stored ZIP written as zip.js writes the app's (sizes in data descriptors), of the
    order's patient, with a text file; and its SOP Instance UIDs."""
    base = dcmread(sample("CT_small.dcm"))
    base.PatientName = DEMO_PATIENT["name"]
    base.PatientID = DEMO_PATIENT["id"]
    base.PatientBirthDate = DEMO_PATIENT["birth_date"]
    base.PatientSex = DEMO_PATIENT["sex"]
    base.StudyInstanceUID = generate_uid()
    base.SeriesInstanceUID = generate_uid()
    uids: set[str] = set()

    class Stream(io.RawIOBase):  # not seekable: zipfile writes descriptors, as zip.js does
        data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.data += b
            return len(b)

    stream = Stream()
    stream.data = bytearray()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        with archive.open("README.TXT", "w") as entry:
            entry.write(b"Open the viewer on the disc.")
        for i in range(COUNT):
            base.SOPInstanceUID = generate_uid()
            base.file_meta.MediaStorageSOPInstanceUID = base.SOPInstanceUID
            base.InstanceNumber = i + 1
            uids.add(str(base.SOPInstanceUID))
            out = io.BytesIO()
            base.save_as(out, enforce_file_format=True)
            with archive.open(f"DICOM/IM{i:05d}", "w") as entry:
                entry.write(out.getvalue())
    return bytes(stream.data), uids


async def queued(settings: Settings, function: str, import_id: str) -> bool:
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        return bool(await redis.exists(f"arq:job:{job_id(function, import_id)}"))
    finally:
        await redis.aclose()


async def patch(journey: Journey, session: Launched, url: str, data: bytes, start: int) -> None:
    response = await journey.patch(session, url, start, data)
    assert response.status_code == 204, response.text


def summary(imported: dict[str, Any]) -> Any:
    """What the confirmation screen shows of an import (not its ids)."""
    return (
        imported["media"],
        [
            (s["study_instance_uid"], s["identity"], s["instance_count"], s["patient"])
            for s in imported["studies"]
        ],
    )


async def test_a_medium_read_as_its_patches_arrive_is_shown_and_stored_as_read_whole(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    archive, uids = medium()
    session = await journey.start()
    created = await journey.create_import(session, len(archive))
    url, import_id = created["upload_url"], created["id"]
    quarter = len(archive) // 4
    for start in (0, quarter, 2 * quarter):
        await patch(journey, session, url, archive[start : start + quarter], start)
        assert await queued(settings, READ_AHEAD, import_id)  # read while the rest comes
        assert not await queued(settings, ANALYSE, import_id)
        await run_worker(settings)
    assert (await journey.get_import(session, import_id))["status"] == "created"
    await patch(journey, session, url, archive[3 * quarter :], 3 * quarter)
    assert await queued(settings, ANALYSE, import_id)
    await run_worker(settings)
    imported = await journey.get_import(session, import_id)
    assert imported["status"] == "awaiting_confirmation", imported["error"]

    # the whole medium in one PATCH, nothing read ahead: the same screen
    other = await journey.start()
    whole = await journey.create_import(other, len(archive))
    await patch(journey, other, whole["upload_url"], archive, 0)
    await run_worker(settings)
    assert summary(await journey.get_import(other, whole["id"])) == summary(imported)
    assert imported["media"]["dicom"] == COUNT

    rows = await db_rows(settings, select(Instance).where(Instance.import_id == import_id))
    read_ahead = [r for r in rows if Path(r.path).name.startswith("r")]
    assert len(read_ahead) >= COUNT // 2  # three quarters arrived before the last PATCH

    uids_of_study = [s["study_instance_uid"] for s in imported["studies"]]
    confirmed = await journey.confirm(session, import_id, uids_of_study, acknowledge=False)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(settings)
    done = await journey.get_import(session, import_id)
    assert done["status"] == "completed", done["error"]
    assert orthanc_sop_uids(pacs) == uids


async def test_a_cancel_during_the_upload_leaves_nothing_of_what_was_read_ahead(
    journey: Journey, settings: Settings
) -> None:
    archive, _ = medium()
    session = await journey.start()
    created = await journey.create_import(session, len(archive))
    third = len(archive) // 3
    await patch(journey, session, created["upload_url"], archive[:third], 0)
    await run_worker(settings)
    folder = settings.effective_spool_dir / "imports" / created["id"]
    assert any((folder / "ahead" / "f").iterdir())
    await patch(journey, session, created["upload_url"], archive[third : 2 * third], third)
    assert await queued(settings, READ_AHEAD, created["id"])
    cancel = await journey.client.post(
        f"/api/v1/imports/{created['id']}/cancel", headers=session.headers
    )
    assert cancel.status_code == 202, cancel.text
    assert not folder.exists()
    await run_worker(settings)  # the read-ahead queued before the cancel creates nothing
    assert not folder.exists()
    assert (await journey.get_import(session, created["id"]))["status"] == "cancelled"
