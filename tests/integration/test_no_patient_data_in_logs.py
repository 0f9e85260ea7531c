"""Application logs never hold patient data: a whole journey, every log record checked."""

from __future__ import annotations

import logging

import pytest
from pydicom import dcmread

from importer.settings import Settings
from tests.support.app import DEMO_PATIENT, Journey, make_zip, run_worker, sample

MEDIUM = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]


async def test_a_whole_journey_logs_no_patient_data(
    journey: Journey, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([(f"IM{i}", sample(n).read_bytes()) for i, n in enumerate(MEDIUM)])
    )
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, imported["id"], uids, acknowledge=True)).is_success
    await run_worker(settings)
    assert (await journey.get_import(session, imported["id"]))["status"] == "completed"

    secrets = {
        DEMO_PATIENT["name"],
        "ROSSI",
        "MARIO",
        DEMO_PATIENT["id"],
        DEMO_PATIENT["birth_date"],
    }
    for name in MEDIUM:
        ds = dcmread(sample(name), stop_before_pixels=True)
        for value in (ds.get("PatientName"), ds.get("PatientID"), ds.get("PatientBirthDate")):
            if value and len(str(value)) > 3:
                secrets.add(str(value))
                secrets.update(p for p in str(value).split("^") if len(p) > 3)
    assert len(caplog.records) > 20  # the journey did log
    for record in caplog.records:
        text = (
            record.getMessage()
            + " "
            + " ".join(
                str(v) for k, v in vars(record).items() if k not in ("msg", "args", "message")
            )
        )
        leaked = [s for s in secrets if s in text]
        assert not leaked, (record.name, record.getMessage())
