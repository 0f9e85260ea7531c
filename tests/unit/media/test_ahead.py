"""The medium read while it is uploaded (:mod:`importer.media.ahead`): whatever the ZIP's layout
and however its bytes arrive, the analysis then reports exactly what it reports reading the
whole archive, and it uses what was read ahead only where the archive agrees and the file is
unchanged; what the read-ahead does not read, the analysis reads."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import struct
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from isal import isal_zlib
from pydicom import dcmread
from pydicom.data import get_testdata_file

from importer.media import ArchiveError, ArchiveLimits, MediaReport, ahead
from importer.media.ahead import AHEAD_DIR, _locked, read_ahead, take_over
from importer.pipeline.analyse import read_archive
from importer.spool import TRASH_DIR, Spool

LIMITS = ArchiveLimits()


class _Stream(io.RawIOBase):
    """A stream zipfile cannot seek back in: it writes sizes and CRC-32 in data descriptors
    after each entry, as zip.js does for the app (stored: the descriptor signed, sizes of 4
    bytes; ``force_zip64``: of 8)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += b
        return len(b)


def _files() -> list[tuple[str, bytes]]:
    """pydicom's test files (valid, damaged, deflated, big-endian, sharing a SOP Instance UID),
    a DICOMDIR, text, and a file of random bytes larger than a read's chunk."""
    source = Path(str(get_testdata_file("CT_small.dcm", download=False))).parent
    paths = sorted(source.glob("*.dcm"))[:40]
    paths.append(Path(str(get_testdata_file("DICOMDIR", download=False))))
    files = [(f"CD/{p.name}", p.read_bytes()) for p in paths]
    files.append(("CD/README.TXT", b"Viewer inside " * 40))
    files.append(("CD/VIEWER.BIN", random.Random(1).randbytes(3_000_000)))
    files.append(("CD/EMPTY", b""))
    return files


def _zip(layout: str, files: list[tuple[str, bytes]]) -> bytes:
    method = zipfile.ZIP_STORED if "stored" in layout else zipfile.ZIP_DEFLATED
    if layout.startswith("streamed"):
        stream = _Stream()
        with zipfile.ZipFile(stream, "w", method) as out:
            for name, data in files:
                with out.open(name, "w", force_zip64=layout.endswith("zip64")) as entry:
                    entry.write(data)
        return bytes(stream.data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as out:
        for name, data in files:
            out.writestr(name, data)
    return buffer.getvalue()


LAYOUTS = ["stored", "deflated", "streamed stored", "streamed deflated", "streamed stored zip64"]


def _arrive(data: bytes, upload: Path, seed: int, until: int | None = None) -> int:
    """Write ``data`` (up to ``until``) to ``upload`` in PATCHes of random sizes, reading ahead
    after each one, as the worker does; the entries written ahead."""
    ahead = upload.parent / AHEAD_DIR
    steps = random.Random(seed)
    written = 0
    end = len(data) if until is None else until
    with upload.open("ab") as out:
        position = upload.stat().st_size
        while position < end:
            position = min(end, position + steps.randint(1, min(700_000, len(data) // 8)))
            out.write(data[out.tell() : position])
            out.flush()
            written += read_ahead(upload, position, ahead, LIMITS, archive_bytes=len(data))
    return written


def _all_but_the_last_patch(data: bytes, upload: Path) -> int:
    """The upload but its last byte, as it is when a PATCH before the last one is read ahead;
    the bytes received. (Once the whole upload is on the spool, the analysis has it.)"""
    upload.write_bytes(data[:-1])
    return len(data) - 1


def _last_patch(data: bytes, upload: Path) -> None:
    with upload.open("ab") as out:
        out.write(data[-1:])


def _key(report: MediaReport) -> tuple[Any, ...]:
    """What the user sees of a report (not where its files are, nor their stamps)."""
    return (
        [
            (i.display_path, i.sop_instance_uid, i.size, i.read_again, i.patient, i.warnings)
            for i in report.instances
        ],
        [(s.path, s.reason, s.params) for s in report.skipped],
        report.files,
        report.dicomdir,
    )


def _analyse(folder: Path, name: str = "attempt") -> MediaReport:
    return read_archive(
        folder / "upload.zip", folder / name, LIMITS, threading.Event(), None, folder / AHEAD_DIR
    )


def _whole(tmp_path: Path, data: bytes) -> MediaReport:
    """The analysis of the archive uploaded in one piece, nothing read ahead."""
    folder = tmp_path / "whole"
    folder.mkdir()
    (folder / "upload.zip").write_bytes(data)
    return _analyse(folder)


def _import(tmp_path: Path, name: str = "import") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _medium(
    tmp_path: Path, files: list[tuple[str, bytes]] | None = None, layout: str = "stored"
) -> tuple[bytes, MediaReport, Path]:
    """A medium's ZIP, its analysis read whole, and an import's folder to upload it into."""
    data = _zip(layout, _files() if files is None else files)
    return data, _whole(tmp_path, data), _import(tmp_path)


def _as_whole(folder: Path, whole: MediaReport) -> MediaReport:
    """The analysis of the import in ``folder``, checked to report what reading whole does."""
    report = _analyse(folder)
    assert _key(report) == _key(whole)
    return report


def _read_ahead(report: MediaReport) -> set[str]:
    """The instances whose files the analysis took from the read-ahead."""
    return {i.display_path for i in report.instances if i.path.name.startswith("r")}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("seed", [1, 2])
def test_the_medium_read_as_it_arrives_is_reported_as_read_whole(
    tmp_path: Path, layout: str, seed: int
) -> None:
    data, whole, folder = _medium(tmp_path, layout=layout)
    written = _arrive(data, folder / "upload.zip", seed)
    report = _as_whole(folder, whole)
    assert written > 40  # every entry that may be DICOM, the text and random bytes not
    assert _read_ahead(report) == {i.display_path for i in report.instances}
    assert whole.dicom > 30
    assert whole.dicomdir
    assert {"missing_file", "duplicate_instance", "not_dicom", "empty"} <= {
        s.reason for s in whole.skipped
    }


def test_what_had_not_arrived_is_read_by_the_analysis(tmp_path: Path) -> None:
    data, whole, folder = _medium(tmp_path, layout="streamed stored")
    middle = zipfile.ZipFile(io.BytesIO(data)).infolist()[20].header_offset + 100
    _arrive(data, folder / "upload.zip", 3, until=middle)
    with (folder / "upload.zip").open("ab") as out:  # the rest, in one last PATCH
        out.write(data[middle:])
    report = _as_whole(folder, whole)
    assert 0 < len(_read_ahead(report)) < whole.dicom


def test_a_file_changed_after_it_was_read_ahead_is_unpacked_and_read_again(
    tmp_path: Path,
) -> None:
    """Another patient written into a file read ahead, its size kept: the analysis shows (and
    the store will send) the archive's patient, never the file's."""
    files = _files()
    data = _zip("stored", files)
    whole = _whole(tmp_path, data)
    folder = _import(tmp_path)
    _arrive(data, folder / "upload.zip", 4)
    changed = None
    for path in sorted((folder / AHEAD_DIR / "f").iterdir()):
        ds = dcmread(path, force=True)
        if "PatientName" in ds and str(ds.PatientName):
            name = str(ds.PatientName)
            ds.PatientName = ("X" * len(name))[: len(name)]
            ds.save_as(path)
            changed = path.name
            break
    assert changed is not None
    report = _as_whole(folder, whole)
    assert all(i.path.name != changed for i in report.instances)
    assert "XXX" not in str([i.patient for i in report.instances])


def test_an_archive_that_disagrees_with_what_was_read_is_read_whole(tmp_path: Path) -> None:
    """The central directory is the truth: another archive in place of the one read ahead (same
    names, other bytes) is read whole, nothing read ahead is used."""
    files = _files()
    folder = _import(tmp_path)
    _arrive(_zip("streamed stored", files), folder / "upload.zip", 5)
    other = [(name, data) for name, data in files if name.endswith(".dcm")][5:]
    replaced = _zip("streamed stored", other)
    (folder / "upload.zip").write_bytes(replaced)
    report = _analyse(folder)
    assert _key(report) == _key(_whole(tmp_path, replaced))
    assert not _read_ahead(report)
    assert not list((folder / "attempt" / "f").glob("r*"))  # what was not used is gone


def test_a_descriptor_forged_inside_a_stored_entry_only_costs_time(tmp_path: Path) -> None:
    """Bytes inside a stored entry that look like the descriptor of the bytes before them end
    the entry early for the read-ahead; the central directory disagrees, so the analysis
    unpacks the entry whole."""
    base = Path(str(get_testdata_file("CT_small.dcm", download=False))).read_bytes()
    at = len(base) - 5000  # in its pixel data
    descriptor = struct.pack("<4s3L", b"PK\x07\x08", zlib.crc32(base[:at]), at, at)
    forged = base[:at] + descriptor + base[at + len(descriptor) :]
    other = Path(str(get_testdata_file("MR_small.dcm", download=False))).read_bytes()
    data = _zip("streamed stored", [("A/forged.dcm", forged), ("A/mr.dcm", other)])
    whole = _whole(tmp_path, data)
    folder = _import(tmp_path)
    _arrive(data, folder / "upload.zip", 6)
    report = _as_whole(folder, whole)
    assert [i.size for i in report.instances] == [len(base), len(other)]
    assert "A/forged.dcm" not in _read_ahead(report)


def test_it_stops_at_what_it_does_not_read_and_the_analysis_reads_the_rest(
    tmp_path: Path,
) -> None:
    files = _files()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for name, data in files[:10]:
            out.writestr(name, data)
        out.writestr("CD/PACKED.BZ2", b"x" * 5000, compress_type=zipfile.ZIP_BZIP2)
        for name, data in files[10:]:
            out.writestr(name, data)
    data = buffer.getvalue()
    whole = _whole(tmp_path, data)
    folder = _import(tmp_path)
    _arrive(data, folder / "upload.zip", 7)
    report = _as_whole(folder, whole)
    read = _read_ahead(report)
    assert read
    assert read <= {name for name, _ in files[:10]}


def test_an_entry_larger_than_its_bound_is_left_to_the_analysis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("importer.media.ahead.MAX_ENTRY_BYTES", 100_000)
    files = _files()
    data = _zip("streamed deflated", files)
    whole = _whole(tmp_path, data)
    folder = _import(tmp_path)
    _arrive(data, folder / "upload.zip", 8)
    report = _as_whole(folder, whole)
    big = {name for name, content in files if len(content) > 100_000}
    assert big
    assert not _read_ahead(report) & big


def test_the_caps_hold_for_what_was_read_ahead(tmp_path: Path) -> None:
    """A medium over a cap is refused by the analysis as it would be read whole, and the
    read-ahead does not write past the cap either."""
    files = _files()
    data = _zip("streamed stored", files)
    small = ArchiveLimits(max_unpacked_bytes=len(data) // 3)
    folder = _import(tmp_path)
    upload = folder / "upload.zip"
    received = _all_but_the_last_patch(data, upload)
    assert read_ahead(upload, received, folder / AHEAD_DIR, small, archive_bytes=len(data))
    on_disk = sum(p.stat().st_size for p in (folder / AHEAD_DIR / "f").iterdir())
    assert on_disk <= small.max_unpacked_bytes
    _last_patch(data, upload)
    with pytest.raises(ArchiveError) as refused:
        read_archive(upload, folder / "attempt", small, threading.Event(), None, folder / AHEAD_DIR)
    assert refused.value.code == "archive_too_large"
    assert not (folder / "attempt" / "f").exists()


def test_once_taken_over_nothing_more_is_read_nor_taken_twice(tmp_path: Path) -> None:
    data = _zip("stored", _files())
    folder = _import(tmp_path)
    upload = folder / "upload.zip"
    _arrive(data, upload, 9, until=len(data) // 2)
    taken = take_over(folder / AHEAD_DIR, tmp_path / "into", LIMITS)
    assert taken is not None
    assert taken.entries
    assert {e.path.parent for e in taken.entries.values()} == {tmp_path / "into"}
    upload.write_bytes(data)
    assert not (folder / AHEAD_DIR).exists()  # nothing of it left in the import's folder
    # a pass that read the import's state before the last PATCH, and comes after the analysis
    assert read_ahead(upload, len(data), folder / AHEAD_DIR, LIMITS, archive_bytes=len(data)) == 0
    assert not (folder / AHEAD_DIR).exists()
    assert take_over(folder / AHEAD_DIR, tmp_path / "again", LIMITS) is None


def test_the_import_folder_is_never_created(tmp_path: Path) -> None:
    """An import whose files were deleted (cancelled, expired) while a read-ahead waited."""
    gone = tmp_path / "gone"
    assert read_ahead(gone / "upload.zip", 100, gone / AHEAD_DIR, LIMITS, archive_bytes=100) == 0
    assert take_over(gone / AHEAD_DIR, tmp_path / "into", LIMITS) is None
    assert not gone.exists()


def test_a_pass_that_runs_is_not_run_twice_and_an_analysis_that_cannot_wait_reads_all(
    tmp_path: Path,
) -> None:
    data, whole, folder = _medium(tmp_path)
    upload = folder / "upload.zip"
    received = _all_but_the_last_patch(data, upload)
    ahead = folder / AHEAD_DIR
    ahead.mkdir()
    with _locked(ahead, wait_s=0) as held:  # another pass holds the folder
        assert held
        assert read_ahead(upload, received, ahead, LIMITS, archive_bytes=len(data)) == 0
        assert not (ahead / "f").exists()
        assert take_over(ahead, folder / "into", LIMITS, wait_s=0.1) is None
    _last_patch(data, upload)
    report = _as_whole(folder, whole)
    assert not _read_ahead(report)


def test_what_an_analysis_could_not_wait_for_is_removed_by_the_pass(tmp_path: Path) -> None:
    data, _, folder = _medium(tmp_path)
    upload = folder / "upload.zip"
    _arrive(data, upload, 21, until=len(data) // 2)
    ahead_dir = folder / AHEAD_DIR
    with _locked(ahead_dir, wait_s=0) as held:  # a pass still runs
        assert held
        assert take_over(ahead_dir, folder / "into", LIMITS, wait_s=0.1) is None
    assert any((ahead_dir / "f").iterdir())
    assert read_ahead(upload, len(data), ahead_dir, LIMITS, archive_bytes=len(data)) == 0
    assert not (ahead_dir / "f").exists()
    assert not (ahead_dir / "journal").exists()


def test_what_a_killed_pass_left_half_written_goes(tmp_path: Path) -> None:
    data, whole, folder = _medium(tmp_path)
    _arrive(data, folder / "upload.zip", 10, until=len(data) // 3)
    stray = folder / AHEAD_DIR / "f" / "r999999"
    stray.write_bytes(b"half an entry")
    _arrive(data, folder / "upload.zip", 11)
    assert not stray.exists()
    _as_whole(folder, whole)


def test_a_pass_stops_between_two_entries_once_the_analysis_takes_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What it wrote before is recorded and used; the analysis reads the rest."""
    data, whole, folder = _medium(tmp_path)
    upload = folder / "upload.zip"
    received = _all_but_the_last_patch(data, upload)
    closes: list[int] = []
    original = ahead._Sink.close

    def close(sink: Any) -> bool:
        closes.append(1)
        if len(closes) == 5:  # the analysis comes while the fifth entry is read
            (folder / AHEAD_DIR / "closed").touch()
        return original(sink)

    monkeypatch.setattr(ahead._Sink, "close", close)
    written = read_ahead(upload, received, folder / AHEAD_DIR, LIMITS, archive_bytes=len(data))
    assert 0 < written <= 5
    monkeypatch.undo()
    _last_patch(data, upload)
    report = _as_whole(folder, whole)
    assert len(_read_ahead(report)) == written


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Bytes the read-ahead reads from the upload and runs through CRC-32."""
    counts = {"read": 0, "crc": 0}
    read_at, crc32 = ahead._read_at, isal_zlib.crc32

    def counted_read(fp: Any, at: int, size: int) -> bytes:
        counts["read"] += size
        return read_at(fp, at, size)

    def counted_crc(data: Any, value: int = 0) -> int:
        counts["crc"] += len(data)
        return int(crc32(data, value))

    monkeypatch.setattr(ahead, "_read_at", counted_read)
    monkeypatch.setattr(isal_zlib, "crc32", counted_crc)
    return counts


def test_signatures_in_a_stored_entry_cost_one_pass_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry made of descriptor signatures does not make the search quadratic."""
    body = b"PK\x07\x08" * 500_000  # 2 MB of signatures, none with the right CRC-32
    data = _zip("streamed stored", [("A/sigs.dcm", b"\0" * 128 + b"DICM" + body)])
    folder = _import(tmp_path)
    upload = folder / "upload.zip"
    received = _all_but_the_last_patch(data, upload)
    counts = _counting(monkeypatch)
    assert read_ahead(upload, received, folder / AHEAD_DIR, LIMITS, archive_bytes=len(data))
    assert counts["crc"] <= 2 * len(data)


def test_an_entry_arriving_in_small_patches_is_not_read_again_at_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = random.Random(2).randbytes(2_000_000)
    data = _zip("streamed deflated", [("A/big.dcm", b"\0" * 128 + b"DICM" + big)])
    folder = _import(tmp_path)
    upload = folder / "upload.zip"
    counts = _counting(monkeypatch)
    with upload.open("ab") as out:
        for end in range(10_000, len(data) + 10_000, 10_000):  # 200 PATCHes of 10 kB
            out.write(data[out.tell() : end])
            out.flush()
            received = min(end, len(data))
            read_ahead(upload, received, folder / AHEAD_DIR, LIMITS, archive_bytes=len(data))
    assert counts["read"] <= 5 * len(data)  # read once per PATCH: about 100 times


def test_a_stream_of_empty_deflate_blocks_ends_the_read_ahead_at_its_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Input that inflates to nothing is bounded too, not only what it inflates to."""
    monkeypatch.setattr("importer.media.ahead.MAX_ENTRY_BYTES", 1_000_000)
    empty_blocks = b"\x00\x00\x00\xff\xff" * 800_000  # stored blocks of no byte, not final
    folder = _import(tmp_path)
    upload = folder / "upload.zip"
    # a local header with a descriptor, then the endless stream; the upload declares more, which
    # never arrives
    header = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 20, 0x8, 8, 0, 0, 0, 0, 0, len(b"A/nothing.dcm"), 0
    )
    hostile = header + b"A/nothing.dcm" + empty_blocks
    upload.write_bytes(hostile)
    declared = 2 * len(hostile)
    counts = _counting(monkeypatch)
    assert read_ahead(upload, len(hostile), folder / AHEAD_DIR, LIMITS, archive_bytes=declared) == 0
    assert 1_000_000 < counts["read"] <= 3_000_000
    assert ahead._load(folder / AHEAD_DIR, LIMITS).ended
    assert read_ahead(upload, len(hostile), folder / AHEAD_DIR, LIMITS, archive_bytes=declared) == 0
    assert counts["read"] <= 3_000_000  # ended: not read again


def test_a_damaged_deflate_stream_ends_the_read_ahead_and_the_analysis_refuses_it_as_ever(
    tmp_path: Path,
) -> None:
    files = _files()
    data = bytearray(_zip("deflated", files))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()[3]
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10 : start + 60] = b"\xff" * 50  # inside its deflate stream
    damaged = bytes(data)
    with pytest.raises(ArchiveError) as whole:
        _whole(tmp_path, damaged)
    folder = _import(tmp_path)
    _arrive(damaged, folder / "upload.zip", 12)
    assert ahead._load(folder / AHEAD_DIR, LIMITS).ended  # stopped there for good
    with pytest.raises(ArchiveError) as read:
        _analyse(folder)
    assert read.value.code == whole.value.code == "archive_invalid"


@pytest.mark.parametrize("change", ["limits", "code"])
def test_what_was_read_by_other_code_or_for_other_limits_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A worker upgraded (its reading code, pydicom), or its limits changed, during the
    upload."""
    data, whole, folder = _medium(tmp_path)
    upload = folder / "upload.zip"
    received = _all_but_the_last_patch(data, upload)
    limits = LIMITS
    if change == "limits":
        limits = ArchiveLimits(max_header_elements=LIMITS.max_header_elements - 1)
    assert read_ahead(upload, received, folder / AHEAD_DIR, limits, archive_bytes=len(data))
    _last_patch(data, upload)
    if change == "code":
        monkeypatch.setattr(ahead, "CODE", "another version")
    report = _as_whole(folder, whole)
    assert not _read_ahead(report)


def test_the_journal_is_data_never_code(tmp_path: Path) -> None:
    """JSON, whatever a process that can write to the spool puts there: a journal that is not
    one is started again."""
    data, whole, folder = _medium(tmp_path)
    upload = folder / "upload.zip"
    _arrive(data, upload, 19, until=len(data) // 3)
    journal = folder / AHEAD_DIR / "journal"
    json.loads(journal.read_bytes().splitlines()[0])  # readable as data
    journal.write_bytes(b"\x80\x04\x95" + b"pickled code" + b"\n")
    _arrive(data, upload, 20)
    report = _as_whole(folder, whole)
    assert _read_ahead(report)


def test_a_journal_record_cut_short_is_left_out_and_written_over(tmp_path: Path) -> None:
    data, whole, folder = _medium(tmp_path)
    upload = folder / "upload.zip"
    _arrive(data, upload, 13, until=len(data) // 4)
    with (folder / AHEAD_DIR / "journal").open("ab") as journal:  # a pass killed as it wrote
        journal.write(struct.pack("<Q", 5000) + b"half")
    _arrive(data, upload, 14)
    report = _as_whole(folder, whole)
    assert _read_ahead(report) == {i.display_path for i in report.instances}


def test_a_dicom_file_that_is_also_a_zip_is_read_as_when_read_whole(tmp_path: Path) -> None:
    """Its preamble starts as a ZIP's local header and a ZIP ends it: read whole, it is opened
    as a nested archive, and so it is when read ahead."""
    ct = Path(str(get_testdata_file("CT_small.dcm", download=False))).read_bytes()
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as out:
        out.writestr("IM1", ct)
    both = b"PK\x03\x04" + ct[4:] + inner.getvalue()
    other = Path(str(get_testdata_file("MR_small.dcm", download=False))).read_bytes()
    notes = ("A/NOTES.TXT", b"Report to follow. " * 4000)  # arrives last
    data = _zip("streamed stored", [("A/both.dcm", both), ("A/mr.dcm", other), notes])
    whole = _whole(tmp_path, data)
    folder = _import(tmp_path)
    _arrive(data, folder / "upload.zip", 15)
    assert len(list((folder / AHEAD_DIR / "f").iterdir())) == 2  # both read ahead
    _as_whole(folder, whole)
    assert "A/both.dcm" not in {i.display_path for i in whole.instances}


def test_zipfile_checks_an_entry_read_ahead_as_it_checks_any_other(tmp_path: Path) -> None:
    """Its central header flagged as compressed patched data, which zipfile refuses."""
    data = bytearray(_zip("stored", _files()))
    central = data.find(b"PK\x01\x02")  # the first entry's: a DICOM file, read ahead
    flags = struct.unpack_from("<H", data, central + 8)[0]
    struct.pack_into("<H", data, central + 8, flags | 0x20)
    patched = bytes(data)
    with pytest.raises(ArchiveError) as whole:
        _whole(tmp_path, patched)
    folder = _import(tmp_path)
    _arrive(patched, folder / "upload.zip", 16)
    assert (folder / AHEAD_DIR / "f" / "r000001").exists()
    with pytest.raises(ArchiveError) as read:
        _analyse(folder)
    assert read.value.code == whole.value.code == "archive_invalid"


def test_an_import_deleted_while_a_pass_writes_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel (or expiry, or purge) removes the import's folder while the read-ahead writes
    into it by its path: a file it adds after the removal listed the folder cannot stay."""
    spool = Spool(tmp_path / "spool")
    spool.ensure()
    import_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    data = _zip("stored", _files())
    spool.import_dir(import_id).mkdir()
    upload = spool.upload_path(import_id)
    folder = spool.ahead_dir(import_id)
    _arrive(data, upload, 17, until=len(data) // 2)
    assert any((folder / "f").iterdir())
    late = folder / "f" / "r999999"
    unlink = os.unlink

    def pass_writes_meanwhile(path: Any, *args: Any, **kwargs: Any) -> None:
        if Path(path).name.startswith("r0") and not late.exists():  # as the folder is emptied
            with contextlib.suppress(OSError):  # the pass's next file, by its path
                late.write_bytes(b"an entry")
        unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", pass_writes_meanwhile)
    spool.delete(import_id)
    monkeypatch.undo()
    assert not spool.import_dir(import_id).exists()
    assert read_ahead(upload, len(data), folder, LIMITS, archive_bytes=len(data)) == 0
    assert not spool.import_dir(import_id).exists()
    assert not any((tmp_path / "spool" / TRASH_DIR).iterdir())


@pytest.mark.parametrize("layout", ["stored", "streamed stored", "streamed deflated"])
def test_a_large_file_that_is_not_dicom_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """A viewer larger than an entry read ahead may be: the images after it are read ahead."""
    monkeypatch.setattr("importer.media.ahead.MAX_ENTRY_BYTES", 1_000_000)
    files = _files()
    viewer = ("VIEWER/SETUP.EXE", b"MZ" + random.Random(3).randbytes(4_000_000))
    data = _zip(layout, [viewer, *files])
    whole = _whole(tmp_path, data)
    folder = _import(tmp_path)
    _arrive(data, folder / "upload.zip", 18)
    report = _as_whole(folder, whole)
    assert _read_ahead(report) == {i.display_path for i in report.instances}
