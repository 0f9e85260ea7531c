"""``make bench``: the store stage against dcmtk ``storescu``, analysis time and worker peak
RSS, each store run against a fresh Orthanc started with ``TCP_NODELAY=1``, same machine, same
files. Prints a table (and JSON with ``--json``). See bench/README.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.medium import generate, zip_medium
from devstack import OrthancProcess

ROOT = Path(__file__).resolve().parents[1]
STORESCU = "/usr/bin/storescu"  # dcmtk's: pynetdicom installs another storescu in .venv


@dataclass
class Row:
    what: str
    instances: int
    seconds: float
    peak_rss_mb: float | None = None
    note: str = ""

    @property
    def rate(self) -> float:
        return self.instances / self.seconds if self.seconds else float("nan")


def _held(orthanc: OrthancProcess) -> int:
    stats = httpx.get(f"{orthanc.http_url}/statistics", timeout=30).json()
    return int(stats["CountInstances"])


def _child(*args: str) -> dict[str, float]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.children", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    parsed: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def run_storescu(work: Path, files: Path, count: int, label: str) -> Row:
    with OrthancProcess(work / f"orthanc-{label}", aet="BENCHPACS") as orthanc:
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - dcmtk, fixed arguments
            [STORESCU, "-q", "-aet", "STORESCU", "-aec", orthanc.aet, "+sd", "+r",
             "127.0.0.1", str(orthanc.dicom_port), str(files)],
            env={**os.environ, "TCP_NODELAY": "1"},
            check=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        held = _held(orthanc)
    return Row("dcmtk storescu (1 association)", count, seconds, note=f"{held} held")


def run_ours(
    work: Path, files: Path, count: int, parallel: int, label: str, *, load_only: bool = False
) -> Row:
    """``load_only``: items without ``StoreItem.encoded`` (each instance read whole, coerced and
    re-encoded), as the pipeline sends them until it sets ``encoded``."""
    with OrthancProcess(work / f"orthanc-{label}", aet="BENCHPACS") as orthanc:
        result = _child(
            "store",
            orthanc.dimse_url,
            str(files),
            "--parallel",
            str(parallel),
            *(["--load-only"] if load_only else []),
        )
        held = _held(orthanc)
    return Row(
        f"DimsePacs.store, parallel={parallel}" + (", load only" if load_only else ""),
        int(result["instances"]),
        float(result["elapsed_s"]),
        float(result["peak_rss_mb"]),
        note=f"{int(result['ok'])} ok, {held} held, "
        f"{float(result['cpu_ms_per_instance']):.1f} ms CPU/instance",
    )


def print_table(rows: list[Row], baseline: Row | None) -> None:
    print(f"\n{'what':44} {'inst':>5} {'time s':>8} {'inst/s':>7} {'× storescu':>10} "
          f"{'peak RSS MB':>11}  note")  # fmt: skip
    for row in rows:
        ratio = (
            (row.rate / baseline.rate) if baseline and row.what.startswith("DimsePacs") else None
        )
        print(
            f"{row.what:44} {row.instances:5d} {row.seconds:8.2f} {row.rate:7.1f} "
            f"{'' if ratio is None else f'{ratio:.2f}':>10} "
            f"{'' if row.peak_rss_mb is None else f'{row.peak_rss_mb:.0f}':>11}  {row.note}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=500, help="instances in the medium")
    parser.add_argument("--parallel", default="1,2,3,4", help="associations to try")
    parser.add_argument(
        "--large", type=int, default=2000, help="instances for analysis and peak RSS (0: skip)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures there")
    args = parser.parse_args()
    parallels = [int(p) for p in args.parallel.split(",") if p]
    rows: list[Row] = []
    print(f"PACS Media Import benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} CPUs, {platform.platform()}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="importer-bench-") as tmp:
        work = Path(tmp)
        files = work / "medium"
        print(f"generating {args.count} CT-like instances (512x512, 16 bits)...", flush=True)
        generate(files, args.count)
        baseline = run_storescu(work, files, args.count, "storescu")
        rows.append(baseline)
        for parallel in parallels:
            print(f"DimsePacs.store parallel={parallel}...", flush=True)
            rows.append(run_ours(work, files, args.count, parallel, f"p{parallel}"))
        print("DimsePacs.store parallel=2, load only...", flush=True)
        rows.append(run_ours(work, files, args.count, 2, "p2-load", load_only=True))
        if args.large:
            large = work / "large"
            print(f"generating {args.large} instances for analysis and peak RSS...", flush=True)
            paths = generate(large, args.large, seed=2)
            archive = zip_medium(paths, work / "large.zip")
            result = _child("analyse", str(archive))
            rows.append(
                Row(
                    f"analysis: unpack_zip + read_media ({archive.stat().st_size >> 20} MB ZIP)",
                    int(result["instances"]),
                    float(result["elapsed_s"]),
                    float(result["peak_rss_mb"]),
                )
            )
            rows.append(run_storescu(work, large, args.large, "storescu-large"))
            rows.append(run_ours(work, large, args.large, 2, "large"))
    print_table(rows, baseline)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"rate": r.rate} for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
