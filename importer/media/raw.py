"""DICOM element headers read from the bytes, without pydicom: the one place that knows how an
element is laid out (PS3.5 section 7), for the three places that cannot ask pydicom:

- the deflate guard (:mod:`importer.media.deflate`) walks the file meta before pydicom inflates
  anything;
- the scan (:mod:`importer.media.scan`) checks that the pixel data, where pydicom stopped
  reading, fits in the file;
- the way to the PACS (:mod:`importer.pipeline.prepare`) sends the file's bytes from the pixel
  data on only when they are a list of elements pydicom would write back byte for byte;
- the archive (:mod:`importer.media.archive`) tells, from an entry's first bytes, whether it
  may be a data set written without preamble (:func:`starts_data_set`) before writing it.

The layout: a tag (group, element), then

- in explicit VR, the two letters of the VR and a 2-byte length; for the VRs of
  :data:`LONG_VRS`, two reserved bytes and a 4-byte length instead. A header whose VR bytes
  are not letters is read as implicit VR: some writers switch to implicit VR in an explicit
  VR file;
- in implicit VR, a 4-byte length;
- items and delimiters (group FFFE) have a tag and a 4-byte length in every encoding.

A length of :data:`UNDEFINED_LENGTH` means the value is a list of items ended by a sequence
delimiter: a sequence's items, each holding a data set (of undefined length too, ended by an
item delimiter), or encapsulated pixel data's fragments (the first one the basic offset table).

Files are read at an offset with ``seek`` and short reads, never whole: pixel data may be
gigabytes. Reading raises :class:`Truncated` where the data ends inside a header or a value,
:class:`Malformed` where something is found that DICOM does not allow there.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

__all__ = [
    "DOUBLE_PIXEL_DATA",
    "FLOAT_PIXEL_DATA",
    "ITEM",
    "ITEM_END",
    "LONG_HEADER",
    "LONG_VRS",
    "MAX_FIRST_LENGTH",
    "PIXEL_DATA",
    "PIXEL_TAGS",
    "SEQUENCE_END",
    "SHORT_HEADER",
    "TAIL_VRS",
    "TRAILING_PADDING",
    "UNDEFINED_LENGTH",
    "VRS",
    "Header",
    "HeaderSize",
    "Malformed",
    "RawError",
    "Truncated",
    "element_end",
    "elements",
    "fragments",
    "fragments_verbatim",
    "header_size",
    "is_item_list",
    "parse_header",
    "read_at",
    "read_header",
    "read_tag",
    "starts_data_set",
    "verbatim_tail",
]

UNDEFINED_LENGTH: Final = 0xFFFFFFFF
ITEM: Final = 0xFFFEE000
ITEM_END: Final = 0xFFFEE00D
"""Item Delimitation Item: ends an item of undefined length."""
SEQUENCE_END: Final = 0xFFFEE0DD
"""Sequence Delimitation Item: ends a value of undefined length."""
PIXEL_DATA: Final = 0x7FE00010
FLOAT_PIXEL_DATA: Final = 0x7FE00008
DOUBLE_PIXEL_DATA: Final = 0x7FE00009
PIXEL_TAGS: Final = frozenset({FLOAT_PIXEL_DATA, DOUBLE_PIXEL_DATA, PIXEL_DATA})
"""Float Pixel Data, Double Float Pixel Data, Pixel Data: where pydicom's
``stop_before_pixels`` stops."""
TRAILING_PADDING: Final = 0xFFFCFFFC
"""Data Set Trailing Padding."""
LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
"""The explicit VRs with two reserved bytes and a 4-byte length."""
VRS: Final = LONG_VRS | frozenset(
    {
        b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO",
        b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
    }
)  # fmt: skip
"""Every explicit VR (PS3.5 6.2)."""
SHORT_HEADER: Final = 8
"""The bytes of the shortest header (and of every implicit VR, item or delimiter header)."""
LONG_HEADER: Final = 12
"""The bytes of an explicit VR header with a long VR."""

_ITEM_GROUP: Final = 0xFFFE
_FIRST_GROUPS: Final = frozenset({0x0002, 0x0004, 0x0008})
"""A data set written without preamble starts with its file meta (0002), a DICOMDIR's own
elements (0004) or the identifying elements (0008)."""
MAX_FIRST_LENGTH: Final = 16 * 1024 * 1024
"""The longest first value :func:`starts_data_set` believes: the first element of those groups
is a short header element (a group length, a character set, image type, a UID)."""
_MAX_DEPTH: Final = 64
"""Sequences nested deeper are refused (hostile files nest them to exhaust the stack)."""


class RawError(ValueError):
    """The bytes are not a well-formed list of elements; ``offset`` is where it shows."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.message = message
        self.offset = offset

    def __reduce__(self) -> tuple[type[RawError], tuple[str, int]]:
        # as it was made: raised in a process that reads headers, it reaches the worker whole
        return type(self), (self.message, self.offset)


class Truncated(RawError):
    """The data ends inside a header or a value."""


class Malformed(RawError):
    """Something DICOM does not allow where it is found (an item tag missing, a delimiter
    out of place, sequences nested too deep)."""


@dataclass(frozen=True, slots=True)
class Header:
    """One element header, and where it is."""

    tag: int
    vr: bytes | None
    """The explicit VR's two letters; None in implicit VR and for items and delimiters."""
    length: int
    """The value's length in bytes, or :data:`UNDEFINED_LENGTH`."""
    offset: int
    """Where the header starts."""
    header_length: int
    """:data:`SHORT_HEADER` or :data:`LONG_HEADER`."""
    reserved: int = 0
    """The two bytes after a long VR (zero when well written)."""

    @property
    def group(self) -> int:
        return self.tag >> 16

    @property
    def element(self) -> int:
        return self.tag & 0xFFFF

    @property
    def undefined(self) -> bool:
        return self.length == UNDEFINED_LENGTH

    @property
    def value_offset(self) -> int:
        """Where the value starts."""
        return self.offset + self.header_length

    @property
    def end(self) -> int:
        """Where a value of defined length ends (raises ValueError for an undefined one)."""
        if self.undefined:
            raise ValueError("a value of undefined length ends at its sequence delimiter")
        return self.value_offset + self.length


def _order(little: bool) -> str:
    return "<" if little else ">"


def _header(data: bytes, start: int, *, implicit: bool, little: bool, at: int) -> Header:
    """The header at ``data[start:]``, reported at offset ``at``."""
    if len(data) - start < SHORT_HEADER:
        raise Truncated("the data ends inside an element header", at)
    order = _order(little)
    group, element = struct.unpack_from(order + "HH", data, start)
    tag = group << 16 | element
    vr = data[start + 4 : start + 6]
    if implicit or group == _ITEM_GROUP or not vr.isalpha():
        (length,) = struct.unpack_from(order + "L", data, start + 4)
        return Header(tag, None, length, at, SHORT_HEADER)
    if vr in LONG_VRS:
        if len(data) - start < LONG_HEADER:
            raise Truncated("the data ends inside an element header", at)
        reserved, length = struct.unpack_from(order + "HL", data, start + 6)
        return Header(tag, vr, length, at, LONG_HEADER, reserved)
    (length,) = struct.unpack_from(order + "H", data, start + 6)
    return Header(tag, vr, length, at, SHORT_HEADER)


def parse_header(data: bytes, offset: int = 0, *, implicit: bool, little: bool) -> Header:
    """The element header at ``data[offset:]``. Raises :class:`Truncated` when ``data`` ends
    inside it."""
    return _header(data, offset, implicit=implicit, little=little, at=offset)


def starts_data_set(head: bytes) -> bool:
    """Whether ``head``, a file's first bytes, may start a data set written without preamble
    or file meta (old exports): its first element, in either byte order, is in group 0002,
    0004 or 0008, with a known VR when written explicit, and a value of undefined length or of
    at most :data:`MAX_FIRST_LENGTH` bytes. A guess that lets every such file through and
    stops most other bytes; pydicom decides."""
    for little in (True, False):
        for implicit in (True, False):
            try:
                header = parse_header(head, implicit=implicit, little=little)
            except Truncated:
                continue
            if (
                header.group in _FIRST_GROUPS
                and (header.vr is None or header.vr in VRS)
                and (header.undefined or header.length <= MAX_FIRST_LENGTH)
            ):
                return True
    return False


def read_at(fp: BinaryIO, offset: int, size: int) -> bytes:
    """At most ``size`` bytes of ``fp`` from ``offset`` (fewer at the end of the file)."""
    fp.seek(offset)
    return fp.read(size)


def read_tag(fp: BinaryIO, offset: int, *, little: bool) -> int | None:
    """The tag of the element at ``offset``, None where the file ends; raises
    :class:`Truncated` when the file ends before the shortest header would."""
    head = read_at(fp, offset, SHORT_HEADER)
    if not head:
        return None
    if len(head) < SHORT_HEADER:
        raise Truncated("the data ends inside an element header", offset)
    group, element = struct.unpack_from(_order(little) + "HH", head)
    return int(group << 16 | element)


def read_header(fp: BinaryIO, offset: int, *, implicit: bool, little: bool) -> Header:
    """The element header at ``offset`` in ``fp``. Raises :class:`Truncated` when the file
    ends inside it."""
    head = read_at(fp, offset, LONG_HEADER)
    return _header(head, 0, implicit=implicit, little=little, at=offset)


def _size(fp: BinaryIO) -> int:
    return fp.seek(0, io.SEEK_END)


def elements(fp: BinaryIO, offset: int = 0, *, implicit: bool, little: bool) -> Iterator[Header]:
    """The top-level elements from ``offset`` to the end of ``fp``: each header, then the next
    one after its value. A value of undefined length is passed over up to its sequence
    delimiter, through nested sequences and items; raises :class:`Truncated` or
    :class:`Malformed` (when the walk reaches it) where the elements are not well formed."""
    size = _size(fp)
    position = offset
    while position < size:
        header = read_header(fp, position, implicit=implicit, little=little)
        yield header
        position = _after(fp, header, implicit=implicit, little=little, size=size, depth=0)


def element_end(fp: BinaryIO, header: Header, *, implicit: bool, little: bool) -> int:
    """Where the element of ``header`` (read from ``fp``) ends, its value included: a value of
    undefined length is walked to its sequence delimiter. Raises :class:`Truncated` or
    :class:`Malformed` like :func:`elements`."""
    return _after(fp, header, implicit=implicit, little=little, size=_size(fp), depth=0)


def is_item_list(value: bytes, *, little: bool = True) -> bool:
    """Whether ``value`` is exactly a list of well-formed items in implicit VR, as the value of
    a sequence of defined length is (items of defined length within it, or of undefined length
    closed by their delimiter; their elements, nested sequences included, within them; no
    stray delimiter): every reader that takes it for a sequence then ends it where its length
    says."""
    try:
        return _item_list(value, 0, len(value), little=little, depth=0) == len(value)
    except RawError:
        return False


def _item_list(data: bytes, position: int, end: int | None, *, little: bool, depth: int) -> int:
    """Where the items from ``position`` end: at ``end``, or (``None``) after their sequence
    delimiter. Raises :class:`RawError` where they are not well formed."""
    if depth > _MAX_DEPTH:
        raise Malformed("sequences are nested too deep", position)
    while end is None or position < end:
        item = parse_header(data, position, implicit=True, little=little)
        if end is None and item.tag == SEQUENCE_END:
            return item.value_offset
        if item.tag != ITEM:
            raise Malformed("a sequence holds something other than an item", position)
        stop = len(data) if item.undefined else item.end
        if stop > (len(data) if end is None else end):
            raise Truncated("an item runs past its sequence", position)
        inner = item.value_offset
        while True:
            if not item.undefined and inner == stop:
                break
            element = parse_header(data, inner, implicit=True, little=little)
            if item.undefined and element.tag == ITEM_END:
                inner = element.value_offset
                break
            if element.group == _ITEM_GROUP:
                raise Malformed("a delimiter out of place", inner)
            if element.undefined:
                inner = _item_list(data, element.value_offset, None, little=little, depth=depth + 1)
            else:
                inner = element.end
            if inner > stop:
                raise Truncated("an element runs past its item", element.offset)
        position = inner
    return position


@dataclass(frozen=True, slots=True)
class HeaderSize:
    """What a data set holds before its pixel data, as :func:`header_size` counted it."""

    elements: int
    """Top-level elements."""
    bytes: int
    """Bytes walked, nested sequences included, bulk values left out."""


def header_size(
    fp: BinaryIO,
    offset: int = 0,
    *,
    implicit: bool,
    little: bool,
    max_elements: int,
    max_bytes: int,
    bulk: Callable[[Header], bool] = lambda _: False,
) -> HeaderSize:
    """Count the data set from ``offset`` up to its pixel data (or the end of ``fp``): its
    top-level elements and its bytes, leaving out the values of top-level elements ``bulk``
    says a reader keeps on disk. Stops as soon as either count passes its budget (the counts
    returned are then over it), so the walk costs no more than the budgets, even inside one
    huge sequence. Raises :class:`Truncated` or :class:`Malformed` like :func:`elements`."""
    size = _size(fp)
    position = offset
    elements = 0
    left_out = 0
    while position < size:
        header = read_header(fp, position, implicit=implicit, little=little)
        if header.tag in PIXEL_TAGS:
            break
        elements += 1
        if elements > max_elements:
            break
        if not header.undefined and bulk(header):
            left_out += header.length
        stop = offset + left_out + max_bytes
        position = _after(
            fp, header, implicit=implicit, little=little, size=size, depth=0, stop=stop
        )
        if position > stop:
            break
    return HeaderSize(elements, position - offset - left_out)


def fragments(fp: BinaryIO, offset: int, *, little: bool) -> Iterator[Header]:
    """The items of encapsulated pixel data whose value starts at ``offset`` (the first one
    the basic offset table, maybe empty), then its sequence delimiter. Raises
    :class:`Truncated` where the file ends before the delimiter, :class:`Malformed` at
    anything but an item of defined length."""
    size = _size(fp)
    position = offset
    while True:
        item = read_header(fp, position, implicit=True, little=little)
        if item.tag == SEQUENCE_END:
            yield item
            return
        if item.tag != ITEM or item.undefined:
            raise Malformed("encapsulated pixel data holds something other than an item", position)
        yield item
        position = item.end
        if position > size:
            raise Truncated("the file ends inside a pixel data fragment", item.offset)


def _after(
    fp: BinaryIO,
    header: Header,
    *,
    implicit: bool,
    little: bool,
    size: int,
    depth: int,
    stop: int | None = None,
) -> int:
    """Where the element of ``header`` ends, its value included; with ``stop``, a position
    past ``stop`` as soon as the walk passes it (the element is not walked to its end)."""
    if not header.undefined:
        if header.end > size:
            raise Truncated("the file ends inside an element's value", header.offset)
        return header.end
    if header.tag == PIXEL_DATA:
        *_, delimiter = fragments(fp, header.value_offset, little=little)
        return delimiter.value_offset
    if depth >= _MAX_DEPTH:
        raise Malformed("sequences are nested too deep", header.offset)
    if header.vr == b"UN":  # PS3.5 6.2.2: its items are in Implicit VR Little Endian
        implicit, little = True, True
    position = header.value_offset
    while True:
        if stop is not None and position > stop:
            return position
        item = read_header(fp, position, implicit=True, little=little)
        if item.tag == SEQUENCE_END:
            return item.value_offset
        if item.tag != ITEM:
            raise Malformed("a sequence holds something other than an item", position)
        if not item.undefined:
            position = _after(
                fp, item, implicit=implicit, little=little, size=size, depth=depth, stop=stop
            )
            continue
        position = item.value_offset
        while True:  # the item's data set, up to its item delimiter
            if stop is not None and position > stop:
                return position
            inner = read_header(fp, position, implicit=implicit, little=little)
            if inner.tag == ITEM_END:
                position = inner.value_offset
                break
            if inner.group == _ITEM_GROUP:
                raise Malformed("an item is not closed by an item delimiter", position)
            position = _after(
                fp, inner, implicit=implicit, little=little, size=size, depth=depth + 1, stop=stop
            )


TAIL_VRS: dict[int, tuple[bytes, ...]] = {
    FLOAT_PIXEL_DATA: (b"OF",),
    DOUBLE_PIXEL_DATA: (b"OD",),
    PIXEL_DATA: (b"OB", b"OW"),
    TRAILING_PADDING: (b"OB",),
}
"""The elements that may follow the header in a file sent as it is, with their VRs (all of
them with a 4-byte length in explicit VR): bulk binary values that the coercion never reads
and pydicom writes back exactly as it read them."""


def verbatim_tail(data: BinaryIO, offset: int, *, implicit: bool, little: bool, after: int) -> bool:
    """Whether ``data`` from ``offset`` (the file from the pixel data element on) holds only
    elements of :data:`TAIL_VRS`, in ascending tag order after ``after`` (the header's last
    tag), that pydicom reads as raw values and writes back byte for byte: explicit VRs as
    listed, reserved bytes zero, even defined lengths within the file, or (Pixel Data, explicit
    VR) encapsulated fragments ending with a zero-length sequence delimiter; nothing else up to
    the end."""
    previous = after
    try:
        for header in elements(data, offset, implicit=implicit, little=little):
            vrs = TAIL_VRS.get(header.tag)
            if vrs is None or header.tag <= previous:
                return False
            if not implicit and (header.vr not in vrs or header.reserved != 0):
                return False
            if header.undefined:
                if implicit or header.tag != PIXEL_DATA:
                    return False
                if not fragments_verbatim(data, header.value_offset, little=little):
                    return False
            elif header.length % 2:
                return False
            previous = header.tag
    except RawError:
        return False
    return True


def fragments_verbatim(data: BinaryIO, start: int, *, little: bool) -> bool:
    """Whether the encapsulated pixel data starting at ``start`` is as pydicom writes it: a
    basic offset table item first (pydicom refuses to write pixel data without one), items of
    defined length within the file, a sequence delimiter of zero length (pydicom writes a zero
    one whatever it read). Raises what walking the fragments raises."""
    items = list(fragments(data, start, little=little))
    return items[0].tag == ITEM and items[-1].length == 0
