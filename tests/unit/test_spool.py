"""An import's files are removed whole, whatever else happens on the spool meanwhile."""

from __future__ import annotations

import shutil
from pathlib import Path

from importer.spool import TRASH_DIR, Spool

IMPORT = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _spool(tmp_path: Path) -> Spool:
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    (spool.ahead_dir(IMPORT) / "f").mkdir(parents=True)
    (spool.ahead_dir(IMPORT) / "f" / "r000001").write_bytes(b"an image")
    spool.upload_path(IMPORT).write_bytes(b"PK")
    return spool


def test_the_folder_goes_through_the_trash_and_nothing_stays(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    spool.delete(IMPORT)
    assert not spool.import_dir(IMPORT).exists()
    assert not any((spool.root / TRASH_DIR).iterdir())
    spool.delete(IMPORT)  # gone already: nothing to do


def test_a_trash_that_cannot_be_made_removes_the_folder_in_place(tmp_path: Path) -> None:
    """The trash removed by another process's start, or no room for it: still removed."""
    spool = _spool(tmp_path)
    shutil.rmtree(spool.root / TRASH_DIR)
    (spool.root / TRASH_DIR).write_bytes(b"not a folder")
    spool.delete(IMPORT)
    assert not spool.import_dir(IMPORT).exists()


def test_what_a_crash_left_in_the_trash_goes_at_the_next_start(tmp_path: Path) -> None:
    spool = _spool(tmp_path)
    left = spool.root / TRASH_DIR / f"{IMPORT}-0123"
    shutil.copytree(spool.import_dir(IMPORT), left)
    spool.ensure()
    assert not left.exists()
    assert (spool.root / TRASH_DIR).is_dir()
    assert spool.import_dir(IMPORT).exists()
