"""The verify stage: every instance is still the file the analysis read, before anything is sent
(pure file I/O).

The analysis read each file's header, checked that nothing of it is cut short and that native
pixel data holds every pixel, and recorded the file's stamp
(:func:`importer.media.stamp.file_stamp`: size, inode, modification and change times). A file
whose stamp changed is refused, whatever it now holds. A file whose stamp is unchanged is the
file the user saw compared, and is not read again unless the analysis's read could not vouch
for all of it (``read_again``: a deflated data set, elements after the pixel data). Such a file,
and one analysed before stamps were recorded, is read again completely, in two passes that
never hold it whole: its data set parsed to the end with every value longer than
:data:`DEFER_BYTES` left on disk (pixel data may be gigabytes), its UIDs and its pixel data's
length checked, and nothing written after its pixel data allowed to change what the analysis
read; its stamp must not change during that read. One without a stamp is stamped then
(:attr:`Verification.stamps`). Instances sharing a SOP Instance UID are hashed, over
fixed-size reads, and must be byte-identical.

The store sends a file only while it still has the stamp vouched for
(:func:`importer.media.stamp.open_unchanged`): nothing written to the spool after this stage
reaches the PACS, however late the store runs."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from importer.media import raw
from importer.media.scan import native_pixel_bytes
from importer.media.stamp import FileChanged, file_stamp, open_unchanged

log = logging.getLogger(__name__)

DEFER_BYTES: Final = 64 * 1024
"""Values longer than this are not read into memory: only their length and place are kept."""

HASH_CHUNK_BYTES: Final = 1024 * 1024

_CHANGED: Final = "it changed on the server's storage after the analysis"

_FIRST_PIXEL_TAG: Final = min(raw.PIXEL_TAGS)
"""Where the analysis's read stops: the first of the pixel data elements."""


@dataclass(frozen=True, slots=True)
class InstanceToVerify:
    path: Path
    display_path: str
    sop_instance_uid: str
    study_instance_uid: str
    stamp: str | None = None
    """The file's stamp when the analysis read it; None (analysed before stamps were
    recorded): read it again completely, and stamp it then."""
    read_again: bool = False
    """The analysis's read cannot vouch for the whole file: read it again completely, its
    stamp unchanged."""


@dataclass(frozen=True, slots=True)
class Problem:
    display_path: str
    message: str


def content_hash(path: Path) -> str:
    """The SHA-256 of a file, read in chunks of :data:`HASH_CHUNK_BYTES`."""
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK_BYTES)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as fp:
        while size := fp.readinto(buffer):
            digest.update(view[:size])
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    problems: list[Problem]
    stamps: dict[Path, str]
    """The files without a stamp of the analysis, read again completely and found sound: their
    stamp as they were read, for the store to send them only unchanged."""


def unchanged(item: InstanceToVerify) -> bool:
    """Whether the file is still the one the analysis read, stamped when opened (an ``fstat``,
    as the analysis took it); raises ``OSError`` when it is gone."""
    try:
        with open_unchanged(item.path, item.stamp):
            return True
    except FileChanged:
        return False


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


def _rewritten_after_pixels(path: Path, whole: Dataset) -> bool:
    """Whether the whole read of a file holds, among the attributes that come before the pixel
    data, one that the analysis's read (which stops before the pixel data) did not, or read
    elsewhere in the file: an element written after the pixel data, out of order, that adds to
    or replaces what the user saw compared (another patient's name, sent as it is from the
    temporary zone). Each element is told by where its value lies in the file."""
    head = dcmread(path, force=True, defer_size=DEFER_BYTES, stop_before_pixels=True)
    for tag in list(whole.keys()):
        if tag >= _FIRST_PIXEL_TAG:
            continue
        if tag not in head:
            return True
        read = whole.get_item(tag, keep_deferred=True)
        seen = head.get_item(tag, keep_deferred=True)
        if isinstance(read, RawDataElement) and isinstance(seen, RawDataElement):
            if read.value_tell != seen.value_tell:
                return True
        elif read != seen:
            return True
    return False


def verify_file(item: InstanceToVerify) -> Problem | str:
    """Read the whole file again: the first problem found, or, none found, the file's stamp
    (taken before the read, and the same after it). pydicom's warnings are silenced once per
    process (:func:`importer.logs.configure_logging`). Raises ``OSError`` when the file is
    gone: the spool, not the file, is then at fault."""
    status = item.path.stat()
    size, stamp = status.st_size, file_stamp(status)
    try:
        ds = dcmread(item.path, force=True, defer_size=DEFER_BYTES)
        if _rewritten_after_pixels(item.path, ds):
            return Problem(
                item.display_path,
                "it holds, after its pixel data, elements that change what the analysis read",
            )
        sop_uid = str(ds.get("SOPInstanceUID", ""))
        study_uid = str(ds.get("StudyInstanceUID", ""))
        if sop_uid != item.sop_instance_uid or study_uid != item.study_instance_uid:
            return Problem(item.display_path, "its UIDs changed since the analysis")
        if "PixelData" in ds:
            syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
            expected = native_pixel_bytes(ds, syntax)
            actual = _pixel_bytes_present(ds, size)
            if expected is not None and actual is not None and actual < expected:
                return Problem(
                    item.display_path,
                    f"its pixel data is truncated ({actual} of {expected} bytes)",
                )
    except (InvalidDicomError, OSError, ValueError, TypeError, KeyError, EOFError) as exc:
        # the type to the log only: an exception's text may quote a value (patient data)
        log.info("an instance cannot be read (%s)", type(exc).__name__)
        return Problem(item.display_path, "it cannot be read as DICOM")
    if file_stamp(item.path.stat()) != stamp:
        return Problem(item.display_path, _CHANGED)
    return stamp


def verify_instances(items: Sequence[InstanceToVerify]) -> Verification:
    """Every problem of a study's instances, including two different objects sharing a UID,
    and the stamps of the files read again. Raises ``OSError`` when a file is gone or cannot be
    read."""
    problems: list[Problem] = []
    stamps: dict[Path, str] = {}
    shared = {uid for uid, n in Counter(i.sop_instance_uid for i in items).items() if n > 1}
    seen: dict[str, tuple[str, str]] = {}
    for item in items:
        problem: Problem | None = None
        if item.stamp is None:
            read = verify_file(item)
            if isinstance(read, Problem):
                problem = read
            else:
                stamps[item.path] = read
        elif not unchanged(item):  # not what the user saw compared: refused, whatever it holds
            problem = Problem(item.display_path, _CHANGED)
        elif item.read_again:
            read = verify_file(item)
            if isinstance(read, Problem):
                problem = read
            elif read != item.stamp:  # changed since the check above
                problem = Problem(item.display_path, _CHANGED)
        if problem:
            problems.append(problem)
        if item.sop_instance_uid not in shared:
            continue
        digest = content_hash(item.path)
        earlier = seen.setdefault(item.sop_instance_uid, (digest, item.display_path))
        if earlier[0] != digest:
            problems.append(
                Problem(
                    item.display_path,
                    f"it shares its SOP Instance UID with {earlier[1]} but differs in content",
                )
            )
    return Verification(problems, stamps)
