"""The PACS-side merge never moves a local patient: only earlier studies under the medium's
foreign Patient ID and issuer whose patient is the order's patient (``match`` or
``format_different``) are moved, each one in the audit trail; a hospital's own issuer is never
merged; nothing is merged after an acknowledged identity mismatch. The store and the merge
file the study under the target frozen at confirmation, not the order as the RIS changed it
since. On the real Orthanc (REST merge, DIMSE store)."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import httpx
import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from sqlalchemy import select, update

from devstack import OrthancProcess
from importer.access.models import Order
from importer.audit.models import AuditEvent
from importer.coerce import CoercionTarget
from importer.imports.models import Study
from importer.settings import Settings
from tests.integration.test_pipeline import db_execute, db_rows
from tests.support.app import DEMO_PATIENT, Journey, Launched, make_zip, run_worker, sample

ROSSI = {"PatientName": "ROSSI^MARIO", "PatientBirthDate": "19740101", "PatientSex": "M"}
BIANCHI = {"PatientName": "BIANCHI^LUCA", "PatientBirthDate": "19800303", "PatientSex": "M"}


def outside_study(patient: dict[str, str], issuer: str, name: str = "CT_small.dcm") -> bytes:
    """One instance of a new study of ``patient`` under the outside Patient ID OUT-77."""
    ds = dcmread(sample(name))
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientID = "OUT-77"
    ds.IssuerOfPatientID = issuer
    for keyword, value in patient.items():
        setattr(ds, keyword, value)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def uid_of(data: bytes) -> str:
    return str(dcmread(io.BytesIO(data)).StudyInstanceUID)


def on_pacs(pacs: OrthancProcess, *studies: bytes) -> None:
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        for data in studies:
            http.post("/instances", content=data).raise_for_status()


def patients_on(pacs: OrthancProcess) -> dict[str, str]:
    """Each study the PACS holds, with the Patient ID it is filed under."""
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        return {
            s["MainDicomTags"]["StudyInstanceUID"]: s["PatientMainDicomTags"]["PatientID"]
            for s in http.get("/studies", params={"expand": ""}).json()
        }


async def imported_and_processed(
    journey: Journey, settings: Settings, medium: bytes, *, acknowledge: bool
) -> tuple[Launched, dict[str, Any]]:
    session = await journey.start()
    imported = await journey.import_media(session, make_zip([("IM1", medium)]))
    uid = imported["studies"][0]["study_instance_uid"]
    confirmed = await journey.confirm(session, imported["id"], [uid], acknowledge=acknowledge)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(settings)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    return session, done


def merge_stage(done: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in done["studies"][0]["stages"] if s["name"] == "merge")


async def merged_events(settings: Settings) -> list[AuditEvent]:
    return await db_rows(settings, select(AuditEvent).where(AuditEvent.action == "study.merged"))


async def test_only_the_same_person_under_the_foreign_id_is_moved_and_each_move_is_audited(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    earlier = outside_study(ROSSI, "OUTSIDE-HOSP")  # the same person, seen outside before
    stranger = outside_study(BIANCHI, "OUTSIDE-HOSP")  # OUT-77 given to someone else there
    elsewhere = outside_study(ROSSI, "ELSEWHERE")  # another hospital's OUT-77
    on_pacs(pacs, earlier, stranger, elsewhere)
    brought = outside_study(ROSSI, "OUTSIDE-HOSP", "MR_small.dcm")

    merging = settings.model_copy(update={"merge_url": f"orthanc+{pacs.http_url}"})
    # the identity matches the order's patient: no acknowledgement asked
    _, done = await imported_and_processed(journey, merging, brought, acknowledge=False)

    merge = merge_stage(done)
    assert merge["status"] == "done"
    assert merge["message"].startswith("1 earlier study")
    assert "1 study(ies) under the same Patient ID belong to another person" in merge["message"]
    assert patients_on(pacs) == {
        uid_of(brought): DEMO_PATIENT["id"],
        uid_of(earlier): DEMO_PATIENT["id"],  # moved, same UID
        uid_of(stranger): "OUT-77",  # another person: left alone
        uid_of(elsewhere): "OUT-77",  # another issuer: left alone
    }
    [event] = await merged_events(merging)
    assert event.import_id == done["id"]
    assert event.study_instance_uid == uid_of(earlier)
    assert event.patient_id == DEMO_PATIENT["id"]
    assert event.details["before"] == {"patient_id": "OUT-77", "issuer": "OUTSIDE-HOSP"}
    assert event.details["after"] == {
        "patient_id": DEMO_PATIENT["id"],
        "issuer": DEMO_PATIENT["issuer"],
    }
    assert event.details["instances"] == 1


@pytest.mark.parametrize(
    ("issuer", "local_issuers"),
    [
        ("HOSP-LAB", ["HOSP-LAB", "HOSP-RAD"]),  # named in IMPORTER_LOCAL_ISSUERS
        (DEMO_PATIENT["issuer"], []),  # the order's own issuer
    ],
)
async def test_a_local_issuer_is_never_merged(
    journey: Journey,
    settings: Settings,
    pacs: OrthancProcess,
    issuer: str,
    local_issuers: list[str],
) -> None:
    """OUT-77 under a local issuer is a local patient's ID: the hospital's own patient, whose
    studies stay where they are, even with the same name and birth date."""
    local_patient = outside_study(ROSSI, issuer)
    on_pacs(pacs, local_patient)
    brought = outside_study(ROSSI, issuer, "MR_small.dcm")

    merging = settings.model_copy(
        update={"merge_url": f"orthanc+{pacs.http_url}", "local_issuers": local_issuers}
    )
    _, done = await imported_and_processed(journey, merging, brought, acknowledge=False)

    merge = merge_stage(done)
    assert merge["status"] == "done"
    assert "issued by this hospital" in merge["message"]
    assert patients_on(pacs)[uid_of(local_patient)] == "OUT-77"
    assert await merged_events(merging) == []


async def test_no_merge_after_an_acknowledged_mismatch(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The user filed a medium of another name under the order, acknowledging the mismatch:
    nothing of the medium's patient on the PACS is moved."""
    earlier = outside_study(BIANCHI, "OUTSIDE-HOSP")
    on_pacs(pacs, earlier)
    brought = outside_study(BIANCHI, "OUTSIDE-HOSP", "MR_small.dcm")

    merging = settings.model_copy(update={"merge_url": f"orthanc+{pacs.http_url}"})
    _, done = await imported_and_processed(journey, merging, brought, acknowledge=True)

    merge = merge_stage(done)
    assert merge["status"] == "skipped"
    assert merge["message"].startswith("Not merged")
    assert patients_on(pacs)[uid_of(earlier)] == "OUT-77"
    assert await merged_events(merging) == []


async def test_store_and_merge_use_the_target_frozen_at_confirmation(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """The RIS changes the order's patient after the user confirmed: the study is still filed
    (and earlier studies merged) under the patient the user confirmed."""
    earlier = outside_study(ROSSI, "OUTSIDE-HOSP")
    on_pacs(pacs, earlier)
    brought = outside_study(ROSSI, "OUTSIDE-HOSP", "MR_small.dcm")
    session = await journey.start()
    imported = await journey.import_media(session, make_zip([("IM1", brought)]))
    uid = imported["studies"][0]["study_instance_uid"]
    confirmed = await journey.confirm(session, imported["id"], [uid], acknowledge=False)
    assert confirmed.status_code == 202, confirmed.text
    frozen = CoercionTarget(
        patient_name=DEMO_PATIENT["name"],
        patient_id=DEMO_PATIENT["id"],
        issuer_of_patient_id=DEMO_PATIENT["issuer"],
        birth_date=DEMO_PATIENT["birth_date"],
        sex=DEMO_PATIENT["sex"],
        accession_number="ACC0001",
        requested_procedure_id="RP1",
    )
    await db_execute(
        settings,
        update(Study)
        .where(Study.import_id == imported["id"])
        .values(target=dataclasses.asdict(frozen)),
    )
    await db_execute(
        settings,
        update(Order).where(Order.accession_number == "ACC0001").values(patient_id="HOSP-9999"),
    )

    merging = settings.model_copy(update={"merge_url": f"orthanc+{pacs.http_url}"})
    await run_worker(merging)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    assert merge_stage(done)["status"] == "done"
    assert patients_on(pacs) == {uid: DEMO_PATIENT["id"], uid_of(earlier): DEMO_PATIENT["id"]}
