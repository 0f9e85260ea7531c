"""The verify stage: every instance re-read completely before anything is sent (pure file I/O).

A file is read in two passes that never hold it whole: its content hash over fixed-size reads,
and its data set parsed to the end with every value longer than :data:`DEFER_BYTES` left on disk
(pixel data may be gigabytes), so one object costs its header and a few buffers of memory."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from importer.media import raw

log = logging.getLogger(__name__)

UNCOMPRESSED = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
}

DEFER_BYTES: Final = 64 * 1024
"""Values longer than this are not read into memory: only their length and place are kept."""

HASH_CHUNK_BYTES: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class InstanceToVerify:
    path: Path
    display_path: str
    sop_instance_uid: str
    study_instance_uid: str


@dataclass(frozen=True, slots=True)
class Problem:
    display_path: str
    message: str


def expected_pixel_bytes(rows: int, columns: int, frames: int, samples: int, bits: int) -> int:
    total_bits = rows * columns * frames * samples * bits
    return (total_bits + 7) // 8


def content_hash(path: Path) -> str:
    """The SHA-256 of a file, read in chunks of :data:`HASH_CHUNK_BYTES`."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK_BYTES)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as fp:
        while size := fp.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


def _pixel_bytes_present(ds: Dataset, size: int) -> int | None:
    """How many bytes of the pixel data the file holds, without reading them; ``None`` for
    encapsulated (undefined length) pixel data left on disk, whose end pydicom found."""
    elem = ds.get_item("PixelData", keep_deferred=True)
    if not isinstance(elem, RawDataElement):  # already decoded (not as read from a file)
        return len(elem.value) if elem is not None and elem.value is not None else 0
    if elem.value is not None:  # short enough to have been read: what the file had
        return len(elem.value)
    if elem.length == raw.UNDEFINED_LENGTH:
        return None
    return max(0, min(elem.length, size - elem.value_tell))


def verify_file(item: InstanceToVerify) -> tuple[str, Problem | None]:
    """Read the whole file; return its content hash and the first problem found, if any.
    pydicom's warnings are silenced once per process (:func:`importer.logs.configure_logging`)."""
    digest = content_hash(item.path)
    try:
        size = item.path.stat().st_size
        ds = dcmread(item.path, force=True, defer_size=DEFER_BYTES)
        sop_uid = str(ds.get("SOPInstanceUID", ""))
        study_uid = str(ds.get("StudyInstanceUID", ""))
        if sop_uid != item.sop_instance_uid or study_uid != item.study_instance_uid:
            return digest, Problem(item.display_path, "its UIDs changed since the analysis")
        if "PixelData" in ds:
            ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2")))
            if str(ts) in UNCOMPRESSED and ts != "1.2.840.10008.1.2.1.99":
                expected = expected_pixel_bytes(
                    int(ds.get("Rows", 0)),
                    int(ds.get("Columns", 0)),
                    int(ds.get("NumberOfFrames", 1) or 1),
                    int(ds.get("SamplesPerPixel", 1) or 1),
                    int(ds.get("BitsAllocated", 8) or 8),
                )
                actual = _pixel_bytes_present(ds, size)
                if actual is not None and actual < expected:
                    return digest, Problem(
                        item.display_path,
                        f"its pixel data is truncated ({actual} of {expected} bytes)",
                    )
    except (InvalidDicomError, OSError, ValueError, TypeError, KeyError, EOFError) as exc:
        # the type to the log only: an exception's text may quote a value (patient data)
        log.info("an instance cannot be read (%s)", type(exc).__name__)
        return digest, Problem(item.display_path, "it cannot be read as DICOM")
    return digest, None


def verify_instances(items: Sequence[InstanceToVerify]) -> list[Problem]:
    """Every problem of a study's instances, including two different objects sharing a UID."""
    problems: list[Problem] = []
    seen: dict[str, tuple[str, str]] = {}
    for item in items:
        digest, problem = verify_file(item)
        if problem:
            problems.append(problem)
        earlier = seen.get(item.sop_instance_uid)
        if earlier and earlier[0] != digest:
            problems.append(
                Problem(
                    item.display_path,
                    f"it shares its SOP Instance UID with {earlier[1]} but differs in content",
                )
            )
        seen.setdefault(item.sop_instance_uid, (digest, item.display_path))
    return problems
