"""A guard for Deflated Explicit VR Little Endian files, read before pydicom reads them.

pydicom inflates the whole dataset of a deflated file into memory before parsing even its
header, so a small file can claim gigabytes (a deflate bomb inside a DICOM file). This module
finds where the file meta ends without pydicom and counts what the dataset inflates to,
streaming, in bounded memory.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO, Final

__all__ = [
    "DEFLATED",
    "MAX_INFLATED_DATASET_BYTES",
    "deflated_dataset_too_large",
    "deflated_file_too_large",
    "meta_info",
]

DEFLATED: Final = "1.2.840.10008.1.2.1.99"
"""Deflated Explicit VR Little Endian."""
MAX_INFLATED_DATASET_BYTES: Final = 1024**3
"""Deflated datasets inflating to more are not read (1 GiB)."""

_CHUNK: Final = 1024 * 1024
_UNDEFINED: Final = 0xFFFFFFFF
_LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_MAX_META_ELEMENTS: Final = 256


def meta_info(fp: BinaryIO) -> tuple[int, str] | None:
    """Where the dataset after the file meta starts, and the meta's Transfer Syntax UID ("" when
    absent); None when the meta cannot be walked. Leaves ``fp`` anywhere."""
    fp.seek(0)
    pos = 132 if fp.read(132)[128:132] == b"DICM" else 0
    transfer_syntax = ""
    for _ in range(_MAX_META_ELEMENTS):
        fp.seek(pos)
        header = fp.read(8)
        if len(header) < 8:
            return None
        group, element = struct.unpack("<HH", header[:4])
        if group != 0x0002:
            return pos, transfer_syntax
        if not header[4:6].isalpha():  # some writers put the meta in implicit VR
            (length,) = struct.unpack("<L", header[4:8])
            value_at = pos + 8
        elif header[4:6] in _LONG_VRS:
            extra = fp.read(4)
            if len(extra) < 4:
                return None
            (length,) = struct.unpack("<L", extra)
            value_at = pos + 12
        else:
            (length,) = struct.unpack("<H", header[6:8])
            value_at = pos + 8
        if length == _UNDEFINED:
            return None
        if element == 0x0010:
            fp.seek(value_at)
            transfer_syntax = fp.read(min(length, 64)).decode("ascii", "replace").strip("\x00 ")
        pos = value_at + length
    return None


def deflated_dataset_too_large(fp: BinaryIO, limit: int = MAX_INFLATED_DATASET_BYTES) -> bool:
    """True when ``fp`` is a deflated file whose dataset inflates to more than ``limit`` bytes.

    False for any other file, and for a deflate stream that is corrupt before the limit (the
    reader reports that). Reads in chunks, never holding more than one inflated MiB.
    """
    meta = meta_info(fp)
    if meta is None or meta[1] != DEFLATED:
        return False
    fp.seek(meta[0])
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    try:
        while chunk := fp.read(_CHUNK):
            data = chunk
            while data:
                total += len(inflater.decompress(data, _CHUNK))
                if total > limit:
                    return True
                data = inflater.unconsumed_tail
            if inflater.eof:
                return False
    except zlib.error:
        return False
    return False


def deflated_file_too_large(path: Path, limit: int = MAX_INFLATED_DATASET_BYTES) -> bool:
    """:func:`deflated_dataset_too_large` for a file on disk (False when it cannot be opened)."""
    try:
        with path.open("rb") as fp:
            return deflated_dataset_too_large(fp, limit)
    except OSError:
        return False
