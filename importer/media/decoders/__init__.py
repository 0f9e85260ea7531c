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
from typing import Final

from pydicom import Dataset
from pydicom.encaps import generate_frames
from pydicom.pixels.decoders.base import Decoder, get_decoder
from pydicom.uid import (
    UID,
    JPEG2000TransferSyntaxes,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
    RLETransferSyntaxes,
)

from importer.media.decoders import dcmtk, gdcm12
from importer.media.decoders.stream import StreamMismatch, check_frame

logger = logging.getLogger(__name__)

__all__ = ["MAX_DECODED_BYTES", "OURS", "DecodeFailed", "chain", "decoded_size", "decompress"]


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
MAX_DECODED_BYTES: Final = 1024**3
"""An image is not decoded when it would take more than this (the header's rows, columns,
samples, bits and frames): it is not sent, rather than held two or three times in the worker's
memory (its systemd unit allows 3 GiB)."""
COMPRESSED: Final = (
    *JPEGTransferSyntaxes,
    *JPEGLSTransferSyntaxes,
    *JPEG2000TransferSyntaxes,
    *RLETransferSyntaxes,
)


class DecodeFailed(Exception):
    """No decoder of the chain could decode the pixel data; ``tried`` names them in order
    (none: no decoder is tried, for ``reason``)."""

    def __init__(self, syntax: str, tried: list[str], reason: str = "") -> None:
        self.syntax = syntax
        self.tried = tried
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


def _register() -> None:
    """pydicom's own order made the chain's, in this process: its GDCM plugin moved after its
    others (pydicom tries plugins in the order they were added, when none is named), then ours
    added after it (pydicom's public plugin interface: ``remove_plugin``, ``add_plugin``)."""
    ours = {label: (path, syntaxes) for label, path, syntaxes in OURS}
    for decoder in _decoders():
        with contextlib.suppress(ValueError):  # not a plugin of that decoder
            decoder.remove_plugin(GDCM[0])
            decoder.add_plugin(*GDCM)
        for label, (path, syntaxes) in ours.items():
            if decoder.UID in syntaxes:
                with contextlib.suppress(ValueError):  # added already
                    decoder.add_plugin(label, path)


def chain(transfer_syntax: str) -> list[str]:
    """The labels of the decoders this machine has for ``transfer_syntax``, in the order they
    are tried."""
    available = set(get_decoder(UID(transfer_syntax)).available_plugins)
    last = [GDCM[0], *(label for label, _, _ in OURS)]
    first = [p for p in FIRST if p in available]
    others = sorted(available - set(first) - set(last))
    return first + others + [p for p in last if p in available]


def decoded_size(ds: Dataset) -> int:
    """The bytes ``ds``'s pixel data takes once decoded, as its header declares them."""
    frames = int(ds.get("NumberOfFrames") or 1)
    samples = int(ds.get("SamplesPerPixel") or 1)
    bits = int(ds.get("BitsAllocated") or 8)
    return int(ds.Rows) * int(ds.Columns) * samples * frames * ((bits + 7) // 8)


def _check_frames(ds: Dataset, syntax: UID) -> None:
    """Every frame whole and agreeing with the image (:func:`stream.check_frame`), before any
    decoder is given one."""
    frames = int(ds.get("NumberOfFrames") or 1)
    extended = None
    if "ExtendedOffsetTable" in ds and "ExtendedOffsetTableLengths" in ds:
        extended = (ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths)
    count = 0
    for frame in generate_frames(ds.PixelData, number_of_frames=frames, extended_offsets=extended):
        check_frame(
            frame,
            syntax,
            int(ds.Rows),
            int(ds.Columns),
            int(ds.get("SamplesPerPixel") or 1),
            int(ds.get("BitsAllocated") or 8),
        )
        count += 1
    if count != frames:
        raise StreamMismatch(f"{count} frames found of {frames}")


def decompress(ds: Dataset) -> str:
    """Decode ``ds``'s pixel data in place (pydicom's ``Dataset.decompress``, its SOP Instance
    UID kept), trying each decoder of :func:`chain` in turn; the label of the one that did.
    Raises :class:`DecodeFailed` when none could, when no decoder exists for the syntax (video)
    and when the image would take more than :data:`MAX_DECODED_BYTES` once decoded. A
    decoder's own words go to the debug log only (by type): they are not ours to show."""
    syntax = str(ds.file_meta.TransferSyntaxUID)
    try:
        labels = chain(syntax)
        size = decoded_size(ds)
    except (NotImplementedError, AttributeError, TypeError, ValueError) as exc:
        raise DecodeFailed(syntax, [], "no decoder for it, or no image size") from exc
    if size > MAX_DECODED_BYTES:
        raise DecodeFailed(syntax, [], f"{size >> 20} MiB once decoded, over the limit")
    try:
        _check_frames(ds, UID(syntax))
    except (StreamMismatch, ValueError, TypeError, struct.error) as exc:
        raise DecodeFailed(syntax, [], str(exc)) from exc
    tried: list[str] = []
    for label in labels:
        tried.append(label)
        try:
            ds.decompress(decoding_plugin=label, generate_instance_uid=False)
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # a decoder written in Rust may panic (a BaseException)
            logger.debug(
                "decoder %s could not decode the pixel data (%s)", label, type(exc).__name__
            )
            continue
        return label
    raise DecodeFailed(syntax, tried)


_register()
