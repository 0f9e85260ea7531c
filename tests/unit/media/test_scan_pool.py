"""The headers read in the worker's processes (``IMPORTER_SCAN_PROCESSES``) give the report the
worker's own thread gives, file for file and in the medium's order; a process that dies leaves
the rest to be read here, and a lost lease stops the reading."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import pytest
from pydicom.data import get_testdata_file

from importer.media import ArchiveLimits, read_media
from importer.media.archive import UnpackedFile, UnpackResult
from importer.media.scan import SCAN_CHUNK, ReadingStopped
from importer.settings import Settings
from worker.main import ScanPool, scan_pool


@pytest.fixture(scope="module")
def pool() -> Iterator[ScanPool]:
    made = scan_pool(Settings(scan_processes=2))
    assert made is not None
    yield made
    made.shutdown(wait=True, cancel_futures=True)


class _Watched(Executor):
    """The worker's pool, its tasks counted; the ``kill``-th task kills its process instead."""

    def __init__(self, pool: ScanPool, kill: int | None = None, hang: int | None = None) -> None:
        self.pool = pool
        self.kill = kill
        self.hang = hang
        self.tasks = 0
        self.hung: Future[None] | None = None

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.tasks += 1
        if self.tasks == self.kill:
            return self.pool.submit(os._exit, 1)
        if self.tasks == self.hang:  # a header that takes the process a long while
            self.hung = self.pool.submit(time.sleep, 5)
            return self.hung
        return self.pool.submit(fn, *args, **kwargs)


def _medium(tmp_path: Path) -> UnpackResult:
    """pydicom's test files (valid, damaged, deflated, sharing a SOP Instance UID), a DICOMDIR
    (whose files are missing) and files that are not DICOM: more than a few tasks of the
    pool."""
    source = Path(str(get_testdata_file("CT_small.dcm", download=False))).parent
    dicomdir = Path(str(get_testdata_file("DICOMDIR", download=False)))
    files = []
    for index, path in enumerate([*sorted(source.glob("*.dcm")), dicomdir]):
        target = tmp_path / f"{index:06d}"
        shutil.copy(path, target)
        files.append(UnpackedFile(f"CD/{path.name}", target, target.stat().st_size))
    for index in range(5):
        target = tmp_path / f"text{index}"
        target.write_bytes(b"not an image " * index)
        files.append(UnpackedFile(f"CD/README{index}.TXT", target, target.stat().st_size))
    assert len(files) > 2 * SCAN_CHUNK
    return UnpackResult(files=files, skipped=[])


def test_the_processes_report_what_the_worker_reads_itself(tmp_path: Path, pool: ScanPool) -> None:
    medium = _medium(tmp_path)
    here = read_media(medium, ArchiveLimits())
    watched = _Watched(pool)
    there = read_media(medium, ArchiveLimits(), pool=watched)
    assert there == here
    assert watched.tasks == -(-len(medium.files) // SCAN_CHUNK)  # every file read there
    assert here.dicom > SCAN_CHUNK
    assert here.dicomdir
    assert {"missing_file", "duplicate_instance", "not_dicom"} <= {s.reason for s in here.skipped}


def test_a_process_that_dies_leaves_the_rest_to_be_read_here_then_starts_again(
    tmp_path: Path, pool: ScanPool
) -> None:
    medium = _medium(tmp_path)
    here = read_media(medium, ArchiveLimits())
    dying = _Watched(pool, kill=2)  # the second task: read by the pool, then by the worker
    assert read_media(medium, ArchiveLimits(), pool=dying) == here
    again = _Watched(pool)  # the pool is started again, and reads the next medium
    assert read_media(medium, ArchiveLimits(), pool=again) == here
    assert again.tasks == -(-len(medium.files) // SCAN_CHUNK)


class _Lost(Exception):
    pass


class _Stopping(list[UnpackedFile]):
    """Files whose iteration stops past ``after``, as a lost lease stops the analysis."""

    def __init__(self, files: list[UnpackedFile], after: int) -> None:
        super().__init__(files)
        self.after = after

    def __iter__(self) -> Iterator[UnpackedFile]:
        for index, file in enumerate(super().__iter__()):
            if index == self.after:
                raise _Lost
            yield file


def test_a_lost_lease_stops_the_reading(tmp_path: Path, pool: ScanPool) -> None:
    medium = _medium(tmp_path)
    stopping = UnpackResult(files=_Stopping(medium.files, SCAN_CHUNK + 3), skipped=[])
    with pytest.raises(_Lost):
        read_media(stopping, ArchiveLimits(), pool=pool)


def test_a_lost_lease_stops_the_wait_for_a_process(tmp_path: Path, pool: ScanPool) -> None:
    """A task that does not end (a hostile header) does not hold the analysis of a job that
    lost its import: the wait stops once ``ended`` is set."""
    ended = threading.Event()
    threading.Timer(0.3, ended.set).start()
    watched = _Watched(pool, hang=1)
    with pytest.raises(ReadingStopped):
        read_media(_medium(tmp_path), ArchiveLimits(), pool=watched, ended=ended)
    assert watched.hung is not None
    assert not watched.hung.done()  # stopped while the task still ran


def _logging_set_up() -> tuple[bool, bool]:
    """In a process of the pool: whether log records hide exception values, and whether
    pydicom's warnings are ignored (both quote values: patient data)."""
    ignored = any(
        action == "ignore" and category is UserWarning and module is not None
        for action, _, category, module, _ in warnings.filters
    )
    factory = logging.getLogRecordFactory()
    return bool(getattr(factory, "hides_exception_values", False)), ignored


def test_the_processes_log_as_the_worker_does(pool: ScanPool) -> None:
    assert pool.submit(_logging_set_up).result(timeout=60) == (True, True)
