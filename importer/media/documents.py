"""The rest of the disc: the outside report as a PDF, photos and scanned pages as JPEG or PNG.

Among the files the scan skipped as not DICOM, those whose content (never the name) is a PDF, a
JPEG or a PNG are documents the user may file with a study: each is read once here, for what
the confirmation shows (its pages or its size in pixels, a preview of its first page), and
stamped (:mod:`importer.media.stamp`) so that what is wrapped later is the file the user saw.

A document is hostile input read by native code (PDFium, libjpeg, zlib): each is read and its
preview rendered in a process of its own (``document_preview.py``) under limits of memory and
time, so that one that loops, crashes or asks for gigabytes costs the analysis at most
:data:`PREVIEW_TIMEOUT_S` and never the worker. An image's pixels are decoded only once its
header says it is within :data:`MAX_IMAGE_PIXELS` and :data:`MAX_SIDE`. A document that cannot
be read, or is over the caps, stays in the skipped list with its reason
(``document_unreadable``, ``document_too_large``); one found after :data:`MAX_DOCUMENTS`, or
once the medium's :data:`DOCUMENTS_BUDGET_S` is spent, stays skipped as not DICOM. Nothing
here raises on a file's content."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from importer.media.archive import (
    MAX_DOCUMENT_BYTES,
    DocumentKind,
    SkippedFile,
    UnpackedFile,
    document_kind,
)
from importer.media.stamp import file_stamp
from importer.messages import MessageCode

log = logging.getLogger(__name__)

MAX_DOCUMENTS: Final = 100
"""Documents one medium lists at most: a disc with more is a photo album, not a study's."""
MAX_IMAGE_PIXELS: Final = 30_000_000
"""An image with more pixels is not offered: its native pixel data would pass 90 MB, and its
wrapping adds about five times its pixel data to the worker's memory for a moment."""
MAX_SIDE: Final = 65535
"""DICOM's Rows and Columns are 16-bit: a longer side cannot be an image's."""
PREVIEW_SIZE: Final = 1024
"""Largest side of a document's preview, in pixels: large enough to read a report's heading."""
DOCUMENTS_BUDGET_S: Final = 120.0
"""Time the analysis spends reading one medium's documents at most (a PDF takes about a second,
its process started; a hostile one up to :data:`PREVIEW_TIMEOUT_S`)."""
PREVIEW_TIMEOUT_S: Final = 20.0
PREVIEW_MEMORY_BYTES: Final = 1024 * 1024 * 1024
PREVIEW_PREFIX: Final = "doc-"


@dataclass(frozen=True, slots=True)
class FoundDocument:
    """A document of the medium, as the confirmation shows it."""

    display_path: str
    path: Path
    kind: DocumentKind
    size: int
    stamp: str
    pages: int | None = None
    width: int | None = None
    height: int | None = None
    preview: str | None = None
    """The preview's file name in the preview folder (None: none could be rendered)."""


def preview_name(display_path: str) -> str:
    """File name of a document's preview: the SHA-1 of its path on the medium (never the path
    itself, which may name the patient)."""
    digest = hashlib.sha1(
        display_path.encode("utf-8", "surrogatepass"), usedforsecurity=False
    ).hexdigest()
    return f"{PREVIEW_PREFIX}{digest}.png"


def find_documents(
    files: Sequence[UnpackedFile],
    skipped: Sequence[SkippedFile],
    preview_dir: Path,
    *,
    between: Callable[[], None] = lambda: None,
    budget_s: float | None = None,
) -> tuple[list[FoundDocument], list[SkippedFile]]:
    """The documents among the files skipped as not DICOM, each read and its preview written
    into ``preview_dir``; and the skipped list without them (a document that could not be read
    or is over the caps replaced there by its reason). ``between`` is called before each
    document (it raises to stop the reading: the job lost its import). Once ``budget_s``
    (default :data:`DOCUMENTS_BUDGET_S`) is spent, the documents left are not read: they stay
    skipped as not DICOM, as those past :data:`MAX_DOCUMENTS`."""
    deadline = time.monotonic() + (DOCUMENTS_BUDGET_S if budget_s is None else budget_s)
    candidates = {s.path for s in skipped if s.reason == MessageCode.not_dicom}
    by_path = {f.display_path: f for f in files if f.display_path in candidates}
    found: list[FoundDocument] = []
    rest: list[SkippedFile] = []
    for entry in skipped:
        file = by_path.pop(entry.path, None)
        outcome = None
        if file is not None and len(found) < MAX_DOCUMENTS and time.monotonic() < deadline:
            between()
            outcome = read_document(file, preview_dir)
        if isinstance(outcome, FoundDocument):
            found.append(outcome)
        else:
            rest.append(outcome or entry)
    return found, rest


def read_document(file: UnpackedFile, preview_dir: Path) -> FoundDocument | SkippedFile | None:
    """One file read as a document: None when it is none (by content), its reason when it is
    one that cannot be offered."""
    try:
        with file.path.open("rb") as fp:
            kind = document_kind(fp.read(16))
            status = os.fstat(fp.fileno())
    except OSError:
        return None
    if kind is None:
        return None
    if status.st_size > MAX_DOCUMENT_BYTES:
        return _too_large(file, kind, {"max_mb": MAX_DOCUMENT_BYTES // (1024 * 1024)})
    stamp = file_stamp(status)
    preview_dir.mkdir(parents=True, exist_ok=True)
    target = preview_dir / preview_name(file.display_path)
    found = probe(kind, file.path, target)
    if found is None:
        return _unreadable(file, kind)
    if found.get("too_large") is True:
        return _too_large(file, kind, {"max_megapixels": MAX_IMAGE_PIXELS // 1_000_000})
    pages, width, height = (_count(found.get(k)) for k in ("pages", "width", "height"))
    if (pages is None) == (kind == "pdf") or (kind != "pdf" and (width is None or height is None)):
        target.unlink(missing_ok=True)
        return _unreadable(file, kind)
    return FoundDocument(
        file.display_path, file.path, kind, status.st_size, stamp, pages=pages, width=width,
        height=height, preview=target.name,
    )  # fmt: skip


def probe(kind: DocumentKind, path: Path, target: Path) -> dict[str, object] | None:
    """What the document at ``path`` is (a PDF's pages, an image's size as shown, or that it
    is too large), its first page rendered to ``target`` (PNG), read in a process of its own
    (``document_preview.py``) under :data:`PREVIEW_MEMORY_BYTES` and
    :data:`PREVIEW_TIMEOUT_S`; None when it cannot be read (damaged, protected, over the
    limits)."""
    script = Path(__file__).with_name("document_preview.py")
    try:
        done = subprocess.run(  # noqa: S603 - our own script, no shell, paths as arguments
            [
                sys.executable,
                "-I",
                str(script),
                kind,
                str(path),
                str(target),
                str(PREVIEW_SIZE),
                str(PREVIEW_MEMORY_BYTES),
                str(MAX_IMAGE_PIXELS),
                str(MAX_SIDE),
            ],
            capture_output=True,
            timeout=PREVIEW_TIMEOUT_S,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        log.info("a document of the medium could not be read (%s)", type(exc).__name__)
        target.unlink(missing_ok=True)
        return None
    found = _answer(done.stdout) if done.returncode == 0 else None
    if found is None or (found.get("too_large") is not True and not target.is_file()):
        # the decoders' own words may quote the file: the exit code only
        log.info("a document of the medium could not be read (exit %s)", done.returncode)
        target.unlink(missing_ok=True)
        return None
    return found


def _answer(stdout: bytes) -> dict[str, object] | None:
    try:
        found = json.loads(stdout.decode("ascii").strip().splitlines()[-1])
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _too_large(file: UnpackedFile, kind: DocumentKind, params: dict[str, str | int]) -> SkippedFile:
    return SkippedFile(
        file.display_path,
        MessageCode.document_too_large,
        f"A {kind.upper()} document too large to be filed.",
        {"kind": kind.upper(), **params},
    )


def _unreadable(file: UnpackedFile, kind: DocumentKind) -> SkippedFile:
    return SkippedFile(
        file.display_path,
        MessageCode.document_unreadable,
        f"A {kind.upper()} document that could not be read (damaged or protected).",
        {"kind": kind.upper()},
    )
