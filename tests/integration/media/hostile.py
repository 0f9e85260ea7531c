"""Hostile archives built in the tests, and a watcher of how much the spool holds."""

from __future__ import annotations

import io
import os
import stat
import struct
import threading
import zipfile
import zlib
from pathlib import Path
from types import TracebackType

from tests.integration.media.zoo import zip_of

MIB = 1024 * 1024
GIB = 1024 * MIB
PART10_HEAD = bytes(128) + b"DICM"
"""A Part 10 preamble and magic: a bomb starting so looks like DICOM, is unpacked and meets
the caps; one of bare zeros is skipped from its first bytes, never inflated further."""


def _deflated(data: bytes) -> bytes:
    """``data`` deflated as blocks that stand alone (a full flush), to be concatenated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def zero_bomb(
    path: Path, *, inflated: int = 4 * GIB, name: str = "DICOM/IM0001", head: bytes = b""
) -> Path:
    """A Zip64 archive of one entry that inflates to ``inflated`` bytes, ``head`` then zeros,
    its sizes and CRC declared honestly, written in about a second with a few MB of memory:
    one MiB of zeros deflated once (with a full flush, so the block stands alone) and
    repeated, after a first MiB starting with ``head``."""
    assert inflated % MIB == 0
    blocks = inflated // MIB
    zeros = bytes(MIB)
    first_data = head + zeros[len(head) :]
    first = _deflated(first_data)
    block = _deflated(zeros)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    crc = zlib.crc32(first_data)
    for _ in range(blocks - 1):
        crc = zlib.crc32(zeros, crc)
    compressed = len(first) + len(block) * (blocks - 1) + len(final)
    raw_name = name.encode()
    sizes = struct.pack("<HHQQ", 0x0001, 16, inflated, compressed)  # Zip64 extra field
    dos_time, dos_date = 0, (2026 - 1980) << 9 | 1 << 5 | 1
    # version 4.5 (Zip64), no flags, deflated, sizes in the Zip64 extra field
    common = (45, 0, zipfile.ZIP_DEFLATED, dos_time, dos_date, crc, 0xFFFFFFFF, 0xFFFFFFFF)
    lengths = (len(raw_name), len(sizes))
    local = struct.pack("<IH", 0x04034B50, *common[:1]) + struct.pack("<HHHHIII", *common[1:])
    central = struct.pack("<IHH", 0x02014B50, 45, *common[:1])
    central += struct.pack("<HHHHIII", *common[1:])
    central += struct.pack("<HHHHHII", *lengths, 0, 0, 0, 0, 0)
    with path.open("wb") as out:
        out.write(local + struct.pack("<HH", *lengths) + raw_name + sizes)
        out.write(first)
        for _ in range(blocks - 1):
            out.write(block)
        out.write(final)
        directory_at = out.tell()
        out.write(central + raw_name + sizes)
        directory_size = out.tell() - directory_at
        zip64_end_at = out.tell()
        out.write(
            struct.pack(
                "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, directory_size, directory_at
            )
        )
        out.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_end_at, 1))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, directory_size, directory_at, 0))
    return path


def zeros_zip(size: int) -> bytes:
    """A small ZIP holding ``size`` bytes that look like DICOM, then zeros (to nest in another
    archive)."""
    return zip_of([("IM0001", PART10_HEAD + bytes(size - len(PART10_HEAD)))])


def symlink_zip(target: str = "/etc/passwd") -> bytes:
    """A ZIP whose entry is a symbolic link (as ``zip --symlinks`` writes it)."""
    info = zipfile.ZipInfo("DICOM/IM0001")
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr(info, target)
    return stream.getvalue()


def tree(root: Path, *, exclude: Path | None = None) -> dict[str, int]:
    """Every file under ``root`` (but those under ``exclude``) with its size."""
    found: dict[str, int] = {}
    for folder, dirs, files in os.walk(root):
        if Path(folder) == exclude:
            dirs.clear()
            continue
        dirs[:] = [d for d in dirs if Path(folder, d) != exclude]
        for name in files:
            path = Path(folder, name)
            try:
                found[str(path.relative_to(root))] = path.stat().st_size
            except FileNotFoundError:
                continue
    return found


def size_of(root: Path) -> int:
    """Bytes of the files under ``root`` (files vanishing meanwhile are skipped)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
    return total


class SpoolWatch:
    """Samples, in a thread, how many bytes a folder holds while the worker runs; ``peak``
    is the most seen (a lower bound of the true peak: a sample every millisecond or so)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, size_of(self.root))
            self.samples += 1
            self._stop.wait(0.001)

    def __enter__(self) -> SpoolWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, size_of(self.root))
