"""Safe ZIP unpacking: generated names on disk, bytes counted as inflated, shared caps.

Entry names are used for display only; every extracted file gets a generated name under
``dest / "f"``, so no entry name can ever reach the filesystem. The central directory's
entries and size are read from its end records and counted before :mod:`zipfile` parses it;
entries whose data overlap are refused. Before anything is written, the spool must have room
for what the archive declares (bounded by the caps) plus a margin, else ``spool_full``; a full
disk met while writing is ``spool_full`` too. Each entry is classified by its first bytes,
read from the archive stream, before it is written: only what may be DICOM (or a nested ZIP)
reaches the disk; the rest is reported skipped with the reason the scan would give. Caps
(entries, total bytes, bytes per entry, compression ratio per entry and of the whole medium
against the upload's size) are checked against bytes actually inflated, never only against the
sizes the archive declares. One level of nested ZIPs is unpacked against the same budget (the
nested archive's own bytes count too, conservatively); deeper archives are reported, not
opened. Encrypted entries and unsupported compression methods are reported per file; a
corrupt nested archive is reported as one unreadable file, but a hostile one (path escape,
link) or one over a cap refuses the whole upload.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import logging
import lzma
import re
import shutil
import stat
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final, Literal, cast

from isal import isal_zlib

from importer.errors import Failure
from importer.media import raw
from importer.media.stamp import file_stamp
from importer.messages import MessageCode, Params

log = logging.getLogger(__name__)

__all__ = [
    "ArchiveError",
    "ArchiveLimits",
    "ReadEntry",
    "SkippedFile",
    "UnpackResult",
    "UnpackedFile",
    "looks_like_dicom",
    "not_dicom",
    "spool_free_bytes",
    "unpack_zip",
]

FILES_DIR: Final = "f"
"""Sub-folder of ``dest`` owned by :func:`unpack_zip` (cleared on start, removed on failure)."""

CHUNK: Final = 1024 * 1024
"""What is read, inflated or written at a time."""
HEAD_BYTES: Final = 1024
"""The first bytes of a file that classify it (:func:`looks_like_dicom`, :func:`not_dicom`)."""
RATIO_FLOOR: Final = 1024 * 1024
"""Below this many bytes, no compression ratio is held against an entry or a medium."""
ZIP_MAGIC: Final = b"PK\x03\x04"
"""The signature of a ZIP's local file header (and so of a ZIP's start)."""
LOCAL_HEADER_SIZE: Final = 30
"""The fixed part of a local file header, before its name and extra field."""
ENCRYPTED_FLAG: Final = 0x1
"""The general purpose flag bit of an encrypted entry."""
_UTF8_FLAG: Final = 0x800
_UNICODE_PATH_EXTRA: Final = 0x7075
_SUPPORTED_METHODS: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_JUNK_NAMES: Final = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_MAX_NESTING: Final = 1
_EOCD: Final = b"PK\x05\x06"
_EOCD_SIZE: Final = 22
_MAX_COMMENT: Final = 0xFFFF
_ZIP64_LOCATOR: Final = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE: Final = 20
_ZIP64_EOCD: Final = b"PK\x06\x06"
_ZIP64_EOCD_SIZE: Final = 56
_CENTRAL_HEADER: Final = b"PK\x01\x02"
_CENTRAL_HEADER_SIZE: Final = 46
_DISK_FULL: Final = frozenset({errno.ENOSPC, errno.EDQUOT})
_DICOM_ROOT: Final = b"1.2.840.10008."
_MAGIC: Final = (
    (b"%PDF", "PDF document"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"BM", "bitmap image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"MZ", "Windows program or library"),
    (b"\x7fELF", "program"),
    (b"\xca\xfe\xba\xbe", "program"),
    (b"\xcf\xfa\xed\xfe", "program"),
    (b"PK\x03\x04", "ZIP archive or office document"),
    (b"PK\x05\x06", "empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "office document"),
    (b"{\\rtf", "RTF document"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7-Zip archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"<?xml", "XML file"),
    (b"\xef\xbb\xbf", "text file"),
    (b"\x00\x00\x01\x00", "icon"),
)
DIRECTORY_BYTES_PER_ENTRY: Final = 1024
"""The central directory may hold this many bytes per entry allowed (``max_entries``): a
name, a comment and extra fields (ZIP64 sizes, timestamps, a Unicode path) of an honest
archive take a few hundred."""


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Caps applied to a medium: to what an archive inflates to (nested archives share them),
    and to the header of each file the scan reads (``max_header_*``)."""

    max_entries: int = 100_000
    max_unpacked_bytes: int = 32 * 1024**3
    max_entry_bytes: int = 8 * 1024**3
    max_compression_ratio: float = 100.0
    max_header_bytes: int = 16 * 1024**2
    max_header_elements: int = 100_000
    spool_free_margin_bytes: int = 1024**3
    """Free space the spool keeps once an archive is unpacked (``spool_full`` otherwise)."""


class ArchiveError(Failure):
    """The archive as a whole is refused.

    ``code`` is one of ``archive_invalid``, ``archive_unsafe``, ``archive_too_large`` (its
    params name the cap: ``max_entries``, ``max_bytes`` or ``max_ratio``), or ``spool_full``
    (the spool lacks the room to unpack it: retryable once space is freed). The message says
    what happened in our words, never a library's error text (to the log, by its type only).
    """


def _spool_full(message: str, params: Params | None = None) -> ArchiveError:
    """Not the medium's fault: the same archive may go through once space is freed."""
    return ArchiveError("spool_full", message, retryable=True, params=params)


def _invalid(message: str, exc: BaseException) -> ArchiveError:
    """``archive_invalid`` in our words; what the library raised goes to the log, by its type
    only (its text may quote an entry's name)."""
    log.info("archive refused: %s (%s)", message, type(exc).__name__)
    return ArchiveError("archive_invalid", message)


def spool_free_bytes(path: Path) -> int:
    """Bytes free for an unprivileged writer on the filesystem holding ``path``."""
    return shutil.disk_usage(path).free


@dataclass(frozen=True, slots=True)
class UnpackedFile:
    """One extracted file: its name in the archive (display only) and where it lives."""

    display_path: str
    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file of the medium that is not imported: its reason as a message code, with its
    params (a cap, a compression method: never patient data); the English for logs."""

    path: str
    reason: MessageCode
    message: str
    params: Params = field(default_factory=dict)


@dataclass(slots=True)
class UnpackResult:
    """Everything an archive held: extracted files and files skipped while unpacking."""

    files: list[UnpackedFile]
    skipped: list[SkippedFile]


@dataclass(frozen=True, slots=True)
class ReadEntry:
    """An entry unpacked while the upload arrived (:mod:`importer.media.ahead`), as its local
    header and its bytes gave it: used in place of unpacking it again only when the central
    directory describes the entry at ``offset`` exactly so, and ``path`` still has ``stamp``."""

    offset: int
    """Where its local header is in the upload."""
    name: bytes
    """Its name's bytes in the local header."""
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    path: Path
    stamp: str

    def describes(self, info: zipfile.ZipInfo) -> bool:
        """Whether the central directory's ``info`` is this entry, as :mod:`zipfile` would read
        it (its local name decoded the way zipfile compares it)."""
        try:
            name = self.name.decode("utf-8" if self.flags & _UTF8_FLAG else "cp437")
        except UnicodeDecodeError:
            return False
        return (
            info.header_offset == self.offset
            and info.orig_filename == name
            and info.compress_type == self.method
            and self.crc == info.CRC
            and info.compress_size == self.compressed
            and info.file_size == self.size
            and not info.flag_bits & ENCRYPTED_FLAG
        )

    def unchanged(self) -> bool:
        try:
            return file_stamp(self.path.stat()) == self.stamp
        except OSError:
            return False


@dataclass(slots=True)
class _Budget:
    limits: ArchiveLimits
    root: Path
    archive_bytes: int = 0
    """The size of the upload itself: the whole medium inflates to at most
    ``max_compression_ratio`` times it."""
    free_bytes: Callable[[Path], int] = field(default=spool_free_bytes)
    """The spool's free space (:func:`spool_free_bytes`; a test passes a figure)."""
    entries: int = 0
    bytes: int = 0
    counter: int = 0
    read: Mapping[int, ReadEntry] = field(default_factory=dict)
    """The entries unpacked while the upload arrived (of the medium's own archive only)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, n: int) -> int:
        """Count ``n`` more bytes inflated (by any thread); the total so far."""
        with self._lock:
            self.bytes += n
            return self.bytes

    def count_entries(self, n: int) -> None:
        self.entries += n
        if self.entries > self.limits.max_entries:
            raise ArchiveError(
                "archive_too_large",
                f"The archive holds more than {self.limits.max_entries} entries.",
                params={"max_entries": self.limits.max_entries},
            )

    def new_path(self) -> Path:
        self.counter += 1
        return self.path(self.counter)

    def path(self, n: int) -> Path:
        return self.root / f"{n:06d}"


@dataclass(slots=True)
class _Entry:
    info: zipfile.ZipInfo
    display: str
    is_dir: bool
    junk: bool = False


def unpack_zip(
    archive: Path,
    dest: Path,
    limits: ArchiveLimits,
    *,
    free_bytes: Callable[[Path], int] = spool_free_bytes,
    read: Mapping[int, ReadEntry] | None = None,
) -> UnpackResult:
    """Unpack ``archive`` under ``dest / "f"`` with generated names; ``free_bytes`` tells the
    spool's free space (the filesystem's own figure; tests pass another). ``read``: the entries
    unpacked while the upload arrived, by their local header's offset, their files in
    ``dest / "f"`` already; each one the central directory describes exactly
    (:meth:`ReadEntry.describes`) and whose file is unchanged is used as it is, counted against
    the caps like the others; the rest of that folder goes.

    Raises :class:`ArchiveError`; on any failure nothing extracted is left behind.
    """
    root = dest / FILES_DIR
    result = UnpackResult(files=[], skipped=[])
    try:
        if root.exists() and not read:
            shutil.rmtree(root)
        root.mkdir(parents=True, exist_ok=True)
        budget = _Budget(
            limits=limits,
            root=root,
            archive_bytes=max(archive.stat().st_size, 1),
            free_bytes=free_bytes,
            read=read or {},
        )
        _unpack(archive, "", 0, budget, result)
        if read:
            used = {f.path for f in result.files}
            for entry in read.values():
                if entry.path not in used:
                    entry.path.unlink(missing_ok=True)
    except OSError as exc:
        shutil.rmtree(root, ignore_errors=True)
        if exc.errno in _DISK_FULL:
            raise _spool_full(
                "The server's storage is full: the medium could not be unpacked. The upload "
                "is kept; retry once space has been freed."
            ) from exc
        raise
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return result


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as exc:
        raise _invalid("The upload is not a ZIP archive, or it is damaged.", exc) from exc


@dataclass(frozen=True, slots=True)
class _Directory:
    """The central directory as the end records place it."""

    entries: int
    """Entries the end records declare (the ZIP64 record's where there is one, as zipfile)."""
    start: int
    size: int


def _directory(archive: Path) -> _Directory | None:
    """Where the central directory is and what it declares, read from the end of central
    directory record (and the ZIP64 locator and record before it) the way :mod:`zipfile` finds
    them; None when there is none (zipfile then reports the archive invalid)."""
    with archive.open("rb") as fp:
        size = fp.seek(0, 2)
        tail_size = min(size, _EOCD_SIZE + _MAX_COMMENT)
        fp.seek(size - tail_size)
        tail = fp.read(tail_size)
        at = len(tail) - _EOCD_SIZE if tail[-_EOCD_SIZE:][:4] == _EOCD else tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < _EOCD_SIZE:
            return None
        location = size - tail_size + at
        *_, entries, directory_size, _offset, _comment = struct.unpack_from("<4s4H2LH", tail, at)
        start = location - directory_size
        locator_at = location - _ZIP64_LOCATOR_SIZE
        if locator_at >= _ZIP64_EOCD_SIZE:
            fp.seek(locator_at - _ZIP64_EOCD_SIZE)
            data = fp.read(_ZIP64_EOCD_SIZE + _ZIP64_LOCATOR_SIZE)
            if data[:4] == _ZIP64_EOCD and data[_ZIP64_EOCD_SIZE:][:4] == _ZIP64_LOCATOR:
                *_, entries64, size64, _offset64 = struct.unpack_from("<4sQ2H2L4Q", data)
                entries = entries64
                directory_size = size64
                start = locator_at - _ZIP64_EOCD_SIZE - directory_size
    return _Directory(entries=entries, start=start, size=directory_size)


def _check_directory(archive: Path, budget: _Budget) -> None:
    """Refuse an archive whose central directory is over the caps before :mod:`zipfile`
    parses it (it builds every entry, and reads the whole directory into memory, before
    anything can be counted): the entries the end records declare, the directory's bytes,
    and the entries actually in it, counted from their fixed headers up to the cap."""
    found = _directory(archive)
    if found is None:
        return
    limits = budget.limits
    room = limits.max_entries - budget.entries
    if found.entries > room:
        raise ArchiveError(
            "archive_too_large",
            f"The archive holds more than {limits.max_entries} entries.",
            params={"max_entries": limits.max_entries},
        )
    max_bytes = limits.max_entries * DIRECTORY_BYTES_PER_ENTRY
    if found.size > max_bytes:
        raise ArchiveError(
            "archive_too_large",
            f"The archive's central directory is larger than {max_bytes} bytes.",
            params={"max_entries": limits.max_entries},
        )
    if _count_entries(archive, found, room + 1) > room:
        raise ArchiveError(
            "archive_too_large",
            f"The archive holds more than {limits.max_entries} entries.",
            params={"max_entries": limits.max_entries},
        )


def _count_entries(archive: Path, directory: _Directory, most: int) -> int:
    """The central directory headers in the directory, counted up to ``most`` (where the
    directory stops being well formed, zipfile reports it)."""
    count = 0
    position = 0
    with archive.open("rb") as fp:
        if directory.start < 0:
            return 0
        fp.seek(directory.start)
        while position < directory.size and count < most:
            header = fp.read(_CENTRAL_HEADER_SIZE)
            if len(header) < _CENTRAL_HEADER_SIZE or header[:4] != _CENTRAL_HEADER:
                break
            name, extra, comment = struct.unpack_from("<3H", header, 28)
            fp.seek(name + extra + comment, 1)
            position += _CENTRAL_HEADER_SIZE + name + extra + comment
            count += 1
    return count


def _unpack(archive: Path, prefix: str, depth: int, budget: _Budget, result: UnpackResult) -> None:
    _check_directory(archive, budget)
    with _open_zip(archive) as zf:
        infos = zf.infolist()
        budget.count_entries(len(infos))
        entries = [_inspect(info, prefix) for info in infos]
        declared = sum(e.info.file_size for e in entries if not e.is_dir and not e.junk)
        if budget.bytes + declared > budget.limits.max_unpacked_bytes:
            raise ArchiveError(
                "archive_too_large",
                f"The archive declares more than {budget.limits.max_unpacked_bytes} bytes "
                "once unpacked.",
                params={"max_bytes": budget.limits.max_unpacked_bytes},
            )
        _check_overlap(infos, zf.start_dir)
        compressed_cap = max(archive.stat().st_size, 1)
        read = _read_before(entries, budget) if depth == 0 else {}
        _check_space([e for e in entries if id(e) not in read], compressed_cap, budget)
        slots: list[SkippedFile | _Job] = []  # every file entry, in the archive's order
        for entry in entries:
            if entry.is_dir:
                continue
            if entry.junk:
                slots.append(
                    SkippedFile(
                        entry.display,
                        MessageCode.junk,
                        "System file of no clinical use; ignored.",
                    )
                )
                continue
            skip = _unsupported(entry.info)
            if skip is not None:
                slots.append(dataclasses.replace(skip, path=entry.display))
                continue
            compressed = min(entry.info.compress_size, compressed_cap)
            done = read.get(id(entry))
            if done is not None:  # unpacked while the upload arrived: counted, not unpacked
                with _open_entry(zf, entry):  # zipfile's checks of its local header all the same
                    pass
                _count(budget, done.size, budget.add(done.size), compressed)
                nested = _is_zip(done.path)
                slots.append(_Job(entry, done.path, compressed, done.size, nested))
                continue
            slots.append(_Job(entry, budget.new_path(), compressed))
        _run_jobs(
            archive,
            zf,
            [slot for slot in slots if isinstance(slot, _Job) and slot.outcome is None],
            budget,
        )
    for slot in slots:
        if isinstance(slot, SkippedFile):
            result.skipped.append(slot)
        elif isinstance(slot.outcome, SkippedFile):
            result.skipped.append(slot.outcome)
        elif slot.nested:
            _nested(slot.target, slot.entry.display, depth, budget, result)
        else:
            result.files.append(UnpackedFile(slot.entry.display, slot.target, slot.outcome or 0))


def _read_before(entries: list[_Entry], budget: _Budget) -> dict[int, ReadEntry]:
    """The entries (by ``id``) unpacked while the upload arrived that the central directory
    describes exactly and whose files are unchanged."""
    found: dict[int, ReadEntry] = {}
    for entry in entries:
        if entry.is_dir or entry.junk or _unsupported(entry.info) is not None:
            continue
        done = budget.read.get(entry.info.header_offset)
        if done is not None and done.describes(entry.info) and done.unchanged():
            found[id(entry)] = done
    return found


@dataclass(slots=True)
class _Job:
    """One entry to inflate to ``target`` (a name reserved in the archive's order), and what
    became of it: the bytes written, or why it was not (found not to be DICOM from its first
    bytes, or empty); ``nested`` when it is a ZIP itself."""

    entry: _Entry
    target: Path
    compressed: int
    outcome: int | SkippedFile | None = None
    nested: bool = False


UNPACK_THREADS: Final = 2
"""Entries inflated at once: ISA-L's inflating and the writes release the GIL, so on two cores
an archive unpacks in about 0.6 of the time (bench/README.md, issue 15)."""


class _Stopped(Exception):
    """An entry before this one failed: this one stops (its own outcome no longer matters)."""


def _run_jobs(archive: Path, zf: zipfile.ZipFile, jobs: list[_Job], budget: _Budget) -> None:
    """Inflate every job, :data:`UNPACK_THREADS` entries at once, each thread with a ZipFile of
    its own. A failure stops the entries after it in the archive and lets those before it end,
    so the failure raised is the first in the archive's order, as one thread would meet it."""
    pending = iter(enumerate(jobs))
    lock = threading.Lock()
    failures: dict[int, BaseException] = {}
    first_failed = [len(jobs)]  # the lowest index in failures, read without the lock

    def halted(index: int) -> bool:
        return first_failed[0] < index

    def take() -> tuple[int, _Job] | None:
        with lock:
            taken = next(pending, None)
            return None if taken is None or halted(taken[0]) else taken

    def work(own: zipfile.ZipFile) -> None:
        while (taken := take()) is not None:
            index, job = taken
            try:
                _run_job(own, job, budget, functools.partial(halted, index))
            except _Stopped:
                return
            except BaseException as exc:
                with lock:
                    failures[index] = exc
                    first_failed[0] = min(first_failed[0], index)

    with contextlib.ExitStack() as stack:
        helpers = [
            threading.Thread(
                target=work, args=(stack.enter_context(_open_zip(archive)),), daemon=True
            )
            for _ in range(min(UNPACK_THREADS, len(jobs)) - 1)
        ]
        for helper in helpers:
            helper.start()
        try:
            work(zf)
        finally:
            for helper in helpers:
                helper.join()
    if failures:
        raise failures[min(failures)]


def _run_job(zf: zipfile.ZipFile, job: _Job, budget: _Budget, halted: Callable[[], bool]) -> None:
    entry = job.entry
    with _open_entry(zf, entry) as src:
        head = _read(src, entry, HEAD_BYTES)
        if not head:
            job.outcome = SkippedFile(entry.display, MessageCode.empty, "The file is empty.")
            return
        if not (
            looks_like_dicom(head)
            or head.startswith(ZIP_MAGIC)
            or _document_within_caps(head, entry.info, budget.limits)
        ):
            # classified from the stream: never written, never inflated further
            job.outcome = SkippedFile(entry.display, *not_dicom(head))
            return
        job.outcome = _extract(src, head, entry, job.target, job.compressed, budget, halted)
    job.nested = _is_zip(job.target)


def _check_space(entries: list[_Entry], compressed_cap: int, budget: _Budget) -> None:
    """Refuse (``spool_full``) an archive the spool has no room for, before anything of it is
    written: what its entries declare, each bounded by the caps that would stop it (bytes of
    an entry, its compression ratio), the whole bounded by what is left of the total and of the
    medium's ratio, plus the margin the spool keeps. Entries that turn out not to be DICOM are
    counted too (what they are is known once they are read)."""
    limits = budget.limits
    ratio = limits.max_compression_ratio
    wanted = 0
    for entry in entries:
        if entry.is_dir or entry.junk or _unsupported(entry.info) is not None:
            continue
        by_ratio = ratio * min(entry.info.compress_size, compressed_cap) + CHUNK
        wanted += int(min(entry.info.file_size, limits.max_entry_bytes, max(by_ratio, RATIO_FLOOR)))
    by_medium = max(ratio * budget.archive_bytes, RATIO_FLOOR) + CHUNK - budget.bytes
    need = max(0, int(min(wanted, limits.max_unpacked_bytes - budget.bytes, by_medium)))
    free = budget.free_bytes(budget.root)
    margin = limits.spool_free_margin_bytes
    if need + margin > free:
        raise _spool_full(
            f"The server's storage is short of space: the medium needs up to {need} bytes "
            f"unpacked and {margin} must stay free, but {free} are free. The upload is kept; "
            "retry once space has been freed.",
            {"needed": need, "free": max(free - margin, 0)},
        )


def _check_overlap(infos: list[zipfile.ZipInfo], directory_start: int) -> None:
    """Refuse entries whose data overlap (the overlapping-entries bomb: many entries inflating
    the same compressed bytes); Python before 3.11.8 does not check. Each entry takes at least
    its local header's fixed bytes and its compressed data, and ends before the next one and
    before the central directory."""
    ordered = sorted(infos, key=lambda i: i.header_offset)
    if not ordered:
        return
    ends = [i.header_offset + LOCAL_HEADER_SIZE + i.compress_size for i in ordered]
    starts = [i.header_offset for i in ordered[1:]] + [directory_start]
    if any(end > start for end, start in zip(ends, starts, strict=True)):
        raise ArchiveError(
            "archive_invalid", "The archive holds entries that overlap (possible ZIP bomb)."
        )


def _nested(path: Path, display: str, depth: int, budget: _Budget, result: UnpackResult) -> None:
    """Unpack a ZIP found inside the archive, or report it when nested too deep."""
    if depth >= _MAX_NESTING:
        path.unlink()
        result.skipped.append(
            SkippedFile(
                display, MessageCode.nested_archive, "ZIP archive nested too deeply; not opened."
            )
        )
        return
    inner = UnpackResult(files=[], skipped=[])
    first = budget.counter
    try:
        _unpack(path, display + "/", depth + 1, budget, inner)
    except ArchiveError as exc:
        if exc.code != MessageCode.archive_invalid:
            raise
        for n in range(first + 1, budget.counter + 1):  # whatever it wrote, even partly
            budget.path(n).unlink(missing_ok=True)
        result.skipped.append(
            SkippedFile(
                display,
                MessageCode.unreadable,
                "A ZIP archive inside the medium is damaged; its files could not be read.",
            )
        )
    else:
        result.files.extend(inner.files)
        result.skipped.extend(inner.skipped)
    finally:
        path.unlink(missing_ok=True)


def _inspect(info: zipfile.ZipInfo, prefix: str) -> _Entry:
    """Check an entry's name and mode; refuse the archive if it is hostile."""
    name = display_name(info)
    if not name.strip("/"):
        raise ArchiveError("archive_invalid", "The archive holds an entry without a name.")
    if name.startswith("/") or _DRIVE.match(name):
        raise ArchiveError("archive_unsafe", "The archive holds an entry with an absolute path.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(
            "archive_unsafe", "The archive holds an entry that points outside its folder ('..')."
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError("archive_unsafe", "The archive holds a symbolic link.")
    if info.is_dir() or not parts:
        return _Entry(info=info, display=prefix + "/".join(parts), is_dir=True)
    return _Entry(info=info, display=prefix + "/".join(parts), is_dir=False, junk=is_junk(parts))


def is_junk(parts: list[str]) -> bool:
    """Known operating-system clutter; other dot-folders (series names) are kept."""
    if "__MACOSX" in parts:
        return True
    base = parts[-1]
    return base.startswith("._") or base.casefold() in _JUNK_NAMES


def display_name(info: zipfile.ZipInfo) -> str:
    """Entry name for display: UTF-8 flag, Info-ZIP Unicode path, UTF-8, else CP437."""
    name = info.orig_filename
    if info.flag_bits & _UTF8_FLAG:
        raw = name.encode("utf-8", "surrogateescape")
        decoded = name
    else:
        raw = name.encode("cp437")
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = name
    unicode_path = _unicode_path_extra(info.extra, raw)
    if unicode_path is not None:
        decoded = unicode_path
    return decoded.replace("\\", "/").replace("\x00", "")


def _unicode_path_extra(extra: bytes, raw_name: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), when valid for this name."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        data = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag != _UNICODE_PATH_EXTRA or len(data) < 5 or data[0] != 1:
            continue
        (crc,) = struct.unpack_from("<L", data, 1)
        if crc != zlib.crc32(raw_name):
            return None
        try:
            return data[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _unsupported(info: zipfile.ZipInfo) -> SkippedFile | None:
    """An entry that cannot be read at all (its path is filled in by the caller)."""
    if info.flag_bits & ENCRYPTED_FLAG:
        return SkippedFile(
            "",
            MessageCode.encrypted,
            "The file is password-protected in the archive; it cannot be read.",
        )
    if info.compress_type not in _SUPPORTED_METHODS:
        return SkippedFile(
            "",
            MessageCode.unsupported_compression,
            f"The file is compressed with an unsupported method ({info.compress_type}).",
            {"method": info.compress_type},
        )
    return None


def _extract(
    src: IO[bytes],
    head: bytes,
    entry: _Entry,
    target: Path,
    compressed: int,
    budget: _Budget,
    halted: Callable[[], bool],
) -> int:
    """Stream one entry to ``target``, ``head`` (its first bytes, read already) then the rest
    of ``src``, counting inflated bytes against every cap; stops (:class:`_Stopped`) once
    ``halted`` says an entry before this one failed."""
    size = 0
    chunk = head
    with target.open("xb") as out:
        while True:
            if not chunk:
                return size
            if halted():
                raise _Stopped
            size += len(chunk)
            _count(budget, size, budget.add(len(chunk)), compressed)
            out.write(chunk)
            chunk = _read(src, entry, CHUNK)


def _count(budget: _Budget, size: int, total: int, compressed: int) -> None:
    """Refuse an entry of ``size`` bytes so far (of ``compressed``), the medium at ``total``,
    once over a cap."""
    limits = budget.limits
    if size > limits.max_entry_bytes:
        raise ArchiveError(
            "archive_too_large",
            f"An entry inflates to more than {limits.max_entry_bytes} bytes.",
            params={"max_bytes": limits.max_entry_bytes},
        )
    if total > limits.max_unpacked_bytes:
        raise ArchiveError(
            "archive_too_large",
            f"The archive inflates to more than {limits.max_unpacked_bytes} bytes.",
            params={"max_bytes": limits.max_unpacked_bytes},
        )
    if total > RATIO_FLOOR and total > limits.max_compression_ratio * budget.archive_bytes:
        raise ArchiveError(
            "archive_too_large",
            "The archive's compression ratio exceeds "
            f"{limits.max_compression_ratio:g}:1 overall (possible ZIP bomb).",
            params={"max_ratio": f"{limits.max_compression_ratio:g}"},
        )
    if size > RATIO_FLOOR and size > limits.max_compression_ratio * max(compressed, 1):
        raise ArchiveError(
            "archive_too_large",
            "An entry's compression ratio exceeds "
            f"{limits.max_compression_ratio:g}:1 (possible ZIP bomb).",
            params={"max_ratio": f"{limits.max_compression_ratio:g}"},
        )


def _open_entry(zf: zipfile.ZipFile, entry: _Entry) -> IO[bytes]:
    try:
        src = zf.open(entry.info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        raise _invalid("An entry of the archive could not be opened.", exc) from exc
    if entry.info.compress_type == zipfile.ZIP_DEFLATED:
        _inflate_with_isal(src)
    return src


_ISAL_ERROR: Final = cast(type[Exception], isal_zlib.error)
"""What ISA-L raises on a damaged stream (its stubs type it as an instance)."""
INFLATE_ERRORS: Final = (zlib.error, _ISAL_ERROR)
"""What inflating a damaged deflate stream raises, with zlib or ISA-L."""


def _inflate_with_isal(src: IO[bytes]) -> None:
    """Inflate a deflated entry with ISA-L (python-isal, zlib's API) instead of zlib: 2.4 times
    as fast here (bench/README.md, issue 15), the same bytes; zipfile still checks the CRC-32.
    This replaces ``ZipExtFile._decompressor`` before anything is read (CPython 3.11's zipfile,
    the version pyproject.toml allows; guarded by tests/unit/media/test_archive_inflate.py)."""
    if getattr(src, "_decompressor", None) is not None:
        src._decompressor = isal_zlib.decompressobj(-15)  # type: ignore[attr-defined]


def _read(src: IO[bytes], entry: _Entry, size: int) -> bytes:
    try:
        return src.read(size)
    except (zipfile.BadZipFile, zlib.error, _ISAL_ERROR, lzma.LZMAError, EOFError) as exc:
        raise _invalid("An entry of the archive is damaged.", exc) from exc
    except OSError as exc:  # bz2 reports corrupt data as OSError
        if entry.info.compress_type == zipfile.ZIP_BZIP2:
            raise _invalid("An entry of the archive is damaged.", exc) from exc
        raise


def reason(exc: BaseException | Warning | str) -> str:
    """A library's error text, shortened, with quoted names and values masked."""
    text = _QUOTED.sub("'…'", str(exc)).strip() or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def looks_like_dicom(head: bytes) -> bool:
    """Whether a file whose first bytes are ``head`` may be DICOM: a Part 10 file (128-byte
    preamble and ``DICM``) or a data set written without them (:func:`raw.starts_data_set`).
    By content, never by name."""
    return head[128:132] == b"DICM" or raw.starts_data_set(head)


DocumentKind = Literal["pdf", "jpeg", "png"]
"""A document of the disc that is not DICOM but may be filed with a study
(:mod:`importer.media.documents`)."""
_DOCUMENT_MAGIC: Final[tuple[tuple[bytes, DocumentKind], ...]] = (
    (b"%PDF-", "pdf"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
)


def document_kind(head: bytes) -> DocumentKind | None:
    """What kind of document a file's first bytes show, if any (by content, never by name):
    such a file is unpacked too, to be offered at confirmation."""
    for magic, kind in _DOCUMENT_MAGIC:
        if head.startswith(magic):
            return kind
    return None


MAX_DOCUMENT_BYTES: Final = 64 * 1024 * 1024
"""A larger document is not offered (:mod:`importer.media.documents`): an encapsulated PDF or an
image of this size is not a report."""


def _document_within_caps(head: bytes, info: zipfile.ZipInfo, limits: ArchiveLimits) -> bool:
    """A document (:func:`document_kind`) is unpacked, to be offered at confirmation, when what
    its entry declares keeps within a document's size and the medium's compression ratio; one
    that does not is skipped as not DICOM from its first bytes, as before, so that a document
    made a ZIP bomb never fails the medium (what an entry declares and then passes still does,
    as for any entry)."""
    if document_kind(head) is None or info.file_size > MAX_DOCUMENT_BYTES:
        return False
    return info.file_size <= max(info.compress_size, 1) * limits.max_compression_ratio


def not_dicom(head: bytes) -> tuple[MessageCode, str]:
    """Why a file that does not look like DICOM (:func:`looks_like_dicom`) is skipped, as
    ``(reason, message)``: ``unreadable`` when it holds DICOM UIDs in binary, else
    ``not_dicom``, naming the kind of file its first bytes show where recognised."""
    if _DICOM_ROOT in head and not _is_text(head):
        return (
            MessageCode.unreadable,
            "Looks like DICOM (holds DICOM UIDs) but no header could be parsed.",
        )
    kind = _kind(head)
    return MessageCode.not_dicom, f"Not a DICOM file ({kind})." if kind else "Not a DICOM file."


def _kind(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    lowered = head.lstrip()[:64].lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "web page"
    if head and _is_text(head):
        return "text file"
    return ""


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = head.decode("latin-1")
        if any(0x80 <= b < 0xA0 for b in head):
            return False
    return all(c.isprintable() or c in "\r\n\t\f" for c in text)


def _is_zip(path: Path) -> bool:
    """A ZIP by content: local-header magic, then a readable end of central directory."""
    with path.open("rb") as fp:
        if fp.read(4) != ZIP_MAGIC:
            return False
    return zipfile.is_zipfile(path)
