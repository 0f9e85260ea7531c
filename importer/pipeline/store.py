"""Preparing instances for the PACS: read from the spool, coerce in memory, never touch the file.

Two ways to the same bytes on the wire:

- :func:`load_for_store` (``StoreItem.load``): the whole file read as a dataset, coerced. Any
  adapter can use it; it is needed when the pixel data must be decoded (the PACS refused the
  original transfer syntax) or the dataset re-encoded in another syntax.
- :func:`encode_for_store` (``StoreItem.encoded``): only the header is read and coerced; the
  pixel data element (and whatever follows it) is taken from the file as it is, never decoded
  nor re-encoded. It answers only when the result is exactly what encoding
  :func:`load_for_store`'s dataset in the file's own encoding gives (the tests compare them
  byte for byte), and ``None`` otherwise (deflated files, a character set the coercion had to
  change, unusual elements after the pixel data...), so that the caller falls back to
  :func:`load_for_store`.
"""

from __future__ import annotations

import struct
import warnings
from datetime import datetime
from pathlib import Path

from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    DeflatedExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom.dsutils import encode

from importer.coerce import CoercionTarget, coerce_in_place, target_of
from importer.pacs.base import EncodedInstance

_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
"""Float Pixel Data, Double Float Pixel Data, Pixel Data: where ``stop_before_pixels`` stops."""
_TAIL_VRS: dict[int, tuple[bytes, ...]] = {
    0x7FE00008: (b"OF",),
    0x7FE00009: (b"OD",),
    0x7FE00010: (b"OB", b"OW"),
    0xFFFCFFFC: (b"OB",),  # Data Set Trailing Padding
}
"""The elements that may follow the header in a file sent as it is, with their VRs (all of
them with a 4-byte length in explicit VR): bulk binary values that the coercion never reads
and pydicom writes back exactly as it read them."""
_UNDEFINED = 0xFFFFFFFF

__all__ = ["encode_for_store", "load_for_store", "target_of"]


def _fix_meta(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None) or FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if "ImplementationClassUID" not in meta:
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta


def load_for_store(
    path: Path,
    *,
    target: CoercionTarget | None,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool,
) -> Dataset:
    """The dataset to send: the file as read, coerced to the order (``target``; ``None`` keeps
    the medium's identity, for the temporary zone), with proper file meta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, force=True)
        _fix_meta(ds)
        if target is None:
            return ds
        return coerce_in_place(  # the dataset was just read: no copy needed
            ds,
            target,
            modifying_system=modifying_system,
            now=now,
            add_other_patient_ids=add_other_patient_ids,
        )


def encode_for_store(
    path: Path,
    *,
    target: CoercionTarget | None,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool,
) -> EncodedInstance | None:
    """What :func:`load_for_store` returns for the same arguments, encoded as the file's data
    set is (no file meta), built from the header alone and the file's own bytes from the pixel
    data on; ``None`` when that would not give exactly the same bytes. Raises what reading or
    coercing raises (the caller then uses :func:`load_for_store`, which reports it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open(path, "rb") as fp:
            # as dcmread(path, force=True, stop_before_pixels=True), and where it stopped
            ds = read_partial(fp, _at_pixel_data, force=True)
            meta = getattr(ds, "file_meta", None)
            if meta is not None and meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
                return None  # the whole data set is compressed: nothing to splice
            offset = fp.tell()
            fp.seek(offset)
            tail = fp.read()
        implicit, little = ds.original_encoding
        if implicit is None or little is None:
            return None
        last = max(ds.keys(), default=BaseTag(0))
        if not _verbatim_tail(tail, implicit=implicit, little=little, after=last):
            return None
        _fix_meta(ds)
        if target is not None:
            coerce_in_place(
                ds,
                target,
                modifying_system=modifying_system,
                now=now,
                add_other_patient_ids=add_other_patient_ids,
            )
        if ds.original_character_set != ds._character_set:
            # pydicom then re-encodes every element, the pixel data too: not the file's bytes
            return None
        header = encode(ds, implicit, little)
        if header is None:
            return None
        return EncodedInstance(
            sop_class_uid=str(ds.SOPClassUID),
            sop_instance_uid=str(ds.SOPInstanceUID),
            transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
            implicit_vr=implicit,
            little_endian=little,
            data=header + tail,
        )


def _at_pixel_data(tag: BaseTag, vr: str | None, length: int) -> bool:
    return int(tag) in _PIXEL_TAGS


def _verbatim_tail(tail: bytes, *, implicit: bool, little: bool, after: int) -> bool:
    """Whether ``tail`` (the file from the pixel data element on) holds only elements of
    :data:`_TAIL_VRS`, in ascending tag order after ``after`` (the header's last tag), that
    pydicom reads as raw values and writes back byte for byte: explicit VRs as listed, reserved
    bytes zero, even defined lengths within the file, or (Pixel Data, explicit VR) encapsulated
    fragments ending with a zero-length sequence delimiter; nothing else up to the end."""
    order = "<" if little else ">"
    tag_format = struct.Struct(order + "HH")
    length_format = struct.Struct(order + "L")
    size = len(tail)
    position = 0
    previous = after
    while position < size:
        if size - position < (8 if implicit else 12):
            return False
        group, element = tag_format.unpack_from(tail, position)
        tag = group << 16 | element
        vrs = _TAIL_VRS.get(tag)
        if vrs is None or tag <= previous:
            return False
        if implicit:
            (length,) = length_format.unpack_from(tail, position + 4)
            position += 8
        else:
            if tail[position + 4 : position + 6] not in vrs:
                return False
            if tail[position + 6 : position + 8] != b"\x00\x00":
                return False
            (length,) = length_format.unpack_from(tail, position + 8)
            position += 12
        if length == _UNDEFINED:
            end = None if implicit or tag != 0x7FE00010 else _fragments_end(tail, position, order)
            if end is None:
                return False
            position = end
        else:
            if length % 2 or position + length > size:
                return False
            position += length
        previous = tag
    return True


def _fragments_end(tail: bytes, start: int, order: str) -> int | None:
    """Where encapsulated pixel data starting at ``start`` ends (after its sequence delimiter
    and zero length), when it is a well-formed list of items; else ``None``."""
    item = struct.pack(order + "HH", 0xFFFE, 0xE000)
    delimiter = struct.pack(order + "HHL", 0xFFFE, 0xE0DD, 0)
    length_format = struct.Struct(order + "L")
    size = len(tail)
    position = start
    if tail[position : position + 4] != item:
        return None  # pydicom refuses to write such pixel data
    while position + 8 <= size:
        if tail[position : position + 8] == delimiter:
            return position + 8
        if tail[position : position + 4] != item:
            return None
        (length,) = length_format.unpack_from(tail, position + 4)
        if length == _UNDEFINED or position + 8 + length > size:
            return None
        position += 8 + length
    return None
