"""Safe ZIP unpacking: generated names on disk, bytes counted as inflated, shared caps.

Entry names are used for display only; every extracted file gets a generated name under
``dest / "f"``, so no entry name can ever reach the filesystem. Caps (entries, total bytes,
bytes per entry, compression ratio per entry) are checked against bytes actually inflated,
never against the sizes the archive declares. One level of nested ZIPs is unpacked against the
same budget (the nested archive's own bytes count too, conservatively); deeper archives are
reported, not opened. Encrypted entries and unsupported compression methods are reported per
file; a corrupt nested archive is reported as one unreadable file, but a hostile one (path
escape, link) or one over a cap refuses the whole upload.
"""

from __future__ import annotations

import lzma
import re
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from importer.errors import Failure

__all__ = [
    "ArchiveError",
    "ArchiveLimits",
    "SkippedFile",
    "UnpackResult",
    "UnpackedFile",
    "unpack_zip",
]

FILES_DIR: Final = "f"
"""Sub-folder of ``dest`` owned by :func:`unpack_zip` (cleared on start, removed on failure)."""

_CHUNK: Final = 1024 * 1024
_RATIO_FLOOR: Final = 1024 * 1024
_ZIP_MAGIC: Final = b"PK\x03\x04"
_UTF8_FLAG: Final = 0x800
_ENCRYPTED_FLAG: Final = 0x1
_UNICODE_PATH_EXTRA: Final = 0x7075
_SUPPORTED_METHODS: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_JUNK_NAMES: Final = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_MAX_NESTING: Final = 1


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Caps applied to what an archive inflates to (nested archives share them)."""

    max_entries: int = 100_000
    max_unpacked_bytes: int = 32 * 1024**3
    max_entry_bytes: int = 8 * 1024**3
    max_compression_ratio: float = 100.0


class ArchiveError(Failure):
    """The archive as a whole is refused.

    ``code`` is one of ``archive_invalid``, ``archive_unsafe``, ``archive_too_large``.
    """


@dataclass(frozen=True, slots=True)
class UnpackedFile:
    """One extracted file: its name in the archive (display only) and where it lives."""

    display_path: str
    path: Path
    size: int


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file of the medium that is not imported, with a stable reason code."""

    path: str
    reason: str
    message: str


@dataclass(slots=True)
class UnpackResult:
    """Everything an archive held: extracted files and files skipped while unpacking."""

    files: list[UnpackedFile]
    skipped: list[SkippedFile]


@dataclass(slots=True)
class _Budget:
    limits: ArchiveLimits
    root: Path
    entries: int = 0
    bytes: int = 0
    counter: int = 0

    def count_entries(self, n: int) -> None:
        self.entries += n
        if self.entries > self.limits.max_entries:
            raise ArchiveError(
                "archive_too_large",
                f"The archive holds more than {self.limits.max_entries} entries.",
            )

    def new_path(self) -> Path:
        self.counter += 1
        return self.path(self.counter)

    def path(self, n: int) -> Path:
        return self.root / f"{n:06d}"


@dataclass(slots=True)
class _Entry:
    info: zipfile.ZipInfo
    display: str
    is_dir: bool
    junk: bool = False


def unpack_zip(archive: Path, dest: Path, limits: ArchiveLimits) -> UnpackResult:
    """Unpack ``archive`` under ``dest / "f"`` with generated names.

    Raises :class:`ArchiveError`; on any failure nothing extracted is left behind.
    """
    root = dest / FILES_DIR
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    budget = _Budget(limits=limits, root=root)
    result = UnpackResult(files=[], skipped=[])
    try:
        _unpack(archive, "", 0, budget, result)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return result


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, struct.error) as exc:
        raise ArchiveError(
            "archive_invalid", f"The file is not a readable ZIP archive ({reason(exc)})."
        ) from exc


def _unpack(archive: Path, prefix: str, depth: int, budget: _Budget, result: UnpackResult) -> None:
    with _open_zip(archive) as zf:
        infos = zf.infolist()
        budget.count_entries(len(infos))
        entries = [_inspect(info, prefix) for info in infos]
        declared = sum(e.info.file_size for e in entries if not e.is_dir and not e.junk)
        if budget.bytes + declared > budget.limits.max_unpacked_bytes:
            raise ArchiveError(
                "archive_too_large",
                f"The archive declares more than {budget.limits.max_unpacked_bytes} bytes "
                "once unpacked.",
            )
        compressed_cap = max(archive.stat().st_size, 1)
        for entry in entries:
            if entry.is_dir:
                continue
            if entry.junk:
                result.skipped.append(
                    SkippedFile(entry.display, "junk", "System file of no clinical use; ignored.")
                )
                continue
            skip = _unsupported(entry.info)
            if skip is not None:
                result.skipped.append(SkippedFile(entry.display, *skip))
                continue
            target = budget.new_path()
            size = _extract(
                zf, entry, target, min(entry.info.compress_size, compressed_cap), budget
            )
            if size == 0:
                target.unlink()
                result.skipped.append(SkippedFile(entry.display, "empty", "The file is empty."))
            elif _is_zip(target):
                _nested(target, entry.display, depth, budget, result)
            else:
                result.files.append(UnpackedFile(entry.display, target, size))


def _nested(path: Path, display: str, depth: int, budget: _Budget, result: UnpackResult) -> None:
    """Unpack a ZIP found inside the archive, or report it when nested too deep."""
    if depth >= _MAX_NESTING:
        path.unlink()
        result.skipped.append(
            SkippedFile(display, "nested_archive", "ZIP archive nested too deeply; not opened.")
        )
        return
    inner = UnpackResult(files=[], skipped=[])
    first = budget.counter
    try:
        _unpack(path, display + "/", depth + 1, budget, inner)
    except ArchiveError as exc:
        if exc.code != "archive_invalid":
            raise
        for n in range(first + 1, budget.counter + 1):  # whatever it wrote, even partly
            budget.path(n).unlink(missing_ok=True)
        result.skipped.append(
            SkippedFile(display, "unreadable", f"Nested ZIP archive could not be read: {exc}")
        )
    else:
        result.files.extend(inner.files)
        result.skipped.extend(inner.skipped)
    finally:
        path.unlink(missing_ok=True)


def _inspect(info: zipfile.ZipInfo, prefix: str) -> _Entry:
    """Check an entry's name and mode; refuse the archive if it is hostile."""
    name = display_name(info)
    if not name.strip("/"):
        raise ArchiveError("archive_invalid", "The archive holds an entry without a name.")
    if name.startswith("/") or _DRIVE.match(name):
        raise ArchiveError("archive_unsafe", "The archive holds an entry with an absolute path.")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(
            "archive_unsafe", "The archive holds an entry that points outside its folder ('..')."
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError("archive_unsafe", "The archive holds a symbolic link.")
    if info.is_dir() or not parts:
        return _Entry(info=info, display=prefix + "/".join(parts), is_dir=True)
    return _Entry(info=info, display=prefix + "/".join(parts), is_dir=False, junk=is_junk(parts))


def is_junk(parts: list[str]) -> bool:
    """Known operating-system clutter; other dot-folders (series names) are kept."""
    if "__MACOSX" in parts:
        return True
    base = parts[-1]
    return base.startswith("._") or base.casefold() in _JUNK_NAMES


def display_name(info: zipfile.ZipInfo) -> str:
    """Entry name for display: UTF-8 flag, Info-ZIP Unicode path, UTF-8, else CP437."""
    name = info.orig_filename
    if info.flag_bits & _UTF8_FLAG:
        raw = name.encode("utf-8", "surrogateescape")
        decoded = name
    else:
        raw = name.encode("cp437")
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = name
    unicode_path = _unicode_path_extra(info.extra, raw)
    if unicode_path is not None:
        decoded = unicode_path
    return decoded.replace("\\", "/").replace("\x00", "")


def _unicode_path_extra(extra: bytes, raw_name: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), when valid for this name."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        data = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag != _UNICODE_PATH_EXTRA or len(data) < 5 or data[0] != 1:
            continue
        (crc,) = struct.unpack_from("<L", data, 1)
        if crc != zlib.crc32(raw_name):
            return None
        try:
            return data[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _unsupported(info: zipfile.ZipInfo) -> tuple[str, str] | None:
    if info.flag_bits & _ENCRYPTED_FLAG:
        return "encrypted", "The file is password-protected in the archive; it cannot be read."
    if info.compress_type not in _SUPPORTED_METHODS:
        return (
            "unsupported_compression",
            f"The file is compressed with an unsupported method ({info.compress_type}).",
        )
    return None


def _extract(
    zf: zipfile.ZipFile, entry: _Entry, target: Path, compressed: int, budget: _Budget
) -> int:
    """Stream one entry to ``target``, counting inflated bytes against every cap."""
    limits = budget.limits
    size = 0
    with _open_entry(zf, entry) as src, target.open("xb") as out:
        while True:
            chunk = _read(src, entry)
            if not chunk:
                return size
            size += len(chunk)
            budget.bytes += len(chunk)
            if size > limits.max_entry_bytes:
                raise ArchiveError(
                    "archive_too_large",
                    f"An entry inflates to more than {limits.max_entry_bytes} bytes.",
                )
            if budget.bytes > limits.max_unpacked_bytes:
                raise ArchiveError(
                    "archive_too_large",
                    f"The archive inflates to more than {limits.max_unpacked_bytes} bytes.",
                )
            if size > _RATIO_FLOOR and size > limits.max_compression_ratio * max(compressed, 1):
                raise ArchiveError(
                    "archive_too_large",
                    "An entry's compression ratio exceeds "
                    f"{limits.max_compression_ratio:g}:1 (possible ZIP bomb).",
                )
            out.write(chunk)


def _open_entry(zf: zipfile.ZipFile, entry: _Entry) -> IO[bytes]:
    try:
        return zf.open(entry.info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as exc:
        raise ArchiveError(
            "archive_invalid", f"An entry could not be opened ({reason(exc)})."
        ) from exc


def _read(src: IO[bytes], entry: _Entry) -> bytes:
    try:
        return src.read(_CHUNK)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError) as exc:
        raise ArchiveError("archive_invalid", f"An entry is corrupt ({reason(exc)}).") from exc
    except OSError as exc:  # bz2 reports corrupt data as OSError
        if entry.info.compress_type == zipfile.ZIP_BZIP2:
            raise ArchiveError("archive_invalid", f"An entry is corrupt ({reason(exc)}).") from exc
        raise


def reason(exc: BaseException | Warning | str) -> str:
    """A library's error text, shortened, with quoted names and values masked."""
    text = _QUOTED.sub("'…'", str(exc)).strip() or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _is_zip(path: Path) -> bool:
    """A ZIP by content: local-header magic, then a readable end of central directory."""
    with path.open("rb") as fp:
        if fp.read(4) != _ZIP_MAGIC:
            return False
    return zipfile.is_zipfile(path)
