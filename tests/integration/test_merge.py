"""PACS-side patient merge: earlier studies of the medium's patient (same outside ID and
issuer) join the local patient on the PACS, UIDs kept; another issuer's patient is left alone."""

from __future__ import annotations

import io

import httpx
from pydicom import dcmread
from pydicom.uid import generate_uid

from importer.settings import Settings
from scripts.services import OrthancProcess
from tests.support.app import DEMO_PATIENT, Journey, make_zip, run_worker, sample


def outside_study(name: str, issuer: str) -> tuple[bytes, str]:
    ds = dcmread(sample(name))
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientID = "OUT-77"
    ds.IssuerOfPatientID = issuer
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue(), str(ds.StudyInstanceUID)


async def test_earlier_studies_of_the_outside_patient_are_merged(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    earlier, earlier_uid = outside_study("CT_small.dcm", "OUTSIDE-HOSP")
    stranger, stranger_uid = outside_study("CT_small.dcm", "ELSEWHERE")
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        for data in (earlier, stranger):
            http.post("/instances", content=data).raise_for_status()
    brought, brought_uid = outside_study("MR_small.dcm", "OUTSIDE-HOSP")

    merging = settings.model_copy(update={"merge_url": f"orthanc+{pacs.http_url}"})
    session = await journey.start()
    imported = await journey.import_media(session, make_zip([("IM1", brought)]))
    assert (
        await journey.confirm(session, imported["id"], [brought_uid], acknowledge=True)
    ).is_success
    await run_worker(merging)
    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    merge = next(s for s in done["studies"][0]["stages"] if s["name"] == "merge")
    assert merge["status"] == "done"
    assert merge["message"].startswith("1 earlier study")

    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        studies = {
            s["MainDicomTags"]["StudyInstanceUID"]: s["PatientMainDicomTags"]["PatientID"]
            for s in http.get("/studies", params={"expand": ""}).json()
        }
    assert studies == {
        brought_uid: DEMO_PATIENT["id"],
        earlier_uid: DEMO_PATIENT["id"],  # moved, same UID
        stranger_uid: "OUT-77",  # another hospital's OUT-77: left alone
    }
