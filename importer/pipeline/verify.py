"""The verify stage: every instance re-read completely before anything is sent (pure file I/O)."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

UNCOMPRESSED = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99",
}


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


def verify_file(item: InstanceToVerify) -> tuple[str, Problem | None]:
    """Read the whole file; return its content hash and the first problem found, if any."""
    data = item.path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(item.path, force=True)
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
                    actual = len(ds.PixelData)
                    if actual < expected:
                        return digest, Problem(
                            item.display_path,
                            f"its pixel data is truncated ({actual} of {expected} bytes)",
                        )
    except (InvalidDicomError, OSError, ValueError, TypeError, KeyError, EOFError) as exc:
        return digest, Problem(item.display_path, f"it cannot be read ({type(exc).__name__})")
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
