"""A spool file's stamp, and the one way a stamped file is read to be sent.

What the analysis (or the verify stage's complete read) vouched for is a file with a given
stamp. Every read that sends a file's bytes to a PACS opens it with :func:`open_unchanged`, so
that a file written again, replaced or touched on the spool after it was vouched for is never
sent, whenever the store runs (a retry an hour later included)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileChanged", "check_unchanged", "file_stamp", "open_unchanged"]


class FileChanged(OSError):
    """The file is not the one its stamp was taken of: it was written again, replaced, cut or
    touched after it was vouched for."""


def file_stamp(status: os.stat_result) -> str:
    """A file's size, inode, modification and change times: a file written again, replaced,
    cut or touched has another stamp (the change time cannot be set back by a user)."""
    return f"{status.st_size}:{status.st_ino}:{status.st_mtime_ns}:{status.st_ctime_ns}"


def check_unchanged(fp: BinaryIO, stamp: str | None) -> None:
    """Raise :class:`FileChanged` when the open file ``fp`` no longer has ``stamp`` (``None``:
    nothing vouched for it, nothing is checked)."""
    if stamp is not None and file_stamp(os.fstat(fp.fileno())) != stamp:
        raise FileChanged("the file changed after it was checked")


@contextmanager
def open_unchanged(path: Path, stamp: str | None) -> Iterator[BinaryIO]:
    """``path`` opened for reading, checked against ``stamp`` (:func:`check_unchanged`) when
    opened and again once read, so that a write while it was read shows too. Raises
    :class:`FileChanged`, or ``OSError`` when it cannot be opened."""
    with path.open("rb") as fp:
        check_unchanged(fp, stamp)
        yield fp
        check_unchanged(fp, stamp)
