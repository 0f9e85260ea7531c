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

from importer.media import raw

FAKE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
FAKE_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
AUTORUN = b"[autorun]\r\nopen=viewer\\start.exe\r\nicon=viewer\\cd.ico\r\n"
FAKE_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)
README = b"This CD holds DICOM images. Start the viewer with START.EXE.\n"
HTML = b"<!DOCTYPE html><html><body>Viewer</body></html>"
PART10_HEAD = bytes(128) + b"DICM"
"""A Part 10 preamble and magic: what makes a file worth unpacking (and scanning)."""


def dicom_like(size: int) -> bytes:
    """``size`` bytes that start like a Part 10 file, then zeros: unpacked like DICOM (and
    counted against every cap), compressing like zeros."""
    return PART10_HEAD + bytes(size - len(PART10_HEAD))


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


def with_transfer_syntax(name: str, transfer_syntax: bytes) -> bytes:
    """A Part 10 test file whose file meta holds ``transfer_syntax`` as its Transfer Syntax UID,
    written byte for byte (pydicom refuses to write an invalid one); the dataset is unchanged."""
    return meta_with_transfer_syntax(sample_bytes(name), transfer_syntax)


def meta_with_transfer_syntax(data: bytes, transfer_syntax: bytes) -> bytes:
    """:func:`with_transfer_syntax` of the Part 10 file ``data``."""
    meta = bytearray()
    end = 132
    for header in raw.elements(io.BytesIO(data), 132, implicit=False, little=True):
        if header.group != 0x0002:
            end = header.offset
            break
        if header.tag == 0x00020010:
            value = transfer_syntax + b"\x00" * (len(transfer_syntax) % 2)
            meta += struct.pack("<HH2sH", 0x0002, 0x0010, b"UI", len(value)) + value
        elif header.tag != 0x00020000:  # the group length is written again below
            meta += data[header.offset : header.end]
    group_length = struct.pack("<HH2sHL", 0x0002, 0x0000, b"UL", 4, len(meta))
    return data[:132] + group_length + bytes(meta) + data[end:]


def before_pixels(name: str, inserted: bytes) -> bytes:
    """A test file in explicit VR little endian with ``inserted`` (raw elements) written just
    before its pixel data."""
    data = sample_bytes(name)
    for header in raw.elements(io.BytesIO(data), 132, implicit=False, little=True):
        if header.tag == raw.PIXEL_DATA:
            return data[: header.offset] + inserted + data[header.offset :]
    raise AssertionError(f"{name} has no pixel data")


def explicit_element(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    """One element in explicit VR little endian (a long header for the long VRs)."""
    if vr in raw.LONG_VRS:
        return struct.pack("<HH2sHL", group, element, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr, len(value)) + value


def undefined_sequence(group: int, element: int, items: list[bytes]) -> bytes:
    """A sequence of undefined length in explicit VR little endian, each item of undefined
    length holding the given raw elements."""
    body = b"".join(
        struct.pack("<HHL", 0xFFFE, 0xE000, raw.UNDEFINED_LENGTH)
        + item
        + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
        for item in items
    )
    header = struct.pack("<HH2sHL", group, element, b"SQ", 0, raw.UNDEFINED_LENGTH)
    return header + body + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)


def deflated(data: bytes) -> bytes:
    """``data`` (a Part 10 file in explicit VR little endian) as Deflated Explicit VR Little
    Endian: the same data set, deflated after the file meta."""
    data = meta_with_transfer_syntax(data, DEFLATED_UID.encode())
    start = next(
        h.offset
        for h in raw.elements(io.BytesIO(data), 132, implicit=False, little=True)
        if h.group != 0x0002
    )
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return data[:start] + packer.compress(data[start:]) + packer.flush()


DEFLATED_UID = "1.2.840.10008.1.2.1.99"
