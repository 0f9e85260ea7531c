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

import io
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Final

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
from importer.media import raw
from importer.pacs.base import EncodedInstance, FileRange

_TAIL_VRS: dict[int, tuple[bytes, ...]] = {
    raw.FLOAT_PIXEL_DATA: (b"OF",),
    raw.DOUBLE_PIXEL_DATA: (b"OD",),
    raw.PIXEL_DATA: (b"OB", b"OW"),
    raw.TRAILING_PADDING: (b"OB",),
}
"""The elements that may follow the header in a file sent as it is, with their VRs (all of
them with a 4-byte length in explicit VR): bulk binary values that the coercion never reads
and pydicom writes back exactly as it read them."""

IN_MEMORY_BYTES: Final = 16 * 1024 * 1024
"""Pixel data up to this size is read when an instance is prepared; larger stays on disk until
it is sent (as the store's ``PREPARE_AHEAD_MAX_BYTES``: what is held ahead stays small)."""

__all__ = ["IN_MEMORY_BYTES", "encode_for_store", "load_for_store", "target_of"]


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
    in_memory_bytes: int = IN_MEMORY_BYTES,
) -> EncodedInstance | None:
    """What :func:`load_for_store` returns for the same arguments, encoded as the file's data
    set is (no file meta), built from the header alone and the file's own bytes from the pixel
    data on; ``None`` when that would not give exactly the same bytes. Raises what reading or
    coercing raises (the caller then uses :func:`load_for_store`, which reports it).

    The file's bytes are read here when they are ``in_memory_bytes`` or fewer; beyond, they stay
    on disk (:attr:`EncodedInstance.rest`) and are read a block at a time as they are sent, so
    that a 2 GB object never sits in memory."""
    with open(path, "rb") as fp:
        # as dcmread(path, force=True, stop_before_pixels=True), and where it stopped
        ds = read_partial(fp, _at_pixel_data, force=True)
        meta = getattr(ds, "file_meta", None)
        if meta is not None and meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            return None  # the whole data set is compressed: nothing to splice
        offset = fp.tell()
        implicit, little = ds.original_encoding
        if implicit is None or little is None:
            return None
        last = max(ds.keys(), default=BaseTag(0))
        length = fp.seek(0, io.SEEK_END) - offset
        tail = b""
        walked: BinaryIO
        if length <= in_memory_bytes:  # read once, walked in memory
            fp.seek(offset)
            tail = fp.read()
            walked, start = io.BytesIO(tail), 0
        else:  # walked on disk, element headers only
            walked, start = fp, offset
        if not _verbatim_tail(walked, start, implicit=implicit, little=little, after=last):
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
        rest=None if length <= in_memory_bytes else FileRange(path, offset, length),
    )


def _at_pixel_data(tag: BaseTag, vr: str | None, length: int) -> bool:
    return int(tag) in raw.PIXEL_TAGS


def _verbatim_tail(
    data: BinaryIO, offset: int, *, implicit: bool, little: bool, after: int
) -> bool:
    """Whether ``data`` from ``offset`` (the file from the pixel data element on) holds only
    elements of :data:`_TAIL_VRS`, in ascending tag order after ``after`` (the header's last
    tag), that pydicom reads as raw values and writes back byte for byte: explicit VRs as
    listed, reserved bytes zero, even defined lengths within the file, or (Pixel Data, explicit
    VR) encapsulated fragments ending with a zero-length sequence delimiter; nothing else up to
    the end."""
    previous = after
    try:
        for header in raw.elements(data, offset, implicit=implicit, little=little):
            vrs = _TAIL_VRS.get(header.tag)
            if vrs is None or header.tag <= previous:
                return False
            if not implicit and (header.vr not in vrs or header.reserved != 0):
                return False
            if header.undefined:
                if implicit or header.tag != raw.PIXEL_DATA:
                    return False
                if not _fragments_verbatim(data, header.value_offset, little=little):
                    return False
            elif header.length % 2:
                return False
            previous = header.tag
    except raw.RawError:
        return False
    return True


def _fragments_verbatim(data: BinaryIO, start: int, *, little: bool) -> bool:
    """Whether the encapsulated pixel data starting at ``start`` is as pydicom writes it: a
    basic offset table item first (pydicom refuses to write pixel data without one), items of
    defined length within the file, a sequence delimiter of zero length (pydicom writes a zero
    one whatever it read). Raises what walking the fragments raises."""
    items = list(raw.fragments(data, start, little=little))
    return items[0].tag == raw.ITEM and items[-1].length == 0
