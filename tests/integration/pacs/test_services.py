"""devstack/: the real local services the tests and ``make run`` start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydicom import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, build_context

from devstack import OrthancProcess, WorklistProcess, ensure_redis, free_port
from importer.dimse import FIND_PENDING, STATUS_SUCCESS
from importer.settings import parse_dimse_url

pytestmark = pytest.mark.integration

CALLING_AE = "PYTEST"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"


def test_orthanc_answers_on_loopback(orthanc: OrthancProcess) -> None:
    system = httpx.get(f"{orthanc.http_url}/system", timeout=5).json()
    assert system["DicomAet"] == orthanc.aet
    assert system["DicomPort"] == orthanc.dicom_port
    assert system["Name"] == "PACS Media Import demo PACS"
    assert orthanc.dimse_url == f"dimse://{orthanc.aet}@127.0.0.1:{orthanc.dicom_port}"


def test_orthanc_stop_ends_the_process(tmp_path: Path) -> None:
    process = OrthancProcess(tmp_path, aet="SHORTLIVED")
    with process:
        assert process.running
    assert not process.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{process.http_url}/system", timeout=2)


def test_worklist_answers_modality_worklist_find(worklist: WorklistProcess) -> None:
    patient_id = f"WL-{generate_uid()[-8:]}"
    worklist.add_item(
        patient_name="MÜLLER^JOSÉ",
        patient_id=patient_id,
        patient_birth_date="19700131",
        patient_sex="M",
        accession_number="ACC-1",
        requested_procedure_id="RP-1",
        requested_procedure_description="CT HEAD",
        modality="CT",
        scheduled_station_ae_title="CT1",
        scheduled_start_date="20250102",
        scheduled_start_time="081500",
    )
    query = Dataset()
    query.SpecificCharacterSet = "ISO_IR 192"
    query.PatientName = ""
    query.PatientID = patient_id
    query.PatientBirthDate = ""
    query.AccessionNumber = ""
    step = Dataset()
    step.Modality = ""
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = ""
    query.ScheduledProcedureStepSequence = [step]

    ae = AE(ae_title=CALLING_AE)
    assoc = ae.associate(
        "127.0.0.1",
        worklist.port,
        contexts=[build_context(MODALITY_WORKLIST_FIND)],
        ae_title=worklist.aet,
    )
    assert assoc.is_established
    matches: list[Dataset] = []
    try:
        for status, identifier in assoc.send_c_find(query, MODALITY_WORKLIST_FIND):
            assert "Status" in status
            if status.Status in FIND_PENDING:
                assert identifier is not None
                matches.append(identifier)
            else:
                assert status.Status == STATUS_SUCCESS
    finally:
        assoc.release()

    assert len(matches) == 1
    match = matches[0]
    assert match.PatientName == "MÜLLER^JOSÉ"
    assert match.PatientBirthDate == "19700131"
    assert match.AccessionNumber == "ACC-1"
    assert match.ScheduledProcedureStepSequence[0].Modality == "CT"
    assert match.ScheduledProcedureStepSequence[0].ScheduledStationAETitle == "CT1"


def test_worklist_url(worklist: WorklistProcess) -> None:
    node = parse_dimse_url(worklist.dimse_url)
    assert (node.ae_title, node.host, node.port) == (worklist.aet, "127.0.0.1", worklist.port)


def test_ensure_redis_reuses_a_running_redis() -> None:
    assert ensure_redis("redis://127.0.0.1:6379/0") is None


def test_ensure_redis_starts_one_when_none_answers(tmp_path: Path) -> None:
    port = free_port()
    process = ensure_redis(f"redis://127.0.0.1:{port}/0", data_dir=tmp_path)
    assert process is not None
    try:
        assert process.running
        assert ensure_redis(process.url) is None
    finally:
        process.stop()
    assert not process.running


def test_worklist_refuses_values_that_break_the_dump(worklist: WorklistProcess) -> None:
    with pytest.raises(ValueError):
        worklist.add_item(patient_name="X]^Y", patient_id="1", accession_number="2")
