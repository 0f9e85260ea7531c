"""A guard for Deflated Explicit VR Little Endian files, read before pydicom reads them.

pydicom inflates the whole dataset of a deflated file into memory before parsing even its
header, so a small file can claim gigabytes (a deflate bomb inside a DICOM file). This module
finds where the file meta ends without pydicom and counts what the dataset inflates to,
streaming, in bounded memory.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Final

from importer.media import raw

__all__ = [
    "DEFLATED",
    "MAX_INFLATED_DATASET_BYTES",
    "deflated_dataset_too_large",
    "deflated_file_too_large",
    "inflated_dataset",
    "meta_info",
]

DEFLATED: Final = "1.2.840.10008.1.2.1.99"
"""Deflated Explicit VR Little Endian."""
MAX_INFLATED_DATASET_BYTES: Final = 1024**3
"""Deflated datasets inflating to more are not read (1 GiB)."""

_CHUNK: Final = 1024 * 1024
_MAX_META_ELEMENTS: Final = 256
_META_GROUP: Final = 0x0002
_TRANSFER_SYNTAX_UID: Final = 0x00020010


def meta_info(fp: BinaryIO) -> tuple[int, str] | None:
    """Where the dataset after the file meta starts, and the meta's Transfer Syntax UID ("" when
    absent); None when the meta cannot be walked. Leaves ``fp`` anywhere."""
    fp.seek(0)
    pos = 132 if fp.read(132)[128:132] == b"DICM" else 0
    transfer_syntax = ""
    for _ in range(_MAX_META_ELEMENTS):
        try:
            tag = raw.read_tag(fp, pos, little=True)
            if tag is None:
                return None
            if tag >> 16 != _META_GROUP:
                return pos, transfer_syntax
            # explicit VR, or implicit where some writers put the meta so
            header = raw.read_header(fp, pos, implicit=False, little=True)
        except raw.Truncated:
            return None
        if header.undefined:
            return None
        if header.tag == _TRANSFER_SYNTAX_UID:
            value = raw.read_at(fp, header.value_offset, min(header.length, 64))
            transfer_syntax = value.decode("ascii", "replace").strip("\x00 ")
        pos = header.end
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


@contextmanager
def inflated_dataset(
    fp: BinaryIO, offset: int, *, limit: int, directory: Path | None = None
) -> Iterator[BinaryIO | None]:
    """The data set a deflated file holds from ``offset``, inflated into a temporary file (in
    memory up to 1 MiB, then in ``directory``) for a walk without pydicom; None when it inflates
    to more than ``limit`` bytes or is corrupt (the guard and the reader report those)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    folder = None if directory is None else str(directory)
    with tempfile.SpooledTemporaryFile(max_size=_CHUNK, dir=folder) as out:
        fp.seek(offset)
        total = 0
        try:
            while chunk := fp.read(_CHUNK):
                data = chunk
                while data:
                    inflated = inflater.decompress(data, _CHUNK)
                    total += len(inflated)
                    if total > limit:
                        yield None
                        return
                    out.write(inflated)
                    data = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error:
            yield None
            return
        out.seek(0)
        yield out  # type: ignore[misc]  # a SpooledTemporaryFile reads and seeks like a file


def deflated_file_too_large(path: Path, limit: int = MAX_INFLATED_DATASET_BYTES) -> bool:
    """:func:`deflated_dataset_too_large` for a file on disk (False when it cannot be opened)."""
    try:
        with path.open("rb") as fp:
            return deflated_dataset_too_large(fp, limit)
    except OSError:
        return False
