"""Undo a wrong import (issue 16, point 2), on real PostgreSQL, Redis and Orthanc: a referent
takes back a completed import; the PACS loses exactly the instances the import stored (never an
earlier copy), the RIS is told, and the medium is filed again for the right order from the
temporary zone without loading it again. Tried from every side: the wrong role, an import that
is not completed, the period over, two requests at once, another import counting the same
images, a PACS away, an IOCM rejection note."""

from __future__ import annotations

import asyncio
import io
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from sqlalchemy import select, update

from devstack import OrthancProcess, free_port
from importer.db import utcnow
from importer.imports.models import Import, RememberedIdentity
from importer.imports.ris_outbox import RisCallback
from importer.jobs import UNDO, deserialize, serialize
from importer.settings import Settings
from tests.conftest import REFUSED_SOCKET_WARNINGS
from tests.integration.test_pipeline import db_execute, db_rows
from tests.support.app import (
    DEMO_PATIENT,
    REFERENT_USER,
    RIS_KEY,
    Journey,
    Launched,
    make_zip,
    run_worker,
    running_api,
    sample,
)
from tests.support.orthanc import orthanc_sop_instance_uids, orthanc_upload
from worker.enqueue import enqueue

REFERENT = REFERENT_USER
# the patient the medium really belongs to: another patient of the hospital
RIGHT_PATIENT = {
    "id": "HOSP-0099",
    "issuer": "HOSPITAL",
    "name": "VERDI^ANNA",
    "birth_date": "19800202",
    "sex": "F",
}


def instances(count: int, *, study: str, series: str) -> list[Dataset]:
    """``count`` CT instances of one study and series, the outside patient as written."""
    out: list[Dataset] = []
    for number in range(1, count + 1):
        ds = dcmread(sample("CT_small.dcm"))
        ds.PatientID, ds.PatientName = "EXT-777", "ROSSI^MARIO"
        ds.PatientBirthDate, ds.PatientSex = "19740101", "M"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = number
        out.append(ds)
    return out


def encoded(ds: Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def medium(datasets: list[Dataset]) -> bytes:
    return make_zip([(f"DICOM/IM{i:04d}", encoded(ds)) for i, ds in enumerate(datasets, 1)])


@pytest.fixture
async def undoable(settings: Settings, pacs: OrthancProcess) -> Settings:
    """The settings with undo on: Orthanc's REST API takes instances back."""
    return settings.model_copy(update={"reject_url": f"orthanc+{pacs.http_url}"})


@pytest.fixture
async def referent(undoable: Settings) -> AsyncIterator[Journey]:
    """A journey against an api that may undo (the fixture's api may not)."""
    async with (
        running_api(undoable) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        yield Journey(http, undoable)


async def filed(
    journey: Journey, datasets: list[Dataset], *, accession: str = "ACC-UNDO-1"
) -> tuple[Launched, dict[str, Any]]:
    """The medium filed under the demo patient's order by a referent (who also imports)."""
    session = await journey.start(accession=accession, user=REFERENT)
    imported = await journey.import_media(session, medium(datasets))
    # a study already on the PACS is confirmed too, and ignored (the Italian procedure's rule)
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    confirmed = await journey.confirm(session, imported["id"], uids, acknowledge=True)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(journey.settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    return session, done


async def undo(
    journey: Journey, session: Launched, import_id: str, reason: str = "patient_safety"
) -> httpx.Response:
    return await journey.client.post(
        f"/api/v1/imports/{import_id}/undo", json={"reason": reason}, headers=session.headers
    )


async def callbacks(settings: Settings, import_id: str) -> list[dict[str, Any]]:
    rows = await db_rows(
        settings,
        select(RisCallback.payload)
        .where(RisCallback.import_id == import_id)
        .order_by(RisCallback.id),
    )
    return [dict(p) for p in rows]


async def remembered_by(settings: Settings, import_id: str) -> list[Any]:
    """What the import was the last to file in the remembered identities."""
    return await db_rows(
        settings, select(RememberedIdentity).where(RememberedIdentity.import_id == import_id)
    )


async def set_import(settings: Settings, import_id: str, **values: Any) -> None:
    await db_execute(settings, update(Import).where(Import.id == import_id).values(**values))


async def test_an_undo_takes_back_exactly_our_instances_and_the_medium_is_filed_again(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    study, series = generate_uid(), generate_uid()
    datasets = instances(3, study=study, series=series)
    # an earlier copy of the first instance, on the PACS before the import (filed under the
    # order's patient: the import counts it as there, and sends only the other two)
    earlier = datasets[0].copy()
    earlier.PatientID = DEMO_PATIENT["id"]
    orthanc_upload(pacs.http_url, encoded(earlier))
    ours = {str(ds.SOPInstanceUID) for ds in datasets[1:]}
    # a PACS copy of someone else's: another study, untouched by anything here
    other = instances(1, study=generate_uid(), series=generate_uid())[0]
    orthanc_upload(pacs.http_url, encoded(other))

    session, done = await filed(referent, datasets)
    assert orthanc_sop_instance_uids(pacs.http_url) == {
        str(ds.SOPInstanceUID) for ds in [*datasets, other]
    }
    assert done["undo"] is None
    assert done["undo_until"] is not None  # kept for the period, with its files
    spool = undoable.effective_spool_dir / "imports" / done["id"]
    assert spool.exists()

    asked = await undo(referent, session, done["id"])
    assert asked.status_code == 202, asked.text
    requested = await referent.get_import(session, done["id"])
    assert requested["undo"]["state"] == "requested"
    assert requested["badge"] == "warning"
    assert requested["undo"]["requested_by_name"] == "Referent One"
    assert requested["undo_until"] is None
    again = await undo(referent, session, done["id"])
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "undo_in_progress"

    await run_worker(undoable)
    undone = await referent.get_import(session, done["id"])
    assert undone["status"] == "completed"
    assert undone["zone"] == "temporary"
    assert undone["undo"]["state"] == "done"
    assert undone["badge"] == "muted"
    assert undone["undo"]["taken_back"] == 2
    assert undone["undo"]["accession_number"] == "ACC-UNDO-1"
    assert undone["undo"]["reason"] == "patient_safety"
    # exactly ours gone; the earlier copy and the other study in place
    assert orthanc_sop_instance_uids(pacs.http_url) == {
        str(datasets[0].SOPInstanceUID),
        str(other.SOPInstanceUID),
    }
    assert not ours & orthanc_sop_instance_uids(pacs.http_url)
    assert spool.exists()
    logged = await referent.audit_actions(done["id"])
    assert {"import.undo_requested", "import.undone", "identity.forgotten"} <= set(logged)
    # what was remembered of this filing is forgotten: it was wrong
    assert await remembered_by(undoable, done["id"]) == []
    # the temporary zone lists it, said to be undone from its order
    listed = await referent.client.get("/api/v1/temporary", headers=session.headers)
    (item,) = [i for i in listed.json()["items"] if i["id"] == done["id"]]
    assert item["undo"]["accession_number"] == "ACC-UNDO-1"

    # the earlier copy is still on the PACS under the wrong patient: filing the study again
    # under another one is refused until the PACS administrator resolves it
    await ris_order(referent, "ACC-RIGHT-0")
    refused = await promote(referent, session, done["id"], "ACC-RIGHT-0")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "study_conflict"


async def ris_order(journey: Journey, accession: str) -> None:
    """The RIS sends the right order (the right patient's)."""
    put = await journey.client.put(
        f"/api/v1/orders/{accession}",
        json={"accession_number": accession, "patient": RIGHT_PATIENT},
        headers={"Authorization": f"Bearer {RIS_KEY}"},
    )
    assert put.status_code == 200, put.text


async def promote(
    journey: Journey, session: Launched, import_id: str, accession: str
) -> httpx.Response:
    """Promote from the temporary zone as the app does: the comparison shown first, then
    filed with what the user saw."""
    path = f"/api/v1/imports/{import_id}/promote"
    shown = await journey.client.post(
        path, json={"accession_number": accession}, headers=session.headers
    )
    if shown.json()["error"]["code"] != "identity_not_compared":
        return shown
    return await journey.client.post(
        path,
        json={
            "accession_number": accession,
            "acknowledge_identity": True,
            "seen_patient": RIGHT_PATIENT,
            "seen_filed_before": [],
        },
        headers=session.headers,
    )


async def test_an_undone_import_is_filed_again_for_the_right_order_without_the_medium(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    datasets = instances(2, study=generate_uid(), series=generate_uid())
    session, done = await filed(referent, datasets, accession="ACC-UNDO-2")
    assert (await undo(referent, session, done["id"])).is_success
    await run_worker(undoable)
    assert orthanc_sop_instance_uids(pacs.http_url) == set()

    # the RIS opens the right order for the referent, who files the undone import there
    right = await referent.start(accession="ACC-RIGHT-1", patient=RIGHT_PATIENT, user=REFERENT)
    promoted = await promote(referent, right, done["id"], "ACC-RIGHT-1")
    assert promoted.status_code == 202, promoted.text
    await run_worker(undoable)
    refiled = await referent.get_import(right, done["id"])
    assert refiled["status"] == "completed", refiled["error"]
    assert refiled["zone"] == "pacs"
    assert refiled["order"]["accession_number"] == "ACC-RIGHT-1"
    assert refiled["undo"] is None  # a new filing (the undo before it is in its log)
    assert refiled["undo_until"] is not None  # which may be undone in its turn
    ours = {str(ds.SOPInstanceUID) for ds in datasets}
    assert orthanc_sop_instance_uids(pacs.http_url) == ours
    with httpx.Client(base_url=pacs.http_url) as http:
        for uid in ours:
            (found,) = http.post("/tools/lookup", content=uid).json()
            tags = http.get(f"/instances/{found['ID']}/simplified-tags").json()
            assert (tags["PatientID"], tags["AccessionNumber"]) == ("HOSP-0099", "ACC-RIGHT-1")


async def test_the_ris_is_told_with_the_order_it_was_undone_from(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    token = await referent.launch(
        accession="ACC-UNDO-CB", user=REFERENT, callback_url="http://127.0.0.1:9/hook"
    )
    session = await referent.open_session(token)
    datasets = instances(2, study=generate_uid(), series=generate_uid())
    imported = await referent.import_media(session, medium(datasets))
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await referent.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(undoable)
    assert (await undo(referent, session, imported["id"], "wrong_worklist_entry")).is_success
    await run_worker(undoable)
    told = [c for c in await callbacks(undoable, imported["id"]) if c["event"] == "import.undone"]
    assert told == [
        {
            "event": "import.undone",
            "import_id": imported["id"],
            "support_id": imported["support_id"],
            "accession_number": "ACC-UNDO-CB",
            "patient_id": DEMO_PATIENT["id"],
            "reason": "wrong_worklist_entry",
            "study_instance_uids": [uid],
            "instances_taken_back": 2,
            "at": told[0]["at"],
        }
    ]
    assert "ROSSI" not in str(told)
    # the right patient, the wrong order: what was remembered of the patient stays
    assert len(await remembered_by(undoable, imported["id"])) == 1


async def test_refusals_each_with_its_code(
    referent: Journey, journey: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    datasets = instances(1, study=generate_uid(), series=generate_uid())
    session, done = await filed(referent, datasets, accession="ACC-UNDO-R1")

    # a clerk without the referent's role
    clerk = await referent.start(accession="ACC-UNDO-R1")
    forbidden = await undo(referent, clerk, done["id"])
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "role_required"
    # a reason not among IOCM's
    wrong = await referent.client.post(
        f"/api/v1/imports/{done['id']}/undo", json={"reason": "oops"}, headers=session.headers
    )
    assert wrong.status_code == 422
    # an api that cannot take images back (no IMPORTER_REJECT_URL)
    ref_plain = await journey.start(accession="ACC-UNDO-R1", user=REFERENT)
    plain = await undo(journey, ref_plain, done["id"])
    assert plain.status_code == 409
    assert plain.json()["error"]["code"] == "undo_not_configured"

    # the same images counted by a later import (the same medium again: all on the PACS)
    _, later = await filed(referent, datasets, accession="ACC-UNDO-R1")
    used = await undo(referent, session, done["id"])
    assert used.status_code == 409
    assert used.json()["error"]["code"] == "undo_used_later"
    assert used.json()["error"]["params"] == {"count": 1, "support_id": later["support_id"]}
    assert orthanc_sop_instance_uids(pacs.http_url) == {str(datasets[0].SOPInstanceUID)}
    # that later import stored nothing (all of it was there): nothing to take back
    nothing = await undo(referent, session, later["id"])
    assert nothing.status_code == 409
    assert nothing.json()["error"]["code"] == "undo_nothing_stored"

    # the period over: refused, and the reconciler lets the files go
    await set_import(undoable, later["id"], status="cancelled")  # out of the way
    await set_import(undoable, done["id"], files_kept_until=utcnow() - timedelta(seconds=1))
    over = await undo(referent, session, done["id"])
    assert over.status_code == 409
    assert over.json()["error"] == {
        "code": "undo_period_over",
        "message": over.json()["error"]["message"],
        "params": {"hours": undoable.undo_hours},
    }
    spool = undoable.effective_spool_dir / "imports" / done["id"]
    assert spool.exists()
    await run_worker(undoable, reconcile=True)  # the reconciler's tick
    assert not spool.exists()
    gone = await referent.get_import(session, done["id"])
    assert gone["undo_until"] is None

    # not completed: an import still awaiting confirmation
    waiting = await referent.import_media(
        session, medium(instances(1, study=generate_uid(), series=generate_uid()))
    )
    early = await undo(referent, session, waiting["id"])
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "not_undoable"
    assert early.json()["error"]["params"]["status"] == "awaiting_confirmation"


async def test_two_requests_at_once_undo_once(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    session, done = await filed(
        referent, instances(2, study=generate_uid(), series=generate_uid()), accession="ACC-UR2"
    )
    answers = await asyncio.gather(*(undo(referent, session, done["id"]) for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [202, 409, 409, 409]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "undo_in_progress"
    }
    await run_worker(undoable)
    undone = await referent.get_import(session, done["id"])
    assert undone["undo"]["taken_back"] == 2
    assert (await referent.audit_actions(done["id"])).count("import.undo_requested") == 1


@pytest.mark.filterwarnings(*REFUSED_SOCKET_WARNINGS)
async def test_a_pacs_away_fails_the_undo_not_the_import_and_it_is_asked_again(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    datasets = instances(2, study=generate_uid(), series=generate_uid())
    session, done = await filed(referent, datasets, accession="ACC-UNDO-AWAY")
    assert (await undo(referent, session, done["id"])).is_success
    away = undoable.model_copy(update={"reject_url": f"orthanc+http://127.0.0.1:{free_port()}"})
    await run_worker(away)
    failed = await referent.get_import(session, done["id"])
    assert failed["status"] == "completed"  # still filed, and said so
    assert failed["zone"] == "pacs"
    assert failed["undo"]["state"] == "failed"
    assert failed["badge"] == "danger"  # half taken back: a person must act
    assert failed["undo"]["error"]["code"] == "pacs_unreachable"
    assert failed["undo"]["error"]["params"] == {"count": 2}
    assert failed["undo_until"] is not None  # asked again
    assert len(orthanc_sop_instance_uids(pacs.http_url)) == 2
    assert "import.undo_failed" in await referent.audit_actions(done["id"])

    assert (await undo(referent, session, done["id"])).is_success
    await run_worker(undoable)
    undone = await referent.get_import(session, done["id"])
    assert undone["undo"]["state"] == "done"
    assert undone["undo"]["error"] is None
    assert orthanc_sop_instance_uids(pacs.http_url) == set()


async def test_an_iocm_rejection_note_goes_to_the_pacs_as_a_valid_object_and_is_checked(
    undoable: Settings, pacs: OrthancProcess, tmp_path: Any
) -> None:
    kos = undoable.model_copy(update={"reject_url": "kos"})
    async with (
        running_api(kos) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as http,
    ):
        journey = Journey(http, kos)
        datasets = instances(2, study=generate_uid(), series=generate_uid())
        session, done = await filed(journey, datasets, accession="ACC-UNDO-KOS")
        assert (await undo(journey, session, done["id"])).is_success
        await run_worker(kos)
        undone = await journey.get_import(session, done["id"])
    # Orthanc stores the note but has no IOCM: it still lists the instances, and the undo says
    # so rather than done (a PACS with IOCM hides them)
    assert undone["undo"]["state"] == "failed"
    assert undone["undo"]["error"]["code"] == "pacs_unsupported"
    assert undone["undo"]["error"]["params"] == {"count": 2}
    assert undone["undo"]["taken_back"] == 0
    assert undone["zone"] == "pacs"
    assert {str(ds.SOPInstanceUID) for ds in datasets} <= orthanc_sop_instance_uids(pacs.http_url)
    with httpx.Client(base_url=pacs.http_url) as orthanc:
        notes = orthanc.post(
            "/tools/find", json={"Level": "Instance", "Query": {"Modality": "KO"}}
        ).json()
        (note_id,) = notes
        raw = orthanc.get(f"/instances/{note_id}/file").content
    note = dcmread(io.BytesIO(raw))
    assert note.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.59"
    assert note.StudyInstanceUID == datasets[0].StudyInstanceUID
    assert note.PatientID == DEMO_PATIENT["id"]  # the patient the instances were filed under
    title = note.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator) == ("113037", "DCM")
    evidence = note.CurrentRequestedProcedureEvidenceSequence[0]
    referenced = {
        str(sop.ReferencedSOPInstanceUID)
        for series in evidence.ReferencedSeriesSequence
        for sop in series.ReferencedSOPSequence
    }
    assert referenced == {str(ds.SOPInstanceUID) for ds in datasets}
    path = tmp_path / "note.dcm"
    path.write_bytes(raw)
    checked = await asyncio.to_thread(
        subprocess.run,
        ["/usr/bin/dciodvfy", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in checked.stderr.splitlines() if line.startswith("Error")]
    assert errors == [], checked.stderr


async def test_a_lost_undo_job_is_handed_back_by_the_reconciler(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    """Redis forgot the undo's job (restart, flush; a worker killed): the reconciler finds the
    undo asked and neither done nor failed, and runs it again."""
    session, done = await filed(
        referent, instances(2, study=generate_uid(), series=generate_uid()), accession="ACC-UL"
    )
    assert (await undo(referent, session, done["id"])).is_success
    await drop_undo_job(undoable, done["id"])
    await run_worker(undoable)  # nothing queued: nothing happens
    waiting = await referent.get_import(session, done["id"])
    assert waiting["undo"]["state"] == "requested"
    assert len(orthanc_sop_instance_uids(pacs.http_url)) == 2

    # past the grace period, the reconciler (a cron of the worker) hands it back
    await set_import(undoable, done["id"], undo_requested_at=utcnow() - timedelta(minutes=5))
    await run_worker(undoable, reconcile=True)
    await run_worker(undoable)
    undone = await referent.get_import(session, done["id"])
    assert undone["undo"]["state"] == "done"
    assert orthanc_sop_instance_uids(pacs.http_url) == set()


@asynccontextmanager
async def queue(settings: Settings) -> AsyncIterator[ArqRedis]:
    """The worker's queue, as the api writes to it."""
    redis = await create_pool(
        RedisSettings.from_dsn(settings.redis_url),
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
    try:
        yield redis
    finally:
        await redis.aclose()


async def drop_undo_job(settings: Settings, import_id: str) -> None:
    """The undo's job taken out of the queue (as Redis forgets it, or to run it later)."""
    async with queue(settings) as redis:
        await redis.delete(settings.queue_name, f"arq:job:{UNDO}:{import_id}")


async def test_an_import_analysed_after_the_request_holds_the_undo_back(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    """The undo is asked; before its job runs, the same medium is loaded again and found all
    on the PACS. The job asks the rule again and takes nothing back: that import would complete
    without its images."""
    datasets = instances(2, study=generate_uid(), series=generate_uid())
    session, done = await filed(referent, datasets, accession="ACC-UNDO-RACE")
    assert (await undo(referent, session, done["id"])).is_success
    await drop_undo_job(undoable, done["id"])  # it runs after the analysis below
    again = await referent.start(accession="ACC-UNDO-RACE", user=REFERENT)
    later = await referent.import_media(again, medium(datasets))
    assert later["studies"][0]["on_pacs"] is True
    async with queue(undoable) as redis:
        assert await enqueue(redis, UNDO, done["id"], queue_name=undoable.queue_name)
    await run_worker(undoable)
    undone = await referent.get_import(session, done["id"])
    assert undone["undo"]["state"] == "failed"
    assert undone["undo"]["error"]["code"] == "undo_used_later"
    assert undone["undo"]["error"]["params"] == {"count": 1, "support_id": later["support_id"]}
    assert orthanc_sop_instance_uids(pacs.http_url) == {str(ds.SOPInstanceUID) for ds in datasets}


async def test_the_same_medium_waiting_in_the_temporary_zone_holds_the_undo_back(
    referent: Journey, undoable: Settings, pacs: OrthancProcess
) -> None:
    """Another zone, an import not yet sent: it still holds the images (its rows are pending,
    and a C-STORE of an image the PACS holds is answered as stored). Undoing the first filing
    would leave it completing without them."""
    datasets = instances(2, study=generate_uid(), series=generate_uid())
    session, done = await filed(referent, datasets, accession="ACC-UNDO-TZ")
    archive = medium(datasets)
    created = await referent.client.post(
        "/api/v1/imports",
        json={"zone": "temporary", "size": len(archive)},
        headers=session.headers,
    )
    assert created.status_code == 201, created.text
    await referent.upload(session, created.json()["upload_url"], archive)
    await run_worker(undoable)
    waiting = await referent.get_import(session, created.json()["id"])
    assert (waiting["zone"], waiting["status"]) == ("temporary", "awaiting_confirmation")
    held = await undo(referent, session, done["id"])
    assert held.status_code == 409
    assert held.json()["error"]["code"] == "undo_used_later"
    assert held.json()["error"]["params"]["support_id"] == waiting["support_id"]
    assert orthanc_sop_instance_uids(pacs.http_url) == {str(ds.SOPInstanceUID) for ds in datasets}
