"""The decoder chain: every well-kept decoder this machine has for compressed pixel data, tried
in a fixed order until one decodes the whole instance (issue 17; docs/media.md, "When the PACS
takes no compressed images").

For a compressed transfer syntax, the chain is:

1. **pydicom's own plugins** for that syntax, in pydicom's order: pylibjpeg (with its libjpeg,
   openjpeg and rle plugins), Pillow, pydicom's RLE decoder.
2. **GDCM** (the ``python-gdcm`` wheel), through pydicom's ``gdcm`` plugin.
3. **GDCM for 12-bit JPEG Extended** (``gdcm-12bit``, :mod:`importer.media.decoders.gdcm12`):
   GDCM's frame decoder for JPEG Extended samples of more than 8 bits, which pydicom's plugin
   turns away although GDCM decodes them.
4. **dcmtk** (``dcmtk``, :mod:`importer.media.decoders.dcmtk`): Debian's ``dcmdjpeg``,
   ``dcmdjpls`` and ``dcmdrle``, where installed, one frame at a time.

Each decoder decodes the whole instance or is not used for it: a multi-frame object is never
decoded partly by one decoder and partly by another. Every decoding here is lossless with
respect to the file (the values the file's compression holds, no re-compression); where the
file's compression was lossy, the object says so (*Lossy Image Compression* "01",
:func:`importer.pacs.transcode.to_little_endian`).

Importing this module makes pydicom's own order the chain's (:func:`_register`, with
pydicom's public plugin interface), so that whatever decodes pixel data in this process (the
thumbnails, the viewer) tries the same decoders in the same order.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import threading
from typing import Final

from pydicom import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels.decoders.base import Decoder, get_decoder
from pydicom.uid import (
    UID,
    JPEG2000TransferSyntaxes,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
    RLETransferSyntaxes,
)

from importer.media.decoders import dcmtk, gdcm12
from importer.media.decoders.stream import StreamMismatch, check_frame, point_transform

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_DECODED_BYTES",
    "OURS",
    "DecodeFailed",
    "chain",
    "decoded_size",
    "decompress",
    "max_stream_bytes",
    "plan",
]


OURS: Final = (
    ("gdcm-12bit", ("importer.media.decoders.gdcm12", "decode_frame"), gdcm12.SYNTAXES),
    ("dcmtk", ("importer.media.decoders.dcmtk", "decode_frame"), dcmtk.SYNTAXES),
)
"""Our plugins: label, pydicom import path, the transfer syntaxes each may decode."""
FIRST: Final = ("pylibjpeg", "pillow", "pyjpegls", "pydicom")
"""pydicom's plugins tried first, in this order (pydicom's own, GDCM aside); a plugin a later
pydicom adds comes after these, before GDCM."""
GDCM: Final = ("gdcm", ("pydicom.pixels.decoders.gdcm", "_decode_frame"))
"""pydicom's GDCM plugin: second in the chain (pydicom tries it first of all)."""
PYLIBJPEG: Final = ("pylibjpeg", ("pydicom.pixels.decoders.pylibjpeg", "_decode_frame"))
GDCM_FIRST: Final = frozenset({JPEGLossless, JPEGLosslessSV1})
"""Lossless JPEG: GDCM first. pylibjpeg decodes a lossless JPEG with a point transform (``dcmcjpeg
+el +pt 2``) into a blank image and reports success; GDCM and dcmtk decode it right."""
MAX_DECODED_BYTES: Final = 512 * 1024**2
"""An image is not decoded when it would take more than this (the header's rows, columns,
samples, bits and frames): it is not sent, rather than held three or four times in the
worker's memory (pydicom keeps the frames, then joins them; the encoding copies them again;
the worker's systemd unit allows 3 GiB). One object is decoded at a time."""
STREAM_MARGIN: Final = 1024**2
_ONE_AT_A_TIME: Final = threading.Lock()
"""The store's sending threads decode one object at a time: two at the cap would not fit."""
COMPRESSED: Final = (
    *JPEGTransferSyntaxes,
    *JPEGLSTransferSyntaxes,
    *JPEG2000TransferSyntaxes,
    *RLETransferSyntaxes,
)


class DecodeFailed(Exception):
    """No decoder of the chain could decode the pixel data; ``tried`` names them in order
    (none: no decoder is tried, for ``reason``)."""

    def __init__(
        self, syntax: str, tried: list[str], reason: str = "", *, transient: bool = False
    ) -> None:
        self.syntax = syntax
        self.tried = tried
        self.transient = transient
        """A decoder failed for a reason of the moment (a tool timed out, a full temporary
        folder, memory): a retry may decode it."""
        name = UID(syntax).name or syntax
        super().__init__(
            f"no decoder could decode {name} ({reason})"
            if reason
            else f"no decoder could decode {name} (tried: {', '.join(tried) or 'none installed'})"
        )


def _decoders() -> list[Decoder]:
    found = []
    for syntax in COMPRESSED:
        try:
            found.append(get_decoder(syntax))
        except NotImplementedError:  # a syntax this pydicom has no decoder for
            continue
    return found


def _move_last(decoder: Decoder, label: str, path: tuple[str, str]) -> None:
    with contextlib.suppress(ValueError):  # not a plugin of that decoder
        decoder.remove_plugin(label)
        decoder.add_plugin(label, path)


def _register() -> None:
    """pydicom's own order made the chain's, in this process (pydicom tries plugins in the
    order they were added, when none is named): its GDCM plugin moved after its others, or
    pylibjpeg after GDCM for lossless JPEG, then ours added last (pydicom's public plugin
    interface: ``remove_plugin``, ``add_plugin``)."""
    ours = {label: (path, syntaxes) for label, path, syntaxes in OURS}
    for decoder in _decoders():
        if decoder.UID in GDCM_FIRST:
            _move_last(decoder, *PYLIBJPEG)
        else:
            _move_last(decoder, *GDCM)
        for label, (path, syntaxes) in ours.items():
            if decoder.UID in syntaxes:
                with contextlib.suppress(ValueError):  # added already
                    decoder.add_plugin(label, path)


def chain(transfer_syntax: str) -> list[str]:
    """The labels of the decoders this machine has for ``transfer_syntax``, in the order they
    are tried."""
    uid = UID(transfer_syntax)
    available = set(get_decoder(uid).available_plugins)
    ours = [label for label, _, _ in OURS]
    first = [GDCM[0], *FIRST] if uid in GDCM_FIRST else list(FIRST)
    known = [p for p in first if p in available]
    others = sorted(available - set(known) - {GDCM[0], *ours})
    last = [] if uid in GDCM_FIRST else [GDCM[0]]
    return known + others + [p for p in [*last, *ours] if p in available]


def decoded_size(ds: Dataset) -> int:
    """The bytes ``ds``'s pixel data takes once decoded, as its header declares them."""
    frames = int(ds.get("NumberOfFrames") or 1)
    samples = int(ds.get("SamplesPerPixel") or 1)
    bits = int(ds.get("BitsAllocated") or 8)
    return int(ds.Rows) * int(ds.Columns) * samples * frames * ((bits + 7) // 8)


def max_stream_bytes(decoded: int) -> int:
    """The most compressed data an image of ``decoded`` bytes may come in: twice the image, and
    a MiB (no compression doubles an image; RLE and JPEG of noise grow it by a few percent).
    More is not an image of that size: it is refused before it is read whole (the analysis,
    :func:`importer.pipeline.pacs_fit.convertible`) or given to any decoder."""
    return 2 * decoded + STREAM_MARGIN


def _check_frames(ds: Dataset, syntax: UID) -> bool:
    """Every frame whole and agreeing with the image (:func:`stream.check_frame`), before any
    decoder is given one; whether a lossless JPEG frame has a point transform (which pylibjpeg
    decodes wrong)."""
    frames = int(ds.get("NumberOfFrames") or 1)
    extended = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    image = (
        int(ds.Rows),
        int(ds.Columns),
        int(ds.get("SamplesPerPixel") or 1),
        int(ds.get("BitsAllocated") or 8),
    )
    count = 0
    shifted = False
    for frame in generate_frames(ds.PixelData, number_of_frames=frames, extended_offsets=extended):
        if syntax in GDCM_FIRST:
            shifted = shifted or point_transform(frame) != 0
        check_frame(frame, syntax, *image)
        count += 1
    if count != frames:
        raise StreamMismatch(f"{count} frames found of {frames}")
    return shifted


def plan(ds: Dataset) -> list[str]:
    """The labels of the decoders to try for ``ds``'s pixel data, in order, once every check
    that needs no decoding has passed: a decoder exists for its syntax (none for video), the
    image would take at most :data:`MAX_DECODED_BYTES` decoded, and every frame is whole and
    agrees with the image (:func:`stream.check_frame`). Raises :class:`DecodeFailed` otherwise:
    what fails here fails :func:`decompress` too, so that the analysis can tell before
    anything is sent which objects no decoder will take."""
    syntax = str(ds.file_meta.TransferSyntaxUID)
    try:
        labels = chain(syntax)
        size = decoded_size(ds)
    except (NotImplementedError, AttributeError, TypeError, ValueError) as exc:
        raise DecodeFailed(syntax, [], "no decoder for it, or no image size") from exc
    if not labels:
        raise DecodeFailed(syntax, [], "no decoder installed for it")
    if size > MAX_DECODED_BYTES:
        raise DecodeFailed(syntax, [], f"{size >> 20} MiB once decoded, over the limit")
    stream = ds.get("PixelData")
    if isinstance(stream, bytes) and len(stream) > max_stream_bytes(size):
        raise DecodeFailed(syntax, [], "its compressed data is larger than the image it holds")
    try:
        shifted = _check_frames(ds, UID(syntax))
    except (StreamMismatch, ValueError, TypeError, struct.error) as exc:
        raise DecodeFailed(syntax, [], str(exc)) from exc
    if shifted:
        labels = [label for label in labels if label != PYLIBJPEG[0]]
    return labels


def decompress(ds: Dataset) -> str:
    """Decode ``ds``'s pixel data in place (pydicom's ``Dataset.decompress``, its SOP Instance
    UID kept), trying each decoder of :func:`plan` in turn; the label of the one that did.
    Raises :class:`DecodeFailed` when none could, or :func:`plan` found none may. A decoder's
    own words go to the debug log only (by type): they are not ours to show."""
    syntax = str(ds.file_meta.TransferSyntaxUID)
    labels = plan(ds)
    tried: list[str] = []
    dcmtk.MOMENT.interrupted = False
    transient = False
    with _ONE_AT_A_TIME:
        for label in labels:
            tried.append(label)
            try:
                ds.decompress(decoding_plugin=label, generate_instance_uid=False)
            except (KeyboardInterrupt, SystemExit, GeneratorExit):
                raise
            except BaseException as exc:  # a decoder written in Rust may panic (BaseException)
                transient = transient or isinstance(exc, MemoryError)
                logger.debug(
                    "decoder %s could not decode the pixel data (%s)", label, type(exc).__name__
                )
                continue
            return label
    transient = transient or bool(getattr(dcmtk.MOMENT, "interrupted", False))
    raise DecodeFailed(syntax, tried, transient=transient)


_register()
