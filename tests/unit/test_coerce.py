"""IRWF.b attribute coercion on pydicom's own test files."""

from __future__ import annotations

import copy
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.dataset import Dataset, FileDataset
from pydicom.tag import BaseTag

from importer.coerce import UTF8, CoercionTarget, coerce_dataset, validate_target
from importer.errors import InvalidInput

NOW = datetime(2025, 11, 3, 15, 43, 13, 786764, tzinfo=timezone(timedelta(hours=1)))
STAMP = "20251103154313.786764+0100"
SYSTEM = "PACS-MEDIA-IMPORT"

TARGET = CoercionTarget(
    patient_name="TEST^TEST",
    patient_id="IOTELU1234",
    issuer_of_patient_id="AOTEST",
    birth_date="19740101",
    sex="M",
    accession_number="SIF3503219",
    requested_procedure_id="RP3503219",
    procedure_code="IMPCD",
    procedure_code_scheme="LOCAL",
    procedure_description="ESAME IMPORTATO",
)

# Attributes coercion may change at the top level of the data set.
COERCED = {
    "SpecificCharacterSet",
    "InstanceCoercionDateTime",
    "AccessionNumber",
    "IssuerOfAccessionNumberSequence",
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDsSequence",
    "RequestAttributesSequence",
    "OriginalAttributesSequence",
}


def data_file(name: str) -> Path:
    found = get_testdata_file(name)
    assert isinstance(found, str)
    return Path(found)


def charset_file(name: str) -> Path:
    return Path(get_charset_files(name)[0])


CHARSET_FILES = sorted(Path(p).name for p in get_charset_files("chr*.dcm"))


def read(path: Path, **kwargs: object) -> FileDataset:
    return pydicom.dcmread(path, **kwargs)  # type: ignore[arg-type]


def coerce(ds: Dataset, target: CoercionTarget = TARGET, **kwargs: bool) -> Dataset:
    return coerce_dataset(ds, target, modifying_system=SYSTEM, now=NOW, **kwargs)


def round_trip(ds: Dataset) -> FileDataset:
    buffer = io.BytesIO()
    ds.save_as(buffer)
    buffer.seek(0)
    return pydicom.dcmread(buffer)


def texts(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every decoded text value with its path (nested items included)."""
    for elem in ds:
        path = f"{prefix}{elem.tag}"
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                yield from texts(item, f"{path}[{index}].")
        elif elem.VR in {"SH", "LO", "ST", "LT", "PN", "UC", "UT"}:
            yield path, str(elem.value)


def last_record(ds: Dataset) -> Dataset:
    record = ds.OriginalAttributesSequence[-1]
    assert isinstance(record, Dataset)
    return record


def previous(ds: Dataset) -> Dataset:
    modified = last_record(ds).ModifiedAttributesSequence
    assert len(modified) == 1
    item = modified[0]
    assert isinstance(item, Dataset)
    return item


# --------------------------------------------------------------------------- coerced values


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm"])
def test_coerces_patient_and_order(name: str) -> None:
    result = round_trip(coerce(read(data_file(name))))
    assert str(result.PatientName) == "TEST^TEST"
    assert result.PatientID == "IOTELU1234"
    assert result.IssuerOfPatientID == "AOTEST"
    assert result.PatientBirthDate == "19740101"
    assert result.PatientSex == "M"
    assert result.AccessionNumber == "SIF3503219"
    assert result.InstanceCoercionDateTime == STAMP
    (request,) = result.RequestAttributesSequence
    assert request.AccessionNumber == "SIF3503219"
    assert request.RequestedProcedureID == "RP3503219"
    assert request.RequestedProcedureDescription == "ESAME IMPORTATO"
    assert request.StudyInstanceUID == result.StudyInstanceUID
    (code,) = request.RequestedProcedureCodeSequence
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == (
        "IMPCD",
        "LOCAL",
        "ESAME IMPORTATO",
    )


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm"])
def test_uids_meta_and_other_attributes_are_kept(name: str) -> None:
    original = read(data_file(name))
    result = round_trip(coerce(original))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"):
        assert result[keyword].value == original[keyword].value
    assert result.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert result.file_meta.MediaStorageSOPInstanceUID == original.SOPInstanceUID
    for elem in original:
        if elem.keyword not in COERCED:
            assert result[elem.tag] == elem, elem.tag


@pytest.mark.parametrize("name", ["JPEG2000.dcm", "CT_small.dcm", "MR_small_RLE.dcm"])
def test_pixel_data_bytes_identical(name: str) -> None:
    original = read(data_file(name))
    result = coerce(original)
    assert result.PixelData == original.PixelData
    assert round_trip(result).PixelData == original.PixelData
    assert result._pixel_array is None


def test_works_without_pixel_data() -> None:
    original = read(data_file("JPEG2000.dcm"), stop_before_pixels=True)
    result = round_trip(coerce(original))
    assert "PixelData" not in result
    assert result.PatientID == "IOTELU1234"


def test_works_with_deferred_pixel_data() -> None:
    original = read(data_file("JPEG2000.dcm"), defer_size=1024)
    full = read(data_file("JPEG2000.dcm"))
    result = round_trip(coerce(original))
    assert result.PixelData == full.PixelData


def test_original_dataset_and_file_untouched() -> None:
    path = data_file("CT_small.dcm")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    original = read(path)
    snapshot = copy.deepcopy(original)
    result = coerce(original, replace(TARGET, patient_name="ŁUKASZ^ŻÓŁW"))
    assert result is not original
    assert original == snapshot
    assert str(original.PatientName) == "CompressedSamples^CT1"
    assert original.SpecificCharacterSet == "ISO_IR 100"
    assert "OriginalAttributesSequence" not in original
    assert len(original.OtherPatientIDsSequence) == 2
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


# --------------------------------------------------------------------------- original attributes


def test_original_attributes_sequence() -> None:
    original = read(data_file("CT_small.dcm"))
    result = round_trip(coerce(original))
    assert len(result.OriginalAttributesSequence) == 1
    record = last_record(result)
    assert record.AttributeModificationDateTime == STAMP
    assert record.ModifyingSystem == SYSTEM
    assert record.SourceOfPreviousValues == "JFK IMAGING CENTER"
    assert record.ReasonForTheAttributeModification == "COERCE"
    old = previous(result)
    assert str(old.PatientName) == "CompressedSamples^CT1"
    assert old.PatientID == "1CT1"
    assert old.PatientSex == "O"
    assert old.PatientBirthDate == ""
    assert old.AccessionNumber == ""
    # absent before: recorded empty
    assert old.IssuerOfPatientID == ""
    assert old.RequestAttributesSequence == []
    assert [item.PatientID for item in old.OtherPatientIDsSequence] == ["ABCD1234", "1234ABCD"]
    assert "InstanceCoercionDateTime" not in old
    assert "SpecificCharacterSet" not in old
    assert "StudyInstanceUID" not in old


def test_only_changed_attributes_are_recorded() -> None:
    original = read(data_file("MR_small.dcm"))
    target = replace(
        TARGET,
        patient_name=str(original.PatientName),
        birth_date="",
        sex="F",
    )
    old = previous(round_trip(coerce(original, target)))
    assert "PatientName" not in old
    assert "PatientSex" not in old
    assert "PatientBirthDate" not in old
    assert old.PatientID == "4MR1"


def test_source_of_previous_values_empty_without_institution() -> None:
    original = read(charset_file("chrH31.dcm"))
    assert "InstitutionName" not in original
    assert last_record(round_trip(coerce(original))).SourceOfPreviousValues == ""


def test_existing_original_attributes_items_are_kept() -> None:
    first = round_trip(coerce(read(data_file("CT_small.dcm"))))
    earlier = copy.deepcopy(first.OriginalAttributesSequence[0])
    second_target = replace(
        TARGET, patient_name="VERDI^ANNA", patient_id="LOCAL2", accession_number="ACC2"
    )
    later = NOW + timedelta(days=1)
    second = round_trip(coerce_dataset(first, second_target, modifying_system=SYSTEM, now=later))
    assert len(second.OriginalAttributesSequence) == 2
    assert second.OriginalAttributesSequence[0] == earlier
    old = previous(second)
    assert str(old.PatientName) == "TEST^TEST"
    assert old.PatientID == "IOTELU1234"
    assert old.AccessionNumber == "SIF3503219"
    assert old.InstanceCoercionDateTime == STAMP
    assert str(second.PatientName) == "VERDI^ANNA"
    assert second.InstanceCoercionDateTime == "20251104154313.786764+0100"


def test_coercing_twice_to_the_same_target_adds_nothing() -> None:
    first = round_trip(coerce(read(data_file("CT_small.dcm"))))
    later = datetime(2026, 1, 1, tzinfo=UTC)
    again = round_trip(coerce_dataset(first, TARGET, modifying_system=SYSTEM, now=later))
    assert len(again.OriginalAttributesSequence) == 1
    assert again.InstanceCoercionDateTime == STAMP
    assert len(again.OtherPatientIDsSequence) == 3


def test_naive_datetime_has_no_offset() -> None:
    result = coerce_dataset(
        read(data_file("MR_small.dcm")),
        TARGET,
        modifying_system=SYSTEM,
        now=datetime(2025, 1, 2, 3, 4, 5),
    )
    assert result.InstanceCoercionDateTime == "20250102030405.000000"


# --------------------------------------------------------------------------- other patient IDs


def test_media_patient_id_goes_to_other_patient_ids() -> None:
    result = round_trip(coerce(read(data_file("MR_small.dcm"))))
    (item,) = result.OtherPatientIDsSequence
    assert item.PatientID == "4MR1"
    assert item.TypeOfPatientID == "TEXT"
    assert "IssuerOfPatientID" not in item


def test_existing_other_patient_ids_are_kept() -> None:
    result = round_trip(coerce(read(data_file("CT_small.dcm"))))
    assert [i.PatientID for i in result.OtherPatientIDsSequence] == ["ABCD1234", "1234ABCD", "1CT1"]


def test_media_issuer_goes_with_its_patient_id() -> None:
    original = read(data_file("MR_small.dcm"))
    original.IssuerOfPatientID = "OTHERHOSP"
    original.IssuerOfPatientIDQualifiersSequence = [Dataset()]
    original.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID = "1.2.3"
    original.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityIDType = "ISO"
    result = round_trip(coerce(original))
    (item,) = result.OtherPatientIDsSequence
    assert (item.PatientID, item.IssuerOfPatientID) == ("4MR1", "OTHERHOSP")
    assert result.IssuerOfPatientID == "AOTEST"
    assert "IssuerOfPatientIDQualifiersSequence" not in result
    old = previous(result)
    assert old.IssuerOfPatientID == "OTHERHOSP"
    assert old.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID == "1.2.3"


def test_other_patient_ids_can_be_turned_off() -> None:
    result = round_trip(coerce(read(data_file("MR_small.dcm")), add_other_patient_ids=False))
    assert "OtherPatientIDsSequence" not in result
    assert "OtherPatientIDsSequence" not in previous(result)


def test_same_patient_id_is_not_added() -> None:
    original = read(data_file("MR_small.dcm"))
    result = round_trip(
        coerce(original, replace(TARGET, patient_id="4MR1", issuer_of_patient_id=""))
    )
    assert "OtherPatientIDsSequence" not in result
    assert "PatientID" not in previous(result)


def test_empty_media_patient_id_is_not_added() -> None:
    original = read(data_file("MR_small.dcm"))
    original.PatientID = ""
    result = round_trip(coerce(original))
    assert "OtherPatientIDsSequence" not in result
    assert previous(result).PatientID == ""


def test_empty_target_issuer_removes_media_issuer() -> None:
    original = read(data_file("MR_small.dcm"))
    original.IssuerOfPatientID = "OTHERHOSP"
    result = round_trip(coerce(original, replace(TARGET, issuer_of_patient_id="")))
    assert "IssuerOfPatientID" not in result
    assert previous(result).IssuerOfPatientID == "OTHERHOSP"


def test_media_accession_issuer_is_removed() -> None:
    original = read(data_file("MR_small.dcm"))
    original.AccessionNumber = "EXT123"
    original.IssuerOfAccessionNumberSequence = [Dataset()]
    original.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID = "OTHERHOSP"
    result = round_trip(coerce(original))
    assert "IssuerOfAccessionNumberSequence" not in result
    old = previous(result)
    assert old.AccessionNumber == "EXT123"
    assert old.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == "OTHERHOSP"


# --------------------------------------------------------------------------- request attributes


def test_request_attributes_minimal() -> None:
    target = CoercionTarget(
        patient_name="ROSSI^MARIO",
        patient_id="P1",
        issuer_of_patient_id="",
        birth_date="",
        sex="",
        accession_number="A1",
    )
    result = round_trip(coerce(read(data_file("MR_small.dcm")), target))
    (request,) = result.RequestAttributesSequence
    assert request.AccessionNumber == "A1"
    assert "RequestedProcedureID" not in request
    assert "RequestedProcedureDescription" not in request
    assert "RequestedProcedureCodeSequence" not in request
    assert result.PatientBirthDate == ""
    assert result.PatientSex == ""


def test_long_procedure_code_uses_long_code_value() -> None:
    code = "X" * 40
    result = round_trip(
        coerce(read(data_file("MR_small.dcm")), replace(TARGET, procedure_code=code))
    )
    (item,) = result.RequestAttributesSequence[0].RequestedProcedureCodeSequence
    assert item.LongCodeValue == code
    assert "CodeValue" not in item


def test_existing_request_attributes_are_replaced_and_recorded() -> None:
    original = read(data_file("MR_small.dcm"))
    original.RequestAttributesSequence = [Dataset()]
    original.RequestAttributesSequence[0].RequestedProcedureID = "EXTRP"
    result = round_trip(coerce(original))
    assert result.RequestAttributesSequence[0].RequestedProcedureID == "RP3503219"
    assert previous(result).RequestAttributesSequence[0].RequestedProcedureID == "EXTRP"


# --------------------------------------------------------------------------- character sets


@pytest.mark.parametrize(
    ("source", "name", "charset"),
    [
        ("MR_small.dcm", "ROSSI^MARIO", None),
        ("MR_small.dcm", "MÜLLER^JÖRG", UTF8),
        ("CT_small.dcm", "MÜLLER^JÖRG", "ISO_IR 100"),
        ("CT_small.dcm", "ŁUKASZ^ŻÓŁW", UTF8),
        ("CT_small.dcm", "山田^太郎", UTF8),
    ],
)
def test_specific_character_set(source: str, name: str, charset: str | None) -> None:
    result = round_trip(coerce(read(data_file(source)), replace(TARGET, patient_name=name)))
    assert result.get("SpecificCharacterSet") == charset
    assert str(result.PatientName) == name


@pytest.mark.parametrize("source", CHARSET_FILES)
@pytest.mark.parametrize(
    "name", ["ROSSI^MARIO", "MÜLLER^JÖRG", "ŁUKASZ^ŻÓŁW", "Yamada^Tarou=山田^太郎=やまだ^たろう"]
)
def test_every_text_survives_a_charset_change(source: str, name: str) -> None:
    original = read(charset_file(source))
    before = dict(texts(original))
    result = round_trip(coerce(original, replace(TARGET, patient_name=name)))
    assert str(result.PatientName) == name
    after = dict(texts(result))
    coerced_tags = {str(BaseTag(pydicom.datadict.tag_for_keyword(k) or 0)) for k in COERCED}
    for path, value in before.items():
        if path.split("[")[0].split(".")[0] in coerced_tags:
            continue
        assert after[path] == value, path
    old = previous(result)
    if "PatientName" in original and str(original.PatientName) != name:
        assert str(old.PatientName) == str(original.PatientName)


@pytest.mark.parametrize(
    ("source", "charset"),
    [
        ("chrH31.dcm", ["", "ISO 2022 IR 87"]),
        ("chrFren.dcm", "ISO_IR 100"),
        ("chrX1.dcm", "ISO_IR 192"),
        ("chrX2.dcm", "GB18030"),
        ("chrRuss.dcm", "ISO_IR 144"),
    ],
)
def test_ascii_target_keeps_the_charset(source: str, charset: str | list[str]) -> None:
    original = read(charset_file(source))
    result = round_trip(coerce(original))
    assert result.SpecificCharacterSet == charset
    assert str(previous(result).PatientName) == str(original.PatientName)


def test_japanese_name_survives_in_original_attributes() -> None:
    original = read(charset_file("chrH31.dcm"))
    result = round_trip(coerce(original, replace(TARGET, patient_name="MÜLLER^JÖRG")))
    assert result.SpecificCharacterSet == UTF8
    assert str(result.PatientName) == "MÜLLER^JÖRG"
    assert str(previous(result).PatientName) == "Yamada^Tarou=山田^太郎=やまだ^たろう"


def test_nested_items_are_reencoded() -> None:
    original = read(charset_file("chrSQEncoding1.dcm"))
    nested = str(original.RequestedProcedureCodeSequence[0].PatientName)
    result = round_trip(coerce(original, replace(TARGET, patient_name="ŁUKASZ^ŻÓŁW")))
    assert result.SpecificCharacterSet == UTF8
    assert str(result.RequestedProcedureCodeSequence[0].PatientName) == nested
    assert str(result.RequestingPhysician) == "Doctor^Who^^MD"


def test_earlier_original_attributes_survive_a_charset_change() -> None:
    first = round_trip(coerce(read(charset_file("chrH31.dcm"))))
    assert first.SpecificCharacterSet == ["", "ISO 2022 IR 87"]
    second = round_trip(coerce(first, replace(TARGET, patient_name="ŁUKASZ^ŻÓŁW")))
    assert second.SpecificCharacterSet == UTF8
    earliest = second.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert str(earliest.PatientName) == "Yamada^Tarou=山田^太郎=やまだ^たろう"


def test_undeclared_latin1_is_rewritten_as_utf8() -> None:
    original = read(data_file("MR_small.dcm"))
    original.InstitutionName = "Hôpital"
    result = round_trip(coerce(original))
    assert result.SpecificCharacterSet == UTF8
    assert result.InstitutionName == "Hôpital"


# --------------------------------------------------------------------------- value limits


def test_long_name_is_truncated_per_group() -> None:
    name = "A" * 70 + "^" + "B" * 10 + "=" + "山" * 70
    result = round_trip(coerce(read(data_file("MR_small.dcm")), replace(TARGET, patient_name=name)))
    groups = str(result.PatientName).split("=")
    assert groups[0] == "A" * 64
    assert groups[1] == "山" * 64


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ROSSI^MARIO^^^", "ROSSI^MARIO"),
        ("ROSSI\\BIANCHI^MARIO", "ROSSIBIANCHI^MARIO"),
        ("ROSSI^MARIO\x00", "ROSSI^MARIO"),
        ("A^B^C^D^E^F", "A^B^C^D^E F"),
        (" ROSSI ^ MARIO ", "ROSSI^MARIO"),
    ],
)
def test_name_is_cleaned(name: str, expected: str) -> None:
    result = round_trip(coerce(read(data_file("MR_small.dcm")), replace(TARGET, patient_name=name)))
    assert str(result.PatientName) == expected


def test_long_description_and_system_are_truncated() -> None:
    target = replace(TARGET, procedure_description="D" * 100)
    result = round_trip(
        coerce_dataset(read(data_file("MR_small.dcm")), target, modifying_system="S" * 80, now=NOW)
    )
    request = result.RequestAttributesSequence[0]
    assert request.RequestedProcedureDescription == "D" * 64
    assert request.RequestedProcedureCodeSequence[0].CodeMeaning == "D" * 64
    assert last_record(result).ModifyingSystem == "S" * 64


BAD_TARGETS: list[tuple[str, Callable[[CoercionTarget], CoercionTarget]]] = [
    ("patient id too long", lambda t: replace(t, patient_id="P" * 65)),
    ("patient id empty", lambda t: replace(t, patient_id=" ")),
    ("patient id backslash", lambda t: replace(t, patient_id="A\\B")),
    ("issuer too long", lambda t: replace(t, issuer_of_patient_id="I" * 65)),
    ("accession too long", lambda t: replace(t, accession_number="A" * 17)),
    ("procedure id too long", lambda t: replace(t, requested_procedure_id="R" * 17)),
    ("scheme too long", lambda t: replace(t, procedure_code_scheme="S" * 17)),
    ("name empty", lambda t: replace(t, patient_name="^^")),
    ("birth date format", lambda t: replace(t, birth_date="1974-01-01")),
    ("birth date invalid", lambda t: replace(t, birth_date="19740230")),
    ("sex", lambda t: replace(t, sex="X")),
]


@pytest.mark.parametrize(("case", "make"), BAD_TARGETS, ids=[c for c, _ in BAD_TARGETS])
def test_bad_targets_are_refused(
    case: str, make: Callable[[CoercionTarget], CoercionTarget]
) -> None:
    original = read(data_file("MR_small.dcm"))
    with pytest.raises(InvalidInput) as caught:
        coerce(original, make(TARGET))
    assert caught.value.code == "invalid_target"
    assert "4MR1" not in caught.value.message


def test_lower_case_sex_is_accepted() -> None:
    result = coerce(read(data_file("MR_small.dcm")), replace(TARGET, sex="f"))
    assert result.PatientSex == "F"


def test_in_memory_dataset_without_meta() -> None:
    ds = Dataset()
    ds.PatientName = "DUPONT^JEAN"
    ds.PatientID = "EXT1"
    ds.StudyInstanceUID = "1.2.3"
    result = coerce(ds)
    assert str(result.PatientName) == "TEST^TEST"
    assert result.OtherPatientIDsSequence[0].PatientID == "EXT1"
    assert str(previous(result).PatientName) == "DUPONT^JEAN"
    assert str(ds.PatientName) == "DUPONT^JEAN"


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("chrH31.dcm", "山田^花子=やまだ^はなこ"),
        ("chrH32.dcm", "ﾔﾏﾀﾞ^ﾊﾅｺ=山田^花子"),
        ("chrI2.dcm", "Kim^Heejung=김^희중"),
        ("chrX2.dcm", "ŁUKASZ^ŻÓŁW"),
        ("chrRuss.dcm", "Иванов^Иван"),
        ("chrGreek.dcm", "Παπαδόπουλος^Γιώργος"),
        ("chrArab.dcm", "لنزار^قباني"),
        ("chrHbrw.dcm", "דבורה^שרון"),
    ],
)
def test_name_in_the_same_script_keeps_the_charset(source: str, name: str) -> None:
    original = read(charset_file(source))
    result = round_trip(coerce(original, replace(TARGET, patient_name=name)))
    assert result.SpecificCharacterSet == original.SpecificCharacterSet
    assert str(result.PatientName) == name
    assert str(previous(result).PatientName) == str(original.PatientName)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"patient_id": ""}, "patient id is empty"),
        ({"patient_name": "^"}, "patient name is empty"),
        ({"patient_id": "X" * 65}, "longer than 64"),
        ({"accession_number": "A" * 17}, "longer than 16"),
        ({"birth_date": "19741301"}, "not a valid date"),
        ({"sex": "X"}, "not M, F or O"),
    ],
)
def test_validate_target_refuses_what_cannot_be_written(change: dict[str, str], words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as caught:
        validate_target(replace(TARGET, **change))
    assert caught.value.code == "invalid_target"


def test_validate_target_accepts_a_good_order() -> None:
    validate_target(TARGET)


def test_a_patient_without_an_order_gets_no_accession_nor_request() -> None:
    """Issue 16, point 4: filed for a patient alone, the medium's accession and request leave
    the image for the Original Attributes Sequence; the patient is coerced as for an order."""
    original = read(data_file("CT_small.dcm"))
    original.AccessionNumber = "EXT-ACC-1"
    request = Dataset()
    request.AccessionNumber = "EXT-ACC-1"
    request.RequestedProcedureID = "EXT-RP"
    original.RequestAttributesSequence = [request]
    patient_only = replace(
        TARGET, accession_number="", requested_procedure_id="", procedure_code=""
    )
    assert not patient_only.ordered
    assert TARGET.ordered
    validate_target(patient_only)
    result = round_trip(coerce(original, patient_only))
    assert result.AccessionNumber == ""
    assert "RequestAttributesSequence" not in result
    assert (result.PatientID, str(result.PatientName)) == ("IOTELU1234", "TEST^TEST")
    old = previous(result)
    assert old.AccessionNumber == "EXT-ACC-1"
    assert old.RequestAttributesSequence[0].RequestedProcedureID == "EXT-RP"
    # coerced again to the same patient: nothing more to record
    again = coerce(result, patient_only)
    assert len(again.OriginalAttributesSequence) == 1
