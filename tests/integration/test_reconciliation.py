"""What the PACS receives: the order's identity, the medium's values kept (IHE IRWF.b)."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from pydicom import dcmread
from pydicom.uid import generate_uid

from devstack import OrthancProcess
from importer.settings import Settings
from tests.support.app import Journey, make_zip, run_worker, sample

ORDER_PATIENT = {
    "id": "PAT-0001",
    "issuer": "CHU-NANTES",
    "name": "MÜLLER-LÜDENSCHEIDT^JÖRG^FRANÇOIS",
    "birth_date": "19510203",
    "sex": "M",
}


async def test_the_pacs_gets_the_order_identity_and_the_originals(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    body = {
        "user": {"id": "u1", "name": "Tech"},
        "order": {
            "accession_number": "ACC-T-1",
            "requested_procedure_id": "RP77",
            "scheduled_procedure_step_id": "SPS77",
            "procedure": {"code": "CTHEAD", "scheme": "99HOSP", "description": "CT tête"},
            "patient": ORDER_PATIENT,
        },
    }
    launch = await journey.client.post(
        "/api/v1/launches", json=body, headers={"Authorization": "Bearer test-ris-key"}
    )
    assert launch.status_code == 201, launch.text
    session = await journey.open_session(launch.json()["token"])
    original = dcmread(sample("CT_small.dcm"))
    imported = await journey.import_media(
        session, make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
    )
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    assert (await journey.get_import(session, imported["id"]))["status"] == "completed"

    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        (instance,) = http.get("/instances").json()
        stored = dcmread(io.BytesIO(http.get(f"/instances/{instance}/file").content))

    assert str(stored.PatientName) == ORDER_PATIENT["name"]
    assert stored.PatientID == ORDER_PATIENT["id"]
    assert stored.IssuerOfPatientID == "CHU-NANTES"
    assert stored.PatientBirthDate == "19510203"
    assert stored.PatientSex == "M"
    assert stored.AccessionNumber == "ACC-T-1"
    request = stored.RequestAttributesSequence[0]
    assert request.AccessionNumber == "ACC-T-1"
    assert request.RequestedProcedureID == "RP77"
    assert request.ScheduledProcedureStepID == "SPS77"
    assert request.RequestedProcedureCodeSequence[0].CodeValue == "CTHEAD"
    assert request.RequestedProcedureCodeSequence[0].CodingSchemeDesignator == "99HOSP"
    # what the medium said is kept, with who changed it and why
    history = stored.OriginalAttributesSequence[-1]
    assert history.ReasonForTheAttributeModification == "COERCE"
    assert history.ModifyingSystem == "PACS Media Import"
    assert history.SourceOfPreviousValues == "JFK IMAGING CENTER"
    previous = history.ModifiedAttributesSequence[0]
    assert str(previous.PatientName) == str(original.PatientName)
    assert previous.PatientID == original.PatientID
    kept = [o.PatientID for o in original.OtherPatientIDsSequence]
    assert [o.PatientID for o in stored.OtherPatientIDsSequence] == [*kept, original.PatientID]
    # the object itself is untouched: same UIDs, same pixels
    assert stored.SOPInstanceUID == original.SOPInstanceUID
    assert stored.SeriesInstanceUID == original.SeriesInstanceUID
    assert stored.StudyInstanceUID == original.StudyInstanceUID
    assert stored.PixelData == original.PixelData


def two_instance_study(tmp: Path) -> tuple[bytes, bytes]:
    """Two images of one study (CT_small and a copy with its own SOP Instance UID)."""
    first = dcmread(sample("CT_small.dcm"))
    second = dcmread(sample("CT_small.dcm"))
    second.SOPInstanceUID = generate_uid()
    second.file_meta.MediaStorageSOPInstanceUID = second.SOPInstanceUID
    second.InstanceNumber = 2
    out = []
    for i, ds in enumerate((first, second)):
        path = tmp / f"{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append(path.read_bytes())
    return out[0], out[1]


async def test_a_study_partly_on_the_pacs_gets_only_its_missing_instances(
    journey: Journey, settings: Settings, pacs: OrthancProcess, tmp_path: Path
) -> None:
    first, second = two_instance_study(tmp_path)
    earlier = await journey.start()
    imported = await journey.import_media(earlier, make_zip([("IM1", first)]))
    uid = imported["studies"][0]["study_instance_uid"]
    assert (await journey.confirm(earlier, imported["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)

    session = await journey.start()
    again = await journey.import_media(session, make_zip([("IM1", first), ("IM2", second)]))
    study = again["studies"][0]
    assert (study["on_pacs"], study["instances_on_pacs"], study["selected"]) == (False, 1, True)
    assert (await journey.confirm(session, again["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)
    done = await journey.get_import(session, again["id"])
    assert done["status"] == "completed", done["error"]
    store = next(s for s in done["studies"][0]["stages"] if s["name"] == "store")
    assert store["message"] == "1 of 2 instance(s) stored. 1 were on the PACS already."
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        assert len(http.get("/instances").json()) == 2
