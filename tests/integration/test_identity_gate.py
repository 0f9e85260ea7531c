"""The first promise on every path: no study is filed under a patient the user did not see
compared and accept (the identity gate; issue 11, points 5, 6, 7, 9 and 11)."""

from __future__ import annotations

import asyncio
import io
import itertools
from typing import Any

import httpx
import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import select, update

from devstack import OrthancProcess, free_port
from importer.audit.models import AuditEvent
from importer.imports.models import Stage
from importer.settings import Settings
from tests.integration.test_pipeline import db_execute, db_rows
from tests.support.app import RIS_KEY, Journey, Launched, make_zip, run_worker, sample

ROSSI = {"id": "HOSP-1", "issuer": "HOSPITAL", "name": "ROSSI^MARIO", "birth_date": "19740101",
         "sex": "M"}  # fmt: skip
BIANCHI = {"id": "HOSP-2", "issuer": "HOSPITAL", "name": "BIANCHI^LUCA", "birth_date": "19800505",
           "sex": "M"}  # fmt: skip
RIS = {"Authorization": f"Bearer {RIS_KEY}"}


def image(
    name: str, *, study: str, patient_id: str = "EXT-9", birth_date: str = "19740101"
) -> bytes:
    """One CT image of ``study`` naming the patient as given (another hospital's ID)."""
    ds = dcmread(sample("CT_small.dcm"))
    ds.StudyInstanceUID = study
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = name
    ds.PatientID = patient_id
    ds.PatientBirthDate = birth_date
    ds.PatientSex = "M"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def rossi_cd(study: str) -> bytes:
    return make_zip([("DICOM/IM1", image("ROSSI^MARIO", study=study))])


def stored_patients(pacs: OrthancProcess) -> set[tuple[str, str]]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        tags = [
            http.get(f"/instances/{i}/simplified-tags").json()
            for i in http.get("/instances").json()
        ]
    return {(t["PatientName"], t["PatientID"]) for t in tags}


async def ris_corrects(journey: Journey, accession: str, patient: dict[str, str]) -> None:
    """The RIS re-sends the order with another patient (as a new launch would)."""
    response = await journey.client.put(
        f"/api/v1/orders/{accession}",
        json={"accession_number": accession, "patient": patient},
        headers=RIS,
    )
    assert response.status_code == 200, response.text


async def confirm(
    journey: Journey, session: Launched, imported: dict[str, Any], *, ack: bool
) -> httpx.Response:
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    return await journey.confirm(session, imported["id"], uids, acknowledge=ack)


async def test_confirm_after_the_ris_changed_the_order_shows_the_new_comparison_first(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start(accession="ACC-G1", patient=ROSSI)
    imported = await journey.import_media(session, rossi_cd(generate_uid()))
    assert imported["studies"][0]["identity"]["overall"] == "match"
    # the RIS corrects the order (a new launch for the same accession) while the clerk reads
    await journey.launch(accession="ACC-G1", patient=BIANCHI)

    changed = await confirm(journey, session, imported, ack=False)
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "order_changed"
    shown = (await journey.get_import(session, imported["id"]))["studies"][0]
    assert shown["compared_with"]["name"] == "BIANCHI^LUCA"
    assert shown["identity"]["overall"] == "mismatch"
    assert shown["acknowledgement_required"] is True

    refused = await confirm(journey, session, imported, ack=False)
    assert refused.json()["error"]["code"] == "identity_not_acknowledged"
    assert (await confirm(journey, session, imported, ack=True)).status_code == 202
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    # filed under the patient the user saw compared and accepted, nobody else
    assert stored_patients(pacs) == {("BIANCHI^LUCA", "HOSP-2")}


async def test_the_images_carry_the_patient_accepted_at_confirmation(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start(accession="ACC-G2", patient=ROSSI)
    imported = await journey.import_media(session, rossi_cd(generate_uid()))
    assert (await confirm(journey, session, imported, ack=False)).status_code == 202
    # the order row changes after the confirmation, before the worker stores
    await ris_corrects(journey, "ACC-G2", BIANCHI)
    await run_worker(settings)
    assert (await journey.get_import(session, imported["id"]))["status"] == "completed"
    assert stored_patients(pacs) == {("ROSSI^MARIO", "HOSP-1")}


# pynetdicom 3.0.4 leaves the socket of a refused connection for the garbage collector
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
async def test_a_retry_after_the_order_changed_goes_back_to_the_comparison(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start(accession="ACC-G3", patient=ROSSI)
    imported = await journey.import_media(session, rossi_cd(generate_uid()))
    assert (await confirm(journey, session, imported, ack=False)).status_code == 202
    unreachable = settings.model_copy(
        update={"pacs_url": f"dimse://GONE@127.0.0.1:{free_port()}", "stage_attempts": 1}
    )
    await run_worker(unreachable)
    assert (await journey.get_import(session, imported["id"]))["status"] == "failed"

    await ris_corrects(journey, "ACC-G3", BIANCHI)
    retried = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/retry", headers=session.headers
    )
    assert retried.status_code == 409
    assert retried.json()["error"]["code"] == "order_changed"
    # the store had begun: an image may be on the PACS unrecorded, so a referent decides
    kept = await journey.get_import(session, imported["id"])
    assert (kept["status"], kept["error"]["code"]) == ("failed", "order_changed")
    assert kept["studies"][0]["compared_with"]["name"] == "BIANCHI^LUCA"

    # had it failed before the store began (e.g. the spool unreadable at verify), the clerk
    # gets the new comparison and decides again
    await db_execute(settings, update(Stage).values(started_at=None).where(Stage.name == "store"))
    retried = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/retry", headers=session.headers
    )
    assert retried.json()["error"]["code"] == "order_changed"
    back = await journey.get_import(session, imported["id"])
    assert back["status"] == "awaiting_confirmation"
    assert back["studies"][0]["compared_with"]["name"] == "BIANCHI^LUCA"
    assert back["studies"][0]["acknowledgement_required"] is True
    assert stored_patients(pacs) == set()


async def test_orders_come_from_the_ris_never_from_a_session(
    journey: Journey, settings: Settings
) -> None:
    session = await journey.start(accession="ACC-G4", patient=ROSSI)
    as_session = await journey.client.put(
        "/api/v1/orders/ACC-G4",
        json={"accession_number": "ACC-G4", "patient": BIANCHI},
        headers=session.headers,
    )
    assert as_session.status_code == 401
    assert (await journey.client.get("/api/v1/session", headers=session.headers)).json()["order"][
        "patient"
    ]["name"] == "ROSSI^MARIO"

    await ris_corrects(journey, "ACC-G4", BIANCHI)
    events = await db_rows(settings, select(AuditEvent).where(AuditEvent.action == "order.updated"))
    (update,) = events
    assert update.accession_number == "ACC-G4"
    assert update.details["before"]["patient_name"] == "ROSSI^MARIO"
    assert update.details["after"]["patient_name"] == "BIANCHI^LUCA"
    assert update.details["patient_changed"] is True
    # sent again unchanged: nothing to record
    await ris_corrects(journey, "ACC-G4", BIANCHI)
    events = await db_rows(settings, select(AuditEvent).where(AuditEvent.action == "order.updated"))
    assert len(events) == 1


async def test_a_second_patient_hidden_behind_many_spellings_of_the_first_is_compared(
    journey: Journey,
) -> None:
    study = generate_uid()
    # 32 spellings of the order's patient (every case of "rossi"), then someone else with the
    # same outside ID and birth date: only the names differ
    spellings = [
        "".join(c.upper() if up else c for c, up in zip("rossi", ups, strict=True)) + "^MARIO"
        for ups in itertools.product([False, True], repeat=5)
    ]
    files = [(f"DICOM/A{i:03d}", image(name, study=study)) for i, name in enumerate(spellings)]
    files.append(("DICOM/Z999", image("BIANCHI^LUCA", study=study)))
    session = await journey.start(accession="ACC-G5", patient=ROSSI)
    imported = await journey.import_media(session, make_zip(files))
    (found,) = imported["studies"]
    assert found["identity"]["overall"] in ("match", "format_different")
    assert [p["patient"]["name"] for p in found["patients"]][-1] == "BIANCHI^LUCA"
    assert [p["identity"]["overall"] for p in found["patients"]][-1] == "mismatch"
    assert found["acknowledgement_required"] is True

    refused = await confirm(journey, session, imported, ack=False)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "identity_not_acknowledged"
    assert (await confirm(journey, session, imported, ack=True)).status_code == 202


async def test_a_medium_whose_studies_are_all_on_the_pacs_completes_at_once(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    cd = rossi_cd(generate_uid())
    first = await journey.start(accession="ACC-G6", patient=ROSSI)
    done = await journey.import_media(first, cd)
    assert (await confirm(journey, first, done, ack=False)).status_code == 202
    await run_worker(settings)
    assert (await journey.get_import(first, done["id"]))["status"] == "completed"

    again = await journey.start(accession="ACC-G6", patient=ROSSI)
    imported = await journey.import_media(again, cd)
    assert imported["studies"][0]["on_pacs"] is True
    accepted = await confirm(journey, again, imported, ack=False)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["status"] == "completed"
    finished = await journey.get_import(again, imported["id"])
    assert finished["studies"][0]["outcome"] == "already_present"
    assert finished["studies"][0]["stages"] == []
    spool = settings.effective_spool_dir / "imports" / imported["id"]
    assert not spool.exists()
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        assert len(http.get("/instances").json()) == 1  # nothing sent twice
    actions = [
        e.action
        for e in await db_rows(
            settings, select(AuditEvent).where(AuditEvent.import_id == imported["id"])
        )
    ]
    assert "study.already_present" in actions
    assert "import.completed" in actions


async def test_concurrent_confirmations_and_a_cancel_file_the_study_once_or_not_at_all(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await journey.start(accession="ACC-G7", patient=ROSSI)
    imported = await journey.import_media(session, rossi_cd(generate_uid()))
    cancel = journey.client.post(
        f"/api/v1/imports/{imported['id']}/cancel", headers=session.headers
    )
    *answers, _, cancelled_answer = await asyncio.gather(
        *(confirm(journey, session, imported, ack=True) for _ in range(4)),
        ris_corrects(journey, "ACC-G7", BIANCHI),
        cancel,
    )
    confirmed = [a for a in answers if a is not None and a.status_code == 202]
    cancelled = cancelled_answer is not None and cancelled_answer.status_code == 202
    # one decision wins: a single confirmation, or the cancel, never both
    assert len(confirmed) + cancelled == 1
    await run_worker(settings)
    final = await journey.get_import(session, imported["id"])
    events = await db_rows(
        settings,
        select(AuditEvent).where(
            AuditEvent.import_id == imported["id"], AuditEvent.action == "import.confirmed"
        ),
    )
    if cancelled:
        assert final["status"] == "cancelled"
        assert events == []
        assert stored_patients(pacs) == set()
    else:
        assert final["status"] == "completed"
        (event,) = events
        seen = event.details["compared_with"]
        # filed under the patient of the comparison that was confirmed, whichever it was
        assert stored_patients(pacs) == {(seen["name"], seen["id"])}
