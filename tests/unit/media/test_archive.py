"""Safe ZIP unpacking: names, links, bombs, caps, corruption, nesting, junk, encodings."""

from __future__ import annotations

import errno
import io
import shutil
import stat
import struct
import tempfile
import threading
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.media import ArchiveError, ArchiveLimits, UnpackResult, unpack_zip
from tests.unit.media.helpers import (
    FAKE_EXE,
    FAKE_JPEG,
    FAKE_PDF,
    HTML,
    PART10_HEAD,
    README,
    dicom_like,
    make_zip,
    raw_name_entry,
    sample_bytes,
    set_flag_bits,
    unicode_path_extra,
    without_meta,
    zip_bytes,
)

LIMITS = ArchiveLimits()
CT = sample_bytes("CT_small.dcm")
MR = sample_bytes("MR_small.dcm")


def _unpack(
    tmp_path: Path, entries: dict[str, bytes], limits: ArchiveLimits = LIMITS
) -> UnpackResult:
    archive = make_zip(tmp_path / "upload.zip", entries)
    return unpack_zip(archive, tmp_path / "spool", limits)


def _refused(tmp_path: Path, archive: Path, limits: ArchiveLimits = LIMITS) -> ArchiveError:
    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, tmp_path / "spool", limits)
    assert not (tmp_path / "spool" / "f").exists(), "partial output must be removed"
    return info.value


def test_files_get_generated_names_and_keep_display_paths(tmp_path: Path) -> None:
    result = _unpack(tmp_path, {"CD/IMAGES/IM000001": CT, "CD/IMAGES/IM000002": MR})

    assert [f.display_path for f in result.files] == ["CD/IMAGES/IM000001", "CD/IMAGES/IM000002"]
    root = tmp_path / "spool" / "f"
    for f in result.files:
        assert f.path.parent == root
        assert f.path.name.isdigit()
    assert result.files[0].path.read_bytes() == CT
    assert result.files[1].path.read_bytes() == MR
    assert result.files[0].size == len(CT)
    assert result.skipped == []


def test_directories_are_not_reported(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.mkdir("CD")
        zf.mkdir("CD/EMPTY")
        zf.writestr("CD/IM1", CT)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.display_path for f in result.files] == ["CD/IM1"]
    assert result.skipped == []


def test_empty_file_is_reported(tmp_path: Path) -> None:
    result = _unpack(tmp_path, {"CD/EMPTY.DCM": b"", "CD/IM1": CT})

    assert [(s.path, s.reason) for s in result.skipped] == [("CD/EMPTY.DCM", "empty")]
    assert len(result.files) == 1
    assert len(list((tmp_path / "spool" / "f").iterdir())) == 1


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "CD/../../evil",
        "/abs/evil",
        "//server/share/evil",
        "C:/Windows/evil",
        "c:evil",
        "..\\evil",
        "CD\\..\\..\\evil",
        "\\abs\\evil",
    ],
)
def test_path_escape_is_unsafe(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM1": CT, name: b"owned"})

    error = _refused(tmp_path, archive)

    assert error.code == "archive_unsafe"
    assert not (tmp_path / "evil").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spool", "upload.zip"]


def test_symlink_entry_is_unsafe(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("CD/IM1", CT)
        link = zipfile.ZipInfo("CD/link")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")

    error = _refused(tmp_path, archive)

    assert error.code == "archive_unsafe"
    assert "link" in error.message


def _zeros_zip(path: Path, name: str, size: int, head: bytes = PART10_HEAD) -> Path:
    """One entry of ``size`` bytes: ``head`` then zeros (a bomb that looks like DICOM by
    default, so that it is unpacked and meets the caps)."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as out:
        out.write(head + chunk[len(head) :])
        for _ in range(size // len(chunk) - 1):
            out.write(chunk)
    return path


def test_zip_bomb_ratio_is_refused(tmp_path: Path) -> None:
    archive = _zeros_zip(tmp_path / "upload.zip", "CD/BOMB", 50 * 1024 * 1024)
    assert archive.stat().st_size < 200_000

    error = _refused(tmp_path, archive, ArchiveLimits(max_compression_ratio=100.0))

    assert error.code == "archive_too_large"
    assert "ratio" in error.message


def test_highly_compressible_entry_passes_with_default_ratio_below_floor(tmp_path: Path) -> None:
    result = _unpack(tmp_path, {"CD/ZEROS": dicom_like(512 * 1024)})

    assert result.files[0].size == 512 * 1024


def test_total_size_cap(tmp_path: Path) -> None:
    entries = {f"CD/IM{i}": CT for i in range(5)}
    archive = make_zip(tmp_path / "upload.zip", entries)

    error = _refused(tmp_path, archive, ArchiveLimits(max_unpacked_bytes=3 * len(CT)))

    assert error.code == "archive_too_large"


def test_total_size_cap_counts_inflated_bytes_across_nesting(tmp_path: Path) -> None:
    inner = zip_bytes({f"IM{i}": CT for i in range(3)})
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM0": CT, "CD/more.zip": inner})
    limits = ArchiveLimits(max_unpacked_bytes=3 * len(CT))

    error = _refused(tmp_path, archive, limits)

    assert error.code == "archive_too_large"


def test_per_entry_cap(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {"CD/SMALL": b"x" * 10, "CD/BIG": CT})

    error = _refused(tmp_path, archive, ArchiveLimits(max_entry_bytes=1000))

    assert error.code == "archive_too_large"


@pytest.mark.parametrize(("count", "refused"), [(10, False), (11, True)])
def test_entry_count_cap(tmp_path: Path, count: int, refused: bool) -> None:
    archive = make_zip(tmp_path / "upload.zip", {f"CD/F{i}": CT for i in range(count)})
    limits = ArchiveLimits(max_entries=10)

    if refused:
        assert _refused(tmp_path, archive, limits).code == "archive_too_large"
    else:
        assert len(unpack_zip(archive, tmp_path / "spool", limits).files) == count


def test_entry_count_cap_includes_nested_entries(tmp_path: Path) -> None:
    inner = zip_bytes({f"F{i}": b"data" for i in range(8)})
    archive = make_zip(tmp_path / "upload.zip", {"a": b"1", "b": b"2", "inner.zip": inner})

    error = _refused(tmp_path, archive, ArchiveLimits(max_entries=10))

    assert error.code == "archive_too_large"


def test_an_empty_archive_or_nested_archive_unpacks_to_nothing(tmp_path: Path) -> None:
    """Its central directory holds no entry: nothing to unpack, not a crash of the job."""
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    archive = tmp_path / "empty.zip"
    archive.write_bytes(empty.getvalue())
    result = unpack_zip(archive, tmp_path / "out", ArchiveLimits())
    assert result.files == []
    assert result.skipped == []
    holding = tmp_path / "holding.zip"
    with zipfile.ZipFile(holding, "w") as out:
        out.writestr("INNER.ZIP", empty.getvalue())
    assert unpack_zip(holding, tmp_path / "out2", ArchiveLimits()).files == []


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"%PDF-1.4 not a zip",
        b"PK\x03\x04 truncated local header only",
        b"Rar!\x1a\x07\x00",
        bytes(4096),
    ],
    ids=["empty", "pdf", "zip-magic-only", "rar", "zeros"],
)
def test_not_a_zip_is_invalid(tmp_path: Path, content: bytes) -> None:
    archive = tmp_path / "upload.zip"
    archive.write_bytes(content)

    assert _refused(tmp_path, archive).code == "archive_invalid"


def test_bad_crc_is_invalid(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    payload = b"DICOM-ish payload " * 100
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("CD/IM1", CT)
        zf.writestr("CD/IM2", payload)
    data = bytearray(archive.read_bytes())
    at = data.index(payload) + 50
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))

    error = _refused(tmp_path, archive)

    assert error.code == "archive_invalid"
    assert "CD/IM2" not in error.message, "entry names are not echoed"


def test_corrupt_deflate_stream_is_invalid(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM1": CT})
    data = bytearray(archive.read_bytes())
    for i in range(60, 400):
        data[i] = 0xFF
    archive.write_bytes(bytes(data))

    assert _refused(tmp_path, archive).code == "archive_invalid"


def test_truncated_archive_is_invalid(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM1": CT, "CD/IM2": CT})
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])

    assert _refused(tmp_path, archive).code == "archive_invalid"


def test_zip64_archive(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("CD/IM1", "w", force_zip64=True) as out:
            out.write(CT)
        zf.writestr("CD/IM2", CT)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.size for f in result.files] == [len(CT), len(CT)]


def test_nested_zip_is_unpacked_one_level(tmp_path: Path) -> None:
    deeper = zip_bytes({"IM9": CT})
    inner = zip_bytes({"SERIES/IM1": CT, "deeper.zip": deeper, "__MACOSX/._IM1": b"x"})
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM0": CT, "CD/study.bin": inner})

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.display_path for f in result.files] == ["CD/IM0", "CD/study.bin/SERIES/IM1"]
    assert {(s.path, s.reason) for s in result.skipped} == {
        ("CD/study.bin/deeper.zip", "nested_archive"),
        ("CD/study.bin/__MACOSX/._IM1", "junk"),
    }
    on_disk = sorted((tmp_path / "spool" / "f").iterdir())
    assert on_disk == sorted(f.path for f in result.files), "containers are deleted"


def test_corrupt_nested_zip_is_reported_not_fatal(tmp_path: Path) -> None:
    inner = bytearray(zip_bytes({"IM1": CT, "IM2": CT}))
    for i in range(40, 300):
        inner[i] = 0xFF
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM0": CT, "CD/inner.zip": bytes(inner)})

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.display_path for f in result.files] == ["CD/IM0"]
    assert [(s.path, s.reason) for s in result.skipped] == [("CD/inner.zip", "unreadable")]
    assert len(list((tmp_path / "spool" / "f").iterdir())) == 1


def test_unsafe_nested_zip_refuses_everything(tmp_path: Path) -> None:
    inner = zip_bytes({"../../evil": b"owned"})
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM0": CT, "CD/inner.zip": inner})

    assert _refused(tmp_path, archive).code == "archive_unsafe"


@pytest.mark.parametrize(
    ("name", "junk"),
    [
        ("__MACOSX/CD/._IM1", True),
        ("CD/__MACOSX/IM1", True),
        ("CD/._IM1", True),
        ("CD/.DS_Store", True),
        ("CD/Thumbs.db", True),
        ("CD/THUMBS.DB", True),
        ("CD/desktop.ini", True),
        ("CD/.series1/IM1", False),
        (".hidden study/SE1/IM1", False),
        ("CD/IM1", False),
        ("CD/.dicom", False),
    ],
)
def test_junk_rule(tmp_path: Path, name: str, junk: bool) -> None:
    result = _unpack(tmp_path, {name: CT})

    if junk:
        assert result.files == []
        assert [(s.path, s.reason) for s in result.skipped] == [(name, "junk")]
    else:
        assert [f.display_path for f in result.files] == [name]
        assert result.skipped == []


def test_non_ascii_entry_names(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    cp437 = "CT2 tête/IM1".encode("cp437")
    utf8_unflagged = "Ümlaut/Müller/IM2".encode()
    fallback = b"ID\x81\x82\xff/IM5"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(raw_name_entry(cp437, CT), CT)
        zf.writestr(raw_name_entry(utf8_unflagged, CT), CT)
        zf.writestr("東京/画像/IM3", CT)  # zipfile sets the UTF-8 flag
        raw = b"KIRILL?/IM4"
        zf.writestr(raw_name_entry(raw, CT, unicode_path_extra(raw, "Кирилл/IM4")), CT)
        zf.writestr(raw_name_entry(fallback, CT), CT)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.display_path for f in result.files] == [
        "CT2 tête/IM1",
        "Ümlaut/Müller/IM2",
        "東京/画像/IM3",
        "Кирилл/IM4",
        fallback.decode("cp437"),
    ]


def test_encrypted_entry_is_reported(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("CD/IM1", CT)
        zf.writestr("CD/LOCKED", b"ciphertext")
    set_flag_bits(archive, "CD/LOCKED", 0x1)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.display_path for f in result.files] == ["CD/IM1"]
    assert [(s.path, s.reason) for s in result.skipped] == [("CD/LOCKED", "encrypted")]


def test_rerun_replaces_previous_output(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM1": CT})
    unpack_zip(archive, tmp_path / "spool", LIMITS)
    stale = tmp_path / "spool" / "f" / "stale"
    stale.write_bytes(b"left over")

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert not stale.exists()
    assert len(result.files) == 1


_NAME_PARTS = st.sampled_from(
    ["..", ".", "", "a", "B", "é", "東", "C:", "c:", "__MACOSX", "._x", " ", "...", "~", "$"]
)
_NAMES = st.lists(_NAME_PARTS, min_size=1, max_size=5).flatmap(
    lambda parts: st.sampled_from(["/", "\\"]).map(lambda sep: sep.join(parts))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_NAMES, min_size=1, max_size=4, unique=True))
def test_random_names_never_escape_dest(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        archive = base / "upload.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for i, name in enumerate(names):
                zf.writestr(zipfile.ZipInfo(name), f"data{i}".encode())
        dest = base / "spool"
        error: ArchiveError | None = None
        try:
            result = unpack_zip(archive, dest, LIMITS)
        except ArchiveError as exc:
            error, result = exc, UnpackResult(files=[], skipped=[])
        if error is not None:
            assert error.code in {"archive_unsafe", "archive_invalid"}
            assert not (dest / "f").exists()
        for f in result.files:
            assert f.path.parent == dest / "f"
            assert ".." not in f.display_path.split("/")
            assert not f.display_path.startswith("/")
        outside = {p for p in base.rglob("*") if not p.is_relative_to(dest)}
        assert outside == {archive}


def _end_record(data: bytes) -> int:
    at = data.rfind(b"PK\x05\x06")
    assert at == len(data) - 22
    return at


def _with_end_record(data: bytes, *, entries: int | None = None, size: int | None = None) -> bytes:
    """The archive with its end of central directory record claiming other counts."""
    out = bytearray(data)
    at = _end_record(data)
    if entries is not None:
        struct.pack_into("<HH", out, at + 8, entries, entries)
    if size is not None:
        struct.pack_into("<L", out, at + 12, size)
    return bytes(out)


def _as_zip64(data: bytes, *, entries: int, size: int | None = None) -> bytes:
    """The archive with a ZIP64 end record and locator before its end record (which then says
    0xFFFF entries, as a ZIP64 writer does); the ZIP64 record claims ``entries``."""
    at = _end_record(data)
    directory_size, directory_offset = struct.unpack_from("<LL", data, at + 12)
    zip64_at = at
    record = struct.pack(
        "<4sQ2H2L4Q",
        b"PK\x06\x06",
        44,
        45,
        45,
        0,
        0,
        entries,
        entries,
        directory_size if size is None else size,
        directory_offset,
    )
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, zip64_at, 1)
    end = bytearray(data[at:])
    struct.pack_into("<HH", end, 8, 0xFFFF, 0xFFFF)
    return data[:at] + record + locator + bytes(end)


def _no_zipfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """zipfile must not be asked to parse the archive (it would build every entry)."""

    def refused(*args: object, **kwargs: object) -> zipfile.ZipFile:
        raise AssertionError("zipfile.ZipFile was constructed")

    monkeypatch.setattr(zipfile, "ZipFile", refused)


def test_end_record_claiming_too_many_entries_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "upload.zip"
    archive.write_bytes(_with_end_record(zip_bytes({"CD/F1": b"data"}), entries=60_000))
    _no_zipfile(monkeypatch)

    error = _refused(tmp_path, archive, ArchiveLimits(max_entries=50_000))

    assert error.code == "archive_too_large"
    assert str(error) == "The archive holds more than 50000 entries."


def test_zip64_record_claiming_a_million_entries_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "upload.zip"
    archive.write_bytes(_as_zip64(zip_bytes({"CD/F1": b"data"}), entries=1_000_000))
    _no_zipfile(monkeypatch)

    error = _refused(tmp_path, archive)

    assert error.code == "archive_too_large"
    assert "100000 entries" in str(error)


@pytest.mark.parametrize("zip64", [False, True])
def test_huge_central_directory_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zip64: bool
) -> None:
    data = zip_bytes({"CD/F1": b"data"})
    huge = 200 * 1024**2  # over 100,000 entries x 1 KiB
    archive = tmp_path / "upload.zip"
    archive.write_bytes(
        _as_zip64(data, entries=1, size=huge) if zip64 else _with_end_record(data, size=huge)
    )
    _no_zipfile(monkeypatch)

    error = _refused(tmp_path, archive)

    assert error.code == "archive_too_large"
    assert "central directory is larger than 102400000 bytes" in str(error)


def test_entries_are_counted_where_the_end_record_lies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zipfile parses as many entries as the directory holds, whatever count the end record
    gives: the headers themselves are counted, up to the cap."""
    data = zip_bytes({f"CD/F{i}": b"data" for i in range(300)})
    archive = tmp_path / "upload.zip"
    archive.write_bytes(_with_end_record(data, entries=1))
    _no_zipfile(monkeypatch)

    error = _refused(tmp_path, archive, ArchiveLimits(max_entries=100))

    assert error.code == "archive_too_large"
    assert str(error) == "The archive holds more than 100 entries."


def test_honest_zip64_end_records_are_read(tmp_path: Path) -> None:
    archive = tmp_path / "upload.zip"
    archive.write_bytes(_as_zip64(zip_bytes({"CD/IM1": CT, "CD/IM2": CT}), entries=2))

    result = unpack_zip(archive, tmp_path / "spool", ArchiveLimits(max_entries=2))

    assert [f.size for f in result.files] == [len(CT), len(CT)]


def test_many_small_entries_over_the_overall_ratio_are_refused(tmp_path: Path) -> None:
    """Each entry stays under the 1 MiB floor of the per-entry ratio check; together they
    inflate about 900 times the archive's size."""
    entries = {f"CD/F{i:03d}": dicom_like(1_000_000) for i in range(110)}
    archive = make_zip(tmp_path / "upload.zip", entries)
    assert archive.stat().st_size < 200_000

    error = _refused(tmp_path, archive)

    assert error.code == "archive_too_large"
    assert error.message == (
        "The archive's compression ratio exceeds 100:1 overall (possible ZIP bomb)."
    )


def test_overall_ratio_allows_ordinary_media(tmp_path: Path) -> None:
    result = _unpack(tmp_path, {f"CD/IM{i}": CT for i in range(20)})

    assert len(result.files) == 20


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    """Two directory entries sharing one entry's data (the overlapping-entries bomb); Python
    before 3.11.8 reads them without complaint."""
    archive = tmp_path / "upload.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        archive.write_bytes(zip_bytes_pairs([("CD/IM1", CT), ("CD/IM1", b"other")]))
    data = bytearray(archive.read_bytes())
    first = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", first + 4)
    data[second + 42 : second + 46] = data[first + 42 : first + 46]  # same local header
    archive.write_bytes(bytes(data))

    error = _refused(tmp_path, archive)

    assert error.code == "archive_invalid"
    assert error.message == "The archive holds entries that overlap (possible ZIP bomb)."


def zip_bytes_pairs(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


# -- classified before extraction: what cannot be DICOM never reaches the disk --------------


JUNK_MIB = 8


def _on_disk(tmp_path: Path) -> dict[str, int]:
    root = tmp_path / "spool" / "f"
    return {p.name: p.stat().st_size for p in root.iterdir()} if root.is_dir() else {}


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"", "Not a DICOM file."),
        (b"%PDF-1.4\n", "Not a DICOM file (PDF document)."),
        (b"MZ\x90\x00", "Not a DICOM file (Windows program or library)."),
        # a start of group 0008 whose first value would be 2 GiB long: not a data set
        (b"\x08\x00\x05\x00\xff\xff\xff\x7f", "Not a DICOM file."),
    ],
    ids=["zeros", "pdf", "exe", "group-0008-absurd-length"],
)
def test_a_large_junk_entry_is_skipped_without_being_written(
    tmp_path: Path, head: bytes, message: str
) -> None:
    """8 MiB that compress to a few KB: skipped from their first bytes, never written, never
    inflated further (even the ratio cap it would break is not met), the rest unpacked."""
    archive = _zeros_zip(tmp_path / "upload.zip", "VIEWER/DATA.BIN", JUNK_MIB << 20, head)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DICOM/IM0001", CT)
    assert archive.stat().st_size < 100_000

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [(s.path, s.reason, s.message) for s in result.skipped] == [
        ("VIEWER/DATA.BIN", "not_dicom", message)
    ]
    assert [f.display_path for f in result.files] == ["DICOM/IM0001"]
    assert list(_on_disk(tmp_path).values()) == [len(CT)], "only the DICOM file is on disk"


def test_skipped_entries_carry_the_reasons_the_scan_gives(tmp_path: Path) -> None:
    """The same reason and message as before, when the scan read them from the disk; a PDF or
    an image is unpacked, to be offered as a document of the disc (the scan then skips it as
    not DICOM, :mod:`importer.media.documents` takes it)."""
    entries = {
        "CD/README.TXT": README,
        "CD/REPORT.PDF": FAKE_PDF,
        "CD/KEY.JPG": FAKE_JPEG,
        "CD/START.EXE": FAKE_EXE,
        "CD/index.html": HTML,
        "CD/BLOB": b"\x00\x01\x02\x03" * 64,
        "CD/GARBLED": sample_bytes("no_meta.dcm"),
        "CD/IM1": CT,
    }

    result = _unpack(tmp_path, entries)

    assert [f.display_path for f in result.files] == ["CD/REPORT.PDF", "CD/KEY.JPG", "CD/IM1"]
    reasons = {s.path: (s.reason, s.message) for s in result.skipped}
    assert reasons == {
        "CD/README.TXT": ("not_dicom", "Not a DICOM file (text file)."),
        "CD/START.EXE": ("not_dicom", "Not a DICOM file (Windows program or library)."),
        "CD/index.html": ("not_dicom", "Not a DICOM file (web page)."),
        "CD/BLOB": ("not_dicom", "Not a DICOM file."),
        "CD/GARBLED": (
            "unreadable",
            "Looks like DICOM (holds DICOM UIDs) but no header could be parsed.",
        ),
    }
    assert len(_on_disk(tmp_path)) == 3


@pytest.mark.parametrize(
    "dicom",
    [
        without_meta("MR_small.dcm"),  # implicit VR little endian, no preamble, no meta
        without_meta("CT_small.dcm"),
        sample_bytes("ExplVR_BigEnd.dcm")[128 + 4 :],  # file meta first, no preamble
        sample_bytes("CT_small.dcm"),
        sample_bytes("DICOMDIR"),
    ],
    ids=["implicit-no-meta-mr", "implicit-no-meta-ct", "meta-no-preamble", "part10", "dicomdir"],
)
def test_dicom_with_or_without_preamble_is_unpacked_next_to_skipped_junk(
    tmp_path: Path, dicom: bytes
) -> None:
    archive = _zeros_zip(tmp_path / "upload.zip", "VIEWER/DATA.BIN", JUNK_MIB << 20, b"")
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DICOM/IM0001", dicom)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert [f.display_path for f in result.files] == ["DICOM/IM0001"]
    assert result.files[0].path.read_bytes() == dicom
    assert [(s.path, s.reason) for s in result.skipped] == [("VIEWER/DATA.BIN", "not_dicom")]


def test_an_empty_entry_is_never_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[Path] = []
    real_open = Path.open

    def watching(self: Path, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "x" in mode or "w" in mode:
            created.append(self)
        return real_open(self, mode, *args, **kwargs)  # type: ignore[call-overload]

    archive = make_zip(tmp_path / "upload.zip", {"CD/EMPTY": b"", "CD/NOTES.TXT": README})
    monkeypatch.setattr(Path, "open", watching)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    assert {(s.path, s.reason) for s in result.skipped} == {
        ("CD/EMPTY", "empty"),
        ("CD/NOTES.TXT", "not_dicom"),
    }
    assert created == [], "nothing was written, not even for a moment"


# -- the spool's free space ------------------------------------------------------------------


MARGIN = 1000


def _two_cts(tmp_path: Path) -> Path:
    return make_zip(tmp_path / "upload.zip", {"CD/IM1": CT, "CD/IM2": CT, "CD/README": README})


@pytest.mark.parametrize(("short", "refused"), [(0, False), (1, True)])
def test_an_archive_is_refused_when_the_spool_lacks_room(
    tmp_path: Path, short: int, refused: bool
) -> None:
    """Room for what the entries declare (the README too: what it is is known once read),
    plus the margin the spool keeps."""
    archive = _two_cts(tmp_path)
    free = 2 * len(CT) + len(README) + MARGIN - short
    limits = ArchiveLimits(spool_free_margin_bytes=MARGIN)

    def unpack() -> UnpackResult:
        return unpack_zip(archive, tmp_path / "spool", limits, free_bytes=lambda _: free)

    if not refused:
        assert len(unpack().files) == 2
        return
    with pytest.raises(ArchiveError) as info:
        unpack()
    error = info.value
    assert error.code == "spool_full"
    assert error.retryable, "a retry once space is freed may succeed"
    assert "space" in error.message
    assert "CD/IM1" not in error.message
    assert not (tmp_path / "spool" / "f").exists(), "nothing was written"


def test_the_room_needed_is_bounded_by_the_caps(tmp_path: Path) -> None:
    """A bomb declaring 64 MiB under a 2 MiB entry cap needs 2 MiB at most: the cap refuses
    it (archive_too_large), not the spool."""
    archive = _zeros_zip(tmp_path / "upload.zip", "CD/BOMB", 64 << 20)
    limits = ArchiveLimits(
        max_entry_bytes=2 << 20, max_compression_ratio=1e9, spool_free_margin_bytes=MARGIN
    )

    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, tmp_path / "spool", limits, free_bytes=lambda _: (3 << 20) + MARGIN)

    assert info.value.code == "archive_too_large"


def test_a_nested_archive_needs_room_too(tmp_path: Path) -> None:
    inner = zip_bytes({f"IM{i}": dicom_like(200_000) for i in range(10)})  # 2 MB inflated
    archive = make_zip(tmp_path / "upload.zip", {"CD/IM0": CT, "CD/more.zip": inner})
    free = len(CT) + len(inner) + MARGIN + 1_000_000  # the outer archive fits, not the inner
    limits = ArchiveLimits(spool_free_margin_bytes=MARGIN)

    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, tmp_path / "spool", limits, free_bytes=lambda _: free)

    assert info.value.code == "spool_full"
    assert not (tmp_path / "spool" / "f").exists()


def test_the_filesystems_own_free_space_is_checked(tmp_path: Path) -> None:
    """Without a figure given, the spool's filesystem is asked (a margin larger than any disk
    here cannot be kept)."""
    archive = _two_cts(tmp_path)
    limits = ArchiveLimits(spool_free_margin_bytes=shutil.disk_usage(tmp_path).total + 1)

    assert _refused(tmp_path, archive, limits).code == "spool_full"


class _FullDisk(type(Path())):  # type: ignore[misc]
    """A spool whose filesystem fills up once ``room`` bytes are written under it."""

    room = 100_000
    written = 0

    def open(self, mode: str = "r", *args: object, **kwargs: object) -> object:
        real = super().open(mode, *args, **kwargs)
        if "x" not in mode and "w" not in mode:
            return real
        return _Filling(real)


class _Filling(io.RawIOBase):
    lock = threading.Lock()  # one filesystem for both unpacking threads

    def __init__(self, real: io.BufferedWriter) -> None:
        self.real = real

    def write(self, data: bytes) -> int:  # type: ignore[override]
        with _Filling.lock:
            left = _FullDisk.room - _FullDisk.written
            if len(data) > left:
                self.real.write(data[:left])  # what fits is written: a half-written file
                _FullDisk.written += left
                raise OSError(errno.ENOSPC, "No space left on device")
            _FullDisk.written += len(data)
            return self.real.write(data)

    def close(self) -> None:
        self.real.close()
        super().close()


def test_a_disk_filling_up_while_unpacking_is_spool_full(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "upload.zip", {f"CD/IM{i}": CT for i in range(50)})
    _FullDisk.written = 0
    dest = _FullDisk(tmp_path / "spool")

    with pytest.raises(ArchiveError) as info:
        unpack_zip(archive, dest, LIMITS, free_bytes=lambda _: 1 << 40)

    assert _FullDisk.written == _FullDisk.room, "the disk did fill up"
    assert info.value.code == "spool_full"
    assert info.value.retryable
    assert "space" in info.value.message
    assert not (tmp_path / "spool" / "f").exists(), "nothing half-written is left"


def test_entries_inflated_two_at_a_time_come_back_in_the_archives_order(tmp_path: Path) -> None:
    """Files, refusals and nested archives interleaved over many entries, inflated by two
    threads: the result lists them as the archive does, each file at a name reserved in that
    order, with its own bytes."""
    entries: list[tuple[str, bytes]] = []
    for i in range(40):
        kind = i % 5
        if kind == 0:
            entries.append((f"CD/readme{i}.txt", README))
        elif kind == 1:
            entries.append((f"CD/empty{i}", b""))
        elif kind == 2:
            entries.append((f"CD/inner{i}.zip", zip_bytes({"IM": CT + bytes([i])})))
        else:
            entries.append((f"CD/IM{i}", (CT if i % 2 else MR) + bytes([i]) * (i * 997)))
    archive = make_zip(tmp_path / "upload.zip", entries)

    result = unpack_zip(archive, tmp_path / "spool", LIMITS)

    expected_files = [
        name + ("/IM" if name.endswith(".zip") else "")
        for name, data in entries
        if data and not name.endswith(".txt")
    ]
    assert [f.display_path for f in result.files] == expected_files
    assert [s.path for s in result.skipped] == [
        name for name, data in entries if not data or name.endswith(".txt")
    ]
    contents = dict(entries)
    for file in result.files:
        name = file.display_path.removesuffix("/IM")
        expected = contents[name] if not name.endswith(".zip") else CT + bytes([int(name[8:-4])])
        assert file.path.read_bytes() == expected
        assert file.size == len(expected)
    outer = [f.path.name for f in result.files if not f.display_path.endswith("/IM")]
    assert outer == sorted(outer), "names are reserved in the archive's order"
    assert len({f.path for f in result.files}) == len(result.files)


def test_a_bomb_among_many_entries_stops_both_threads_and_leaves_nothing(tmp_path: Path) -> None:
    entries = [(f"CD/IM{i}", CT) for i in range(30)]
    entries.insert(17, ("CD/BOMB", dicom_like(50 * 1024 * 1024)))
    archive = make_zip(tmp_path / "upload.zip", entries)

    error = _refused(tmp_path, archive)

    assert error.code == "archive_too_large"
    assert "ratio" in error.message


def test_the_refusal_reported_is_the_first_in_the_archives_order(tmp_path: Path) -> None:
    """A bomb, then a damaged entry that fails sooner in the other thread: what one thread
    reading in order would have met first, the bomb, is what is reported, every time."""
    entries = [(f"CD/IM{i}", CT) for i in range(6)]
    entries += [("CD/BOMB", dicom_like(50 * 1024 * 1024)), ("CD/DAMAGED", CT + bytes(range(256)))]
    archive = make_zip(tmp_path / "upload.zip", entries)
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as zf:
        damaged = zf.getinfo("CD/DAMAGED")
    name, extra = struct.unpack_from("<HH", data, damaged.header_offset + 26)
    start = damaged.header_offset + 30 + name + extra
    for i in range(start + 20, start + 60):
        data[i] ^= 0xA5
    archive.write_bytes(bytes(data))

    for attempt in range(5):
        error = _refused(tmp_path / str(attempt), archive)
        assert error.code == "archive_too_large", (attempt, error.code)
