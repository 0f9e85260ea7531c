"""Reading a medium while it is uploaded: the entries whose bytes have all arrived unpacked and
their headers read, so that little is left for the analysis once the last byte comes.

The app uploads a medium as one ZIP in PATCHes of 16 MB. After each one, the worker reads
ahead (:func:`read_ahead`): from where it stopped, each local header, then the entry's bytes, up
to what the upload has committed (bytes below it never change: tus only appends). An entry is
unpacked into the import's ``ahead/f/`` folder with its CRC-32 and sizes checked against its
local header or its data descriptor (zip.js, which the app uses, writes descriptors: a stored
entry ends at the descriptor whose CRC-32 and sizes are those of the bytes before it), and its
header is read (in the worker's reading processes). Only what may be DICOM is written.

When the upload completes, the analysis takes the folder over (:func:`take_over`): the
read-ahead is stopped for good and waited for, and its files move into the analysis's attempt
folder (a folder moved keeps its files' stamps). :func:`importer.media.archive.unpack_zip` then
uses an entry as it was read only when the central directory describes it exactly so and its
file is unchanged, counted against every cap; everything else is unpacked and read as always.

The read-ahead decides nothing. Whatever it does not read (an encrypted entry, a method other
than stored or deflated, an entry over :data:`MAX_ENTRY_BYTES`, bytes that do not parse, a cap
reached) ends it, and the analysis reads the rest of the medium as it always has. It reads
nothing once the whole upload is on the spool: the analysis has it then, and leaves nothing of
the folder once taken over. It never creates the import's folder, so that an import whose
files were deleted (cancelled, expired) while it read stays so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import pydicom
from isal import isal_zlib

from importer import logs, messages
from importer.media import archive, deflate, dicomdir, raw, scan
from importer.media import stamp as stamp_module
from importer.media.archive import (
    CHUNK,
    ENCRYPTED_FLAG,
    FILES_DIR,
    HEAD_BYTES,
    INFLATE_ERRORS,
    LOCAL_HEADER_SIZE,
    RATIO_FLOOR,
    ZIP_MAGIC,
    ArchiveLimits,
    ReadEntry,
    UnpackedFile,
    looks_like_dicom,
    spool_free_bytes,
)
from importer.media.scan import (
    Outcome,
    ScannedInstance,
    outcome_from_json,
    outcome_to_json,
    read_files,
)
from importer.media.stamp import file_stamp

log = logging.getLogger(__name__)

__all__ = ["AHEAD_DIR", "MAX_ENTRY_BYTES", "Memo", "Taken", "read_ahead", "take_over"]

AHEAD_DIR: Final = "ahead"
"""The folder of an import's read-ahead, beside its upload."""
MAX_ENTRY_BYTES: Final = 64 * 1024**2
"""An entry larger than this ends the read-ahead (the analysis unpacks it): an entry whose bytes
have not all arrived is read again from its start at the next PATCH."""
MAX_SKIPPED_BYTES: Final = 1024**3
"""An entry that is not DICOM (a viewer, a video) is passed over up to this size when its size is
not known (a data descriptor follows it): its bytes are only searched for the descriptor."""
TAKE_OVER_WAIT_S: Final = 30.0
"""How long the analysis waits for a read-ahead to stop (it stops between two entries)."""

_DESCRIPTOR: Final = b"PK\x07\x08"
_DESCRIPTOR_MAX: Final = 24
_ZIP64_EXTRA: Final = 0x0001
_ZIP64_MARK: Final = 0xFFFFFFFF
_STORED: Final = 0
_DEFLATED: Final = 8
_HAS_DESCRIPTOR: Final = 0x8
_GAVE_UP: Final = "gave-up"
_LOCK: Final = "lock"
_CLOSED: Final = "closed"


@dataclass(slots=True)
class _State:
    """What the read-ahead has read so far: a journal (``journal``), one record appended per
    batch, read back whole by the next pass."""

    next: int = 0
    """Where the next local header is."""
    ended: bool = False
    """It met what it does not read: it stops there for good."""
    seen: int = 0
    """Entries passed (written or not)."""
    bytes: int = 0
    retry_at: int = 0
    """The committed offset the entry it waits for is read again from: twice as far as its last
    try reached, so that an entry arriving in small PATCHes is read a few times, not once per
    PATCH."""
    entries: list[ReadEntry] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    """What reading each entry's file gave, by its file's name."""
    recorded: int = 0
    """Entries already in the journal."""


@dataclass(frozen=True, slots=True)
class Taken:
    """What the analysis takes over: the entries by their local header's offset and what
    reading their files gave, by path, both with their files where they were moved."""

    entries: dict[int, ReadEntry]
    outcomes: dict[Path, Outcome]


class _Wait(Exception):
    """The entry's bytes have not all arrived."""


class _End(Exception):
    """The read-ahead stops here for good: what it does not read."""


@dataclass(frozen=True, slots=True)
class _Header:
    at: int
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    name: bytes
    data: int
    """Where the entry's bytes start."""


def read_ahead(
    upload: Path,
    received: int,
    folder: Path,
    limits: ArchiveLimits,
    pool: Executor | None = None,
    *,
    archive_bytes: int,
    memo: Memo | None = None,
) -> int:
    """Unpack and read the entries of ``upload`` whose bytes are all among the ``received``
    bytes committed, from where the last pass stopped, into ``folder`` (``ahead/``); the number
    of entries written. Nothing is done while another pass runs, once the analysis took the
    folder over, or when the import's folder is gone. ``archive_bytes``: the upload's declared
    size (the whole medium's compression ratio is counted against it). ``memo``: the state the
    last pass of this caller left (:class:`Memo`)."""
    created = not folder.exists()
    try:
        folder.mkdir(exist_ok=True)  # never its parents (see the module)
    except FileNotFoundError:
        return 0
    closed = folder / _CLOSED
    written = 0
    with _locked(folder, wait_s=0) as held:
        if not held:
            return 0
        if closed.exists() or _complete(upload, archive_bytes):
            # the analysis has it, or soon will: a pass that came late, or one the analysis
            # could not wait for, leaves nothing
            if created or (folder / _GAVE_UP).exists():
                shutil.rmtree(folder, ignore_errors=True)
            return 0
        files = folder / FILES_DIR
        state = memo.get(folder) if memo is not None else None
        if state is None:
            state = _load(folder, limits)
            files.mkdir(exist_ok=True)
            _keep_only(files, state)  # what a pass killed half-way wrote
        while not state.ended:
            new = _unpack_arrived(
                upload, received, files, state, limits, archive_bytes, closed.exists
            )
            if new:
                _read_headers(state, new, limits, pool)
            _save(folder, state, limits)
            if memo is not None:
                memo.keep(folder, state)
            written += len(new)
            if len(new) < BATCH:
                break
        if (folder / _GAVE_UP).exists():  # the analysis could not wait: nobody will use them
            shutil.rmtree(folder, ignore_errors=True)
    return written


def _complete(upload: Path, archive_bytes: int) -> bool:
    """Whether all of the upload is on the spool: the analysis reads the rest (a pass that
    read the import's state before its last PATCH must not start after the analysis)."""
    try:
        return upload.stat().st_size >= archive_bytes
    except FileNotFoundError:
        return True


BATCH: Final = 128
"""Entries unpacked, then read, then recorded at a time: what the analysis waits for at most
when it takes over from a pass."""


def _read_headers(
    state: _State, new: list[ReadEntry], limits: ArchiveLimits, pool: Executor | None
) -> None:
    """Read the headers of the entries just written into ``state`` (an entry whose file was
    changed between its writing and its reading is dropped: nothing vouches for it)."""
    stamps = {entry.path: entry.stamp for entry in new}
    dropped: set[Path] = set()
    files = [UnpackedFile("", entry.path, entry.size) for entry in new]
    for file, outcome in read_files(files, limits, pool):
        if isinstance(outcome, ScannedInstance) and outcome.stamp != stamps[file.path]:
            dropped.add(file.path)
        else:
            state.outcomes[file.path.name] = outcome
    state.entries = [e for e in state.entries if e.path not in dropped]


def take_over(
    folder: Path, into: Path, limits: ArchiveLimits, *, wait_s: float = TAKE_OVER_WAIT_S
) -> Taken | None:
    """Stop the read-ahead of this upload for good, wait for its pass (``wait_s`` at most),
    and hand what it read to the analysis: its files moved to ``into`` (which must not exist
    yet), with what reading them gave. None when there is nothing to take, or when the pass did
    not stop in time: the analysis then reads the whole medium, and the pass removes its files
    once it stops. Nothing of the folder is left. Never raises: the read-ahead is a head
    start, never a reason to fail."""
    try:
        folder.mkdir(exist_ok=True)
        (folder / _CLOSED).touch()
        with _locked(folder, wait_s=wait_s) as held:
            if not held:
                (folder / _GAVE_UP).touch()
                log.warning("the medium's read-ahead did not stop in time; reading it all again")
                return None
            state = _load(folder, limits)
            files = folder / FILES_DIR
            if state.entries and files.is_dir():
                _keep_only(files, state)
                os.replace(files, into)
            else:
                state = _State()
            shutil.rmtree(folder, ignore_errors=True)  # taken once; a later pass finds it all
            # uploaded and leaves nothing
    except FileNotFoundError:  # the import's files deleted
        return None
    except Exception as exc:
        log.warning("the medium's read-ahead could not be taken over (%s)", type(exc).__name__)
        return None
    if not state.entries:
        return None
    entries = {e.offset: dataclasses.replace(e, path=into / e.path.name) for e in state.entries}
    outcomes = {into / name: outcome for name, outcome in state.outcomes.items()}
    return Taken(entries=entries, outcomes=outcomes)


def _forget(folder: Path) -> None:
    """Remove what the read-ahead wrote (a journal that cannot be used, and its files)."""
    shutil.rmtree(folder / FILES_DIR, ignore_errors=True)
    (folder / _JOURNAL).unlink(missing_ok=True)


def _keep_only(files: Path, state: _State) -> None:
    """Remove from ``files`` what the state does not list."""
    listed = {e.path.name for e in state.entries}
    for path in files.iterdir():
        if path.name not in listed:
            path.unlink(missing_ok=True)
    for name in set(state.outcomes) - listed:
        del state.outcomes[name]


def _unpack_arrived(
    upload: Path,
    received: int,
    files: Path,
    state: _State,
    limits: ArchiveLimits,
    archive_bytes: int,
    closed: Callable[[], bool],
) -> list[ReadEntry]:
    """The entries written this pass; ``state`` moved past every entry read."""
    new: list[ReadEntry] = []
    most = min(limits.max_unpacked_bytes, max(limits.max_compression_ratio * archive_bytes, 1))
    if received < state.retry_at:
        return new
    with upload.open("rb") as fp:
        while len(new) < BATCH and not closed():
            if state.seen >= limits.max_entries:
                state.ended = True
                break
            if spool_free_bytes(files) < limits.spool_free_margin_bytes + MAX_ENTRY_BYTES:
                break  # the analysis says what to do when the spool is short
            target = files / f"r{state.seen + 1:06d}"
            try:
                header = _header(fp, state.next, received)
                crc, compressed, size, end, written = _entry(fp, header, received, target)
                if written and (
                    size > limits.max_entry_bytes
                    or state.bytes + size > most
                    or (size > RATIO_FLOOR and size > limits.max_compression_ratio * compressed)
                ):
                    raise _End
            except _Wait:
                target.unlink(missing_ok=True)
                state.retry_at = state.next + 2 * (received - state.next)
                break
            except _End:
                target.unlink(missing_ok=True)
                state.ended = True
                break
            state.next = end
            state.seen += 1
            if not written:
                continue
            state.bytes += size
            entry = ReadEntry(
                offset=header.at,
                name=header.name,
                flags=header.flags,
                method=header.method,
                crc=crc,
                compressed=compressed,
                size=size,
                path=target,
                stamp=file_stamp(target.stat()),
            )
            state.entries.append(entry)
            new.append(entry)
    return new


def _header(fp: IO[bytes], at: int, received: int) -> _Header:
    if at + LOCAL_HEADER_SIZE > received:
        raise _Wait
    fixed = _read_at(fp, at, LOCAL_HEADER_SIZE)
    if fixed[:4] != ZIP_MAGIC:
        raise _End  # the central directory, or what is not an entry
    _, _, flags, method, _, _, crc, compressed, size, name_len, extra_len = struct.unpack(
        "<4s5H3L2H", fixed
    )
    data = at + LOCAL_HEADER_SIZE + name_len + extra_len
    if data > received:
        raise _Wait
    rest = _read_at(fp, at + LOCAL_HEADER_SIZE, name_len + extra_len)
    name, extra = rest[:name_len], rest[name_len:]
    if flags & ENCRYPTED_FLAG or method not in (_STORED, _DEFLATED):
        raise _End
    if not flags & _HAS_DESCRIPTOR and _ZIP64_MARK in (compressed, size):
        values = _zip64_values(extra)
        if size == _ZIP64_MARK:
            size = values.pop(0) if values else -1
        if compressed == _ZIP64_MARK:
            compressed = values.pop(0) if values else -1
        if -1 in (size, compressed):
            raise _End
    return _Header(at, flags, method, crc, compressed, size, name, data)


def _zip64_values(extra: bytes) -> list[int]:
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, position)
        body = extra[position + 4 : position + 4 + length]
        position += 4 + length
        if tag == _ZIP64_EXTRA:
            return [v for (v,) in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
    return []


class _Sink:
    """An entry's bytes: written to ``target`` once its first bytes say it may be DICOM
    (what the analysis would write), otherwise only counted."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.head = b""
        self.out: IO[bytes] | None = None
        self.decided = False
        self.size = 0

    @property
    def skipping(self) -> bool:
        """Its first bytes say it is not DICOM: it is only passed over."""
        return self.decided and self.out is None

    @property
    def bound(self) -> int:
        return MAX_SKIPPED_BYTES if self.skipping else MAX_ENTRY_BYTES

    def skip_to(self, size: int) -> None:
        """An entry passed over without reading the rest of it (its size is known)."""
        self.size = size

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.out is not None:
            self.out.write(data)
        elif not self.decided:
            self.head += data
            if len(self.head) >= HEAD_BYTES:
                self._decide()
        if self.size > self.bound:  # once its first bytes said which bound
            raise _End

    def _decide(self) -> None:
        self.decided = True
        if looks_like_dicom(self.head[:HEAD_BYTES]):
            self.out = self.target.open("xb")
            self.out.write(self.head)
        self.head = b""

    def close(self) -> bool:
        """Whether the entry was written."""
        if not self.decided and self.head:
            self._decide()
        if self.out is None:
            return False
        self.out.close()
        return True

    def abandon(self) -> None:
        if self.out is not None:
            self.out.close()


def _entry(
    fp: IO[bytes], header: _Header, received: int, target: Path
) -> tuple[int, int, int, int, bool]:
    """Read one entry through a :class:`_Sink` to ``target``: its CRC-32, compressed and
    inflated sizes, where it ends (its descriptor included), and whether it was written."""
    sink = _Sink(target)
    try:
        if header.method == _STORED and header.flags & _HAS_DESCRIPTOR:
            crc, compressed, end = _stored_until_descriptor(fp, header.data, received, sink)
            size = compressed
        elif header.method == _STORED:
            if header.compressed != header.size:
                raise _End
            if header.data + header.compressed > received:
                raise _Wait
            crc = _copy(fp, header, sink)
            compressed = size = header.compressed
            end = header.data + compressed
        else:
            crc, compressed, size = _inflate(fp, header, received, sink)
            end = header.data + compressed
            if header.flags & _HAS_DESCRIPTOR:
                end = _after_descriptor(fp, end, received, crc, compressed, size)
        if not header.flags & _HAS_DESCRIPTOR and (
            crc != header.crc or size != header.size or compressed != header.compressed
        ):
            raise _End
        if size != sink.size:
            raise _End
    except BaseException:
        sink.abandon()
        raise
    return crc, compressed, size, end, sink.close()


def _copy(fp: IO[bytes], header: _Header, sink: _Sink) -> int:
    """A stored entry of known size, through ``sink``; its CRC-32. One that is not DICOM is
    passed over once its first bytes say so (nothing of it is used: its CRC-32 is not checked)."""
    crc = 0
    position, end = header.data, header.data + header.compressed
    while position < end:
        if sink.skipping:
            sink.skip_to(header.size)
            return header.crc
        data = _read_at(fp, position, min(CHUNK, end - position))
        crc = isal_zlib.crc32(data, crc)
        sink.write(data)
        position += len(data)
    return crc


def _inflate(fp: IO[bytes], header: _Header, received: int, sink: _Sink) -> tuple[int, int, int]:
    """Inflate from ``header.data`` to the end of the deflate stream; its CRC-32, compressed and
    inflated sizes. A stream over the sink's bound of input (empty blocks inflate to nothing)
    or damaged ends the read-ahead."""
    known = not header.flags & _HAS_DESCRIPTOR
    if known and header.data + header.compressed > received:
        raise _Wait
    stop = header.data + header.compressed if known else received
    inflater = isal_zlib.decompressobj(-15)
    crc = 0
    position = header.data
    while not inflater.eof:
        if known and sink.skipping:  # not DICOM, its size known: passed over
            sink.skip_to(header.size)
            return header.crc, header.compressed, header.size
        if position >= stop:
            if known:
                raise _End  # the stream does not end where the header says
            raise _Wait
        if position - header.data > sink.bound:
            raise _End
        data = _read_at(fp, position, min(CHUNK, stop - position))
        position += len(data)
        while data and not inflater.eof:
            try:
                out = inflater.decompress(data, CHUNK)
            except INFLATE_ERRORS:
                raise _End from None
            crc = isal_zlib.crc32(out, crc)
            sink.write(out)
            data = inflater.unconsumed_tail
    compressed = position - header.data - len(inflater.unused_data)
    return crc, compressed, sink.size


def _after_descriptor(
    fp: IO[bytes], at: int, received: int, crc: int, compressed: int, size: int
) -> int:
    """Where the data descriptor at ``at`` ends, once it says ``crc`` and both sizes."""
    if at + _DESCRIPTOR_MAX > received:
        raise _Wait
    data = _read_at(fp, at, _DESCRIPTOR_MAX)
    length = _descriptor(data, 0, crc, compressed, size)
    if length is None:
        raise _End
    return at + length


def _descriptor(data: bytes, at: int, crc: int, compressed: int, size: int) -> int | None:
    """The length of the data descriptor at ``data[at:]`` that says ``crc`` and both sizes
    (with or without its signature, sizes of 4 or 8 bytes); None when it does not say them.
    ``data`` holds at least :data:`_DESCRIPTOR_MAX` bytes from ``at``."""
    starts = (at + 4, at) if data[at : at + 4] == _DESCRIPTOR else (at,)
    for start in starts:
        for form, length in (("<3L", 12), ("<L2Q", 20)):
            if struct.unpack_from(form, data, start) == (crc, compressed, size):
                return start - at + length
    return None


def _stored_until_descriptor(
    fp: IO[bytes], start: int, received: int, sink: _Sink
) -> tuple[int, int, int]:
    """A stored entry whose sizes are in a descriptor after it: it ends at the first signed
    descriptor that says the CRC-32 and the length of the bytes before it. Its CRC-32, length
    and where its descriptor ends. Linear in the entry's length, however many signatures its
    bytes hold: the CRC-32 runs once over them, from one signature to the next."""
    crc = 0
    consumed = 0
    carry = b""
    position = start
    while True:
        take = min(CHUNK, received - position)
        if take <= 0:
            raise _Wait
        buffer = carry + _read_at(fp, position, take)
        position += take
        limit = len(buffer) - _DESCRIPTOR_MAX  # a signature before it can be read whole
        done = 0  # the bytes of ``buffer`` the CRC-32 covers
        found = buffer.find(_DESCRIPTOR, 0, limit + 3) if limit > 0 else -1
        while found >= 0:
            length = consumed + found
            crc = isal_zlib.crc32(buffer[done:found], crc)
            done = found
            described = _descriptor(buffer, found, crc, length, length)
            if described is not None:
                sink.write(buffer[:found])
                return crc, length, start + length + described
            found = buffer.find(_DESCRIPTOR, found + 1, limit + 3)
        if limit > 0:
            crc = isal_zlib.crc32(buffer[done:limit], crc)
            sink.write(buffer[:limit])
            consumed += limit
            carry = buffer[limit:]
        else:
            carry = buffer


def _read_at(fp: IO[bytes], at: int, size: int) -> bytes:
    fp.seek(at)
    data = fp.read(size)
    if len(data) != size:
        raise _Wait  # the file is shorter than committed: read again at the next pass
    return data


@contextlib.contextmanager
def _locked(folder: Path, *, wait_s: float) -> Iterator[bool]:
    """The read-ahead's lock on ``folder``, waited for ``wait_s`` at most: True when held."""
    fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            else:
                yield True
                return
        yield False
    finally:
        os.close(fd)  # releases the lock


_JOURNAL: Final = "journal"


class Memo:
    """The state of the last pass, kept by the job that runs the passes of one upload, so that
    a pass reads the journal again only when another worker wrote to it since."""

    def __init__(self) -> None:
        self.state: _State | None = None
        self.size = -1

    def get(self, folder: Path) -> _State | None:
        try:
            size = (folder / _JOURNAL).stat().st_size
        except FileNotFoundError:
            size = -1
        return self.state if self.state is not None and size == self.size else None

    def keep(self, folder: Path, state: _State) -> None:
        self.state = state
        try:
            self.size = (folder / _JOURNAL).stat().st_size
        except FileNotFoundError:
            self.state = None


def _load(folder: Path, limits: ArchiveLimits) -> _State:
    """The state the journal tells: JSON lines, one record a batch, each stamped with the
    reading code's digest and the limits. A journal of other code or other limits (a worker
    upgraded during the upload: its outcomes would not be what this code reads), or that
    cannot be read, is started again; a last record cut short (a pass killed while it wrote)
    is left out, and written over by the next."""
    state = _State()
    try:
        data = (folder / _JOURNAL).read_bytes()
    except FileNotFoundError:
        return state
    stamp = _format(limits)
    position = 0
    try:
        while (end := data.find(b"\n", position)) >= 0:
            record = json.loads(data[position:end])
            if record["format"] != stamp:
                raise ValueError("another version")
            state.next, state.ended, state.seen = record["next"], record["ended"], record["seen"]
            state.bytes, state.retry_at = record["bytes"], record["retry_at"]
            for raw_entry, raw_outcome in record["entries"]:
                entry = _entry_from_json(raw_entry, folder / FILES_DIR)
                state.entries.append(entry)
                state.outcomes[entry.path.name] = outcome_from_json(raw_outcome)
            position = end + 1
    except (KeyError, TypeError, ValueError):  # damaged, or of another version
        log.warning("the medium's read-ahead journal could not be used; starting again")
        _forget(folder)
        return _State()
    if position < len(data):
        os.truncate(folder / _JOURNAL, position)
    state.recorded = len(state.entries)
    return state


def _save(folder: Path, state: _State, limits: ArchiveLimits) -> None:
    """Append what this batch read, one line in one write."""
    new = state.entries[state.recorded :]
    record = {
        "format": _format(limits),
        "next": state.next,
        "ended": state.ended,
        "seen": state.seen,
        "bytes": state.bytes,
        "retry_at": state.retry_at,
        "entries": [[_entry_to_json(e), outcome_to_json(state.outcomes[e.path.name])] for e in new],
    }
    with (folder / _JOURNAL).open("ab") as out:
        out.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
    state.recorded = len(state.entries)


def _entry_to_json(entry: ReadEntry) -> dict[str, Any]:
    return {**dataclasses.asdict(entry), "name": entry.name.hex(), "path": entry.path.name}


def _entry_from_json(data: dict[str, Any], files: Path) -> ReadEntry:
    name = str(data["path"])
    if not _FILE_NAME.fullmatch(name):
        raise ValueError("not a file of the read-ahead")
    return ReadEntry(
        offset=int(data["offset"]),
        name=bytes.fromhex(data["name"]),
        flags=int(data["flags"]),
        method=int(data["method"]),
        crc=int(data["crc"]),
        compressed=int(data["compressed"]),
        size=int(data["size"]),
        path=files / name,
        stamp=str(data["stamp"]),
    )


_FILE_NAME: Final = re.compile(r"r[0-9]{6}")


def _digest() -> str:
    """The reading code's digest, taken when it is loaded: what a pass reports changes with
    this code, pydicom and Python."""
    digest = hashlib.sha256(f"{pydicom.__version__} {sys.version}".encode())
    modules = (archive, scan, raw, deflate, dicomdir, stamp_module, logs, messages)
    for path in sorted({Path(str(m.__file__)) for m in modules} | {Path(__file__)}):
        digest.update(path.read_bytes())
    return digest.hexdigest()


CODE: Final = _digest()


def _format(limits: ArchiveLimits) -> str:
    return f"{CODE}:{limits!r}"
