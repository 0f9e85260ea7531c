"""What a compressed frame says of itself, checked against what the object declares before
any decoder of the chain is given it: pylibjpeg decodes a JPEG stream cut short into an image
of whatever it had, dcmtk's tools fill an image larger than its JPEG stream, or a truncated RLE
segment, with padding, and each reports success. A frame must never be sent with pixels no
stream held.

- JPEG and JPEG-LS: the frame header (SOF, or JPEG-LS's SOF55) gives the rows, columns,
  components and sample precision, and the stream ends with its end of image marker;
- JPEG 2000: the SIZ marker gives the image size, and the codestream ends with its end marker;
- RLE: the 64-byte header gives the segments, one per byte of each sample, each inside the
  frame.
"""

from __future__ import annotations

import itertools
import struct
from typing import Final, NamedTuple

from pydicom.uid import UID, JPEG2000TransferSyntaxes, RLELossless

_SOF: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
)
"""Start of frame markers: JPEG's processes, and JPEG-LS's SOF55 (0xF7)."""
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD9)})
"""Markers without a length: TEM, RST0-7, SOI."""
_J2K: Final = frozenset(JPEG2000TransferSyntaxes)
_END_SLACK: Final = 4
"""Bytes a frame may hold after its end marker (padding, a writer's stray bytes)."""
_SOS: Final = 0xDA
_EOI: Final = 0xD9


class Geometry(NamedTuple):
    rows: int
    columns: int
    components: int
    precision: int


class StreamMismatch(ValueError):
    """The frame's own header disagrees with the object's, or cannot be found."""


def jpeg_geometry(src: bytes) -> Geometry:
    """The frame header of a JPEG or JPEG-LS stream: its first start of frame, before any scan.
    Raises :class:`StreamMismatch` when the stream has none there."""
    if src[:2] != b"\xff\xd8":
        raise StreamMismatch("the frame does not start as a JPEG stream")
    at = 2
    while at + 4 <= len(src):
        if src[at] != 0xFF:
            raise StreamMismatch("a JPEG marker was expected")
        marker = src[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        if marker in (_SOS, _EOI):
            break
        (length,) = struct.unpack_from(">H", src, at + 2)
        if marker in _SOF:
            if length < 8 or at + 2 + length > len(src):
                break
            precision, rows, columns, components = struct.unpack_from(">BHHB", src, at + 4)
            return Geometry(rows, columns, components, precision)
        at += 2 + length
    raise StreamMismatch("no frame header before the scan")


def point_transform(src: bytes) -> int:
    """The point transform of a lossless JPEG's first scan (its SOS's Al), 0 when it has none
    to be found."""
    at = 2
    while at + 4 <= len(src) and src[at] == 0xFF:
        marker = src[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker in _STANDALONE:
            at += 2
            continue
        (length,) = struct.unpack_from(">H", src, at + 2)
        if marker == _SOS:
            components = src[at + 4] if at + 4 < len(src) else 0
            approximation = at + 4 + 1 + 2 * components + 2
            return src[approximation] & 0x0F if approximation < len(src) else 0
        at += 2 + length
    return 0


def check_frame(src: bytes, syntax: UID, rows: int, columns: int, samples: int, bits: int) -> None:
    """Raise :class:`StreamMismatch` unless the frame is whole and its own header agrees with
    the object's rows, columns, samples per pixel and bits allocated (room for JPEG's sample
    precision; one RLE segment a byte of each sample):

    - RLE: the header's segments, each starting inside the frame, in order;
    - JPEG and JPEG-LS: the frame header's size, and the end of image marker last;
    - JPEG 2000: the image size (SIZ) where the codestream starts with it, and the end of
      codestream marker last.

    A decoder may decode a stream cut short into an image of whatever it had (pylibjpeg does,
    for JPEG) and dcmtk pads one: no decoder is given such a frame."""
    if syntax == RLELossless:
        _check_rle(src, samples * ((bits + 7) // 8))
        return
    # EOI, or JPEG 2000's EOC (the same two bytes, which no coded data holds) in the last bytes:
    # a fragment is padded to an even length, and some writers leave a byte or two after it
    end = src.rfind(b"\xff\xd9", max(len(src) - _END_SLACK - 2, 0))
    if end < 0:
        raise StreamMismatch("the frame is cut short: it does not end as a whole stream")
    if syntax in _J2K:
        found = _j2k_geometry(src)
        if found is not None and (found.rows, found.columns, found.components) != (
            rows,
            columns,
            samples,
        ):
            raise StreamMismatch("the JPEG 2000 image size disagrees with the image's")
        return
    found = jpeg_geometry(src)
    # rows 0: given later by a DNL marker (never seen on media): not checked, so refused
    if (found.rows, found.columns, found.components) != (rows, columns, samples):
        raise StreamMismatch("the JPEG frame header disagrees with the image's size")
    if found.precision > bits:
        raise StreamMismatch("the JPEG frame has more bits a sample than the image")


def _check_rle(src: bytes, segments: int) -> None:
    if len(src) < 64:
        raise StreamMismatch("the RLE header is cut short")
    count, *offsets = struct.unpack_from("<16I", src, 0)
    if count != segments:
        raise StreamMismatch("the RLE header has another number of segments")
    used = offsets[:count]
    if used[0] != 64 or any(b <= a for a, b in itertools.pairwise(used)):
        raise StreamMismatch("the RLE segments are not in order after the header")
    if used[-1] >= len(src):
        raise StreamMismatch("an RLE segment starts past the end of the frame")


def _j2k_geometry(src: bytes) -> Geometry | None:
    """The image size of a JPEG 2000 codestream that starts with SOC and SIZ (a JP2 file's
    boxes are not looked into: its end is still checked)."""
    if src[:4] != b"\xff\x4f\xff\x51" or len(src) < 42:
        return None
    xsiz, ysiz, xosiz, yosiz = struct.unpack_from(">4I", src, 8)
    (components,) = struct.unpack_from(">H", src, 40)
    return Geometry(ysiz - yosiz, xsiz - xosiz, components, 0)
