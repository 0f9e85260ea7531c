"""Builders for test media: ZIPs made in tmp_path from pydicom's own test files."""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pydicom
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.dataset import FileMetaDataset

FAKE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
AUTORUN = b"[autorun]\r\nopen=viewer\\start.exe\r\nicon=viewer\\cd.ico\r\n"
FAKE_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
README = b"This CD holds DICOM images. Start the viewer with START.EXE.\n"
HTML = b"<!DOCTYPE html><html><body>Viewer</body></html>"


def sample(name: str) -> Path:
    """A file shipped with pydicom (test_files or charset_files); never downloaded."""
    found = get_testdata_file(name, download=False)
    if found is None:
        charset = get_charset_files(name)
        assert charset, name
        return Path(charset[0])
    return Path(str(found))


def sample_bytes(name: str) -> bytes:
    return sample(name).read_bytes()


def dicomdir_set() -> Path:
    """pydicom's ``dicomdirtests`` folder (a DICOMDIR and the files it lists)."""
    return sample("DICOMDIR").parent


def make_zip(path: Path, entries: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> Path:
    """Write a deflated ZIP holding ``entries`` (name -> content)."""
    items = entries.items() if isinstance(entries, Mapping) else entries
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return path


def zip_bytes(entries: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


class RawNameInfo(zipfile.ZipInfo):
    """A ZipInfo whose name bytes are written as given, without the UTF-8 flag."""

    raw_name: bytes = b""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:
        return self.raw_name, self.flag_bits & ~0x800


def raw_name_entry(raw: bytes, data: bytes, extra: bytes = b"") -> RawNameInfo:
    info = RawNameInfo(raw.decode("cp437"))
    info.raw_name = raw
    info.extra = extra
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def unicode_path_extra(raw_name: bytes, unicode_name: str) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075)."""
    payload = b"\x01" + struct.pack("<L", zlib.crc32(raw_name)) + unicode_name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(payload)) + payload


def rewrite(name: str, **changes: Any) -> bytes:
    """A pydicom test file with some attributes changed, written back as it was."""
    ds = pydicom.dcmread(sample(name))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deliberately invalid values
        for keyword, value in changes.items():
            setattr(ds, keyword, value)
        ds.save_as(buf)
    return buf.getvalue()


def without_meta(name: str) -> bytes:
    """The dataset of a test file with neither preamble nor file meta (implicit VR LE)."""
    ds = pydicom.dcmread(sample(name))
    ds.preamble = None
    ds.file_meta = FileMetaDataset()
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return buf.getvalue()


def without_transfer_syntax(name: str) -> bytes:
    """A Part 10 file whose file meta lacks (0002,0010); dataset implicit VR LE."""
    ds = pydicom.dcmread(sample(name))
    del ds.file_meta.TransferSyntaxUID
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return buf.getvalue()


def set_flag_bits(archive: Path, name: str, bits: int) -> None:
    """Set general-purpose flag bits of one entry, in its local and central headers."""
    data = bytearray(archive.read_bytes())
    wanted = name.encode()
    for signature, flags_at, name_len_at, name_at in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        pos = data.find(signature)
        while pos != -1:
            (length,) = struct.unpack_from("<H", data, pos + name_len_at)
            if bytes(data[pos + name_at : pos + name_at + length]) == wanted:
                (flags,) = struct.unpack_from("<H", data, pos + flags_at)
                struct.pack_into("<H", data, pos + flags_at, flags | bits)
            pos = data.find(signature, pos + 4)
    archive.write_bytes(bytes(data))
