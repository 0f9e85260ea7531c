"""DICOMDIR file-ID matching: case, ISO 9660 suffixes, trailing dots, .dcm, confinement."""

from __future__ import annotations

import pydicom
import pytest

from importer.media.dicomdir import file_id_key, missing_files, referenced_file_ids
from tests.unit.media.helpers import sample


@pytest.mark.parametrize(
    ("on_disk", "in_dicomdir"),
    [
        ("IMAGES/IM000001", ("IMAGES", "IM000001")),
        ("images/im000001", ("IMAGES", "IM000001")),
        ("IMAGES/IM000001;1", ("IMAGES", "IM000001")),
        ("IMAGES;1/IM000001;1", ("IMAGES", "IM000001")),
        ("DICOMDIR.;1.;1", ("DICOMDIR",)),
        ("IMAGES/IM000001.", ("IMAGES", "IM000001")),
        ("IMAGES./IM000001.;1", ("IMAGES", "IM000001")),
        ("IMAGES/IM000001.dcm", ("IMAGES", "IM000001")),
        ("IMAGES/IM000001.DCM;1", ("IMAGES", "IM000001")),
        ("IMAGES/IM000001", ("IMAGES", "IM000001.DCM")),
        ("A/./B/IM1", ("A", "B", "IM1")),
        ("TÊTE/IM1", ("tête", "IM1")),
    ],
)
def test_keys_match(on_disk: str, in_dicomdir: tuple[str, ...]) -> None:
    assert file_id_key(on_disk.split("/")) == file_id_key(in_dicomdir)


@pytest.mark.parametrize(
    ("on_disk", "in_dicomdir"),
    [
        ("IMAGES/IM000001", ("IMAGES", "IM000002")),
        ("IMAGES/IM000001", ("IM000001",)),
        ("IMAGES/DCM", ("IMAGES", "")),
        ("IMAGES/IM1.dcm/X", ("IMAGES", "IM1", "X")),
    ],
)
def test_keys_differ(on_disk: str, in_dicomdir: tuple[str, ...]) -> None:
    assert file_id_key(on_disk.split("/")) != file_id_key(in_dicomdir)


def test_references_resolve_relative_to_the_dicomdir_folder() -> None:
    present = ["CD/DICOMDIR", "CD/IMAGES/IM1;1", "OTHER/IMAGES/IM2"]
    refs = [("IMAGES", "IM1"), ("IMAGES", "IM2")]

    missing = missing_files([("CD/DICOMDIR", refs)], present)

    assert [(m.path, m.reason) for m in missing] == [("CD/IMAGES/IM2", "missing_file")]


def test_references_outside_the_folder_are_reported() -> None:
    refs = [("..", "..", "etc", "passwd"), ("IMAGES", "..", "IM1")]

    missing = missing_files([("CD/DICOMDIR", refs)], ["CD/IM1", "etc/passwd"])

    assert [(m.path, m.reason) for m in missing] == [("CD/../../etc/passwd", "missing_file")]
    assert "outside" in missing[0].message


def test_missing_file_listed_twice_is_reported_once() -> None:
    refs = [("IMAGES", "IM9")]

    missing = missing_files([("DICOMDIR", refs), ("DICOMDIR-COPY", refs)], ["DICOMDIR"])

    assert len(missing) == 1


@pytest.mark.parametrize(
    "name",
    ["DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-reordered", "DICOMDIR-nooffset"],
)
def test_referenced_file_ids_from_pydicom_sets(name: str) -> None:
    ds = pydicom.dcmread(sample("DICOMDIR").parent / name)

    refs = referenced_file_ids(ds)

    assert ("77654033", "CR1", "6154") in refs
    assert all(all(part and "\\" not in part for part in ref) for ref in refs)
    assert len(refs) == len(set(refs))
