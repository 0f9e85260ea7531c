"""Appending a tus PATCH body to an upload file: streamed, bounded memory, resumable.

Only one writer at a time per upload (an advisory lock on the file); the database offset is the
truth, and bytes past it (a broken earlier PATCH) are cut off before appending.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from importer.errors import Conflict, PayloadTooLarge


class UploadBusy(Conflict):
    code = "upload_busy"


@dataclass(slots=True)
class Progress:
    """Bytes written so far; read by the caller even when the body broke off half-way."""

    written: int = 0


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


async def append_chunks(
    path: Path, *, offset: int, limit: int, chunks: AsyncIterator[bytes], progress: Progress
) -> None:
    """Write ``chunks`` at ``offset``, counting into ``progress``.

    Raises ``PayloadTooLarge`` before writing a byte past ``limit`` (the declared upload size).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UploadBusy("Another transfer of this upload is in progress.") from exc
        os.ftruncate(fd, offset)
        os.lseek(fd, offset, os.SEEK_SET)
        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                if offset + progress.written + len(chunk) > limit:
                    raise PayloadTooLarge(
                        "The upload is larger than the size declared when it was created."
                    )
                await anyio.to_thread.run_sync(_write_all, fd, chunk)
                progress.written += len(chunk)
        finally:
            await anyio.to_thread.run_sync(os.fsync, fd)
    finally:
        os.close(fd)  # releases the lock
