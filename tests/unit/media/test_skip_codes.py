"""What the analysis tells the app about a medium: each skipped file's reason is a message code
with its params (the cap a file was over, a compression method), an archive refused says what
happened in our words (never a library's error text nor an entry's name), and a PACS that could
not be asked ends the import ``pacs_query_failed`` with the PACS's own code as its reason."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from importer.media import (
    ArchiveError,
    ArchiveLimits,
    MediaReport,
    SkippedFile,
    UnpackedFile,
    scan_file,
    unpack_zip,
)
from importer.media.archive import FILES_DIR
from importer.media.scan import NON_DICOM_REASONS, UNREADABLE_REASONS, ScannedInstance
from importer.messages import MessageCode
from importer.pacs import PacsError
from importer.pipeline import analyse
from importer.pipeline.context import PipelineContext
from importer.settings import Settings
from tests.unit.media.helpers import make_zip, sample, sample_bytes

LIMITS = ArchiveLimits(spool_free_margin_bytes=0)


def test_every_counted_reason_is_a_message_code() -> None:
    assert set(MessageCode) >= NON_DICOM_REASONS | UNREADABLE_REASONS


def test_not_a_zip_is_refused_in_our_words(tmp_path: Path) -> None:
    upload = tmp_path / "upload.zip"
    upload.write_bytes(b"This is not a ZIP archive at all." * 10)
    with pytest.raises(ArchiveError) as info:
        unpack_zip(upload, tmp_path / "spool", LIMITS)
    assert info.value.code == "archive_invalid"
    assert "zip file" not in info.value.message.casefold()  # zipfile's own words
    assert info.value.message == "The upload is not a ZIP archive, or it is damaged."


def test_a_damaged_entry_is_refused_without_its_name(tmp_path: Path) -> None:
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ROSSI_MARIO/IM1", sample_bytes("CT_small.dcm"))
    data = bytearray(upload.read_bytes())
    data[20_000] ^= 0xFF  # past the first kilobyte: classified as DICOM, then the CRC fails
    upload.write_bytes(bytes(data))
    with pytest.raises(ArchiveError) as info:
        unpack_zip(upload, tmp_path / "spool", LIMITS)
    assert info.value.code == "archive_invalid"
    assert "ROSSI" not in info.value.message
    assert "CRC" not in info.value.message


def test_a_cap_passed_is_a_param(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {f"IM{i}": b"x" for i in range(4)})
    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, tmp_path / "spool", ArchiveLimits(max_entries=3))
    assert (info.value.code, info.value.params) == ("archive_too_large", {"max_entries": 3})


def test_a_header_over_budget_names_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(sample_bytes("CT_small.dcm"))
    result = scan_file(
        UnpackedFile("CD/IM1", path, path.stat().st_size), ArchiveLimits(max_header_elements=10)
    )
    assert isinstance(result, SkippedFile)
    assert (result.reason, result.params) == (MessageCode.header_too_large, {"max_elements": 10})


def test_an_unsupported_compression_names_its_method(tmp_path: Path) -> None:
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("CD/IM1", sample_bytes("CT_small.dcm"))
    data = bytearray(upload.read_bytes())
    # the method in both the local and the central header: 99 (AES), which zipfile cannot read
    for header, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.index(header) + offset
        data[at : at + 2] = (99).to_bytes(2, "little")
    upload.write_bytes(bytes(data))
    result = unpack_zip(upload, tmp_path / "spool", LIMITS)
    assert [(s.reason, s.params) for s in result.skipped] == [
        (MessageCode.unsupported_compression, {"method": 99})
    ]


# --- the PACS asked which studies it holds -----------------------------------------------------


class _Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def clear_other_attempts(self, import_id: str, attempt: str) -> None:
        return None

    def attempt_dir(self, import_id: str, attempt: str) -> Path:
        return self.root / "attempt"

    def upload_path(self, import_id: str) -> Path:
        return self.root / "upload.zip"

    def files_dir(self, import_id: str) -> Path:
        return self.root / "files"

    def ahead_dir(self, import_id: str) -> Path:
        return self.root / "ahead"


class _DownPacs:
    def accepted_syntaxes(self, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
        raise PacsError(PacsError.TIMEOUT, "no answer", params={"seconds": 30})

    def find_studies(self, uids: list[str]) -> dict[str, Any]:
        raise PacsError(PacsError.TIMEOUT, "no answer", params={"seconds": 30})


async def test_a_pacs_not_asked_fails_pacs_query_failed_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = tmp_path / "attempt" / FILES_DIR
    files.mkdir(parents=True)
    shutil.copy(sample("CT_small.dcm"), files / "000001")
    scanned = scan_file(UnpackedFile("CD/IM1", files / "000001", 0))
    assert isinstance(scanned, ScannedInstance)
    report = MediaReport(instances=[scanned], skipped=[], dicomdir=False, files=1)

    def read_archive(*args: object) -> MediaReport:
        return report

    failed: list[dict[str, Any]] = []

    async def fail_import(ctx: object, import_id: str, **error: Any) -> None:
        failed.append(error)

    monkeypatch.setattr(analyse, "read_archive", read_archive)
    monkeypatch.setattr(analyse, "fail_import", fail_import)
    ctx = SimpleNamespace(
        settings=Settings(data_dir=tmp_path, pacs_syntaxes_cache_s=0),
        redis=None,
        spool=_Spool(tmp_path),
        lease=None,
        scan_pool=None,
        pacs=_DownPacs,
        check_lease=lambda: None,
    )
    await analyse._analyse(
        cast(PipelineContext, ctx), "imp-1", "attempt", None, "pacs", final_attempt=True
    )
    [error] = failed
    assert error["code"] == MessageCode.pacs_query_failed
    assert error["params"] == {"reason": "pacs_timeout", "seconds": 30}
