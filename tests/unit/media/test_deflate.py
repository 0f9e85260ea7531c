"""Deflated DICOM files that inflate to gigabytes are refused before pydicom inflates them."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest

from importer.media import ScannedInstance, SkippedFile, UnpackedFile, render_thumbnail, scan_file
from importer.media.deflate import (
    DEFLATED,
    MAX_INFLATED_DATASET_BYTES,
    deflated_dataset_too_large,
    meta_info,
)
from tests.unit.media.helpers import README, sample_bytes, without_meta

MIB = 1024 * 1024


def _element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\x00"
    if vr in (b"OB", b"UN"):
        return struct.pack("<HH2sHL", group, element, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def _deflate_bomb(inflated: int) -> bytes:
    """A Part 10 file declaring Deflated Explicit VR LE whose dataset is ``inflated`` zeros,
    deflated block by block (a MiB of zeros deflates to about a kilobyte)."""
    meta_body = (
        _element(0x0002, 0x0001, b"OB", b"\x00\x01")
        + _element(0x0002, 0x0002, b"UI", b"1.2.840.10008.5.1.4.1.1.7")
        + _element(0x0002, 0x0003, b"UI", b"1.2.3.4")
        + _element(0x0002, 0x0010, b"UI", DEFLATED.encode())
    )
    meta = _element(0x0002, 0x0000, b"UL", struct.pack("<L", len(meta_body))) + meta_body
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return bytes(128) + b"DICM" + meta + block * (inflated // MIB) + final


def test_the_dataset_start_and_transfer_syntax_are_found_without_pydicom() -> None:
    ct = sample_bytes("CT_small.dcm")
    start, syntax = meta_info(io.BytesIO(ct)) or (0, "")
    assert syntax == "1.2.840.10008.1.2.1"
    assert ct[start : start + 2] == b"\x08\x00"  # the dataset's first group
    assert meta_info(io.BytesIO(without_meta("CT_small.dcm"))) == (0, "")
    assert meta_info(io.BytesIO(sample_bytes("image_dfl.dcm")))[1] == DEFLATED  # type: ignore[index]
    assert meta_info(io.BytesIO(ct[:140])) is None  # cut inside the meta
    assert meta_info(io.BytesIO(README)) == (0, "")


@pytest.mark.parametrize(
    ("data", "limit", "too_large"),
    [
        (_deflate_bomb(8 * MIB), 4 * MIB, True),
        (_deflate_bomb(8 * MIB), 16 * MIB, False),
        (sample_bytes("image_dfl.dcm"), MIB, False),  # a real deflated image, 262 KB inflated
        (sample_bytes("image_dfl.dcm"), 1000, True),
        (sample_bytes("CT_small.dcm"), 1, False),  # not deflated: not this guard's business
        (_deflate_bomb(8 * MIB)[:-3000] + b"\xff" * 3000, 64 * MIB, False),  # corrupt: pydicom says
    ],
)
def test_the_inflated_size_is_counted(data: bytes, limit: int, too_large: bool) -> None:
    assert deflated_dataset_too_large(io.BytesIO(data), limit) is too_large


def test_a_deflate_bomb_on_the_medium_is_unreadable_and_never_inflated(tmp_path: Path) -> None:
    path = tmp_path / "IM0001"
    path.write_bytes(_deflate_bomb(MAX_INFLATED_DATASET_BYTES + 64 * MIB))
    assert path.stat().st_size < 2 * MIB

    tracemalloc.start()
    try:
        result = scan_file(UnpackedFile("DICOM/IM0001", path, path.stat().st_size))
        thumbnail = render_thumbnail(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, SkippedFile)
    assert result.reason == "unreadable"
    assert "deflated dataset inflates to more than" in result.message
    assert thumbnail is None
    assert peak < 32 * MIB  # a MiB at a time, not the gigabyte it claims


def test_a_real_deflated_file_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "IM0001"
    path.write_bytes(sample_bytes("image_dfl.dcm"))
    result = scan_file(UnpackedFile("DICOM/IM0001", path, path.stat().st_size))
    assert isinstance(result, ScannedInstance)
    assert result.transfer_syntax_uid == DEFLATED
    assert render_thumbnail(path) is not None
