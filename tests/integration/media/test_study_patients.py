"""A study whose images disagree on the patient is flagged for the user."""

from __future__ import annotations

import io

from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.support.app import Journey, make_zip, sample


def with_patient(name: str, patient_id: str) -> bytes:
    ds = dcmread(sample("CT_small.dcm"))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName = name
    ds.PatientID = patient_id
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


async def test_images_of_two_patients_in_one_study_are_flagged(journey: Journey) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session,
        make_zip(
            [
                ("IM1", with_patient("ROSSI^MARIO", "P1")),
                ("IM2", with_patient("ROSSI^MARIA", "P2")),
            ]
        ),
    )
    (study,) = imported["studies"]
    assert study["warnings"][0] == "STUDY_PATIENTS_DIFFER"
    assert "STUDY_PATIENT_ID_DIFFERS" in study["warnings"]
    assert "STUDY_PATIENT_NAME_DIFFERS" in study["warnings"]


async def test_the_same_patient_written_two_ways_is_not_flagged(journey: Journey) -> None:
    session = await journey.start()
    imported = await journey.import_media(
        session,
        make_zip(
            [("IM1", with_patient("ROSSI^MARIO", "P1")), ("IM2", with_patient("Rossi^Mario", "P1"))]
        ),
    )
    assert imported["studies"][0]["warnings"] == []
