"""The verify stage refuses damaged files and two objects sharing one UID."""

from __future__ import annotations

import shutil
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
