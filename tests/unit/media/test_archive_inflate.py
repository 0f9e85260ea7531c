"""Deflated entries are inflated by ISA-L (python-isal) instead of zlib: the same bytes, the
same refusals, and the zipfile internal the swap relies on still there."""

from __future__ import annotations

import random
import struct
import zipfile
from pathlib import Path

import pytest
from isal import isal_zlib

from importer.media import ArchiveError, ArchiveLimits, unpack_zip
from importer.media.archive import _Entry, _open_entry
from tests.unit.media.helpers import make_zip, sample_bytes

CT = sample_bytes("CT_small.dcm")


def _payloads() -> dict[str, bytes]:
    """DICOM files with tails that inflate differently: noise (stored nearly as it is), text
    (compresses well), long runs, and several 1 MiB read chunks."""
    rng = random.Random(15)
    noise = rng.randbytes(3 * 1024 * 1024 + 17)
    text = b"".join(b"slice %d of a series, window %d\n" % (i, i % 97) for i in range(90_000))
    runs = b"".join(bytes([i % 7]) * rng.randrange(1, 400) for i in range(20_000))
    return {
        "CD/IM1": CT,
        "CD/IM2": CT + noise,
        "CD/IM3": CT + text,
        "CD/IM4": CT + runs,
    }


def test_every_deflated_entry_unpacks_to_exactly_zipfiles_bytes(tmp_path: Path) -> None:
    payloads = _payloads()
    archive = make_zip(tmp_path / "upload.zip", payloads)

    result = unpack_zip(archive, tmp_path / "spool", ArchiveLimits())

    assert [f.display_path for f in result.files] == list(payloads)
    with zipfile.ZipFile(archive) as zf:  # zipfile with zlib, as it comes
        for file in result.files:
            assert (
                file.path.read_bytes() == zf.read(file.display_path) == payloads[file.display_path]
            )


def test_a_deflated_entry_is_read_through_isal(tmp_path: Path) -> None:
    """The guard on CPython's zipfile: ``ZipExtFile._decompressor`` exists before the first
    read, and is replaced by ISA-L's; a stored entry keeps none."""
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("CD/IM1", CT, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("CD/IM2", CT, compress_type=zipfile.ZIP_STORED)
    with zipfile.ZipFile(archive) as zf:
        deflated, stored = zf.infolist()
        assert zf.open(deflated)._decompressor is not None  # type: ignore[attr-defined]
        with _open_entry(zf, _Entry(info=deflated, display="CD/IM1", is_dir=False)) as src:
            assert type(src._decompressor) is type(isal_zlib.decompressobj(-15))  # type: ignore[attr-defined]
            assert src.read() == CT
        with _open_entry(zf, _Entry(info=stored, display="CD/IM2", is_dir=False)) as src:
            assert src.read() == CT


def _with_crc(archive: Path, crc: int) -> None:
    """Write ``crc`` as the first entry's CRC-32 in its local and central headers: the data
    still inflates, and only the check can tell."""
    data = bytearray(archive.read_bytes())
    struct.pack_into("<L", data, 14, crc)  # local file header
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<L", data, central + 16, crc)
    archive.write_bytes(bytes(data))


def test_an_entry_whose_crc_does_not_match_is_refused_as_damaged(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM1": CT + bytes(4096)})
    _with_crc(archive, 0x12345678)

    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, tmp_path / "spool", ArchiveLimits())

    assert info.value.code == "archive_invalid"
    assert not (tmp_path / "spool" / "f").exists()


def test_a_deflate_stream_isal_rejects_is_refused_as_damaged(tmp_path: Path) -> None:
    """A stream broken after the DICOM preamble: ISA-L's own error, reported as damaged."""
    archive = make_zip(
        tmp_path / "upload.zip", {"CD/IM1": CT + random.Random(1).randbytes(200_000)}
    )
    data = bytearray(archive.read_bytes())
    for i in range(2_000, 2_400):
        data[i] ^= 0x5A
    archive.write_bytes(bytes(data))

    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, tmp_path / "spool", ArchiveLimits())

    assert info.value.code == "archive_invalid"
