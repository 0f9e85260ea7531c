"""Reading unpacked media: classification by content, accounting, duplicates, charsets."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pydicom
import pytest

from importer.media import (
    ArchiveLimits,
    MediaReport,
    ScannedInstance,
    SkippedFile,
    UnpackedFile,
    raw,
    read_media,
    scan_file,
    unpack_zip,
)
from tests.unit.media.helpers import (
    AUTORUN,
    DEFLATED_UID,
    FAKE_EXE,
    FAKE_JPEG,
    FAKE_PDF,
    HTML,
    README,
    before_pixels,
    deflated,
    dicomdir_set,
    explicit_element,
    make_zip,
    rewrite,
    sample,
    sample_bytes,
    undefined_sequence,
    with_transfer_syntax,
    without_meta,
    without_transfer_syntax,
    zip_bytes,
)

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
J2K = "1.2.840.10008.1.2.4.91"


def _media(tmp_path: Path, entries: dict[str, bytes]) -> MediaReport:
    archive = make_zip(tmp_path / "upload.zip", entries)
    return read_media(unpack_zip(archive, tmp_path / "spool", ArchiveLimits()))


def _file(tmp_path: Path, data: bytes, name: str = "X") -> UnpackedFile:
    path = tmp_path / "file"
    path.write_bytes(data)
    return UnpackedFile(name, path, len(data))


def _reasons(report: MediaReport) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


def _check_accounting(report: MediaReport) -> None:
    counted = [s for s in report.skipped if s.reason != "missing_file"]
    assert report.files == len(report.instances) + len(counted)


@pytest.mark.parametrize(
    ("name", "transfer_syntax", "has_meta"),
    [
        ("CT_small.dcm", EXPLICIT_LE, True),
        ("MR_small.dcm", EXPLICIT_LE, True),
        ("ExplVR_BigEnd.dcm", EXPLICIT_BE, True),
        ("image_dfl.dcm", DEFLATED, True),
        ("JPEG2000.dcm", J2K, True),
        ("reportsi.dcm", EXPLICIT_LE, True),
        ("rtplan.dcm", IMPLICIT_LE, True),
        ("rtstruct.dcm", IMPLICIT_LE, False),
        ("ExplVR_LitEndNoMeta.dcm", EXPLICIT_LE, False),
        ("ExplVR_BigEndNoMeta.dcm", EXPLICIT_BE, False),
        ("MR_small_RLE.dcm", "1.2.840.10008.1.2.5", True),
        ("SC_rgb_jpeg.dcm", "1.2.840.10008.1.2.4.50", True),
    ],
)
def test_dicom_is_read(tmp_path: Path, name: str, transfer_syntax: str, has_meta: bool) -> None:
    result = scan_file(_file(tmp_path, sample_bytes(name), name))

    assert isinstance(result, ScannedInstance), result
    assert result.transfer_syntax_uid == transfer_syntax
    assert result.has_file_meta is has_meta
    assert result.sop_instance_uid
    assert result.study.study_instance_uid
    assert result.series.series_instance_uid


@pytest.mark.parametrize(
    ("data", "reason", "text"),
    [
        (FAKE_PDF, "not_dicom", "PDF"),
        (FAKE_JPEG, "not_dicom", "JPEG"),
        (FAKE_EXE, "not_dicom", "program"),
        (AUTORUN, "not_dicom", "text"),
        (README, "not_dicom", "text"),
        (HTML, "not_dicom", "web page"),
        (b"\x00\x01\x02\x03" * 64, "not_dicom", "Not a DICOM file"),
        (b"x", "not_dicom", "Not a DICOM file"),
        # group 0008 then a first value of 2 GiB: not a data set, whatever pydicom makes of it
        (b"\x08\x00\x05\x00\xff\xff\xff\x7f" + bytes(range(256)) * 8, "not_dicom", "Not a DICOM"),
        (sample_bytes("meta_missing_tsyntax.dcm"), "missing_uid", "SOP Class UID"),
        (sample_bytes("JPEGLSNearLossless_08.dcm"), "missing_uid", "Study Instance UID"),
        (sample_bytes("MR_truncated.dcm"), "truncated", "truncated"),
        (sample_bytes("rtplan_truncated.dcm"), "truncated", "truncated"),
        (sample_bytes("JPEG2000.dcm")[:-600], "truncated", "truncated"),
        (sample_bytes("CT_small.dcm")[:500], "truncated", "truncated"),
        (sample_bytes("image_dfl.dcm")[:400], "unreadable", "could not be read"),
        (sample_bytes("no_meta.dcm"), "unreadable", "Looks like DICOM"),
    ],
    ids=[
        "pdf",
        "jpeg",
        "exe",
        "autorun",
        "readme",
        "html",
        "binary",
        "one-byte",
        "group-0008-absurd-length",
        "meta-only",
        "no-study-uid",
        "truncated-pixels",
        "truncated-element",
        "truncated-fragments",
        "truncated-header",
        "truncated-deflate",
        "garbled-no-meta",
    ],
)
def test_rejected_files(tmp_path: Path, data: bytes, reason: str, text: str) -> None:
    result = scan_file(_file(tmp_path, data, "CD/FILE"))

    assert isinstance(result, SkippedFile), result
    assert (result.path, result.reason) == ("CD/FILE", reason)
    assert text in result.message


def test_no_preamble_no_meta_dataset_is_accepted(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, without_meta("CT_small.dcm")))

    assert isinstance(result, ScannedInstance)
    assert result.has_file_meta is False
    assert result.transfer_syntax_uid == IMPLICIT_LE
    assert result.patient.name == "CompressedSamples^CT1"


def test_meta_without_transfer_syntax_is_assumed_implicit(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, without_transfer_syntax("CT_small.dcm")))

    assert isinstance(result, ScannedInstance)
    assert result.has_file_meta is False
    assert result.transfer_syntax_uid == IMPLICIT_LE
    assert any("Transfer Syntax UID" in w for w in result.warnings)


def test_attributes_are_read(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, sample_bytes("CT_small.dcm")))

    assert isinstance(result, ScannedInstance)
    assert result.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"
    assert result.patient.name == "CompressedSamples^CT1"
    assert result.patient.id == "1CT1"
    assert result.patient.sex == "O"
    assert result.study.date == "20040119"
    assert result.study.institution == "JFK IMAGING CENTER"
    assert result.series.modality == "CT"
    assert result.series.number == 1
    assert result.warnings == ()


def test_old_style_dates_are_read_as_dicom_dates(tmp_path: Path) -> None:
    # ExplVR_BigEnd.dcm is an old GE file: Study Date "1997.04.24" (ACR-NEMA form)
    result = scan_file(_file(tmp_path, sample_bytes("ExplVR_BigEnd.dcm")))

    assert isinstance(result, ScannedInstance)
    assert result.study.date == "19970424"
    assert any("StudyDate" in w and "old format" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("19740101", "19740101"),
        ("1974.01.01", "19740101"),
        ("1974-01-01", "19740101"),
        ("1974/01/01", "19740101"),
        ("", ""),
        ("01/01/1974", ""),
        ("19740101000000", ""),
        ("unknown", ""),
    ],
)
def test_birth_dates_are_read_as_dicom_dates_or_ignored(
    tmp_path: Path, value: str, read: str
) -> None:
    result = scan_file(_file(tmp_path, rewrite("CT_small.dcm", PatientBirthDate=value)))

    assert isinstance(result, ScannedInstance)
    assert result.patient.birth_date == read
    assert len(result.patient.birth_date) in (0, 8)
    if value and value != read:
        assert any("PatientBirthDate" in w for w in result.warnings)
        assert not any(value in w for w in result.warnings)  # never the value itself


@pytest.mark.parametrize(
    ("name", "patient_name"),
    [
        ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
        ("chrH32.dcm", "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"),
        ("chrI2.dcm", "Hong^Gildong=洪^吉洞=홍^길동"),
        ("chrX1.dcm", "Wang^XiaoDong=王^小東"),
        ("chrX2.dcm", "Wang^XiaoDong=王^小东"),
        ("chrFren.dcm", "Buc^Jérôme"),
        ("chrRuss.dcm", "Люкceмбypг"),
        ("chrGreek.dcm", "Διονυσιος"),
        ("chrArab.dcm", "قباني^لنزار"),
    ],
)
def test_person_names_are_decoded(tmp_path: Path, name: str, patient_name: str) -> None:
    result = scan_file(_file(tmp_path, sample_bytes(name)))

    assert isinstance(result, ScannedInstance)
    assert result.patient.name == patient_name
    assert result.warnings == ()


def test_invalid_charset_is_tolerated_with_warning(tmp_path: Path) -> None:
    data = rewrite("CT_small.dcm", PatientName="Müller^Hans", PatientID="ÄÖ1")
    assert b"ISO_IR 100" in data
    data = data.replace(b"ISO_IR 100", b"ISO_IR 999", 1)

    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, ScannedInstance)
    assert result.patient.name == "Müller^Hans"
    assert result.patient.id == "ÄÖ1"
    assert any("ISO_IR 999" in w for w in result.warnings)
    assert not any("Müller" in w for w in result.warnings)


def test_text_not_valid_in_declared_charset_is_tolerated(tmp_path: Path) -> None:
    data = rewrite("chrX1.dcm", PatientName="Wang^XiaoDong")
    data = data.replace(b"Wang^XiaoDong", b"Wang^Xiao\xff\xfeng", 1)

    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, ScannedInstance)
    assert result.patient.name.startswith("Wang^Xiao")
    assert result.warnings


def test_implausible_uid_is_refused(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, rewrite("CT_small.dcm", SOPInstanceUID="1.2.abc.3")))

    assert isinstance(result, SkippedFile)
    assert result.reason == "missing_uid"
    assert "not a valid UID" in result.message


@pytest.mark.parametrize(
    "transfer_syntax",
    [b"1.2.840.10008.1.2.1." + b"9" * 101, b"1.2.840.10008.1.2.1.abc", b"explicit little"],
    ids=["120-characters", "letters", "not-a-uid"],
)
def test_invalid_transfer_syntax_uid_is_refused(tmp_path: Path, transfer_syntax: bytes) -> None:
    """A Transfer Syntax UID that is no UID, or longer than 64 characters, cannot be stored
    (nor sent): the file is skipped instead of failing the analysis later."""
    data = with_transfer_syntax("CT_small.dcm", transfer_syntax)
    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, SkippedFile), result
    assert result.reason == "invalid_uid"
    assert "Transfer Syntax UID" in result.message
    assert transfer_syntax.decode() not in result.message


def test_valid_transfer_syntax_uid_is_kept(tmp_path: Path) -> None:
    data = with_transfer_syntax("CT_small.dcm", b"1.2.840.10008.1.2.1")
    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, ScannedInstance), result
    assert result.transfer_syntax_uid == EXPLICIT_LE
    assert not result.warnings


PADDING = explicit_element(0x0009, 0x0010, b"LO", b"")  # 8 bytes, no value


def test_padded_header_is_refused_before_pydicom(tmp_path: Path) -> None:
    """1,000,000 zero-length elements (8 MB) cost pydicom seconds and hundreds of MB: the walk
    counts them first and stops at the budget."""
    data = before_pixels("CT_small.dcm", PADDING * 1_000_000)
    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, SkippedFile), result
    assert result.reason == "header_too_large"
    assert result.message == "The DICOM header holds more than 100000 elements; not read."


def test_header_over_byte_budget_is_refused(tmp_path: Path) -> None:
    data = before_pixels("CT_small.dcm", explicit_element(0x0009, 0x1010, b"UT", b"x" * 20_000))
    limits = ArchiveLimits(max_header_bytes=16 * 1024)

    result = scan_file(_file(tmp_path, data), limits)

    assert isinstance(result, SkippedFile), result
    assert result.reason == "header_too_large"
    assert "larger than 16384 bytes" in result.message


def test_padding_nested_in_one_sequence_is_refused_by_bytes(tmp_path: Path) -> None:
    """One top-level sequence holding the padding: the walk stops inside it at the byte
    budget instead of walking it to its end."""
    sequence = undefined_sequence(0x0009, 0x1020, [PADDING * 10_000] * 10)
    data = before_pixels("CT_small.dcm", sequence)
    limits = ArchiveLimits(max_header_bytes=64 * 1024)

    result = scan_file(_file(tmp_path, data), limits)

    assert isinstance(result, SkippedFile), result
    assert result.reason == "header_too_large"


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm", "ExplVR_BigEndNoMeta.dcm"])
def test_header_within_budget_is_read(tmp_path: Path, name: str) -> None:
    """Pixel data and large bulk values are not header: a tight budget still reads the file."""
    data = sample_bytes(name)
    if name == "CT_small.dcm":
        data = before_pixels(name, explicit_element(0x0009, 0x1010, b"OB", bytes(200_000)))
    limits = ArchiveLimits(max_header_bytes=8 * 1024, max_header_elements=300)

    result = scan_file(_file(tmp_path, data, name), limits)

    assert isinstance(result, ScannedInstance), result


def test_padded_header_of_a_deflated_file_is_refused_before_pydicom(tmp_path: Path) -> None:
    """A few kB of deflate that inflate to 1,000,000 tiny elements: pydicom would inflate and
    parse them all; the walk goes over the inflated data set and stops at the budget."""
    data = deflated(before_pixels("CT_small.dcm", PADDING * 1_000_000))
    assert len(data) < 100_000

    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, SkippedFile), result
    assert result.reason == "header_too_large"
    assert list(tmp_path.iterdir()) == [tmp_path / "file"]  # no temporary file left behind


def test_a_deflated_file_within_budget_is_read(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, deflated(sample_bytes("CT_small.dcm"))))

    assert isinstance(result, ScannedInstance), result
    assert result.transfer_syntax_uid == DEFLATED_UID


def test_padded_header_after_a_meta_no_walk_can_read_is_refused(tmp_path: Path) -> None:
    """A file meta the meta reader gives up on (an element of undefined length in it) is
    walked as part of the data set: the padding after it is still counted."""
    data = before_pixels("CT_small.dcm", PADDING * 200_000)
    odd = struct.pack("<HH2sHL", 0x0002, 0x0100, b"SQ", 0, raw.UNDEFINED_LENGTH)
    odd += struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    data = data[:132] + odd + data[132:]

    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, SkippedFile), result
    assert result.reason == "header_too_large"


def test_header_too_large_counts_as_unreadable(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "upload.zip",
        {
            "DICOM/IM0001": sample_bytes("CT_small.dcm"),
            "DICOM/IM0002": before_pixels("CT_small.dcm", PADDING * 100),
        },
    )
    limits = ArchiveLimits(max_header_elements=300)

    report = read_media(unpack_zip(archive, tmp_path / "spool", limits), limits)

    assert _reasons(report) == {"DICOM/IM0002": "header_too_large"}
    assert (report.dicom, report.unreadable) == (1, 1)
    _check_accounting(report)


def test_non_conformant_uid_is_accepted_with_warning(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, rewrite("CT_small.dcm", SOPInstanceUID="1.2.03.4")))

    assert isinstance(result, ScannedInstance)
    assert result.sop_instance_uid == "1.2.03.4"
    assert any("SOP Instance UID" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("raw", "number", "warned"),
    [(b"7 ", 7, False), (b"7.0 ", 7, True), (b"ab", None, True), (b"  ", None, False)],
)
def test_series_number(tmp_path: Path, raw: bytes, number: int | None, warned: bool) -> None:
    element = b"\x20\x00\x11\x00IS"
    data = rewrite("CT_small.dcm", SeriesNumber="7")
    assert data.count(element + b"\x02\x007 ") == 1
    data = data.replace(element + b"\x02\x007 ", element + len(raw).to_bytes(2, "little") + raw)
    result = scan_file(_file(tmp_path, data))

    assert isinstance(result, ScannedInstance)
    assert result.series.number == number
    assert bool(result.warnings) is warned


def test_dicomdir_is_an_index_not_an_instance(tmp_path: Path) -> None:
    result = scan_file(_file(tmp_path, sample_bytes("DICOMDIR"), "DICOMDIR"))

    assert isinstance(result, SkippedFile)
    assert result.reason == "dicomdir"


def _dicomdir_entries(prefix: str = "") -> dict[str, bytes]:
    root = dicomdir_set()
    entries = {prefix + "DICOMDIR": (root / "DICOMDIR").read_bytes()}
    for path in sorted(root.glob("[0-9]*/**/*")):
        if path.is_file():
            entries[prefix + path.relative_to(root).as_posix()] = path.read_bytes()
    return entries


def test_dicomdir_with_case_suffix_and_missing_file(tmp_path: Path) -> None:
    entries = _dicomdir_entries("CDROM/")
    referenced = len(entries) - 1
    renamed: dict[str, bytes] = {}
    for name, data in entries.items():
        if name == "CDROM/77654033/CR1/6154":
            continue  # listed in the DICOMDIR, absent from the medium
        if name == "CDROM/DICOMDIR":
            name = "CDROM/dicomdir.;1.;1"
        elif "/CT2/" in name:
            name = name.lower() + ";1"
        elif "/MR700/" in name:
            name = name + ".dcm"
        elif "/CT5N/" in name:
            name = name.replace("CT5N", "ct5n.") + "."
        renamed[name] = data
    renamed["CDROM/EXTRA/NOTLISTED"] = sample_bytes("MR_small.dcm")

    report = _media(tmp_path, renamed)

    _check_accounting(report)
    assert report.dicomdir is True
    missing = [s for s in report.skipped if s.reason == "missing_file"]
    assert [(s.path, s.message) for s in missing] == [
        ("CDROM/77654033/CR1/6154", "Listed in the DICOMDIR but not found on the medium.")
    ]
    assert _reasons(report)["CDROM/dicomdir.;1.;1"] == "dicomdir"
    assert len(report.instances) == referenced - 1 + 1
    assert "CDROM/EXTRA/NOTLISTED" in {i.display_path for i in report.instances}
    assert report.files == len(renamed)


def test_dicomdir_inside_nested_zip(tmp_path: Path) -> None:
    inner = zip_bytes(_dicomdir_entries())
    report = _media(tmp_path, {"patient.zip": inner})

    _check_accounting(report)
    assert report.dicomdir is True
    assert not [s for s in report.skipped if s.reason == "missing_file"]
    assert all(i.display_path.startswith("patient.zip/") for i in report.instances)


def test_no_dicomdir_is_fine(tmp_path: Path) -> None:
    report = _media(tmp_path, {"IM1": sample_bytes("CT_small.dcm")})

    assert report.dicomdir is False
    assert len(report.instances) == 1


def test_identical_duplicate_is_kept_once(tmp_path: Path) -> None:
    ct = sample_bytes("CT_small.dcm")
    report = _media(tmp_path, {"A/IM1": ct, "B/IM1": ct, "C/IM1": ct})

    _check_accounting(report)
    assert [i.display_path for i in report.instances] == ["A/IM1"]
    assert report.instances[0].warnings == ()
    assert _reasons(report) == {"B/IM1": "duplicate_instance", "C/IM1": "duplicate_instance"}


def test_different_content_same_uid_keeps_both_with_warning(tmp_path: Path) -> None:
    ct = sample_bytes("CT_small.dcm")
    other = rewrite("CT_small.dcm", PatientName="Other^Patient")
    report = _media(tmp_path, {"A/IM1": ct, "B/IM1": other, "C/IM1": ct})

    _check_accounting(report)
    assert [i.display_path for i in report.instances] == ["A/IM1", "B/IM1"]
    assert _reasons(report) == {"C/IM1": "duplicate_instance"}
    for inst in report.instances:
        assert any("same SOP Instance UID" in w for w in inst.warnings)


def _messy_medium() -> dict[str, bytes]:
    entries: dict[str, bytes] = {
        "DISC/IMAGES/CT1": sample_bytes("CT_small.dcm"),
        "DISC/IMAGES/MR1.dcm": sample_bytes("MR_small.dcm"),
        "DISC/IMAGES/BE1": sample_bytes("ExplVR_BigEnd.dcm"),
        "DISC/IMAGES/DFL1": sample_bytes("image_dfl.dcm"),
        "DISC/IMAGES/J2K1": sample_bytes("JPEG2000.dcm"),
        "DISC/SR/REPORT": sample_bytes("reportsi.dcm"),
        "DISC/RT/STRUCT": sample_bytes("rtstruct.dcm"),
        "DISC/RAW/NOMETA": without_meta("MR_small.dcm"),
        "DISC/RAW/NOTSYNTAX": without_transfer_syntax("CT_small.dcm"),
        "DISC/RAW/META_ONLY": sample_bytes("meta_missing_tsyntax.dcm"),
        "DISC/RAW/GARBLED": sample_bytes("no_meta.dcm"),
        "DISC/BROKEN/MR_TRUNC": sample_bytes("MR_truncated.dcm"),
        "DISC/BROKEN/RTPLAN_TRUNC": sample_bytes("rtplan_truncated.dcm"),
        "DISC/COPY/CT1": sample_bytes("CT_small.dcm"),
        "DISC/Patient tête/.series1/JAP": sample_bytes("chrH31.dcm"),
        "DISC/autorun.inf": AUTORUN,
        "DISC/README.TXT": README,
        "DISC/VIEWER/START.EXE": FAKE_EXE,
        "DISC/VIEWER/index.html": HTML,
        "DISC/REPORT.PDF": FAKE_PDF,
        "DISC/KEY.JPG": FAKE_JPEG,
        "DISC/EMPTY": b"",
        "DISC/.DS_Store": b"\x00\x00\x00\x01Bud1",
        "__MACOSX/DISC/._CT1": b"\x00\x05\x16\x07",
        "DISC/Thumbs.db": b"\xd0\xcf\x11\xe0",
        "DISC/extra.zip": zip_bytes(
            {"MORE/MR": sample_bytes("MR_small_implicit.dcm"), "deeper.zip": zip_bytes({"a": b"b"})}
        ),
    }
    for name, data in _dicomdir_entries("DISC/DIR/").items():
        if not name.endswith("/98892003/MR2/4950"):
            entries[name] = data
    return entries


def test_messy_medium_accounts_for_every_file(tmp_path: Path) -> None:
    entries = _messy_medium()

    report = _media(tmp_path, entries)

    _check_accounting(report)
    nested = 2 - 1  # extra.zip is replaced by its two entries
    assert report.files == len(entries) + nested
    reasons = _reasons(report)
    expected = {
        "DISC/RAW/META_ONLY": "missing_uid",
        "DISC/RAW/GARBLED": "unreadable",
        "DISC/BROKEN/MR_TRUNC": "truncated",
        "DISC/BROKEN/RTPLAN_TRUNC": "truncated",
        "DISC/COPY/CT1": "duplicate_instance",
        "DISC/autorun.inf": "not_dicom",
        "DISC/README.TXT": "not_dicom",
        "DISC/VIEWER/START.EXE": "not_dicom",
        "DISC/VIEWER/index.html": "not_dicom",
        "DISC/REPORT.PDF": "not_dicom",
        "DISC/KEY.JPG": "not_dicom",
        "DISC/EMPTY": "empty",
        "DISC/.DS_Store": "junk",
        "__MACOSX/DISC/._CT1": "junk",
        "DISC/Thumbs.db": "junk",
        "DISC/extra.zip/deeper.zip": "nested_archive",
        "DISC/DIR/DICOMDIR": "dicomdir",
        "DISC/DIR/98892003/MR2/4950": "missing_file",
    }
    assert {p: r for p, r in reasons.items() if p in expected} == expected
    assert set(reasons) == set(expected)
    paths = {i.display_path for i in report.instances}
    assert {
        "DISC/IMAGES/CT1",
        "DISC/IMAGES/MR1.dcm",
        "DISC/IMAGES/BE1",
        "DISC/IMAGES/DFL1",
        "DISC/IMAGES/J2K1",
        "DISC/SR/REPORT",
        "DISC/RT/STRUCT",
        "DISC/RAW/NOMETA",
        "DISC/RAW/NOTSYNTAX",
        "DISC/Patient tête/.series1/JAP",
        "DISC/extra.zip/MORE/MR",
    } <= paths
    assert report.dicomdir is True
    assert report.dicom == len(report.instances)
    assert report.non_dicom == 6 + 1 + 3 + 1  # not_dicom, empty, junk, nested_archive
    assert report.unreadable == 4
    studies = {i.study.study_instance_uid for i in report.instances}
    assert len(studies) > 3, "several studies on one medium are kept apart"


def test_report_messages_hold_no_patient_data(tmp_path: Path) -> None:
    entries = _messy_medium()
    entries["DISC/X/BAD_CHARSET"] = rewrite("CT_small.dcm", PatientName="Secret^Person").replace(
        b"ISO_IR 100", b"ISO_IR 999", 1
    )
    report = _media(tmp_path, entries)

    texts = [s.message for s in report.skipped]
    texts += [w for i in report.instances for w in i.warnings]
    for text in texts:
        for secret in ("Secret", "Person", "Doe", "CompressedSamples", "Yamada", "tête"):
            assert secret not in text


def test_unreadable_file_message_includes_reason_without_path(tmp_path: Path) -> None:
    data = sample_bytes("image_dfl.dcm")[:400]
    result = scan_file(_file(tmp_path, data, "CD/DFL"))

    assert isinstance(result, SkippedFile)
    assert str(tmp_path) not in result.message
    assert len(result.message) < 300


def test_files_counts_unpack_skips(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a/.DS_Store", b"x")
        zf.writestr("a/EMPTY", b"")
    archive.write_bytes(buf.getvalue())

    report = read_media(unpack_zip(archive, tmp_path / "spool", ArchiveLimits()))

    assert report.files == 2
    assert report.instances == []
    _check_accounting(report)


def test_sample_helper_finds_charset_files() -> None:
    assert sample("chrH31.dcm").is_file()


@pytest.mark.parametrize("meta", [True, False], ids=["part10", "no-meta"])
def test_native_pixel_data_shorter_than_its_header_says_is_skipped(
    tmp_path: Path, meta: bool
) -> None:
    """Rows doubled over the same pixel data: half the image is missing. Skipped with its reason
    before the user confirms (the verify stage, which found it after, no longer reads the file)."""
    ds = pydicom.dcmread(io.BytesIO(sample_bytes("CT_small.dcm")))
    ds.Rows = ds.Rows * 2
    if not meta:
        ds.preamble = None
        ds.file_meta = pydicom.dataset.FileMetaDataset()
    out = io.BytesIO()
    pydicom.dcmwrite(out, ds, implicit_vr=not meta, enforce_file_format=meta)
    data = out.getvalue()
    result = scan_file(_file(tmp_path, data, "CD/HALF"))
    assert isinstance(result, SkippedFile), result
    assert result.reason == "truncated"
    assert result.message == "The file is truncated (its pixel data holds 32768 of 65536 bytes)."


def _after_pixel_data(name: str) -> bytes:
    """A test file with a private element after its pixel data (and its padding)."""
    ds = pydicom.dcmread(io.BytesIO(sample_bytes(name)))
    ds.add_new(0x7FE10010, "LO", "AFTER")
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "stamped"),
    [
        ("CT_small.dcm", True),  # trailing padding after its pixel data
        ("MR_small.dcm", True),
        ("SC_ybr_full_422_uncompressed.dcm", True),
        ("JPEG2000.dcm", True),  # encapsulated
        ("rtplan.dcm", True),  # no pixel data
        ("image_dfl.dcm", False),
        ("after-pixel-data", False),
    ],
)
def test_an_instance_is_stamped_when_the_analysis_read_all_but_its_pixel_data(
    tmp_path: Path, name: str, stamped: bool
) -> None:
    """The stamp lets verify trust this read: not for a deflated data set, whose pixel data
    was not reached, nor for a file with elements after its pixel data, which verify reads
    again (their stamp still recorded: refused once it changed)."""
    data = _after_pixel_data("CT_small.dcm") if name == "after-pixel-data" else sample_bytes(name)
    result = scan_file(_file(tmp_path, data, name))
    assert isinstance(result, ScannedInstance), result
    status = (tmp_path / "file").stat()
    assert result.stamp == (
        f"{status.st_size}:{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"
    )
    assert result.read_again is not stamped


def test_an_image_count_written_as_text_costs_nothing(tmp_path: Path) -> None:
    """A 1024 × 1024 RGB header whose Number of Frames is letters (pydicom keeps it as text):
    skipped as undecodable, without multiplying the text (which took 113 MB for 700 bytes)."""
    import tracemalloc

    ds = pydicom.dcmread(io.BytesIO(sample_bytes("CT_small.dcm")))
    ds.Rows = ds.Columns = 1024
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.add_new(0x00280008, "IS", "1")
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue().replace(b"\x08\x00IS\x02\x001 ", b"\x08\x00IS\x02\x00ab", 1)
    assert b"IS\x02\x00ab" in data
    tracemalloc.start()
    try:
        result = scan_file(_file(tmp_path, data, "CD/FRAMES"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, SkippedFile), result
    assert result.reason == "unreadable"
    assert peak < 16 * 1024 * 1024, peak


def test_native_pixel_bytes_is_pydicoms_rule() -> None:
    """Our count, made on checked numbers, equals pydicom's get_expected_length on every native
    image among its test files (a guard: pydicom's rule may change)."""
    from pydicom.pixels.utils import get_expected_length

    from importer.media.scan import NATIVE_SYNTAXES, native_pixel_bytes

    compared = 0
    for path in sorted(sample("CT_small.dcm").parent.glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
        if (
            syntax not in NATIVE_SYNTAXES
            or "Rows" not in ds
            or "PhotometricInterpretation" not in ds
        ):
            continue
        try:
            ours = native_pixel_bytes(ds, syntax)
        except ValueError:
            continue
        if ours is None:
            continue
        assert ours == get_expected_length(ds, "bytes"), path.name
        compared += 1
    assert compared >= 20
