"""The verify stage refuses damaged files and two objects sharing one UID, and reads again
every file that is no longer the one the analysis read."""

from __future__ import annotations

import os
import shutil
import struct
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from pydicom import dcmread, dcmwrite
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from importer.media.archive import UnpackedFile
from importer.media.scan import ScannedInstance, scan_file
from importer.pipeline import verify as verify_module
from importer.pipeline.verify import InstanceToVerify, verify_instances


def expected_pixel_bytes(rows: int, columns: int, frames: int, samples: int, bits: int) -> int:
    return (rows * columns * frames * samples * bits + 7) // 8


def sample(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert path is not None
    return Path(str(path))


def item(path: Path, display: str | None = None) -> InstanceToVerify:
    ds = dcmread(path, force=True, stop_before_pixels=True)
    return InstanceToVerify(
        path=path,
        display_path=display or path.name,
        sop_instance_uid=str(ds.SOPInstanceUID),
        study_instance_uid=str(ds.StudyInstanceUID),
    )


def to_verify(found: ScannedInstance, path: Path) -> InstanceToVerify:
    """What the verify stage is given of an instance the analysis found."""
    return InstanceToVerify(
        path=path,
        display_path=found.display_path,
        sop_instance_uid=found.sop_instance_uid,
        study_instance_uid=found.study.study_instance_uid,
        stamp=found.stamp,
        read_again=found.read_again,
    )


def analysed(path: Path, display: str | None = None) -> InstanceToVerify:
    """The file as the analysis records it: its UIDs and its stamp."""
    found = scan_file(UnpackedFile(display or path.name, path, path.stat().st_size))
    assert isinstance(found, ScannedInstance), found
    assert not found.read_again
    return to_verify(found, path)


def test_a_file_unchanged_since_the_analysis_is_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.dcm"
    shutil.copy(sample("CT_small.dcm"), path)
    seen = analysed(path)

    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("read again")

    monkeypatch.setattr(verify_module, "dcmread", no_read)
    assert verify_instances([seen]).problems == []


@pytest.mark.parametrize("restore_mtime", [False, True])
def test_a_file_changed_after_the_analysis_is_refused_even_at_its_size(
    tmp_path: Path, restore_mtime: bool
) -> None:
    """Its patient's name rewritten in place, its UIDs kept (the same size), even with its
    modification time set back: not what the user saw compared, refused."""
    path = tmp_path / "x.dcm"
    shutil.copy(sample("CT_small.dcm"), path)
    seen = analysed(path, "DICOM/IM1")
    before = os.stat(path)
    time.sleep(0.02)  # past a coarse clock's tick
    data = path.read_bytes()
    name = str(dcmread(path).PatientName).encode()
    path.write_bytes(data.replace(name, b"X" * len(name)))
    if restore_mtime:
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size
    assert dcmread(path).SOPInstanceUID == seen.sop_instance_uid
    problems = verify_instances([seen]).problems
    assert [(p.display_path, p.message) for p in problems] == [
        ("DICOM/IM1", "it changed on the server's storage after the analysis")
    ]


def test_a_file_with_elements_after_its_pixel_data_is_read_again(tmp_path: Path) -> None:
    """The analysis stops before the pixel data: what follows it (here a sequence whose item
    runs past the end of the file) is checked by the verify stage's full read."""
    path = tmp_path / "x.dcm"
    ds = dcmread(sample("CT_small.dcm"))
    del ds[0xFFFCFFFC]
    ds.save_as(path, enforce_file_format=True)
    with path.open("ab") as fp:  # (7FE1,0010) SQ of undefined length: an item of 100 bytes, 2 there
        fp.write(
            b"\xe1\x7f\x10\x00SQ\x00\x00\xff\xff\xff\xff"
            + b"\xfe\xff\x00\xe0"
            + (100).to_bytes(4, "little")
            + b"xx"
        )
    found = scan_file(UnpackedFile("DICOM/IM1", path, path.stat().st_size))
    assert isinstance(found, ScannedInstance), found
    assert found.read_again
    seen = to_verify(found, path)
    assert [p.message for p in verify_instances([seen]).problems] == ["it cannot be read as DICOM"]


def test_a_file_gone_since_the_analysis_is_an_os_error(tmp_path: Path) -> None:
    """The stage reports it as the spool being unreadable (retryable), not as verified."""
    path = tmp_path / "x.dcm"
    shutil.copy(sample("CT_small.dcm"), path)
    seen = analysed(path)
    path.unlink()
    with pytest.raises(OSError):
        verify_instances([seen])


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "SC_ybr_full_422_uncompressed.dcm", "ExplVR_BigEnd.dcm"]
)
def test_native_pixel_data_of_the_announced_size_passes_when_read_again(name: str) -> None:
    """Read again with pydicom's rule for the expected length (YBR_FULL_422 is subsampled)."""
    assert verify_instances([item(sample(name))]).problems == []


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm"])
def test_good_files_pass(name: str) -> None:
    assert verify_instances([item(sample(name))]).problems == []


def test_truncated_pixel_data_is_refused(tmp_path: Path) -> None:
    good = sample("CT_small.dcm")
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(good.read_bytes()[:-1000])
    problems = verify_instances([item(cut, "DICOM/IM1")]).problems
    assert len(problems) == 1
    assert problems[0].display_path == "DICOM/IM1"
    assert "truncated" in problems[0].message or "cannot be read" in problems[0].message


@pytest.mark.parametrize("stamped", [False, True], ids=["read-again", "unchanged"])
def test_same_uid_different_content_is_refused(tmp_path: Path, stamped: bool) -> None:
    """Whether the files are read again or trusted by their stamp, they are compared."""
    first = tmp_path / "a.dcm"
    shutil.copy(sample("CT_small.dcm"), first)
    ds = dcmread(first)
    ds.SeriesDescription = "changed"
    second = tmp_path / "b.dcm"
    ds.save_as(second)
    as_verified = analysed if stamped else item
    problems = verify_instances([as_verified(first, "A"), as_verified(second, "B")]).problems
    assert [p.display_path for p in problems] == ["B"]
    assert "shares its SOP Instance UID with A" in problems[0].message


def test_same_uid_same_content_is_fine(tmp_path: Path) -> None:
    copy = tmp_path / "copy.dcm"
    shutil.copy(sample("CT_small.dcm"), copy)
    assert verify_instances([item(sample("CT_small.dcm")), item(copy)]).problems == []


def test_changed_uids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.dcm"
    shutil.copy(sample("CT_small.dcm"), path)
    stale = item(path)
    ds = dcmread(path)
    ds.SOPInstanceUID = "1.2.3.4"
    ds.save_as(path)
    assert "UIDs changed" in verify_instances([stale]).problems[0].message


FRAME = (4096, 4096)  # 16-bit: 32 MiB a frame
FRAMES = 8  # 256 MiB of pixel data


def large_object(path: Path, *, pixel_bytes_written: int | None = None) -> Path:
    """CT_small's header over 256 MiB of native pixel data, written sparsely (quick, no RAM);
    ``pixel_bytes_written`` cuts the file short inside its pixel data."""
    ds = dcmread(sample("CT_small.dcm"))
    del ds.PixelData
    ds.Rows, ds.Columns = FRAME
    ds.NumberOfFrames = FRAMES
    ds.save_as(path, enforce_file_format=True)
    length = expected_pixel_bytes(*FRAME, FRAMES, 1, 16)
    with path.open("r+b") as fp:
        fp.seek(0, 2)
        fp.write(b"\xe0\x7f\x10\x00OW\x00\x00" + length.to_bytes(4, "little"))
        fp.truncate(fp.tell() + (length if pixel_bytes_written is None else pixel_bytes_written))
    return path


def test_a_large_object_is_verified_without_holding_it(tmp_path: Path) -> None:
    big = large_object(tmp_path / "big.dcm")
    header = big.stat().st_size - expected_pixel_bytes(*FRAME, FRAMES, 1, 16)
    tracemalloc.start()
    try:
        problems = verify_instances([item(big)]).problems
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems == []
    assert peak < header + 4 * 1024 * 1024, f"{peak} bytes held to verify a 256 MiB object"


def test_a_large_object_cut_short_is_refused(tmp_path: Path) -> None:
    big = large_object(tmp_path / "big.dcm", pixel_bytes_written=1000)
    problems = verify_instances([item(big, "DICOM/IM1")]).problems
    assert [p.message for p in problems] == [
        f"its pixel data is truncated (1000 of {expected_pixel_bytes(*FRAME, FRAMES, 1, 16)} bytes)"
    ]


def test_large_objects_sharing_a_uid_are_told_apart(tmp_path: Path) -> None:
    first = large_object(tmp_path / "a.dcm")
    second = large_object(tmp_path / "b.dcm")
    with second.open("r+b") as fp:  # one pixel changed, near the end
        fp.seek(-2, 2)
        fp.write(b"\x01\x00")
    problems = verify_instances([item(first, "A"), item(second, "B")]).problems
    assert [p.display_path for p in problems] == ["B"]


# --- files crafted so that the analysis's walk and pydicom's full read disagree after the
# pixel data (found by the second review): never stamped, so verify reads them as pydicom
# does, finds the study hidden there, and refuses them.

SEEN, HIDDEN = "1.2.3.4.100", "1.2.3.4.999"
HIDDEN_AFTER_PIXELS = "it holds, after its pixel data, elements that change what the analysis read"


def _element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    if vr in (b"OB", b"UN", b"SQ", b"UT"):
        return (
            struct.pack("<HH", group, element)
            + vr
            + b"\0\0"
            + struct.pack("<I", len(value))
            + value
        )
    return struct.pack("<HH", group, element) + vr + struct.pack("<H", len(value)) + value


def _small_image(path: Path, *, implicit: bool = False, with_pixels: bool = True) -> bytes:
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = "1.2.3.4.5"
    ds.StudyInstanceUID = SEEN
    ds.SeriesInstanceUID = "1.2.3.4.6"
    ds.PatientName = "SEEN^PATIENT"
    ds.Rows = ds.Columns = 4
    ds.BitsAllocated = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    if with_pixels:
        ds.PixelData = b"\1" * 16
        ds["PixelData"].VR = "OB"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dcmwrite(path, ds, implicit_vr=implicit, little_endian=True, force_encoding=implicit)
    return path.read_bytes()


def _hidden_uid() -> bytes:
    return _element(0x0020, 0x000D, b"UI", HIDDEN.encode() + b"\0")


def _padding_not_a_vr() -> bytes:
    """Padding whose VR is 'B!': our walk reads a 4-byte length over the rest, pydicom a
    2-byte length of 0 and then the hidden elements."""
    hidden = _hidden_uid() + _element(0x0010, 0x0010, b"PN", b"HIDDEN^OTHER")
    hidden += _element(0xFFFC, 0xFFFC, b"OB", bytes(8514 - len(hidden) - 12))
    return struct.pack("<HH", 0xFFFC, 0xFFFC) + b"B!\0\0" + hidden


def _pixel_data_not_a_vr() -> bytes:
    """The pixel data element itself with the VR 'B!': pydicom reads 16 bytes of pixels, then
    the hidden study."""
    body = b"\1" * 16 + _hidden_uid()
    fill = 0x10 << 16 | 0x2142  # 'B!' and the length 16, read as one 4-byte length
    body += _element(0xFFFC, 0xFFFC, b"OB", bytes(fill - len(body) - 12))
    return struct.pack("<HH", 0x7FE0, 0x0010) + b"B!" + struct.pack("<H", 16) + body


def _implicit_padding_read_as_explicit() -> bytes:
    """A file meta saying explicit VR over an implicit data set: implicit padding whose length
    reads 'OB\\0\\0', which an explicit walk takes for a VR."""
    length = 0x424F
    hidden = struct.pack("<HHI", 0x0020, 0x000D, len(HIDDEN) + 1) + HIDDEN.encode() + b"\0"
    end = 8 + length + len(hidden)
    explicit_length = end - 12
    return (
        struct.pack("<HH", 0xFFFC, 0xFFFC)
        + b"OB\0\0"
        + struct.pack("<I", explicit_length)
        + bytes(length - 4)
        + hidden
    )


@pytest.mark.parametrize(
    "crafted", ["padding-not-a-vr", "pixel-data-not-a-vr", "implicit-read-as-explicit"]
)
def test_a_study_hidden_after_the_pixel_data_is_refused(tmp_path: Path, crafted: str) -> None:
    path = tmp_path / "x.dcm"
    if crafted == "padding-not-a-vr":
        path.write_bytes(_small_image(path) + _padding_not_a_vr())
    elif crafted == "pixel-data-not-a-vr":
        path.write_bytes(_small_image(path, with_pixels=False) + _pixel_data_not_a_vr())
    else:
        path.write_bytes(_small_image(path, implicit=True) + _implicit_padding_read_as_explicit())
    assert dcmread(path, force=True).StudyInstanceUID == HIDDEN  # what the PACS would file
    found = scan_file(UnpackedFile("DICOM/IM1", path, path.stat().st_size))
    assert isinstance(found, ScannedInstance), found
    assert found.study.study_instance_uid == SEEN  # what the user saw compared
    assert found.read_again
    seen = to_verify(found, path)
    assert [p.message for p in verify_instances([seen]).problems] == [HIDDEN_AFTER_PIXELS]


def test_a_patient_name_hidden_after_the_pixel_data_is_refused(tmp_path: Path) -> None:
    """A well-formed Patient's Name written again after the pixel data: pydicom's whole read,
    what the temporary zone sends as it is, names another patient than the one the user saw
    compared; its UIDs are unchanged. Refused."""
    path = tmp_path / "x.dcm"
    path.write_bytes(_small_image(path) + _element(0x0010, 0x0010, b"PN", b"HIDDEN^OTHER"))
    assert str(dcmread(path, force=True).PatientName) == "HIDDEN^OTHER"
    found = scan_file(UnpackedFile("DICOM/IM1", path, path.stat().st_size))
    assert isinstance(found, ScannedInstance), found
    assert found.patient.name == "SEEN^PATIENT"
    assert found.read_again
    assert [p.message for p in verify_instances([to_verify(found, path)]).problems] == [
        HIDDEN_AFTER_PIXELS
    ]


def test_no_test_file_of_pydicom_is_refused_by_the_whole_read() -> None:
    """The whole read's checks (elements after the pixel data among them) refuse no valid
    object of pydicom's test files that the analysis takes."""
    refused = []
    for path in sorted(sample("CT_small.dcm").parent.glob("*.dcm")):
        found = scan_file(UnpackedFile(path.name, path, path.stat().st_size))
        if isinstance(found, ScannedInstance):
            seen = replace(to_verify(found, path), stamp=None)
            refused += [(p.display_path, p.message) for p in verify_instances([seen]).problems]
    assert refused == []
