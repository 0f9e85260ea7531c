"""Receiving a tus upload: who may append, at which offset, and how a PATCH body reaches the spool.

Streamed, bounded memory, resumable. The database offset is the truth; bytes past it (a broken
earlier PATCH) are cut off before appending. Three promises (see docs/security.md):

- only the session that created the import appends to it or reads its offset;
- one writer at a time: an advisory lock on the file, taken before the committed offset is read
  again and held until the new offset is committed, so two PATCHes at the same offset never both
  write;
- an import cancelled, expired or purged while a PATCH streamed stays so: nothing is recorded,
  nothing is queued, and the PATCH deletes the files it wrote or re-created.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from importer import metrics
from importer.access.models import UserSession
from importer.audit.actions import AuditAction
from importer.audit.service import Actor, about, record
from importer.db import transaction, utcnow
from importer.errors import Conflict, Forbidden, NotFound, PayloadTooLarge
from importer.imports import repository
from importer.imports.models import Import
from importer.imports.repository import get_for_session
from importer.imports.states import ImportStatus, set_status
from importer.spool import Spool

# the statuses whose files are deleted (by a cancel, the reconciler's expiry, a purge)
FILES_DELETED = frozenset({ImportStatus.cancelled, ImportStatus.expired, ImportStatus.purged})


class UploadBusy(Conflict):
    code = "upload_busy"


class OffsetMismatch(Conflict):
    code = "offset_mismatch"


class UploadClosed(Conflict):
    code = "upload_closed"

    def __init__(self, status: str) -> None:
        super().__init__(
            f"This upload is complete or closed: the import is {status}.",
            params={"status": status},
        )
        self.status = status


class UploadNotOwned(Forbidden):
    code = "upload_not_owned"


@dataclass(slots=True)
class Progress:
    """Bytes written so far; read by the caller even when the body broke off half-way."""

    written: int = 0


@dataclass(frozen=True, slots=True)
class Received:
    """What a PATCH left: the committed offset, the declared size, whether it completed."""

    offset: int
    size: int
    completed: bool


def check_owner(imp: Import, user_session: UserSession) -> None:
    """Only the session that created an import uploads to it: another session (even of the same
    user and order) may see the import but not append to it nor read where it stands."""
    if imp.session_id != user_session.id:  # None (no creating session): nobody
        raise UploadNotOwned("This upload belongs to the session that created the import.")


async def get_own_upload(db: AsyncSession, import_id: str, user_session: UserSession) -> Import:
    """The import, for the session that created it: ``404 import_not_found`` when the session
    may not see it at all, ``403 upload_not_owned`` when it may see it but did not create it."""
    imp = await get_for_session(db, import_id, user_session)
    check_owner(imp, user_session)
    return imp


def check_upload_offset(imp: Import, offset: int) -> None:
    if imp.status != ImportStatus.created:
        raise UploadClosed(imp.status)
    if offset != imp.upload_received:
        raise OffsetMismatch(
            f"Upload-Offset {offset} does not match the {imp.upload_received} bytes received.",
            params={"offset": offset, "received": imp.upload_received},
        )


async def record_upload(db: AsyncSession, imp: Import, *, received: int) -> bool:
    """Persist the new offset; on the last byte queue the import. True when it completed."""
    imp.upload_received = received
    imp.updated_at = utcnow()
    if received < imp.upload_size:
        return False
    set_status(imp, ImportStatus.queued)
    await record(
        db,
        action=AuditAction.upload_completed,
        actor=Actor(id=imp.created_by, name=imp.created_by_name, department=imp.department),
        import_id=imp.id,
        **about(imp.order),
        details={"bytes": received, "filename": imp.upload_filename},
    )
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _open(path: Path) -> tuple[int, bool]:
    """Open the upload file, creating it (and its folder) when missing; True when created."""
    try:
        return os.open(path, os.O_RDWR), False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o640), True
    except FileExistsError:
        return os.open(path, os.O_RDWR), False


class UploadFile:
    """An upload file, open and locked by us (``locked_upload``)."""

    def __init__(self, path: Path, fd: int, *, created: bool) -> None:
        self.path = path
        self.fd = fd
        self.created = created  # this open created the file (and perhaps its folder)

    async def append(
        self, chunks: AsyncIterator[bytes], *, offset: int, limit: int, progress: Progress
    ) -> None:
        """Write ``chunks`` at ``offset``, counting into ``progress``; bytes past ``offset`` go.

        Raises ``PayloadTooLarge`` before writing a byte past ``limit`` (the declared size).
        """
        os.ftruncate(self.fd, offset)
        os.lseek(self.fd, offset, os.SEEK_SET)
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                if offset + progress.written + len(chunk) > limit:
                    raise PayloadTooLarge(
                        "The upload is larger than the size declared when it was created.",
                        params={"max_bytes": limit},
                    )
                await anyio.to_thread.run_sync(_write_all, self.fd, chunk)
                progress.written += len(chunk)
        finally:
            await anyio.to_thread.run_sync(os.fsync, self.fd)

    def discard(self) -> None:
        """Remove the file if this open created it, and its folder if that is empty now."""
        if not self.created:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()


@asynccontextmanager
async def locked_upload(path: Path) -> AsyncIterator[UploadFile]:
    """Open the upload file and hold its lock until the block ends; ``UploadBusy`` when another
    transfer holds it. What the block commits is committed before the next writer starts."""
    fd, created = await anyio.to_thread.run_sync(_open, path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadBusy("Another transfer of this upload is in progress.") from exc
        yield UploadFile(path, fd, created=created)
    finally:
        os.close(fd)  # releases the lock


async def receive(
    factory: async_sessionmaker[AsyncSession],
    spool: Spool,
    *,
    import_id: str,
    user_session: UserSession,
    offset: int,
    chunks: AsyncIterator[bytes],
) -> Received:
    """Append a PATCH body at ``offset``; the last byte queues the import (committed here: the
    caller enqueues the analysis when ``completed``).

    Short transactions around the transfer: no database session is held while bytes flow; the
    file lock is, from before the committed offset is read again until the new one is committed.
    """
    async with transaction(factory) as db:
        imp = await get_own_upload(db, import_id, user_session)
        check_upload_offset(imp, offset)
        size = imp.upload_size
    progress = Progress()
    try:
        async with locked_upload(spool.upload_path(import_id)) as upload:
            try:
                completed = await _append_and_commit(
                    factory,
                    import_id,
                    upload,
                    offset=offset,
                    size=size,
                    chunks=chunks,
                    progress=progress,
                )
            except UploadClosed as exc:
                await anyio.to_thread.run_sync(_leave_nothing, spool, import_id, upload, exc.status)
                raise
            except OffsetMismatch:
                await anyio.to_thread.run_sync(upload.discard)
                raise
    finally:
        metrics.UPLOAD_BYTES.inc(progress.written)
    return Received(offset=offset + progress.written, size=size, completed=completed)


async def _append_and_commit(
    factory: async_sessionmaker[AsyncSession],
    import_id: str,
    upload: UploadFile,
    *,
    offset: int,
    size: int,
    chunks: AsyncIterator[bytes],
    progress: Progress,
) -> bool:
    """Under the upload's lock: read the committed offset again, append, commit the new one."""
    # A PATCH checked at this same offset may have committed and let the lock go since our
    # check: refused here, before a byte is cut or written.
    async with transaction(factory) as db:
        check_upload_offset(await _get(db, import_id, lock=False), offset)
    try:
        await upload.append(chunks, offset=offset, limit=size, progress=progress)
    finally:
        # what arrived is kept, even from a body that broke off; but an import cancelled or
        # expired meanwhile stays so (nothing recorded, nothing queued)
        async with transaction(factory) as db:
            imp = await _get(db, import_id, lock=True)
            check_upload_offset(imp, offset)
            completed = await record_upload(db, imp, received=offset + progress.written)
    return completed


async def _get(db: AsyncSession, import_id: str, *, lock: bool) -> Import:
    imp = await repository.get(db, import_id, lock=lock)
    if imp is None:
        raise NotFound("No such import.", code="import_not_found")
    return imp


def _leave_nothing(spool: Spool, import_id: str, upload: UploadFile, status: str) -> None:
    """A PATCH that found its upload closed leaves nothing behind: none of the files of an import
    whose files are deleted (it may have re-created the folder after the cancel deleted it), and
    otherwise (finished by another transfer) nothing it created itself."""
    if status in FILES_DELETED:
        spool.delete(import_id)
    else:
        upload.discard()
