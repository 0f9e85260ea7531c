"""Preparing instances for the PACS: read from the spool, coerce in memory, never touch the file.

Two ways to the same bytes on the wire:

- :func:`load_for_store` (``StoreItem.load``): the whole file read as a dataset, coerced. Any
  adapter can use it; it is needed when the pixel data must be decoded (the PACS refused the
  original transfer syntax) or the dataset re-encoded in another syntax.
- :func:`encode_for_store` (``StoreItem.encoded``): only the header is read and coerced; the
  pixel data element (and whatever follows it) is taken from the file as it is, never decoded
  nor re-encoded. It answers only when the result holds what encoding :func:`load_for_store`'s
  dataset in the file's own encoding gives (the tests compare them element by element, and
  byte for byte where the file's values are written as pydicom writes them), and ``None``
  otherwise (deflated files, a character set the coercion had to change, unusual elements
  after the pixel data...), so that the caller falls back to :func:`load_for_store`.

  The header is spliced where it can be (:func:`_spliced`): the file's elements are walked as
  bytes and kept as they are, except the attributes the coercion reads or writes
  (:data:`~importer.coerce.COERCION_TAGS`), which are coerced and encoded once per distinct
  set of their values and reused for every instance that has the same (the instances of a
  study share them). Otherwise the header is read by pydicom, coerced and encoded whole
  (:func:`_encode_read`).
"""

from __future__ import annotations

import functools
import io
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Final

from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.filereader import read_dataset, read_partial
from pydicom.tag import BaseTag
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom.dsutils import encode

from importer.coerce import (
    COERCION_TAGS,
    TEXT_VRS,
    CoercionTarget,
    charset_terms,
    coerce_in_place,
    coerce_stamp,
    element_vr,
    implicit_vr,
    representable,
    target_of,
    text_values,
)
from importer.media import raw
from importer.media.stamp import open_unchanged
from importer.pacs.base import EncodedInstance, FileRange

IN_MEMORY_BYTES: Final = 16 * 1024 * 1024
"""Pixel data up to this size is read when an instance is prepared; larger stays on disk until
it is sent (as the store's ``PREPARE_AHEAD_MAX_BYTES``: what is held ahead stays small)."""

__all__ = [
    "IN_MEMORY_BYTES",
    "AmbiguousValue",
    "encode_for_store",
    "forget",
    "load_for_store",
    "target_of",
]


def _fix_meta(ds: Dataset) -> None:
    meta = getattr(ds, "file_meta", None) or FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if "ImplementationClassUID" not in meta:
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta


class AmbiguousValue(ValueError):
    """A value the file does not call a sequence that starts like one (an item or a delimiter)
    without being a well-formed list of items: a reader whose dictionary calls it a sequence
    (dcmtk's private dictionary does for some creators) reads past it, and may take the
    patient hidden after it for the instance's. Such an instance is not sent: the patient a
    PACS would read is not sure (every way to the PACS goes through :func:`load_for_store` or
    :func:`_coerced`, which refuse it, the medium's identity kept or not)."""


_ITEM_TAGS: Final = frozenset(
    struct.pack(order, 0xFFFE, element)
    for order in ("<HH", ">HH")
    for element in (0xE000, 0xE00D, 0xE0DD)
)


def refuse_ambiguous_values(ds: Dataset) -> None:
    """Raise :class:`AmbiguousValue` when ``ds`` (its items too) holds a private, unknown or
    UN value that starts with an item or delimiter tag and is not a well-formed list of items
    (:func:`importer.media.raw.is_item_list`)."""
    for tag in list(ds.keys()):
        elem = ds.get_item(tag)
        if elem is None:
            continue
        if elem.VR == "SQ":
            for item in ds[tag].value or []:
                refuse_ambiguous_values(item)
            continue
        if element_vr(ds, tag) not in (None, "UN"):
            continue
        value = elem.value
        if (
            isinstance(value, bytes)
            and value[:4] in _ITEM_TAGS
            and not raw.is_item_list(value, little=value[:2] == b"\xfe\xff")
        ):
            raise AmbiguousValue(f"element {tag} starts like a sequence without being one")


def load_for_store(
    path: Path,
    *,
    stamp: str | None = None,
    target: CoercionTarget | None,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool,
) -> Dataset:
    """The dataset to send: the file as read, coerced to the order (``target``; ``None`` keeps
    the medium's identity, for the temporary zone), with proper file meta. Raises
    :class:`~importer.media.stamp.FileChanged` when the file no longer has the ``stamp`` it
    was vouched for with (``None``: not checked)."""
    with open_unchanged(path, stamp) as fp:
        ds = dcmread(fp, force=True)
    refuse_ambiguous_values(ds)
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
    stamp: str | None = None,
    target: CoercionTarget | None,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool,
    in_memory_bytes: int = IN_MEMORY_BYTES,
) -> EncodedInstance | None:
    """What :func:`load_for_store` returns for the same arguments, encoded as the file's data
    set is (no file meta), built from the header alone and the file's own bytes from the pixel
    data on; ``None`` when that would not give the same. Raises what reading or coercing raises
    (the caller then uses :func:`load_for_store`, which reports it).

    The file's bytes are read here when they are ``in_memory_bytes`` or fewer; beyond, they stay
    on disk (:attr:`EncodedInstance.rest`) and are read a block at a time as they are sent, so
    that a 2 GB object never sits in memory. As :func:`load_for_store`, only while the file
    has its ``stamp``, checked again as those blocks are read."""
    how = _How(target, modifying_system, now, add_other_patient_ids)
    spliced = _spliced(path, stamp, how, in_memory_bytes)
    if spliced is not None:
        return spliced
    return _encode_read(path, stamp, how, in_memory_bytes)


@dataclass(frozen=True, slots=True)
class _How:
    """How an instance is coerced (the arguments of :func:`encode_for_store`)."""

    target: CoercionTarget | None
    modifying_system: str
    now: datetime
    add_other_patient_ids: bool


def _coerced(ds: Dataset, how: _How, *, implicit: bool, little: bool) -> bytes | None:
    """``ds`` (a header as read) coerced as ``how`` says and encoded in the file's encoding;
    ``None`` when the coercion had to change the character set (pydicom then writes every
    text value anew, and the pixel data too: not the file's bytes) or pydicom cannot encode
    it. Raises :class:`AmbiguousValue`."""
    refuse_ambiguous_values(ds)
    if how.target is not None:
        coerce_in_place(
            ds,
            how.target,
            modifying_system=how.modifying_system,
            now=how.now,
            add_other_patient_ids=how.add_other_patient_ids,
        )
    if ds.original_character_set != ds._character_set:
        return None
    return encode(ds, implicit, little)


def _encode_read(
    path: Path, stamp: str | None, how: _How, in_memory_bytes: int
) -> EncodedInstance | None:
    """:func:`encode_for_store` with the header read by pydicom, coerced and encoded whole."""
    with open_unchanged(path, stamp) as fp:
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
        if not raw.verbatim_tail(walked, start, implicit=implicit, little=little, after=last):
            return None
    _fix_meta(ds)
    header = _coerced(ds, how, implicit=implicit, little=little)
    if header is None:
        return None
    return EncodedInstance(
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
        implicit_vr=implicit,
        little_endian=little,
        data=header + tail,
        rest=None if length <= in_memory_bytes else FileRange(path, offset, length, stamp),
    )


# --------------------------------------------------------------------------- the spliced header

HEAD_BYTES: Final = 1024 * 1024
"""Of a file over ``in_memory_bytes``, the first bytes read to find its header in; a header
that does not end within them is read by pydicom instead."""
_PREAMBLE: Final = 128
_MAGIC: Final = b"DICM"
_TRANSFER_SYNTAX: Final = 0x00020010
_SOP_CLASS: Final = 0x00080016
_SOP_INSTANCE: Final = 0x00080018
_CHARACTER_SET: Final = 0x00080005
_FIRST_DATA_SET_GROUP: Final = 0x0008
_ITEM_GROUP: Final = 0xFFFE


@dataclass(frozen=True, slots=True)
class _Element:
    """A top-level element of the header, where it is in the file's bytes."""

    tag: int
    start: int
    end: int
    vr: str | None
    """The VR written (explicit VR), else the dictionary's (None: private or unknown)."""
    value_start: int
    undefined: bool
    plain: bool
    """Every text value in it (its items' too) is plain ASCII (:func:`_plain`), and none of its
    items has a character set of its own."""


class _NotSpliced(Exception):
    """The header cannot be spliced: it is read by pydicom instead (:func:`_encode_read`)."""


def _spliced(
    path: Path, stamp: str | None, how: _How, in_memory_bytes: int
) -> EncodedInstance | None:
    """The instance with its header spliced: the file's elements as they are, those of
    :data:`COERCION_TAGS` replaced by their coerced encoding (:func:`_coerced_elements`, one
    per distinct set of values). ``None`` where this cannot be sure to hold what
    :func:`_encode_read` gives (:func:`_walk` says when), where a text value would need
    another character set, or where anything after the pixel data is not sent as it is.
    Raises what the coercion raises."""
    try:
        with open_unchanged(path, stamp) as fp:
            size = fp.seek(0, io.SEEK_END)
            in_memory = size <= in_memory_bytes
            fp.seek(0)
            data = fp.read(size if in_memory else HEAD_BYTES)
            elements, (implicit, little), syntax, offset = _walk(data, complete=len(data) == size)
            by_tag = {element.tag: element for element in elements}
            sop_class = _uid(data, by_tag.get(_SOP_CLASS))
            sop_instance = _uid(data, by_tag.get(_SOP_INSTANCE))
            kept = [e for e in elements if how.target is None or e.tag not in COERCION_TAGS]
            pieces = [(e.tag, data[e.start : e.end]) for e in kept]
            if how.target is not None:
                charset = by_tag.get(_CHARACTER_SET)
                if not _texts_hold(data, kept, charset, implicit=implicit, little=little):
                    return None
                projection = b"".join(
                    data[e.start : e.end] for e in elements if e.tag in COERCION_TAGS
                )
                coerced = _coerced_elements(projection, implicit, little, how)
                if coerced is None:
                    return None
                pieces = sorted([*pieces, *coerced])
            walked: BinaryIO = io.BytesIO(data) if in_memory else fp
            last = pieces[-1][0] if pieces else 0
            if not raw.verbatim_tail(walked, offset, implicit=implicit, little=little, after=last):
                return None
    except _NotSpliced:
        return None
    header = b"".join(piece for _, piece in pieces)
    if not _read_alike(header, [tag for tag, _ in pieces], implicit=implicit, little=little):
        return None
    return EncodedInstance(
        sop_class_uid=sop_class,
        sop_instance_uid=sop_instance,
        transfer_syntax_uid=syntax,
        implicit_vr=implicit,
        little_endian=little,
        data=header + data[offset:] if in_memory else header,
        rest=None if in_memory or offset == size else FileRange(path, offset, size - offset, stamp),
    )


def _read_alike(header: bytes, tags: list[int], *, implicit: bool, little: bool) -> bool:
    """Whether pydicom, reading the spliced header as a receiver would, finds exactly the
    top-level elements it was made of: a last check, whatever the walk's rules missed, that no
    element hides in another's bytes for a reader built on pydicom or pynetdicom."""
    try:
        found = read_dataset(io.BytesIO(header), implicit, little)
        return list(map(int, found.keys())) == tags
    except Exception:  # a header pydicom cannot read is not sent spliced
        return False


def _walk(data: bytes, *, complete: bool) -> tuple[list[_Element], tuple[bool, bool], str, int]:
    """The top-level elements of the file's header (up to the pixel data or the end of
    ``data``, the whole file when ``complete``), the data set's encoding, the transfer syntax
    and where the header ends.

    Every element is checked to the bottom of its items to be read the same way by pydicom,
    by the PACS and by :mod:`importer.media.raw`, since its bytes are sent as they are: only
    the VRs of PS3.5 (upper case) in explicit VR, even lengths, an undefined length only for a
    sequence, items and their elements in ascending tag order, within their sequence. Raises
    :class:`_NotSpliced` for anything else, and for a file without preamble and file meta, a
    deflated data set, a data set in the other VR encoding than its transfer syntax says,
    elements of the file meta's or lower groups, and a header that goes on past ``data``."""
    syntax, position = _meta(data)
    uid = UID(syntax)
    if not uid.is_transfer_syntax or uid == DeflatedExplicitVRLittleEndian:
        raise _NotSpliced
    implicit, little = uid == ImplicitVRLittleEndian, uid != ExplicitVRBigEndian
    if position < len(data) and implicit == _looks_explicit(data, position):
        raise _NotSpliced  # pydicom would read it in the other VR encoding
    elements: list[_Element] = []
    previous = 0
    try:
        while position < len(data):
            if raw.parse_header(data, position, implicit=implicit, little=little).tag in (
                raw.PIXEL_TAGS
            ):
                break
            element = _element(data, position, implicit=implicit, little=little, depth=0)
            group = element.tag >> 16
            if element.tag <= previous or group < _FIRST_DATA_SET_GROUP or group == _ITEM_GROUP:
                raise _NotSpliced  # out of order, repeated, file meta, commands or delimiters
            previous = element.tag
            position = element.end
            if element.tag & 0xFFFF:  # not a group length (pydicom does not write them)
                elements.append(element)
        else:
            if not complete:
                raise _NotSpliced  # the header goes on past what was read
    except raw.RawError:
        raise _NotSpliced from None
    return elements, (implicit, little), syntax, position


_MAX_DEPTH: Final = 16
"""Sequences nested deeper are read by pydicom (real headers nest a few levels)."""


def _element(data: bytes, position: int, *, implicit: bool, little: bool, depth: int) -> _Element:
    """The element at ``position``, checked as :func:`_walk` says (its items too). Raises
    :class:`_NotSpliced` or :class:`raw.RawError`."""
    header = raw.parse_header(data, position, implicit=implicit, little=little)
    if implicit:
        vr = implicit_vr(header.tag)
    else:
        if header.vr is None or header.vr not in raw.VRS:
            raise _NotSpliced  # not a VR of PS3.5: each reader guesses its own way
        vr = header.vr.decode()
        if vr == "UN" and (header.undefined or implicit_vr(header.tag) is not None):
            raise _NotSpliced  # pydicom reads it as a sequence, or with its known VR
    sequence = vr == "SQ" or (implicit and vr is None and header.undefined)
    if header.undefined and not sequence:
        raise _NotSpliced  # a value that ends at a delimiter: not sent as we walked it
    if not header.undefined and (header.length % 2 or header.end > len(data)):
        raise _NotSpliced  # an odd length (pydicom pads it) or past the data
    plain = True
    if sequence:
        end, plain = _items(data, header, implicit=implicit, little=little, depth=depth + 1)
    else:
        end = header.end
        if vr in TEXT_VRS:
            plain = _plain(data[header.value_offset : end])
        elif vr in (None, "UN") and _starts_an_item(data, header):
            raise _NotSpliced  # a reader whose dictionary knows it may read it as a sequence
    return _Element(header.tag, position, end, vr, header.value_offset, header.undefined, plain)


def _items(
    data: bytes, header: raw.Header, *, implicit: bool, little: bool, depth: int
) -> tuple[int, bool]:
    """Where the sequence of ``header`` ends, and whether all its text is plain; its items and
    their elements checked as :func:`_walk` says."""
    if depth > _MAX_DEPTH:
        raise _NotSpliced
    plain = True
    position = header.value_offset
    end = None if header.undefined else header.end
    while end is None or position < end:
        item = raw.parse_header(data, position, implicit=True, little=little)
        if item.tag == raw.SEQUENCE_END and end is None:
            return item.value_offset, plain
        if item.tag != raw.ITEM or (not item.undefined and item.length % 2):
            raise _NotSpliced
        stop = len(data) if item.undefined else item.end
        if stop > len(data) or (end is not None and stop > end):
            raise _NotSpliced
        inner, previous = item.value_offset, -1
        if implicit and inner < stop and _looks_explicit(data, inner):
            raise _NotSpliced  # pydicom would read this item in explicit VR
        while inner < stop:
            nested = raw.parse_header(data, inner, implicit=implicit, little=little)
            if nested.tag == raw.ITEM_END and item.undefined:
                inner = nested.value_offset
                break
            element = _element(data, inner, implicit=implicit, little=little, depth=depth)
            if element.tag <= previous or element.tag >> 16 == _ITEM_GROUP:
                raise _NotSpliced
            previous = element.tag
            plain = plain and element.plain and element.tag != _CHARACTER_SET
            inner = element.end
        else:
            if item.undefined or inner != stop:
                raise _NotSpliced  # an item not closed, or its elements past its end
        position = inner
    if position != end:
        raise _NotSpliced
    return position, plain


def _looks_explicit(data: bytes, position: int) -> bool:
    """pydicom's own test of the VR encoding at the start of a data set or item: bytes 4 and 5
    of its first element are both capital letters (then read as a VR)."""
    pair = data[position + 4 : position + 6]
    return len(pair) == 2 and all(0x40 < byte < 0x5B for byte in pair)


_ITEM_GROUPS: Final = (struct.pack("<H", _ITEM_GROUP), struct.pack(">H", _ITEM_GROUP))


def _starts_an_item(data: bytes, header: raw.Header) -> bool:
    """Whether a value the file does not call a sequence starts with a tag of group FFFE (an
    item, an item or sequence delimiter), in either byte order (a UN value's items are little
    endian whatever the file's): a reader whose dictionary calls it a sequence would end it
    there, or read on past its length."""
    return data[header.value_offset : header.value_offset + 2] in _ITEM_GROUPS


def _meta(data: bytes) -> tuple[str, int]:
    """The transfer syntax of a file with preamble and file meta, and where its data set
    starts (after the last element of group 0002, as pydicom reads it). Raises
    :class:`_NotSpliced` for a file without them, or with a header in them that is not a VR
    of PS3.5."""
    if data[_PREAMBLE : _PREAMBLE + len(_MAGIC)] != _MAGIC:
        raise _NotSpliced
    position = _PREAMBLE + len(_MAGIC)
    syntax = None
    try:
        while True:
            header = raw.parse_header(data, position, implicit=False, little=True)
            if header.group != 0x0002:
                break
            if header.vr not in raw.VRS or header.undefined or header.end > len(data):
                raise _NotSpliced
            if header.tag == _TRANSFER_SYNTAX:
                syntax = _text(data[header.value_offset : header.end])
            position = header.end
    except raw.Truncated:
        raise _NotSpliced from None
    if not syntax:
        raise _NotSpliced
    return syntax, position


def _text(value: bytes) -> str | None:
    try:
        return value.decode("ascii").rstrip("\0 ")
    except UnicodeDecodeError:
        return None


def _uid(data: bytes, element: _Element | None) -> str:
    """A UID element's value, as pydicom gives it (trailing padding removed). Raises
    :class:`_NotSpliced` when it is missing (pydicom's read then tells what is wrong)."""
    value = (
        None
        if element is None or element.undefined
        else _text(data[element.value_start : element.end])
    )
    if not value:
        raise _NotSpliced
    return value


def _plain(value: bytes) -> bool:
    """Bytes that decode to the same ASCII characters in every character set (no byte over
    0x7F, no escape sequence of ISO 2022)."""
    return value.isascii() and b"\x1b" not in value


def _texts_hold(
    data: bytes,
    elements: list[_Element],
    charset: _Element | None,
    *,
    implicit: bool,
    little: bool,
) -> bool:
    """Whether the file's character set holds every text value of ``elements`` (the elements
    the coercion leaves as they are), as the coercion checks them: plain ASCII values are held
    by any; the others are decoded by pydicom, with the file's Specific Character Set, and
    checked by the coercion's own rule (:func:`text_values`, :func:`representable`)."""
    unsure = [e for e in elements if not e.plain]
    if not unsure:
        return True
    found = unsure if charset is None else [charset, *unsure]
    try:
        ds = read_dataset(
            io.BytesIO(b"".join(data[e.start : e.end] for e in found)), implicit, little
        )
        return all(representable(value, charset_terms(ds)) for value in text_values(ds))
    except Exception:
        return False


_CACHED_PROJECTION_BYTES: Final = 64 * 1024
"""A larger set of the coercion's attributes (a long Original Attributes history) is coerced
each time, not remembered."""


def _coerced_elements(
    projection: bytes, implicit: bool, little: bool, how: _How
) -> tuple[tuple[int, bytes], ...] | None:
    """The coerced attributes of a header whose :data:`COERCION_TAGS` elements are
    ``projection``: each top-level element of the coercion's result, encoded as the whole
    header would be. ``None`` when the coercion changes the character set (every text value
    would then be written anew). Remembered (:func:`_remembered`) for the study's other
    instances, which share these values. Raises what the coercion raises (never remembered)."""
    if len(projection) > _CACHED_PROJECTION_BYTES:
        return _coerce_projection(projection, implicit, little, how)
    # the instant as the coercion writes it: equal datetimes in two time zones differ there
    return _remembered(projection, implicit, little, how, coerce_stamp(how.now))


@functools.lru_cache(maxsize=16)
def _remembered(
    projection: bytes, implicit: bool, little: bool, how: _How, stamp: str
) -> tuple[tuple[int, bytes], ...] | None:
    """:func:`_coerce_projection`, remembered for the last few distinct sets of values
    (``stamp`` is part of the key only); :func:`forget` clears it."""
    return _coerce_projection(projection, implicit, little, how)


def forget() -> None:
    """Drop the remembered coercions (a store stage calls it when it ends: the patient data
    they hold need not outlive the import)."""
    _remembered.cache_clear()


def _coerce_projection(
    projection: bytes, implicit: bool, little: bool, how: _How
) -> tuple[tuple[int, bytes], ...] | None:
    encoded = _coerced(
        read_dataset(io.BytesIO(projection), implicit, little),
        how,
        implicit=implicit,
        little=little,
    )
    if encoded is None:
        return None
    view = io.BytesIO(encoded)
    return tuple(
        (
            header.tag,
            encoded[
                header.offset : raw.element_end(view, header, implicit=implicit, little=little)
            ],
        )
        for header in raw.elements(view, implicit=implicit, little=little)
    )


def _at_pixel_data(tag: BaseTag, vr: str | None, length: int) -> bool:
    return int(tag) in raw.PIXEL_TAGS
