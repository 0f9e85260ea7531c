"""Import for a patient without an order (issue 16, point 4), on real PostgreSQL and Orthanc: the
RIS launches for a patient alone; the images are filed under the patient, their Accession
Number left empty and the medium's kept in Original Attributes Sequence; a temporary-zone import
is promoted to such a patient launch."""

from __future__ import annotations

import io
from typing import Any

import httpx
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from sqlalchemy import select

from devstack import OrthancProcess
from importer.imports.ris_outbox import RisCallback
from importer.settings import Settings
from tests.integration.test_pipeline import db_rows
from tests.support.app import (
    DEMO_PATIENT,
    REFERENT_USER,
    RIS_KEY,
    Journey,
    Launched,
    make_zip,
    run_worker,
    sample,
)

MEDIUM_ACCESSION = "EXT-ACC-77"


def medium() -> bytes:
    """A CT of the demo patient as another hospital wrote it, with that hospital's accession."""
    ds = dcmread(sample("CT_small.dcm"))
    ds.PatientID, ds.PatientName = "EXT-4242", DEMO_PATIENT["name"]
    ds.PatientBirthDate, ds.PatientSex = DEMO_PATIENT["birth_date"], DEMO_PATIENT["sex"]
    ds.AccessionNumber = MEDIUM_ACCESSION
    request = Dataset()
    request.AccessionNumber = MEDIUM_ACCESSION
    request.RequestedProcedureID = "EXT-RP"
    ds.RequestAttributesSequence = [request]
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return make_zip([("DICOM/IM0001", out.getvalue())])


async def patient_launch(
    journey: Journey, *, user: dict[str, Any] | None = None, callback_url: str | None = None
) -> Launched:
    body: dict[str, Any] = {
        "user": user or {"id": "u-tech-1", "name": "Tech One", "department": "Radiology"},
        "patient": DEMO_PATIENT,
    }
    if callback_url:
        body["callback_url"] = callback_url
    answer = await journey.client.post(
        "/api/v1/launches", json=body, headers={"Authorization": f"Bearer {RIS_KEY}"}
    )
    assert answer.status_code == 201, answer.text
    return await journey.open_session(answer.json()["token"])


def stored(pacs: OrthancProcess) -> list[Dataset]:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        return [
            dcmread(io.BytesIO(http.get(f"/instances/{i}/file").content))
            for i in http.get("/instances").json()
        ]


def check_filed_under_the_patient(ds: Dataset) -> None:
    """The patient's identity, no accession nor request; the medium's kept."""
    assert (ds.PatientID, ds.IssuerOfPatientID) == (DEMO_PATIENT["id"], DEMO_PATIENT["issuer"])
    assert str(ds.PatientName) == DEMO_PATIENT["name"]
    assert ds.AccessionNumber == ""
    assert "RequestAttributesSequence" not in ds
    (original,) = ds.OriginalAttributesSequence
    (modified,) = original.ModifiedAttributesSequence
    assert modified.AccessionNumber == MEDIUM_ACCESSION
    assert modified.RequestAttributesSequence[0].RequestedProcedureID == "EXT-RP"
    assert modified.PatientID == "EXT-4242"


async def test_a_patient_launch_files_the_medium_under_the_patient_without_an_accession(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    session = await patient_launch(journey, callback_url="http://127.0.0.1:9/hook")
    order = session.context["order"]
    assert order["kind"] == "patient"
    assert order["patient"]["id"] == DEMO_PATIENT["id"]
    imported = await journey.import_media(session, medium())
    (study,) = imported["studies"]
    assert study["identity"]["overall"] == "match"  # compared with the launch's patient
    uid = study["study_instance_uid"]
    confirmed = await journey.confirm(session, imported["id"], [uid], acknowledge=False)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    (ds,) = stored(pacs)
    check_filed_under_the_patient(ds)
    log = await journey.client.get(f"/api/v1/imports/{imported['id']}/log", headers=session.headers)
    created = next(e for e in log.json()["items"] if e["action"] == "import.created")
    assert created["details"]["mode"] == "patient"

    # the RIS is told with the patient, and no accession number
    payloads = await db_rows(
        settings, select(RisCallback.payload).where(RisCallback.import_id == imported["id"])
    )
    assert payloads
    assert {p["accession_number"] for p in payloads} == {None}
    assert {p["patient_id"] for p in payloads} == {DEMO_PATIENT["id"]}

    # the same patient launched again: the same key, its earlier imports listed
    again = await patient_launch(journey)
    assert again.context["order"]["accession_number"] == order["accession_number"]
    listed = await journey.client.get("/api/v1/imports", headers=again.headers)
    assert [i["id"] for i in listed.json()["items"]] == [imported["id"]]


async def test_an_order_and_a_patient_at_once_are_refused(journey: Journey) -> None:
    answer = await journey.client.post(
        "/api/v1/launches",
        json={
            "user": {"id": "u1", "name": "U"},
            "patient": DEMO_PATIENT,
            "order": {"accession_number": "A1", "patient": DEMO_PATIENT},
        },
        headers={"Authorization": f"Bearer {RIS_KEY}"},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_input"


async def test_a_temporary_import_is_promoted_to_a_patient_launch(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    referent = await journey.start(worklist_mode=True, user=REFERENT_USER)
    archive = medium()
    created = await journey.client.post(
        "/api/v1/imports",
        json={"zone": "temporary", "size": len(archive)},
        headers=referent.headers,
    )
    assert created.status_code == 201, created.text
    import_id = created.json()["id"]
    await journey.upload(referent, created.json()["upload_url"], archive)
    await run_worker(settings)
    kept = await journey.get_import(referent, import_id)
    uid = kept["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(referent, import_id, [uid], acknowledge=False)).is_success
    await run_worker(settings)

    # a session opened for an order cannot name "its patient"
    ordered = await journey.start(accession="ACC-PL-1", user=REFERENT_USER)
    path = f"/api/v1/imports/{import_id}/promote"
    refused = await journey.client.post(
        path, json={"patient_launch": True}, headers=ordered.headers
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "order_not_found"
    both = await journey.client.post(
        path,
        json={"patient_launch": True, "accession_number": "ACC-PL-1"},
        headers=ordered.headers,
    )
    assert both.status_code == 422

    # the RIS launches the referent for the patient: the import is filed under them
    session = await patient_launch(journey, user=REFERENT_USER)
    # the patient's key is no order: named as an accession number, it is not found
    key = session.context["order"]["accession_number"]
    named = await journey.client.post(path, json={"accession_number": key}, headers=ordered.headers)
    assert named.status_code == 409
    assert named.json()["error"]["code"] == "order_not_found"
    # without the patient the user saw, it only compares, however often it is asked (two
    # windows at once): it never files
    for _ in range(2):
        shown = await journey.client.post(
            path, json={"patient_launch": True}, headers=session.headers
        )
        assert shown.status_code == 409
        assert shown.json()["error"]["code"] == "identity_not_compared"
    assert (await journey.get_import(session, import_id))["zone"] == "temporary"
    seen = {k: DEMO_PATIENT[k] for k in ("name", "id", "issuer", "birth_date", "sex")}
    promoted = await journey.client.post(
        path,
        json={"patient_launch": True, "seen_patient": seen, "seen_filed_before": []},
        headers=session.headers,
    )
    assert promoted.status_code == 202, promoted.text
    await run_worker(settings)
    done = await journey.get_import(session, import_id)
    assert done["status"] == "completed", done["error"]
    assert done["order"]["kind"] == "patient"
    (ds,) = stored(pacs)
    check_filed_under_the_patient(ds)


async def test_a_patient_key_is_never_an_order_nor_an_accession(journey: Journey) -> None:
    session = await patient_launch(journey)
    key = session.context["order"]["accession_number"]
    assert key.startswith("~")
    ris = {"Authorization": f"Bearer {RIS_KEY}"}
    put = await journey.client.put(
        f"/api/v1/orders/{key}",
        json={"accession_number": key, "patient": DEMO_PATIENT},
        headers=ris,
    )
    assert put.status_code == 422
    launched = await journey.client.post(
        "/api/v1/launches",
        json={
            "user": {"id": "u", "name": "U"},
            "order": {"accession_number": key, "patient": DEMO_PATIENT},
        },
        headers=ris,
    )
    assert launched.status_code == 422
    # the audit trail names the patient, never the key as an accession number
    auditor = await journey.start(user={"id": "aud", "name": "Auditor", "roles": ["auditor"]})
    page = await journey.client.get(
        "/api/v1/audit",
        params={"patient_id": DEMO_PATIENT["id"], "limit": 500},
        headers=auditor.headers,
    )
    assert page.status_code == 200, page.text
    assert page.json()["items"]
    assert all(not (e.get("accession_number") or "").startswith("~") for e in page.json()["items"])
