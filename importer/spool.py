"""Where an import's files live on the spool volume. Paths are built from our own ids only."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

_ID = re.compile(r"^[0-9a-f-]{36}$")


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def import_dir(self, import_id: str) -> Path:
        if not _ID.match(import_id):
            raise ValueError("not an import id")
        return self.root / "imports" / import_id

    def upload_path(self, import_id: str) -> Path:
        return self.import_dir(import_id) / "upload.zip"

    def media_dir(self, import_id: str) -> Path:
        return self.import_dir(import_id) / "media"

    def delete(self, import_id: str) -> None:
        shutil.rmtree(self.import_dir(import_id), ignore_errors=True)

    def ensure(self) -> None:
        (self.root / "imports").mkdir(parents=True, exist_ok=True)
