"""Hostile media (issue 13): the worst case of each of the issue's points 1-4, read by the
worker's own analysis path (``importer.pipeline.analyse.read_archive``: unpack, then read
every file), each run in a child process of its own.

1. a DICOM file padded with 1,000,000 empty elements (8 MB), next to a real CT image;
2. a ZIP whose central directory holds 1,000,000 entries (empty files);
3. a ZIP of about 110 KiB inflating to about 100 MiB: 100 entries of 1,000,000 bytes (each
   under the 1 MiB floor of the per-entry ratio check) that start like DICOM, then zeros;
4. a ZIP holding one 1 GiB entry of zeros (junk, about 1 MiB compressed) next to a real CT
   image: (a) with the default limits, (b) with the compression ratio cap lifted (1e9), as an
   operator who trusts their media might.

For each: the analysis's wall time (``elapsed_s``; ``wall_s`` adds the child's start-up and
imports), the child's peak RSS (``VmHWM``; ``rss_before_mb`` is its RSS once the importer is
imported, before anything is read), the most the spool held (sampled every millisecond or so:
a lower bound), the bytes the child wrote (``wchar`` of ``/proc/self/io``: its spool writes),
and the outcome. Runs on whatever tree it is started in::

    ~/.local/bin/uv run --frozen python -m bench.hostile
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
PART10_HEAD = bytes(128) + b"DICM"
PADDING = 1_000_000
ENTRIES = 1_000_000


# -- the media ---------------------------------------------------------------------------


def _ct() -> bytes:
    from pydicom.data import get_testdata_file

    found = get_testdata_file("CT_small.dcm", download=False)
    assert found is not None
    return Path(str(found)).read_bytes()


def padded_header(path: Path) -> None:
    """1. CT_small.dcm (explicit VR little endian) with 1,000,000 empty private LO elements
    (8 bytes each) before its pixel data, in a ZIP with the original."""
    ct = _ct()
    at = ct.index(b"\xe0\x7f\x10\x00OW")
    padding = bytearray()
    for n in range(PADDING):
        group, element = 0x0009 + 2 * (n >> 16), n & 0xFFFF
        padding += struct.pack("<HH2sH", group, element, b"LO", 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DICOM/IM0001", ct[:at] + bytes(padding) + ct[at:])
        zf.writestr("DICOM/IM0002", ct)


def million_entries(path: Path) -> None:
    """2. 1,000,000 empty stored entries, written directly (zipfile would take minutes)."""
    local = bytearray()
    central = bytearray()
    for n in range(ENTRIES):
        name = f"F{n:07d}".encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0)
        local += name
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0,
            0, 0, offset,
        )  # fmt: skip
        central += name
    with path.open("wb") as out:
        out.write(local)
        out.write(central)
        zip64_end = len(local) + len(central)
        out.write(
            struct.pack(
                "<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, ENTRIES, ENTRIES, len(central),
                len(local),
            )
        )  # fmt: skip
        out.write(struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1))
        out.write(
            struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, len(central), len(local), 0)
        )


def small_entries_bomb(path: Path) -> None:
    """3. 100 entries of 1,000,000 bytes, each starting like DICOM, then zeros."""
    data = PART10_HEAD + bytes(1_000_000 - len(PART10_HEAD))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for n in range(100):
            zf.writestr(f"DICOM/IM{n:04d}", data)


def junk_entry(path: Path) -> None:
    """4. A real CT image, then one 1 GiB entry of zeros (streamed through zipfile)."""
    zeros = bytes(MIB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DICOM/IM0001", _ct())
        with zf.open("VIEWER/DATA.BIN", "w", force_zip64=True) as out:
            for _ in range(1024):
                out.write(zeros)


CASES: dict[str, tuple[str, Any, dict[str, float]]] = {
    "1 padded header": ("padded.zip", padded_header, {}),
    "2 million entries": ("entries.zip", million_entries, {}),
    "3 small-entries bomb": ("small-bomb.zip", small_entries_bomb, {}),
    "4a junk entry": ("junk.zip", junk_entry, {}),
    "4b junk entry, ratio cap lifted": ("junk.zip", junk_entry, {"max_compression_ratio": 1e9}),
}


# -- the measured child ------------------------------------------------------------------


def _proc(field: str, name: str) -> int:
    for line in Path(f"/proc/self/{name}").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def child(archive: Path, spool: Path, limits: dict[str, float]) -> dict[str, object]:
    """Analyse ``archive`` as the worker does, in ``spool``; report what it cost."""
    from importer.media import ArchiveError, ArchiveLimits
    from importer.pipeline.analyse import read_archive

    imported = _proc("VmRSS", "status")  # the importer's modules loaded, nothing read yet
    written = _proc("wchar", "io")
    started = time.perf_counter()
    try:
        report = read_archive(
            archive, spool / "attempt", ArchiveLimits(**limits), threading.Event()
        )
        outcome = f"{report.dicom} instance(s), {len(report.skipped)} skipped"
        reasons = sorted({s.reason for s in report.skipped})
        if reasons:
            outcome += f" ({', '.join(reasons)})"
    except ArchiveError as exc:
        outcome = exc.code
    elapsed = time.perf_counter() - started
    return {
        "elapsed_s": round(elapsed, 2),
        "rss_before_mb": round(imported / 1024, 1),
        "peak_rss_mb": round(_proc("VmHWM", "status") / 1024, 1),
        "written_mb": round((_proc("wchar", "io") - written) / MIB, 1),
        "outcome": outcome,
    }


# -- the parent --------------------------------------------------------------------------


def _size_of(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                continue
    return total


def run(name: str, archive: Path, limits: dict[str, float], work: Path) -> dict[str, object]:
    spool = work / "spool"
    spool.mkdir()
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _size_of(spool))
            done.wait(0.001)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    command = [sys.executable, "-m", "bench.hostile", "--child", str(archive), str(spool)]
    out = subprocess.run(  # noqa: S603 - this very script, arguments of its own making
        [*command, "--limits", json.dumps(limits)], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    result.update(case=name, wall_s=round(wall, 2), spool_peak_mb=round(peak / MIB, 1))
    result["zip_kb"] = round(archive.stat().st_size / 1024)
    shutil.rmtree(spool)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, type=Path, metavar=("ARCHIVE", "SPOOL"))
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--only", action="append", help="run only cases starting so")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, json.loads(args.limits))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        work = Path(tmp)
        for name, (file, build, limits) in CASES.items():
            if args.only and not any(name.startswith(o) for o in args.only):
                continue
            archive = work / file
            if not archive.exists():
                build(archive)
            case_dir = work / "case"
            case_dir.mkdir()
            print(json.dumps(run(name, archive, limits, case_dir)), flush=True)
            case_dir.rmdir()


if __name__ == "__main__":
    main()
