"""``encode_for_store`` (header read and coerced alone, the pixel data taken from the file as it
is) gives exactly the bytes the slow path gives (``load_for_store``, the whole file read and
coerced, encoded by pynetdicom), or declines; and the DIMSE adapter uses it only when the PACS
takes the instance in the encoding it has in the file."""

from __future__ import annotations

import hashlib
import inspect
import re
import struct
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import FileMetaDataset
from pydicom.filereader import read_dataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
    generate_uid,
)
from pynetdicom.dsutils import encode

from importer import coerce
from importer.coerce import (
    COERCION_TAGS,
    TEXT_VRS,
    CoercionTarget,
    coerce_dataset,
    coerce_in_place,
)
from importer.errors import InvalidInput
from importer.media import raw
from importer.pacs.base import EncodedInstance, StoreItem
from importer.pacs.dimse import StoreEngine
from importer.pipeline import prepare
from importer.pipeline.prepare import AmbiguousValue, encode_for_store, load_for_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TARGET = CoercionTarget(
    patient_name="ROSSI^MARIO",
    patient_id="HOSP-0042",
    issuer_of_patient_id="HOSPITAL",
    birth_date="19740101",
    sex="M",
    accession_number="ACC-1",
    requested_procedure_id="RP1",
    procedure_code="IMPORT",
    procedure_description="External study import",
)
NON_LATIN = CoercionTarget(
    patient_name="ИВАНОВ^ИВАН",
    patient_id="HOSP-0043",
    issuer_of_patient_id="",
    birth_date="19800202",
    sex="F",
    accession_number="ACC-2",
)
PIXEL_DATA = 0x7FE00010

# pydicom's test files: compressed ones, big endian, deflated, implicit VR
TEST_FILES = [
    "CT_small.dcm",  # Explicit VR Little Endian
    "MR_small.dcm",
    "rtplan.dcm",  # Implicit VR Little Endian, no pixel data
    "MR_small_bigendian.dcm",  # Explicit VR Big Endian
    "MR_small_RLE.dcm",  # RLE Lossless
    "SC_rgb_rle.dcm",
    "MR_small_jp2klossless.dcm",  # JPEG 2000 lossless
    "JPEG2000.dcm",
    "SC_rgb_jpeg_gdcm.dcm",  # JPEG Lossless SV1
    "SC_rgb_jpeg_dcmtk.dcm",  # JPEG Baseline
    "MR_small_jpeg_ls_lossless.dcm",  # JPEG-LS
    "image_dfl.dcm",  # Deflated Explicit VR Little Endian
]


def _testdata(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"pydicom test file {name} is missing"
    return Path(path)


def _slow(path: Path, target: CoercionTarget | None, implicit: bool, little: bool) -> bytes:
    ds = load_for_store(
        path, target=target, modifying_system="PACS Media Import test", now=NOW,
        add_other_patient_ids=True,
    )  # fmt: skip
    data = encode(ds, implicit, little)
    assert data is not None
    return data


def _fast(path: Path, target: CoercionTarget | None) -> EncodedInstance | None:
    return encode_for_store(
        path, target=target, modifying_system="PACS Media Import test", now=NOW,
        add_other_patient_ids=True,
    )  # fmt: skip


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_same_elements(sent: Dataset, expected: Dataset) -> None:
    assert sorted(sent.keys()) == sorted(expected.keys())
    for elem in expected:
        tag = elem.tag
        if tag == PIXEL_DATA:
            continue
        if elem.VR == "SQ":
            assert len(sent[tag].value) == len(expected[tag].value), tag
            for ours, theirs in zip(sent[tag].value, expected[tag].value, strict=True):
                _assert_same_elements(ours, theirs)
        elif not elem.is_empty or not sent[tag].is_empty:  # None in memory, "" once sent
            assert sent[tag].value == elem.value, tag


def _assert_same(path: Path, target: CoercionTarget | None) -> EncodedInstance:
    before = _digest(path)
    fast = _fast(path, target)
    assert fast is not None
    slow_ds = load_for_store(
        path, target=target, modifying_system="PACS Media Import test", now=NOW,
        add_other_patient_ids=True,
    )  # fmt: skip
    # the very bytes the slow path sends in the file's encoding
    assert fast.data == _slow(path, target, fast.implicit_vr, fast.little_endian)
    # hence the same coerced header elements and the file's own pixel data bytes
    sent = read_dataset(BytesIO(fast.data), fast.implicit_vr, fast.little_endian)
    _assert_same_elements(sent, slow_ds)
    original = dcmread(path, force=True)
    if PIXEL_DATA in original:
        assert sent[PIXEL_DATA].value == original.PixelData
    assert fast.transfer_syntax_uid == str(slow_ds.file_meta.TransferSyntaxUID)
    assert fast.sop_instance_uid == str(slow_ds.SOPInstanceUID)
    assert fast.sop_class_uid == str(slow_ds.SOPClassUID)
    assert _digest(path) == before  # the original is never modified
    return fast


@pytest.mark.parametrize("name", [n for n in TEST_FILES if n != "image_dfl.dcm"])
@pytest.mark.parametrize("target", [TARGET, None], ids=["coerced", "temporary-zone"])
def test_the_fast_path_sends_what_the_slow_path_sends(
    name: str, target: CoercionTarget | None
) -> None:
    fast = _assert_same(_testdata(name), target)
    original = dcmread(_testdata(name), stop_before_pixels=True)
    assert (fast.implicit_vr, fast.little_endian) == original.original_encoding
    if target is not None:
        sent = read_dataset(BytesIO(fast.data), fast.implicit_vr, fast.little_endian)
        assert sent.PatientID == "HOSP-0042"
        assert "OriginalAttributesSequence" in sent


@pytest.mark.parametrize("name", [n for n in TEST_FILES if n != "image_dfl.dcm"])
def test_pixel_data_left_on_disk_gives_the_same_bytes(name: str) -> None:
    """Over ``in_memory_bytes`` the file's part is not read when prepared (``rest``): read
    block by block, it gives exactly the bytes read at once."""
    path = _testdata(name)
    how = {"target": TARGET, "modifying_system": "PACS Media Import test", "now": NOW}
    whole = encode_for_store(path, add_other_patient_ids=True, **how)  # type: ignore[arg-type]
    left = encode_for_store(path, add_other_patient_ids=True, in_memory_bytes=0, **how)  # type: ignore[arg-type]
    assert whole is not None
    assert left is not None
    assert whole.rest is None
    if left.rest is None:  # nothing after the header: nothing to leave
        assert left == whole
        return
    assert left.rest.path == path
    assert len(left.data) + left.rest.length == len(whole.data) == left.size
    for block in (1, 1000, 4096, len(whole.data)):
        assert b"".join(left.blocks(block)) == whole.data
    assert list(whole.blocks(1000)) == list(left.blocks(1000))


def test_a_deflated_file_goes_the_slow_way() -> None:
    # the whole data set is compressed in the file: nothing to splice
    assert _fast(_testdata("image_dfl.dcm"), TARGET) is None


def test_a_character_set_the_coercion_changes_goes_the_slow_way() -> None:
    # ISO_IR 100 cannot hold the Cyrillic name: the coerced header is written in UTF-8 and
    # pydicom then re-encodes every element, the pixel data included
    path = _testdata("CT_small.dcm")
    assert _fast(path, NON_LATIN) is None
    assert _fast(path, TARGET) is not None


def _ct(
    tmp_path: Path,
    name: str,
    *,
    implicit: bool = False,
    little: bool = True,
    meta: bool = True,
    pixels: bytes = b"\x01\x02" * 64,
    after: list[tuple[int, str, bytes]] | None = None,
) -> Path:
    """A small CT with the given encoding, optional file meta and elements after the pixels."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientName = "MÜLLER^JOSÉ"
    ds.PatientID = "MEDIA-1"
    ds.AccessionNumber = "A1"
    ds.InstitutionName = "Clinique du Parc"
    ds.Modality = "CT"
    ds.Rows, ds.Columns = 8, 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelRepresentation = 0
    ds.add_new(PIXEL_DATA, "OW", pixels)
    for tag, vr, value in after or []:
        ds.add_new(tag, vr, value)
    if meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian
            if implicit
            else ExplicitVRLittleEndian
            if little
            else ExplicitVRBigEndian
        )
    path = tmp_path / name
    ds.save_as(path, implicit_vr=implicit, little_endian=little, enforce_file_format=meta)
    return path


@pytest.mark.parametrize(
    ("implicit", "little", "meta"),
    [
        (False, True, True),
        (True, True, True),
        (False, False, True),
        (True, True, False),  # no preamble nor file meta: read as implicit VR
        (False, True, False),  # no file meta, explicit VR: pydicom guesses the encoding
    ],
    ids=["explicit", "implicit", "big-endian", "no-meta-implicit", "no-meta-explicit"],
)
def test_generated_files_in_every_encoding(
    tmp_path: Path, implicit: bool, little: bool, meta: bool
) -> None:
    path = _ct(tmp_path, "ct.dcm", implicit=implicit, little=little, meta=meta)
    fast = _assert_same(path, TARGET)
    assert (fast.implicit_vr, fast.little_endian) == (implicit, little)
    if not meta:
        # load_for_store writes Implicit VR Little Endian in the file meta it makes up
        assert fast.transfer_syntax_uid == str(ImplicitVRLittleEndian)


def test_trailing_padding_after_the_pixels_is_sent_as_it_is(tmp_path: Path) -> None:
    path = _ct(tmp_path, "padded.dcm", after=[(0xFFFCFFFC, "OB", b"\x00" * 10)])
    _assert_same(path, TARGET)


@pytest.mark.parametrize(
    "case",
    ["private-after-pixels", "odd-pixel-length", "truncated", "garbage-after"],
)
def test_unusual_files_go_the_slow_way(tmp_path: Path, case: str) -> None:
    if case == "private-after-pixels":
        path = _ct(
            tmp_path, "p.dcm", after=[(0x7FE10010, "LO", b"ACME"), (0x7FE11001, "LO", b"X ")]
        )
    elif case == "odd-pixel-length":  # pydicom pads odd values when it writes them
        path = _ct(tmp_path, "o.dcm", pixels=b"\x01" * 128)
        header = b"\xe0\x7f\x10\x00OW\x00\x00" + struct.pack("<L", 128)
        data = path.read_bytes()
        assert data.endswith(header + b"\x01" * 128)
        path.write_bytes(
            data[: -len(header) - 128] + header[:-4] + struct.pack("<L", 127) + b"\x01" * 127
        )
    else:
        path = _ct(tmp_path, "t.dcm")
        data = path.read_bytes()
        path.write_bytes(data[:-3] if case == "truncated" else data + b"\x00\x01\x02")
    assert _fast(path, TARGET) is None


def test_encapsulated_pixel_data_is_checked_item_by_item(tmp_path: Path) -> None:
    ds = dcmread(_testdata("MR_small_RLE.dcm"))
    assert ds.file_meta.TransferSyntaxUID == RLELossless
    good = tmp_path / "rle.dcm"
    ds.save_as(good)
    _assert_same(good, TARGET)
    # a delimiter with a non-zero length: pydicom reads it, but would write a zero one
    data = good.read_bytes()
    delimiter = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    at = data.rfind(delimiter)  # followed by the file's Data Set Trailing Padding
    assert at > 0
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(data[:at] + struct.pack("<HHL", 0xFFFE, 0xE0DD, 4) + data[at + 8 :])
    assert _fast(bad, TARGET) is None


def test_an_unreadable_file_raises_for_the_slow_path_to_report(tmp_path: Path) -> None:
    path = tmp_path / "missing.dcm"
    with pytest.raises(OSError):
        _fast(path, TARGET)


# -- the spliced header ---------------------------------------------------------------------

HOW = prepare._How(TARGET, "PACS Media Import test", NOW, add_other_patient_ids=True)


def _every_pydicom_file() -> list[Path]:
    here = _testdata("CT_small.dcm").parent  # pydicom's own files (none downloaded)
    files = [*here.glob("*.dcm"), *map(Path, get_charset_files("*.dcm"))]
    return sorted(set(files), key=lambda p: p.name)


def _elements(instance: EncodedInstance) -> dict[int, bytes]:
    """The top-level elements of a sent header, as bytes, by tag."""
    view = BytesIO(instance.data)
    found = {}
    for header in raw.elements(view, implicit=instance.implicit_vr, little=instance.little_endian):
        if header.tag in raw.PIXEL_TAGS:
            break
        end = raw.element_end(
            view, header, implicit=instance.implicit_vr, little=instance.little_endian
        )
        found[header.tag] = instance.data[header.offset : end]
    return found


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("target", [TARGET, None], ids=["coerced", "temporary-zone"])
def test_a_spliced_header_holds_what_the_whole_header_read_gives(
    target: CoercionTarget | None,
) -> None:
    """Over every pydicom test file: where the header is spliced, the data set sent holds the
    very values pydicom's whole read gives, and the same bytes but for text that pydicom writes
    anew (an ISO 2022 escape back to ASCII, spaces-only values emptied); the files' other
    elements are sent byte for byte as they are in the file."""
    how = replace(HOW, target=target)
    spliced_count = 0
    for path in _every_pydicom_file():
        try:
            read = prepare._encode_read(path, None, how, prepare.IN_MEMORY_BYTES)
        except Exception:  # the slow path reports such files
            read = None
        spliced = prepare._spliced(path, None, how, prepare.IN_MEMORY_BYTES)
        if spliced is None:
            continue
        spliced_count += 1
        assert read is not None, path.name  # never spliced where the header read declines
        assert (spliced.implicit_vr, spliced.little_endian) == (
            read.implicit_vr,
            read.little_endian,
        )
        assert (spliced.sop_class_uid, spliced.sop_instance_uid, spliced.transfer_syntax_uid) == (
            read.sop_class_uid,
            read.sop_instance_uid,
            read.transfer_syntax_uid,
        )
        ours = read_dataset(BytesIO(spliced.data), spliced.implicit_vr, spliced.little_endian)
        theirs = read_dataset(BytesIO(read.data), read.implicit_vr, read.little_endian)
        _assert_same_elements(ours, theirs)
        sent, written = _elements(spliced), _elements(read)
        header = sum(len(piece) for piece in sent.values())
        tail = spliced.data[header:]
        # the pixel data and what follows: the same bytes
        assert tail == read.data[sum(len(piece) for piece in written.values()) :]
        for tag, piece in sent.items():
            if piece != written[tag]:
                assert ours[tag].VR in TEXT_VRS, (path.name, hex(tag))
                assert ours[tag].value == theirs[tag].value, (path.name, hex(tag))
        original = path.read_bytes()
        in_file = original[: len(original) - len(tail)] if tail else original
        for tag, piece in sent.items():
            if target is None or tag not in COERCION_TAGS:
                assert piece in in_file, (path.name, hex(tag))
    assert spliced_count > 60  # most of them are spliced


def test_typical_files_are_spliced_and_the_coerced_attributes_encoded_once_per_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_read(*args: object) -> None:
        raise AssertionError("the header was read whole")

    monkeypatch.setattr(prepare, "_encode_read", no_read)
    prepare.forget()
    first = _ct(tmp_path, "1.dcm")
    study = dcmread(first).StudyInstanceUID
    paths = [first]
    for n in range(2, 5):
        ds = dcmread(first)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(tmp_path / f"{n}.dcm")
        paths.append(tmp_path / f"{n}.dcm")
    sent = [_fast(path, TARGET) for path in paths]
    info = prepare._remembered.cache_info()
    assert (info.misses, info.hits) == (1, 3)
    for path, instance in zip(paths, sent, strict=True):
        assert instance is not None
        sent_ds = read_dataset(BytesIO(instance.data), False, True)
        assert (sent_ds.PatientName, sent_ds.PatientID, sent_ds.AccessionNumber) == (
            "ROSSI^MARIO",
            "HOSP-0042",
            "ACC-1",
        )
        assert sent_ds.StudyInstanceUID == study
        assert sent_ds.SOPInstanceUID == dcmread(path).SOPInstanceUID  # each its own
        original = sent_ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
        assert original.PatientName == "MÜLLER^JOSÉ"


def test_two_patients_on_one_medium_each_keep_their_own_original_values(tmp_path: Path) -> None:
    """The coerced attributes are reused only for the same values: a second patient's
    instance gets its own Original Attributes and Other Patient IDs, never the first's."""
    first = _ct(tmp_path, "a.dcm")
    ds = dcmread(first)
    ds.PatientName, ds.PatientID = "DUPONT^JEAN", "MEDIA-2"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    second = tmp_path / "b.dcm"
    ds.save_as(second)
    for path, name, media_id in (
        (first, "MÜLLER^JOSÉ", "MEDIA-1"),
        (second, "DUPONT^JEAN", "MEDIA-2"),
    ):
        instance = _assert_same(path, TARGET)
        sent = read_dataset(BytesIO(instance.data), False, True)
        assert sent.PatientID == "HOSP-0042"
        modified = sent.OriginalAttributesSequence[-1].ModifiedAttributesSequence[0]
        assert (modified.PatientName, modified.PatientID) == (name, media_id)
        assert [item.PatientID for item in sent.OtherPatientIDsSequence] == [media_id]


def _with_description(tmp_path: Path, name: str, charset: str | None, value: bytes) -> Path:
    """A CT whose Study Description (an element the coercion leaves as it is) is ``value``."""
    path = _ct(tmp_path, name)
    ds = dcmread(path)
    if charset is None:
        del ds.SpecificCharacterSet
        ds.PatientName = "MULLER^JOSE"
    else:
        ds.SpecificCharacterSet = charset
    ds.add_new(0x00081030, "LO", b"")
    ds.save_as(path)
    data = path.read_bytes()
    empty = struct.pack("<HH", 0x0008, 0x1030) + b"LO" + struct.pack("<H", 0)
    assert data.count(empty) == 1
    path.write_bytes(data.replace(empty, empty[:-2] + struct.pack("<H", len(value)) + value))
    return path


def test_text_the_character_set_holds_is_spliced_and_text_it_does_not_is_not(
    tmp_path: Path,
) -> None:
    latin = _with_description(
        tmp_path, "latin.dcm", "ISO_IR 100", "Thorax sans injection é".encode("latin-1") + b" "
    )
    assert prepare._spliced(latin, None, HOW, prepare.IN_MEMORY_BYTES) is not None
    _assert_same(latin, TARGET)
    # no character set declared, yet a byte over 0x7F: the coercion writes UTF-8, pydicom
    # then re-encodes every element: neither way sends the file's bytes
    undeclared = _with_description(tmp_path, "undeclared.dcm", None, "Thorax é".encode("latin-1"))
    assert prepare._spliced(undeclared, None, HOW, prepare.IN_MEMORY_BYTES) is None
    assert _fast(undeclared, TARGET) is None


def test_an_unknown_attribute_written_as_un_goes_the_whole_read_way() -> None:
    # rtdose_rle.dcm writes known attributes (SOP Class UID...) with VR UN: pydicom sends them
    # with their known VR, so its read decides
    path = _testdata("rtdose_rle.dcm")
    assert prepare._spliced(path, None, HOW, prepare.IN_MEMORY_BYTES) is None
    assert _fast(path, TARGET) is not None


def _short(tag: int, vr: bytes, value: bytes) -> bytes:
    """An explicit VR little endian element with a 2-byte length."""
    return struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr + struct.pack("<H", len(value)) + value


def _long(tag: int, vr: bytes, value: bytes) -> bytes:
    return (
        struct.pack("<HH", tag >> 16, tag & 0xFFFF)
        + vr
        + b"\0\0"
        + struct.pack("<L", len(value))
        + value
    )


def _replaced(path: Path, old: bytes, new: bytes) -> Path:
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))
    return path


def _hidden_in_an_undefined_text(tmp_path: Path) -> Path:
    """A UT of undefined length whose bytes, walked as items, hide a patient: pydicom reads
    the value up to the first sequence delimiter, and then sees the hidden elements."""
    path = _ct(tmp_path, "ut.dcm", after=[])
    ds = dcmread(path)
    ds.add_new(0x04090010, "LO", "X")
    ds.add_new(0x04091001, "UT", "PLACEHOLDER!")
    ds.save_as(path)
    delimiter = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
    item_end = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
    hidden = _short(0x00100010, b"PN", b"EVIL^NAME ") + _short(0x00100020, b"LO", b"EVIL-ID ")
    swallow = _long(0x040910FF, b"OB", b"")[:-4] + struct.pack("<L", 16)  # item end + delimiter
    value = delimiter + hidden + swallow
    item = struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF) + _long(0x04091000, b"OB", value)
    new = struct.pack("<HH", 0x0409, 0x1001) + b"UT\0\0" + struct.pack("<L", 0xFFFFFFFF)
    return _replaced(
        path,
        _long(0x04091001, b"UT", b"PLACEHOLDER!"),
        new + item + item_end + delimiter,
    )


def _lower_case_group_length(tmp_path: Path) -> Path:
    """A group length written with VR 'ul': raw headers read it as a short explicit element,
    pydicom as an implicit one whose value hides the next 0x6C75 bytes."""
    path = _ct(tmp_path, "gl.dcm")
    ds = dcmread(path)
    ds.add_new(0x00090010, "LO", "X")
    ds.save_as(path)
    creator = _short(0x00090010, b"LO", b"X ")
    return _replaced(path, creator, struct.pack("<HH", 0x0009, 0x0000) + b"ul\0\0" + creator)


def _odd_text(tmp_path: Path) -> Path:
    path = _ct(tmp_path, "odd.dcm")
    ds = dcmread(path)
    ds.StudyDescription = "PLACEHOLD!"
    ds.save_as(path)
    return _replaced(
        path, _short(0x00081030, b"LO", b"PLACEHOLD!"), _short(0x00081030, b"LO", b"ABCDE")
    )


def _implicit(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


def _after_the_meta(path: Path, element: bytes) -> Path:
    """``element`` inserted as the data set's first element."""
    data = path.read_bytes()
    position = 132
    while struct.unpack_from("<H", data, position)[0] == 0x0002:
        header = raw.parse_header(data, position, implicit=False, little=True)
        position = header.end
    path.write_bytes(data[:position] + element + data[position:])
    return path


def _implicit_read_as_explicit(tmp_path: Path) -> Path:
    """An implicit VR file whose first element's length reads as two capital letters: pydicom
    then reads the whole data set in explicit VR, and sees the patient hidden in that value."""
    path = _ct(tmp_path, "implicit.dcm", implicit=True)
    hidden = (
        _short(0x00100010, b"PN", b"EVIL^PATIENT")
        + _short(0x00100020, b"LO", b"EVIL-ID ")
        + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
    )
    return _after_the_meta(path, _implicit(0x00080001, hidden + b"\0" * (0x4142 - len(hidden))))


def _private_value_read_as_a_sequence(tmp_path: Path) -> Path:
    """An implicit VR private value that starts with an item of undefined length: a reader whose
    private dictionary calls it a sequence (dcmtk's does for this creator) reads that item on
    past the value, over the coerced elements, up to a delimiter hiding another patient."""
    path = _ct(tmp_path, "private.dcm", implicit=True)
    ds = dcmread(path)
    ds.add_new(0x00090010, "LO", "CARDIO-D.R. 1.0")
    ds.add_new(0x00091040, "OB", struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF))
    ds.save_as(path, implicit_vr=True, enforce_file_format=True)
    return path


def _private_value_starting_with_a_delimiter(tmp_path: Path) -> Path:
    """An implicit VR private value (a sequence in dcmtk's private dictionary for its creator)
    that starts with a sequence delimiter: dcmtk ends the sequence there and reads the rest as
    top-level elements, the medium's patient first (it keeps the first of two copies)."""
    path = _ct(tmp_path, "delimited.dcm", implicit=True)
    ds = dcmread(path)
    hidden = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0) + _implicit(0x00100020, b"MEDIA-1 ")
    ds.add_new(0x00090010, "LO", "DCMTK_ANONYMIZER")
    ds.add_new(0x00091000, "UN", hidden)
    ds.save_as(path, implicit_vr=True, enforce_file_format=True)
    return path


def _a_delimiter_at_the_top(tmp_path: Path) -> Path:
    path = _ct(tmp_path, "delimiter.dcm", implicit=True)
    ds = dcmread(path)
    del ds.PixelData
    ds.save_as(path, implicit_vr=True, enforce_file_format=True)
    hidden = _implicit(0x00100010, b"EVIL^PATIENT")
    path.write_bytes(path.read_bytes() + _implicit(0xFFFEE00D, hidden))
    return path


@pytest.mark.parametrize(
    "crafted",
    [
        _hidden_in_an_undefined_text,
        _lower_case_group_length,
        _odd_text,
        _implicit_read_as_explicit,
        _private_value_read_as_a_sequence,
        _private_value_starting_with_a_delimiter,
        _a_delimiter_at_the_top,
    ],
    ids=[
        "undefined-length-text",
        "lower-case-vr",
        "odd-length",
        "implicit-read-as-explicit",
        "private-value-read-as-a-sequence",
        "private-value-starting-with-a-delimiter",
        "delimiter-at-the-top",
    ],
)
def test_headers_two_readers_could_read_apart_are_read_by_pydicom(
    tmp_path: Path, crafted: Callable[[Path], Path]
) -> None:
    """Bytes sent as they are must read the same for pydicom, the PACS and our walk: a header
    where they could part (a value of undefined length that is no sequence, a VR that is not
    one, an odd length) is not spliced, and the whole read files the order's patient; a
    private value that starts like a sequence without being one is not sent at all, by any
    path (dcmtk would read past it)."""
    path = crafted(tmp_path)
    assert prepare._spliced(path, None, HOW, prepare.IN_MEMORY_BYTES) is None
    if crafted in (_private_value_read_as_a_sequence, _private_value_starting_with_a_delimiter):
        # coerced to an order, or kept with the medium's identity (the temporary zone)
        for target in (TARGET, None):
            with pytest.raises(AmbiguousValue):
                _fast(path, target)
            with pytest.raises(AmbiguousValue):
                load_for_store(
                    path, target=target, modifying_system="test", now=NOW,
                    add_other_patient_ids=True,
                )  # fmt: skip
        return
    fast = _fast(path, TARGET)
    if fast is not None:
        sent = read_dataset(BytesIO(fast.data), fast.implicit_vr, fast.little_endian)
        assert (sent.PatientName, sent.PatientID) == ("ROSSI^MARIO", "HOSP-0042")


def test_a_well_formed_private_sequence_of_defined_length_is_sent(tmp_path: Path) -> None:
    """A private sequence written in implicit VR with a defined length (some devices do) is a
    well-formed list of items: sent, by the whole read, with the order's patient."""
    path = _ct(tmp_path, "private-sq.dcm", implicit=True)
    ds = dcmread(path)
    body = _implicit(0x00091001, b"VALUE ")
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    ds.add_new(0x00091040, "OB", struct.pack("<HHL", 0xFFFE, 0xE000, len(body)) + body)
    ds.save_as(path, implicit_vr=True, enforce_file_format=True)
    fast = _fast(path, TARGET)
    assert fast is not None
    sent = read_dataset(BytesIO(fast.data), True, True)
    assert (sent.PatientName, sent.PatientID) == ("ROSSI^MARIO", "HOSP-0042")


def test_the_same_instant_in_another_time_zone_is_written_as_its_own(tmp_path: Path) -> None:
    path = _ct(tmp_path, "tz.dcm")
    prepare.forget()
    stamps = []
    for now in (NOW, NOW.astimezone(timezone(timedelta(hours=1)))):
        instance = prepare._spliced(path, None, replace(HOW, now=now), prepare.IN_MEMORY_BYTES)
        assert instance is not None
        stamps.append(read_dataset(BytesIO(instance.data), False, True).InstanceCoercionDateTime)
    assert stamps == ["20261123120000.000000+0000", "20261123130000.000000+0100"]


def test_the_coercion_reads_and_writes_only_the_attributes_it_declares() -> None:
    """Every attribute keyword the coercion's code names on the data set it coerces is one of
    COERCION_KEYWORDS (the spliced header replaces exactly those)."""
    source = "\n".join(
        inspect.getsource(function)
        for function in (coerce._coerce, coerce._request_attributes, coerce._other_patient_ids)
    )
    named = set(re.findall(r'"([A-Z][A-Za-z]+)"', source))
    named |= set(re.findall(r"\bout\.([A-Z][A-Za-z]+)", source))
    named |= set(re.findall(r"\bds\.([A-Z][A-Za-z]+)", source))
    keywords = {k for k in named if tag_for_keyword(k) is not None}
    # the keywords of new items (the Other Patient IDs entry, the request item) are inside
    # sequences of the list, not top-level attributes
    inside_items = {
        "TypeOfPatientID", "RequestedProcedureID", "ScheduledProcedureStepID",
        "RequestedProcedureDescription", "CodeValue", "LongCodeValue", "CodingSchemeDesignator",
        "CodeMeaning", "ModifiedAttributesSequence", "AttributeModificationDateTime",
        "ModifyingSystem", "SourceOfPreviousValues", "ReasonForTheAttributeModification",
        "RequestedProcedureCodeSequence",
    }  # fmt: skip
    assert keywords - inside_items <= set(coerce.COERCION_KEYWORDS)
    assert {"PatientName", "OriginalAttributesSequence", "StudyInstanceUID"} <= keywords


def test_a_large_file_whose_header_passes_the_first_megabyte_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _ct(tmp_path, "big.dcm", pixels=b"\x01\x02" * 4096)
    monkeypatch.setattr(prepare, "HEAD_BYTES", 200)  # the header is longer than this
    assert prepare._spliced(path, None, HOW, 0) is None
    fast = encode_for_store(
        path, target=TARGET, modifying_system="PACS Media Import test", now=NOW,
        add_other_patient_ids=True, in_memory_bytes=0,
    )  # fmt: skip
    assert fast is not None  # read whole by pydicom, its pixel data left on disk
    assert fast.rest is not None


# -- which path the DIMSE adapter takes ----------------------------------------------------

CT = str(CTImageStorage)
EXPLICIT = str(ExplicitVRLittleEndian)
IMPLICIT = str(ImplicitVRLittleEndian)
BIG = str(ExplicitVRBigEndian)


def _item(instance: EncodedInstance | None) -> StoreItem:
    def load() -> Dataset:
        raise AssertionError("not called here")

    return StoreItem(
        key="k",
        sop_class_uid=CT,
        sop_instance_uid="1.2.3",
        transfer_syntax_uid=instance.transfer_syntax_uid if instance else EXPLICIT,
        load=load,
        encoded=lambda: instance,
    )


def _instance(syntax: str, implicit: bool, little: bool) -> EncodedInstance:
    return EncodedInstance(CT, "1.2.3", syntax, implicit, little, b"")


@pytest.mark.parametrize(
    ("instance", "accepted", "sent_in"),
    [
        (_instance(EXPLICIT, False, True), [(CT, EXPLICIT)], EXPLICIT),
        (_instance(IMPLICIT, True, True), [(CT, IMPLICIT)], IMPLICIT),
        # the PACS took only the fallback context: re-encoded by the slow path
        (_instance(IMPLICIT, True, True), [(CT, EXPLICIT)], None),
        (_instance(EXPLICIT, False, True), [(CT, IMPLICIT)], None),
        # big endian refused: converted by the slow path; accepted: sent as it is
        (_instance(BIG, False, False), [(CT, EXPLICIT), (CT, IMPLICIT)], None),
        (_instance(BIG, False, False), [(CT, BIG)], BIG),
        # compressed, accepted as it is / refused (decompressed by the slow path)
        (_instance("1.2.840.10008.1.2.5", False, True), [(CT, "1.2.840.10008.1.2.5")], "rle"),
        (_instance("1.2.840.10008.1.2.5", False, True), [(CT, EXPLICIT)], None),
        # meta says implicit, the file is explicit VR (no file meta): re-encoded
        (_instance(IMPLICIT, False, True), [(CT, IMPLICIT)], None),
    ],
)
def test_the_adapter_sends_as_it_is_only_in_the_files_encoding(
    instance: EncodedInstance, accepted: list[tuple[str, str]], sent_in: str | None
) -> None:
    chosen = StoreEngine._encoded_as_is(accepted, _item(instance))
    if sent_in is None:
        assert chosen is None
    else:
        assert chosen is not None
        assert chosen[0] is instance
        assert chosen[1] == (instance.transfer_syntax_uid if sent_in == "rle" else sent_in)


def test_the_adapter_falls_back_when_encoding_fails() -> None:
    def broken() -> EncodedInstance | None:
        raise ValueError("boom")

    item = StoreItem("k", CT, "1.2.3", EXPLICIT, load=lambda: Dataset(), encoded=broken)
    assert StoreEngine._encoded_as_is([(CT, EXPLICIT)], item) is None
    assert StoreEngine._encoded_as_is([(CT, EXPLICIT)], _item(None)) is None


# -- coerce_in_place (the loaders' coercion, without the copy) -------------------------------


def _saved(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer)
    return buffer.getvalue()


CHARSET_FILES = sorted(Path(p).name for p in get_charset_files("chr*.dcm"))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        *((_testdata(n), TARGET.patient_name) for n in ["CT_small.dcm", "MR_small_RLE.dcm"]),
        *((Path(get_charset_files(n)[0]), NON_LATIN.patient_name) for n in CHARSET_FILES),
        *((Path(get_charset_files(n)[0]), TARGET.patient_name) for n in CHARSET_FILES),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else "",
)
def test_coerce_in_place_gives_what_coerce_dataset_gives(path: Path, name: str) -> None:
    target = replace(TARGET, patient_name=name)
    copied = coerce_dataset(dcmread(path), target, modifying_system="x", now=NOW)
    in_place = dcmread(path)
    result = coerce_in_place(in_place, target, modifying_system="x", now=NOW)
    assert result is in_place
    assert _saved(result) == _saved(copied)


def test_coerce_in_place_refuses_a_bad_target_every_time() -> None:
    bad = replace(TARGET, patient_id="")
    for _ in range(2):  # valid targets are remembered, invalid ones never
        with pytest.raises(InvalidInput, match="patient id is empty"):
            coerce_in_place(dcmread(_testdata("CT_small.dcm")), bad, modifying_system="x", now=NOW)
