"""The verify stage refuses damaged files and two objects sharing one UID."""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from importer.pipeline.verify import InstanceToVerify, expected_pixel_bytes, verify_instances


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


@pytest.mark.parametrize(
    ("dims", "expected"),
    [((512, 512, 1, 1, 16), 524288), ((10, 10, 2, 3, 8), 600), ((3, 3, 1, 1, 1), 2)],
)
def test_expected_pixel_bytes(dims: tuple[int, int, int, int, int], expected: int) -> None:
    assert expected_pixel_bytes(*dims) == expected


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm"])
def test_good_files_pass(name: str) -> None:
    assert verify_instances([item(sample(name))]) == []


def test_truncated_pixel_data_is_refused(tmp_path: Path) -> None:
    good = sample("CT_small.dcm")
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(good.read_bytes()[:-1000])
    problems = verify_instances([item(cut, "DICOM/IM1")])
    assert len(problems) == 1
    assert problems[0].display_path == "DICOM/IM1"
    assert "truncated" in problems[0].message or "cannot be read" in problems[0].message


def test_same_uid_different_content_is_refused(tmp_path: Path) -> None:
    first = tmp_path / "a.dcm"
    shutil.copy(sample("CT_small.dcm"), first)
    ds = dcmread(first)
    ds.SeriesDescription = "changed"
    second = tmp_path / "b.dcm"
    ds.save_as(second)
    problems = verify_instances([item(first, "A"), item(second, "B")])
    assert [p.display_path for p in problems] == ["B"]
    assert "shares its SOP Instance UID with A" in problems[0].message


def test_same_uid_same_content_is_fine(tmp_path: Path) -> None:
    copy = tmp_path / "copy.dcm"
    shutil.copy(sample("CT_small.dcm"), copy)
    assert verify_instances([item(sample("CT_small.dcm")), item(copy)]) == []


def test_changed_uids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.dcm"
    shutil.copy(sample("CT_small.dcm"), path)
    stale = item(path)
    ds = dcmread(path)
    ds.SOPInstanceUID = "1.2.3.4"
    ds.save_as(path)
    assert "UIDs changed" in verify_instances([stale])[0].message


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
        problems = verify_instances([item(big)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems == []
    assert peak < header + 4 * 1024 * 1024, f"{peak} bytes held to verify a 256 MiB object"


def test_a_large_object_cut_short_is_refused(tmp_path: Path) -> None:
    big = large_object(tmp_path / "big.dcm", pixel_bytes_written=1000)
    problems = verify_instances([item(big, "DICOM/IM1")])
    assert [p.message for p in problems] == [
        f"its pixel data is truncated (1000 of {expected_pixel_bytes(*FRAME, FRAMES, 1, 16)} bytes)"
    ]


def test_large_objects_sharing_a_uid_are_told_apart(tmp_path: Path) -> None:
    first = large_object(tmp_path / "a.dcm")
    second = large_object(tmp_path / "b.dcm")
    with second.open("r+b") as fp:  # one pixel changed, near the end
        fp.seek(-2, 2)
        fp.write(b"\x01\x00")
    problems = verify_instances([item(first, "A"), item(second, "B")])
    assert [p.display_path for p in problems] == ["B"]
