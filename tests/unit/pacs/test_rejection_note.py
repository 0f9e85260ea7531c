"""IOCM rejection notes (KOS documents): content, encoding, and dciodvfy's verdict."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread, dcmwrite
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from importer.pacs.rejection import (
    REASONS,
    Code,
    NoteStudy,
    RejectedInstance,
    UndoReason,
    rejection_note,
)

DCIODVFY = Path("/usr/bin/dciodvfy")
KOS = "1.2.840.10008.5.1.4.1.1.88.59"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"
DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"
VIDEO_ENDOSCOPIC = "1.2.840.10008.5.1.4.1.1.77.1.1.1"
PDF = "1.2.840.10008.5.1.4.1.1.104.1"
BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"
GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
SEGMENTATION = "1.2.840.10008.5.1.4.1.1.66.4"
WAVEFORM_ANNOTATION_SR = "1.2.840.10008.5.1.4.1.1.88.77"
ECG_12_LEAD = "1.2.840.10008.5.1.4.1.1.9.1.1"
PRIVATE_CLASS = "1.2.826.0.1.3680043.9.9999.1"

ROOT = "1.2.826.0.1.3680043.10.543"
STUDY_UID = f"{ROOT}.1"
SERIES_A = f"{ROOT}.1.1"
SERIES_B = f"{ROOT}.1.2"
NOW = datetime(2024, 5, 6, 7, 8, 9)

STUDY = NoteStudy(
    study_instance_uid=STUDY_UID,
    patient_name="DOE^JANE",
    patient_id="PID-0042",
    issuer="HOSP",
    birth_date="19700101",
    sex="F",
    accession_number="ACC-7",
    study_date="20240101",
    study_time="101010",
    study_id="S1",
)


def _instance(series: str, number: int, sop_class: str = CT) -> RejectedInstance:
    return RejectedInstance(sop_class, f"{series}.{number}", series)


def _round_trip(ds: Dataset) -> tuple[bytes, Dataset]:
    buffer = BytesIO()
    dcmwrite(buffer, ds, enforce_file_format=True)
    data = buffer.getvalue()
    return data, dcmread(BytesIO(data))


def _evidence(ds: Dataset) -> list[tuple[str, str, str, str]]:
    """(study, series, class, instance) of every evidence reference, in order."""
    return [
        (
            study.StudyInstanceUID,
            series.SeriesInstanceUID,
            sop.ReferencedSOPClassUID,
            sop.ReferencedSOPInstanceUID,
        )
        for study in ds.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for sop in series.ReferencedSOPSequence
    ]


def _content(ds: Dataset) -> list[tuple[str, str, str, str]]:
    """(relationship, value type, class, instance) of every content item, in order."""
    items = []
    for item in ds.ContentSequence:
        assert len(item.ReferencedSOPSequence) == 1
        ref = item.ReferencedSOPSequence[0]
        items.append(
            (
                item.RelationshipType,
                item.ValueType,
                ref.ReferencedSOPClassUID,
                ref.ReferencedSOPInstanceUID,
            )
        )
    return items


def _dciodvfy(ds: Dataset, tmp_path: Path) -> tuple[list[str], str]:
    """dciodvfy's Error lines on ``ds`` written as a file, and all it printed."""
    if not DCIODVFY.exists():
        pytest.fail(
            f"{DCIODVFY} is missing (Debian package dicom3tools): run `make setup` to install it"
        )
    path = tmp_path / "note.dcm"
    dcmwrite(path, ds, enforce_file_format=True)
    result = subprocess.run(
        [str(DCIODVFY), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    return errors, output


# --- what the note says ---------------------------------------------------------------------


def test_round_trip_keeps_references_reason_study_and_patient() -> None:
    instances = [_instance(SERIES_A, 1), _instance(SERIES_A, 2)]
    note = rejection_note(STUDY, instances, "patient_safety", now=NOW)
    _, ds = _round_trip(note)

    meta = ds.file_meta
    assert meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert meta.MediaStorageSOPClassUID == KOS
    assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert meta.ImplementationClassUID == PYDICOM_IMPLEMENTATION_UID

    assert ds.SOPClassUID == KOS
    assert ds.Modality == "KO"
    assert "SpecificCharacterSet" not in ds  # all ASCII: the default repertoire
    # Patient and General Study: the stored values, in the same study
    assert ds.StudyInstanceUID == STUDY_UID
    assert str(ds.PatientName) == "DOE^JANE"
    assert ds.PatientID == "PID-0042"
    assert ds.IssuerOfPatientID == "HOSP"
    assert ds.PatientBirthDate == "19700101"
    assert ds.PatientSex == "F"
    assert ds.AccessionNumber == "ACC-7"
    assert ds.StudyDate == "20240101"
    assert ds.StudyTime == "101010"
    assert ds.StudyID == "S1"
    assert "ReferringPhysicianName" in ds
    assert ds.ReferringPhysicianName == ""
    # Key Object Document Series, General Equipment, Key Object Document
    assert ds.SeriesNumber == 9999
    assert "ReferencedPerformedProcedureStepSequence" in ds
    assert len(ds.ReferencedPerformedProcedureStepSequence) == 0
    assert ds.Manufacturer == "PACS Media Import"
    assert ds.InstanceNumber == 1
    assert (ds.ContentDate, ds.ContentTime) == ("20240506", "070809")
    # SR Document Content: TID 2010's root container titled with the reason
    assert ds.ValueType == "CONTAINER"
    assert ds.ContinuityOfContent == "SEPARATE"
    title = ds.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning) == (
        "113037",
        "DCM",
        "Rejected for Patient Safety Reasons",
    )
    template = ds.ContentTemplateSequence[0]
    assert (template.MappingResource, template.TemplateIdentifier) == ("DCMR", "2010")
    # every instance, twice: as evidence and as content
    assert _evidence(ds) == [
        (STUDY_UID, SERIES_A, CT, f"{SERIES_A}.1"),
        (STUDY_UID, SERIES_A, CT, f"{SERIES_A}.2"),
    ]
    assert _content(ds) == [
        ("CONTAINS", "IMAGE", CT, f"{SERIES_A}.1"),
        ("CONTAINS", "IMAGE", CT, f"{SERIES_A}.2"),
    ]


def test_note_has_new_valid_uids() -> None:
    instances = [_instance(SERIES_A, 1), _instance(SERIES_B, 1, PDF)]
    first = rejection_note(STUDY, instances, "patient_safety", now=NOW)
    second = rejection_note(STUDY, instances, "patient_safety", now=NOW)
    _, ds = _round_trip(first)

    referenced = {STUDY_UID, SERIES_A, SERIES_B} | {i.sop_instance_uid for i in instances}
    assert ds.SOPInstanceUID not in referenced
    assert ds.SeriesInstanceUID not in referenced
    assert ds.SOPInstanceUID != ds.SeriesInstanceUID
    assert UID(ds.SOPInstanceUID).is_valid
    assert UID(ds.SeriesInstanceUID).is_valid
    assert second.SOPInstanceUID != first.SOPInstanceUID
    assert second.SeriesInstanceUID != first.SeriesInstanceUID


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("patient_safety", Code("113037", "DCM", "Rejected for Patient Safety Reasons")),
        ("wrong_worklist_entry", Code("113038", "DCM", "Incorrect Modality Worklist Entry")),
    ],
)
def test_title_is_the_reason_code(reason: UndoReason, code: Code) -> None:
    assert REASONS[reason] == code
    _, ds = _round_trip(rejection_note(STUDY, [_instance(SERIES_A, 1)], reason, now=NOW))
    title = ds.ConceptNameCodeSequence
    assert len(title) == 1
    assert (title[0].CodeValue, title[0].CodingSchemeDesignator, title[0].CodeMeaning) == (
        code.value,
        code.scheme,
        code.meaning,
    )


def test_reasons_cover_every_undo_reason() -> None:
    assert set(REASONS) == {"patient_safety", "wrong_worklist_entry"}


def test_several_series_grouped_in_first_seen_order() -> None:
    series_c = f"{ROOT}.1.3"
    instances = [
        _instance(SERIES_B, 1),
        _instance(SERIES_A, 1, MR),
        _instance(SERIES_B, 2),
        _instance(series_c, 1, PDF),
        _instance(SERIES_A, 2, MR),
    ]
    _, ds = _round_trip(rejection_note(STUDY, instances, "wrong_worklist_entry", now=NOW))

    evidence = ds.CurrentRequestedProcedureEvidenceSequence
    assert len(evidence) == 1
    assert evidence[0].StudyInstanceUID == STUDY_UID
    series = evidence[0].ReferencedSeriesSequence
    assert [s.SeriesInstanceUID for s in series] == [SERIES_B, SERIES_A, series_c]
    assert [[sop.ReferencedSOPInstanceUID for sop in s.ReferencedSOPSequence] for s in series] == [
        [f"{SERIES_B}.1", f"{SERIES_B}.2"],
        [f"{SERIES_A}.1", f"{SERIES_A}.2"],
        [f"{series_c}.1"],
    ]
    # the content lists the same instances, one item each
    assert [ref[2:] for ref in _content(ds)] == [ref[2:] for ref in _evidence(ds)]
    assert sorted(ref[3] for ref in _content(ds)) == sorted(i.sop_instance_uid for i in instances)


@pytest.mark.parametrize(
    ("sop_class", "value_type"),
    [
        (CT, "IMAGE"),
        (MR, "IMAGE"),
        (ENHANCED_MR, "IMAGE"),
        (DX_PRESENTATION, "IMAGE"),
        (VIDEO_ENDOSCOPIC, "IMAGE"),
        (PDF, "COMPOSITE"),
        (BASIC_TEXT_SR, "COMPOSITE"),
        (GSPS, "COMPOSITE"),
        (SEGMENTATION, "COMPOSITE"),
        (WAVEFORM_ANNOTATION_SR, "COMPOSITE"),
        (PRIVATE_CLASS, "COMPOSITE"),
        (ECG_12_LEAD, "WAVEFORM"),
    ],
)
def test_value_type_follows_the_sop_class(sop_class: str, value_type: str) -> None:
    note = rejection_note(STUDY, [_instance(SERIES_A, 1, sop_class)], "patient_safety", now=NOW)
    _, ds = _round_trip(note)
    assert _content(ds) == [("CONTAINS", value_type, sop_class, f"{SERIES_A}.1")]


def test_accented_name_round_trips_in_utf8() -> None:
    study = NoteStudy(
        study_instance_uid=STUDY_UID,
        patient_name="DURAND^Hélène",
        patient_id="PID-0042",
        issuer="",
        birth_date="",
        sex="",
        accession_number="",
        study_date="",
        study_time="",
    )
    data, ds = _round_trip(rejection_note(study, [_instance(SERIES_A, 1)], "patient_safety"))
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert str(ds.PatientName) == "DURAND^Hélène"
    assert "DURAND^Hélène".encode() in data
    assert "IssuerOfPatientID" not in ds  # unknown issuer: left out, not empty
    for keyword in ("PatientBirthDate", "PatientSex", "AccessionNumber", "StudyDate", "StudyID"):
        assert keyword in ds  # type 2: present, even empty
        assert ds[keyword].value in ("", None)


def test_non_ascii_manufacturer_also_selects_utf8() -> None:
    note = rejection_note(
        STUDY, [_instance(SERIES_A, 1)], "patient_safety", manufacturer="Hôpital", now=NOW
    )
    _, ds = _round_trip(note)
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.Manufacturer == "Hôpital"


def test_repeated_instance_is_referenced_once() -> None:
    instances = [_instance(SERIES_A, 1), _instance(SERIES_A, 1), _instance(SERIES_A, 2)]
    ds = rejection_note(STUDY, instances, "patient_safety", now=NOW)
    assert [ref[3] for ref in _evidence(ds)] == [f"{SERIES_A}.1", f"{SERIES_A}.2"]
    assert [ref[3] for ref in _content(ds)] == [f"{SERIES_A}.1", f"{SERIES_A}.2"]


def test_now_defaults_to_the_clock() -> None:
    before = datetime.now()
    ds = rejection_note(STUDY, [_instance(SERIES_A, 1)], "patient_safety")
    after = datetime.now()
    stamp = datetime.strptime(ds.ContentDate + ds.ContentTime, "%Y%m%d%H%M%S")
    assert before.replace(microsecond=0) <= stamp <= after


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("study", "instances"),
    [
        pytest.param(STUDY, [], id="no instances"),
        pytest.param(STUDY, [RejectedInstance("", f"{SERIES_A}.1", SERIES_A)], id="no class"),
        pytest.param(STUDY, [RejectedInstance(CT, "", SERIES_A)], id="no instance uid"),
        pytest.param(STUDY, [RejectedInstance(CT, f"{SERIES_A}.1", "")], id="no series uid"),
        pytest.param(STUDY, [RejectedInstance(CT, "  ", SERIES_A)], id="blank instance uid"),
        pytest.param(
            STUDY,
            [_instance(SERIES_A, 1), RejectedInstance(CT, "", SERIES_A)],
            id="second instance empty",
        ),
        pytest.param(
            NoteStudy("", "DOE^JANE", "PID", "", "", "", "", "", ""),
            [_instance(SERIES_A, 1)],
            id="no study uid",
        ),
        pytest.param(
            STUDY,
            [_instance(SERIES_A, 1), RejectedInstance(CT, f"{SERIES_A}.1", SERIES_B)],
            id="same instance in two series",
        ),
    ],
)
def test_bad_input_raises_value_error(
    study: NoteStudy, instances: Sequence[RejectedInstance]
) -> None:
    with pytest.raises(ValueError):
        rejection_note(study, instances, "patient_safety", now=NOW)


def test_error_messages_carry_no_patient_data() -> None:
    study = NoteStudy("", "DOE^JANE", "PID-0042", "", "", "", "", "", "")
    with pytest.raises(ValueError) as raised:
        rejection_note(study, [_instance(SERIES_A, 1)], "patient_safety", now=NOW)
    assert "DOE" not in str(raised.value)
    assert "PID-0042" not in str(raised.value)


# --- dciodvfy (dicom3tools) -----------------------------------------------------------------


ACCENTED = NoteStudy(
    study_instance_uid=STUDY_UID,
    patient_name="DURAND^Hélène",
    patient_id="PID-0042",
    issuer="HÔPITAL",
    birth_date="19700101",
    sex="F",
    accession_number="ACC-7",
    study_date="20240101",
    study_time="101010",
)


@pytest.mark.parametrize(
    ("study", "instances", "reason"),
    [
        pytest.param(STUDY, [_instance(SERIES_A, 1)], "patient_safety", id="one image"),
        pytest.param(
            STUDY,
            [
                _instance(SERIES_A, 1),
                _instance(SERIES_B, 1, PDF),
                _instance(SERIES_A, 2),
                _instance(SERIES_B, 2, ECG_12_LEAD),
                _instance(SERIES_B, 3, PRIVATE_CLASS),
            ],
            "wrong_worklist_entry",
            id="several series and classes",
        ),
        pytest.param(ACCENTED, [_instance(SERIES_A, 1)], "patient_safety", id="accented"),
    ],
)
def test_dciodvfy_finds_no_error(
    study: NoteStudy,
    instances: Sequence[RejectedInstance],
    reason: UndoReason,
    tmp_path: Path,
) -> None:
    errors, output = _dciodvfy(rejection_note(study, instances, reason, now=NOW), tmp_path)
    assert errors == [], f"dciodvfy reported errors; all it printed:\n{output}"


def test_dciodvfy_check_catches_a_broken_note(tmp_path: Path) -> None:
    """The check above can fail: a note without its evidence sequence is an error."""
    note = rejection_note(STUDY, [_instance(SERIES_A, 1)], "patient_safety", now=NOW)
    del note.CurrentRequestedProcedureEvidenceSequence
    errors, output = _dciodvfy(note, tmp_path)
    assert errors, f"dciodvfy found nothing wrong; all it printed:\n{output}"
