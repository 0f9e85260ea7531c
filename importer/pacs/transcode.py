"""Transfer syntaxes: which one an instance goes out in, and the fallback to little endian when
the PACS refused the original one.

Pure functions over pydicom datasets: no networking. The original encoding is always preferred
(converting loses nothing only when it has to: a 200 kB JPEG becomes a 10 MB image, implicit VR
loses private VRs); the pixel data is decoded only when the PACS accepted no context for the
original syntax but accepted an uncompressed little endian one for the SOP class.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Final

import numpy as np
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import FileMetaDataset
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from importer.coerce import coerce_stamp
from importer.media import decoders
from importer.media.decoders import DecodeFailed

logger = logging.getLogger(__name__)

NATIVE_SYNTAXES = (str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian))
"""The uncompressed little endian syntaxes every PACS accepts, explicit first."""

LOSSY_METHODS: Final = {
    "1.2.840.10008.1.2.4.50": "ISO_10918_1",  # JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51": "ISO_10918_1",  # JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.81": "ISO_14495_1",  # JPEG-LS Near-Lossless
    "1.2.840.10008.1.2.4.91": "ISO_15444_1",  # JPEG 2000 (lossy or lossless)
    "1.2.840.10008.1.2.4.93": "ISO_15444_2",  # JPEG 2000 Part 2 Multi-component
    "1.2.840.10008.1.2.4.203": "ISO_15444_15",  # High-Throughput JPEG 2000
}
"""The syntaxes that may hold lossy compressed pixel data (PS3.5 Table A-1 and 8.2), each with
its *Lossy Image Compression Method* (0028,2114; PS3.3 C.7.6.1.1.5.1)."""
LOSSY_SYNTAXES = frozenset(LOSSY_METHODS)
"""Syntaxes that may hold lossy compressed pixel data (PS3.5 Table A-1 and 8.2)."""

_JPEG = "1.2.840.10008.1.2.4."
_FAMILIES: Final = {
    **{f"{_JPEG}{n}": "JPEG" for n in (*range(50, 67), 70)},  # 52-56, 58-66 retired
    **{f"{_JPEG}{n}": "JPEG-LS" for n in (80, 81)},
    **{f"{_JPEG}{n}": "JPEG 2000" for n in (90, 91, 92, 93)},
    **{f"{_JPEG}{n}": "JPIP" for n in (94, 95, 204, 205)},
    **{f"{_JPEG}{n}": "MPEG-2" for n in (100, 101)},
    **{f"{_JPEG}{n}": "MPEG-4" for n in (102, 103, 104, 105, 106)},
    **{f"{_JPEG}{n}": "HEVC" for n in (107, 108)},
    **{f"{_JPEG}{n}": "JPEG XL" for n in (110, 111, 112)},
    **{f"{_JPEG}{n}": "HTJ2K" for n in (201, 202, 203)},
    "1.2.840.10008.1.2.5": "RLE",
    "1.2.840.10008.1.2.1.99": "Deflate",
    "1.2.840.10008.1.2.2": "Big Endian",
}
"""The transfer syntaxes of PS3.5 Table A-1 that are not plain little endian, by family."""


def syntax_family(transfer_syntax: str) -> str:
    """The short name of ``transfer_syntax``'s family, the same in every language (JPEG,
    JPEG-LS, JPEG 2000, HTJ2K, RLE, MPEG-4...), for the messages a user reads; the UID itself
    for a syntax outside these families."""
    return _FAMILIES.get(transfer_syntax, transfer_syntax)


_SWAP_WIDTH = {"OW": 2, "OL": 4, "OF": 4, "OD": 8, "OV": 8}
"""Bytes per word of the binary VRs whose byte order follows the transfer syntax."""
_PIXEL_DATA = 0x7FE00010


class TranscodeError(Exception):
    """The dataset could not be converted to little endian (its pixel data did not decode);
    ``transient``: for a reason of the moment, which a retry may not meet."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class Route(Enum):
    """How an instance goes out on an association."""

    AS_IS = "as_is"
    """In its own syntax, or another uncompressed little endian one (pynetdicom re-encodes
    between implicit, explicit and deflated little endian without touching the pixel data)."""
    CONVERT = "convert"
    """Decompressed (or byte-swapped) to Explicit VR Little Endian first."""


@dataclass(frozen=True, slots=True)
class Decision:
    route: Route
    transfer_syntax: str
    """The accepted transfer syntax it will be sent in."""


def is_native(transfer_syntax: str) -> bool:
    """True for the uncompressed little endian syntaxes (implicit, explicit, deflated), and for
    an unknown syntax ("", read as implicit little endian): interchangeable without decoding."""
    if not transfer_syntax:
        return True
    uid = UID(transfer_syntax)
    return uid.is_transfer_syntax and not uid.is_compressed and uid.is_little_endian


def proposed_syntaxes(transfer_syntax: str) -> list[str]:
    """The transfer syntaxes of the presentation context proposed for data in
    ``transfer_syntax``: the original alone, so that the PACS cannot pick another syntax in its
    context (the acceptor, not the requestor, chooses among the syntaxes of a context: offered
    JPEG or Explicit VR Little Endian, many take the latter and a 200 kB JPEG is stored as a
    10 MB image; offered implicit or explicit VR, many take explicit and the VRs of private
    elements are guessed). The fallback goes in a context of its own
    (:func:`fallback_needed`). Data of unknown syntax is proposed in both native syntaxes."""
    if not transfer_syntax:
        return list(NATIVE_SYNTAXES)
    return [transfer_syntax]


def fallback_needed(transfer_syntaxes: Iterable[str]) -> bool:
    """Whether a SOP class whose instances come in ``transfer_syntaxes`` needs one more
    context, with Explicit and Implicit VR Little Endian, for the instances whose own syntax
    the PACS refuses: unless its contexts already propose both."""
    proposed = {ts for syntax in transfer_syntaxes for ts in proposed_syntaxes(syntax)}
    return not set(NATIVE_SYNTAXES) <= proposed


def decide(
    accepted: Iterable[tuple[str, str]], sop_class: str, transfer_syntax: str
) -> Decision | None:
    """How an instance of ``sop_class`` in ``transfer_syntax`` goes out on an association
    whose accepted contexts are ``accepted`` ((abstract syntax, transfer syntax) pairs), or
    ``None`` when it cannot: exactly its syntax if accepted; else, for native data, another
    native syntax; else, for compressed or big endian data, a native syntax after decoding."""
    offered = [ts for sop, ts in accepted if sop == sop_class]
    original = transfer_syntax or str(ImplicitVRLittleEndian)
    if original in offered:
        return Decision(Route.AS_IS, original)
    native = [ts for ts in offered if is_native(ts)]
    if not native:
        return None
    # Prefer Explicit VR Little Endian (keeps VRs), then whatever native syntax was accepted.
    target = next((ts for ts in NATIVE_SYNTAXES if ts in native), native[0])
    if is_native(original):
        return Decision(Route.AS_IS, target)
    return Decision(Route.CONVERT, target)


def ensure_transfer_syntax(ds: Dataset, fallback: str) -> None:
    """Make sure ``ds.file_meta.TransferSyntaxUID`` is set, as pynetdicom needs it to pick the
    presentation context: from the item, else from how the dataset was encoded when read."""
    if not isinstance(getattr(ds, "file_meta", None), Dataset):
        ds.file_meta = FileMetaDataset()
    if ds.file_meta.get("TransferSyntaxUID"):
        return
    if fallback:
        ds.file_meta.TransferSyntaxUID = UID(fallback)
        return
    implicit, little = ds.original_encoding
    if little is False:
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    elif implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:  # read that way, or built in memory
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian


def to_little_endian(ds: Dataset, modifying_system: str = "") -> str:
    """Convert ``ds`` in place to Explicit VR Little Endian, keeping its SOP Instance UID; how
    it was converted: the decoder's label (:mod:`importer.media.decoders`), "byte-swapped" or
    "re-encoded".

    Compressed pixel data is decoded by the first decoder of the chain that can
    (:func:`importer.media.decoders.decompress`); when none can, :class:`TranscodeError`, so
    that a broken image is never forwarded. Lossy compressed data gets *Lossy Image
    Compression* "01" and, where it had none, the *Lossy Image Compression Method* of its
    syntax. Big endian data has its binary values byte-swapped; deflated data needs nothing (it
    was inflated when read).
    """
    meta = getattr(ds, "file_meta", None)
    syntax = UID(str(meta.get("TransferSyntaxUID", "")) if meta is not None else "")
    before = {keyword: _element(ds, keyword) for keyword in _DECODING_CHANGES}
    how = "re-encoded"  # an uncompressed little endian syntax refused for another one
    if syntax and not syntax.is_transfer_syntax:
        raise TranscodeError(
            "the PACS refused the instance's transfer syntax, which is not one DICOM defines "
            "(a private one): it cannot be converted"
        )
    if syntax.is_compressed:
        try:
            how = decoders.decompress(ds)
        except DecodeFailed as exc:
            logger.info("pixel data not decoded (%d decoders tried)", len(exc.tried))
            raise TranscodeError(
                f"the PACS refused {syntax.name or syntax} and the pixel data could not be "
                f"decoded to send it uncompressed ({exc})",
                transient=exc.transient,
            ) from exc
        for keyword in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
            if keyword in ds:  # only for encapsulated pixel data (PS3.5 A.4)
                del ds[keyword]
        if str(syntax) in LOSSY_SYNTAXES:
            _mark_lossy(ds, str(syntax))
    elif syntax == ExplicitVRBigEndian or ds.original_encoding[1] is False:
        _swap_binary_values(ds, ds.get("BitsAllocated"))
        how = "byte-swapped"
    try:
        _give_vrs(ds)
    except Exception as exc:  # a value that does not fit its VR: not ours to mend
        logger.info("data set not converted (%s)", type(exc).__name__)
        raise TranscodeError(
            "the data set was read as implicit VR and an element of it cannot be written as "
            "explicit VR"
        ) from exc
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_original_encoding(False, True, ds.original_character_set)
    _record_conversion(ds, before, how, modifying_system or MODIFYING_SYSTEM)
    return how


_DECODING_CHANGES: Final = (
    "PhotometricInterpretation",
    "PlanarConfiguration",
    "NumberOfFrames",
    "LossyImageCompression",
    "LossyImageCompressionMethod",
    "ExtendedOffsetTable",
    "ExtendedOffsetTableLengths",
)
"""The attributes a conversion may change besides the pixel data."""
MODIFYING_SYSTEM: Final = "PACS Media Import"
"""Who converted, where the caller does not say (the store stage gives the configured name)."""


def _element(ds: Dataset, keyword: str) -> DataElement | None:
    """A copy of the element, as it was before the conversion changes it."""
    return copy.deepcopy(ds.data_element(keyword)) if keyword in ds else None


def _record_conversion(
    ds: Dataset, before: dict[str, DataElement | None], how: str, system: str
) -> None:
    """One more *Original Attributes Sequence* item (PS3.3 C.12.1.1.9): the previous values of
    what the conversion changed (an attribute it added, as empty), reason COERCE (for the
    receiving PACS), and how in *Modifying System*: ``system`` with the decoder's label
    (``… (gdcm-12bit)``). The item is there even when only the encoding changed (its modified
    attributes then empty): which objects were converted, and how, stays with each of them."""
    modified = Dataset()
    for keyword, old in before.items():
        new = ds.data_element(keyword) if keyword in ds else None
        if old is None and new is not None:
            tag = tag_for_keyword(keyword)
            assert tag is not None
            modified.add(DataElement(tag, dictionary_VR(tag), None))
        elif old is not None and (new is None or new.value != old.value):
            modified.add(old)
    history = list(ds.get("OriginalAttributesSequence", None) or [])
    record = Dataset()
    record.ModifiedAttributesSequence = [modified]
    record.AttributeModificationDateTime = coerce_stamp(datetime.now(UTC))
    record.ModifyingSystem = f"{system[: 64 - len(how) - 3]} ({how})"
    record.SourceOfPreviousValues = ""
    record.ReasonForTheAttributeModification = "COERCE"
    ds.OriginalAttributesSequence = [*history, record]


def _give_vrs(ds: Dataset) -> None:
    """Convert the raw elements of ``ds`` that have no VR (read as implicit VR: a data set
    whose file meta says explicit, which pydicom reads so with a warning), to the bottom of its
    sequences, so that the explicit VR writer has a VR to write; the others stay raw, written
    as they were read."""
    for elem in ds.elements():
        if elem.VR is None or elem.VR == "SQ":
            converted = ds[elem.tag]
            if converted.VR == "SQ":
                for item in converted.value:
                    _give_vrs(item)


def _mark_lossy(ds: Dataset, syntax: str) -> None:
    """Say that the pixel data may have gone through ``syntax``'s lossy compression (a syntax
    that may be lossy is taken to be: what was decoded cannot show otherwise)."""
    if ds.get("LossyImageCompression") != "01":
        ds.LossyImageCompression = "01"
    if not ds.get("LossyImageCompressionMethod"):
        ds.LossyImageCompressionMethod = LOSSY_METHODS[syntax]


def _swap_binary_values(ds: Dataset, bits_allocated: object) -> None:
    """Byte-swap the OW/OL/OF/OD/OV values of ``ds`` and its sequences (big → little endian).
    Pixel Data of more than 16 bits allocated is swapped by its own word size; numbers of the
    other VRs were decoded when read and are encoded again in the new byte order."""
    for elem in ds.iterall():
        width = _SWAP_WIDTH.get(str(elem.VR))
        if width is None or not isinstance(elem.value, bytes | bytearray) or not elem.value:
            continue
        if elem.tag == _PIXEL_DATA and isinstance(bits_allocated, int) and bits_allocated > 16:
            width = bits_allocated // 8
        _swap_element(elem, width)


def _swap_element(elem: DataElement, width: int) -> None:
    data = bytes(elem.value)
    usable = len(data) - len(data) % width
    words = np.frombuffer(data[:usable], dtype=np.dtype(f">u{width}"))
    elem.value = words.astype(f"<u{width}").tobytes() + data[usable:]
