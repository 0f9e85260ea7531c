"""Where an import's files live on the spool volume. Paths are built from our own ids only.

An import's folder holds ``upload.zip``, ``ahead/`` (what was read of it while it arrived),
``media/f/`` (the unpacked files the instances point to) and ``thumbs/``. Each analysis unpacks
into an attempt folder of its own, ``media/.attempt-<id>/`` (``f/`` and ``thumbs/`` inside),
swapped into place only once the analysis is written: two jobs on one import never delete each
other's files. A folder being removed is first moved to ``deleting/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from pathlib import Path

from importer.media.ahead import AHEAD_DIR
from importer.media.archive import FILES_DIR
from importer.media.thumbnail import THUMBNAILS_DIR

_ID = re.compile(r"^[0-9a-f-]{36}$")
_ATTEMPT = re.compile(r"^[0-9a-f]{32}$")
ATTEMPT_PREFIX = ".attempt-"
TRASH_DIR = "deleting"
"""Where an import's folder is moved to be removed (:meth:`Spool.delete`)."""


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def import_dir(self, import_id: str) -> Path:
        if not _ID.match(import_id):
            raise ValueError("not an import id")
        return self.root / "imports" / import_id

    def upload_path(self, import_id: str) -> Path:
        return self.import_dir(import_id) / "upload.zip"

    def ahead_dir(self, import_id: str) -> Path:
        """What was read of the upload while it arrived (:mod:`importer.media.ahead`)."""
        return self.import_dir(import_id) / AHEAD_DIR

    def media_dir(self, import_id: str) -> Path:
        return self.import_dir(import_id) / "media"

    def files_dir(self, import_id: str) -> Path:
        """The unpacked files of the analysis in force (the instances' paths lead here)."""
        return self.media_dir(import_id) / FILES_DIR

    def attempt_dir(self, import_id: str, attempt: str) -> Path:
        """The folder one analysis attempt unpacks into (``attempt``: a job's lease owner)."""
        if not _ATTEMPT.match(attempt):
            raise ValueError("not an attempt id")
        return self.media_dir(import_id) / f"{ATTEMPT_PREFIX}{attempt}"

    def clear_other_attempts(self, import_id: str, attempt: str) -> None:
        """Remove what earlier attempts left (a killed worker's half-unpacked medium). Only
        the job holding the import calls it: any other attempt is dead or stopping."""
        media = self.media_dir(import_id)
        if not media.is_dir():
            return
        keep = self.attempt_dir(import_id, attempt).name
        for entry in media.iterdir():
            if entry.name.startswith(ATTEMPT_PREFIX) and entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)

    def swap_in(self, import_id: str, attempt: str) -> None:
        """Put an attempt's files and thumbnails in force, replacing the earlier ones."""
        attempt_dir = self.attempt_dir(import_id, attempt)
        pairs = (
            (attempt_dir / FILES_DIR, self.files_dir(import_id)),
            (attempt_dir / THUMBNAILS_DIR, self.import_dir(import_id) / THUMBNAILS_DIR),
        )
        for source, target in pairs:
            if target.exists():
                os.replace(target, attempt_dir / f"old-{target.name}")
            if source.exists():
                os.replace(source, target)
        shutil.rmtree(attempt_dir, ignore_errors=True)

    def delete(self, import_id: str) -> None:
        """Remove the import's files. The folder is first moved out of the way (to
        ``deleting/``), so that a job still writing into it by its path (a read-ahead pass)
        finds it gone and cannot add a file while it is removed; where it cannot be moved (no
        room for that folder), it is removed in place."""
        folder = self.import_dir(import_id)
        gone = self.root / TRASH_DIR / f"{import_id}-{uuid.uuid4().hex}"
        try:
            gone.parent.mkdir(parents=True, exist_ok=True)
            os.rename(folder, gone)
        except OSError:
            if not folder.exists():
                return
            gone = folder
        shutil.rmtree(gone, ignore_errors=True)

    def ensure(self) -> None:
        (self.root / "imports").mkdir(parents=True, exist_ok=True)
        trash = self.root / TRASH_DIR
        with contextlib.suppress(OSError):  # :meth:`delete` removes in place without it
            trash.mkdir(exist_ok=True)
        if trash.is_dir():
            for entry in trash.iterdir():  # what a crash left half removed
                shutil.rmtree(entry, ignore_errors=True)
