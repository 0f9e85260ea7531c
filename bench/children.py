"""The measured work, each run in a process of its own so that its peak RSS (VmHWM) is its
own: ``store`` (the store stage: read, coerce, C-STORE) and ``analyse`` (unpack a ZIP and read
the media). Prints one JSON line."""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from pydicom import dcmread

from importer.coerce import CoercionTarget
from importer.media import ArchiveLimits, read_media, unpack_zip
from importer.pacs import StoreItem, make_pacs_client
from importer.pipeline.prepare import encode_for_store, load_for_store

TARGET = CoercionTarget(
    patient_name="ROSSI^MARIO",
    patient_id="HOSP-0042",
    issuer_of_patient_id="HOSPITAL",
    birth_date="19740101",
    sex="M",
    accession_number="ACC-BENCH",
    requested_procedure_id="RP1",
    procedure_code="IMPORT",
    procedure_description="External study import",
)
SYSTEM = "PACS Media Import bench"


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def store(url: str, parallel: int, directory: Path, *, encoded: bool) -> dict[str, object]:
    # What the database holds about each instance (read at analysis, not timed here).
    items = []
    now = datetime.now(UTC)
    for path in sorted(directory.glob("*.dcm")):
        header = dcmread(path, stop_before_pixels=True)
        items.append(
            StoreItem(
                key=path.name,
                sop_class_uid=str(header.SOPClassUID),
                sop_instance_uid=str(header.SOPInstanceUID),
                transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
                size=path.stat().st_size,
                load=partial(
                    load_for_store,
                    path,
                    target=TARGET,
                    modifying_system=SYSTEM,
                    now=now,
                    add_other_patient_ids=True,
                ),
                encoded=partial(
                    encode_for_store,
                    path,
                    target=TARGET,
                    modifying_system=SYSTEM,
                    now=now,
                    add_other_patient_ids=True,
                )
                if encoded
                else None,
            )
        )
    pacs = make_pacs_client(url, calling_ae="BENCH", timeout=60, parallel=parallel)
    cpu_before = _cpu_s()
    started = time.perf_counter()
    outcomes = list(pacs.store(items))
    elapsed = time.perf_counter() - started
    return {
        "elapsed_s": elapsed,
        "cpu_ms_per_instance": (_cpu_s() - cpu_before) * 1000 / max(len(items), 1),
        "instances": len(items),
        "ok": sum(o.ok for o in outcomes),
        "peak_rss_mb": peak_rss_mb(),
    }


def analyse(archive: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-analyse-") as tmp:
        started = time.perf_counter()
        report = read_media(unpack_zip(archive, Path(tmp), ArchiveLimits()))
        elapsed = time.perf_counter() - started
    return {"elapsed_s": elapsed, "instances": report.dicom, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("store")
    s.add_argument("url")
    s.add_argument("directory", type=Path)
    s.add_argument("--parallel", type=int, default=2)
    s.add_argument(
        "--load-only",
        action="store_true",
        help="no StoreItem.encoded: every instance read whole, coerced and encoded",
    )
    a = sub.add_parser("analyse")
    a.add_argument("archive", type=Path)
    args = parser.parse_args()
    if args.what == "store":
        result = store(args.url, args.parallel, args.directory, encoded=not args.load_only)
    else:
        result = analyse(args.archive)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
