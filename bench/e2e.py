"""The product end to end, as subprocesses like ``make run`` starts them (api with uvicorn,
arq worker, throw-away Redis, SQLite, fresh Orthanc with ``TCP_NODELAY=1``):

- ``upload``: the api's memory growth (VmRSS of its process, sampled every 50 ms) while it
  receives a 2 GB tus upload in 256 MB PATCH requests;
- ``e2e``: upload complete → analysis → confirmation → import completed, for a ZIP of N
  generated instances, against dcmtk ``storescu`` sending the same files to a fresh Orthanc.

- ``single``: one object of N GB (``--single-gb``) from upload to ``completed``, with the
  worker's VmRSS sampled all along.

``python -m bench.e2e [--upload-gb 2] [--count 500] [--single-gb 0] [--zip deflate|stored]
[--patch-mb 16]``;
see bench/README.md. The times are taken from the import's event stream, as the app learns them
(polling the api would take the cores the PACS and the worker need).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.medium import generate, generate_large, zip_medium
from bench.store import run_storescu
from devstack import OrthancProcess, RedisProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
RIS_KEY = "bench-ris-key"
ORDER = {
    "accession_number": "BENCH0001",
    "requested_procedure_id": "RP1",
    "procedure": {"code": "IMPORT", "description": "External study import"},
    "patient": {
        "id": "HOSP-0042",
        "issuer": "HOSPITAL",
        "name": "ROSSI^MARIO",
        "birth_date": "19740101",
        "sex": "M",
    },
}
MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler(threading.Thread):
    """VmRSS of a process every ``period`` seconds until stopped."""

    def __init__(self, pid: int, period: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.period = period
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            with contextlib.suppress(OSError):
                self.samples.append(rss_mb(self.pid))
            time.sleep(self.period)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@contextlib.contextmanager
def product(
    work: Path, pacs_url: str
) -> Iterator[tuple[str, subprocess.Popen[bytes], subprocess.Popen[bytes]]]:
    """Redis, migrated SQLite, api and worker; yield the api URL, the api and the worker."""
    redis = RedisProcess(free_port(), data_dir=work / "redis")
    redis.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "IMPORTER_DATA_DIR": str(work / "data"),
        "IMPORTER_REDIS_URL": redis.url,
        "IMPORTER_RIS_API_KEYS": RIS_KEY,
        "IMPORTER_PUBLIC_URL": url,
        "IMPORTER_PACS_URL": pacs_url,
        "IMPORTER_LOG_LEVEL": "WARNING",
    }
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (work / "data").mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    profile = os.environ.get("BENCH_PROFILE")
    try:
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        with (logs / "api.log").open("ab") as api_log, (logs / "worker.log").open("ab") as wlog:
            api = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=api_log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            processes.append(api)
            command = [sys.executable, "-m", "arq", "worker.main.WorkerSettings"]
            if profile:  # the worker under py-spy: collapsed stacks, idle frames left out
                command = ["py-spy", "record", "--gil", "--format", "raw", "--rate", "250",
                           "--output", profile, "--", *command]  # fmt: skip
            worker = subprocess.Popen(  # noqa: S603
                command,
                cwd=ROOT, env=env, stdout=wlog, stderr=subprocess.STDOUT,
            )  # fmt: skip
            processes.append(worker)
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline or api.poll() is not None:
                raise RuntimeError(f"the api did not start; see {logs / 'api.log'}")
            time.sleep(0.2)
        yield url, api, worker
    finally:
        for proc in processes:
            if proc.poll() is None:
                # py-spy writes its profile on SIGINT; the worker under it stops on it too
                proc.send_signal(
                    signal.SIGINT if profile and proc is processes[-1] else signal.SIGTERM
                )
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        redis.stop()


def session(client: httpx.Client) -> dict[str, str]:
    launch = client.post(
        "/api/v1/launches",
        json={"user": {"id": "bench", "name": "Bench User"}, "order": ORDER},
        headers={"Authorization": f"Bearer {RIS_KEY}"},
    )
    launch.raise_for_status()
    opened = client.post("/api/v1/sessions", json={"launch_token": launch.json()["token"]})
    opened.raise_for_status()
    return {"Authorization": f"Bearer {opened.json()['session_token']}"}


def tus_upload(
    client: httpx.Client, headers: dict[str, str], size: int, chunks: Iterator[bytes], per: int
) -> dict[str, Any]:
    """Create an import and PATCH ``size`` bytes from ``chunks``, ``per`` bytes a request."""
    created = client.post(
        "/api/v1/imports", json={"size": size, "filename": "cd.zip"}, headers=headers
    )
    created.raise_for_status()
    body: dict[str, Any] = created.json()
    offset = 0
    pending = b""
    source = iter(chunks)
    while offset < size:
        take = min(per, size - offset)

        def request_body(take: int = take) -> Iterator[bytes]:
            nonlocal pending
            sent = 0
            while sent < take:
                if not pending:
                    pending = next(source)
                piece, pending = pending[: take - sent], pending[take - sent :]
                sent += len(piece)
                yield piece

        response = client.patch(
            body["upload_url"],
            content=request_body(),
            headers={
                **headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(take),
            },
        )
        if response.status_code != 204:
            raise RuntimeError(f"PATCH answered {response.status_code}: {response.text[:200]}")
        offset = int(response.headers["Upload-Offset"])
    return body


def bench_upload(work: Path, gigabytes: float) -> None:
    size = int(gigabytes * 1024**3)
    with (
        product(work / "upload", "dimse://NOBODY@127.0.0.1:9") as (url, api, _worker),
        httpx.Client(base_url=url, timeout=600) as client,
    ):
        headers = session(client)
        client.get("/api/v1/session", headers=headers).raise_for_status()
        baseline = rss_mb(api.pid)
        sampler = Sampler(api.pid)
        sampler.start()
        block = os.urandom(MB)
        started = time.perf_counter()
        tus_upload(client, headers, size, iter(lambda: block, b""), 256 * MB)
        seconds = time.perf_counter() - started
        sampler.stop()
    peak = max(sampler.samples)
    print(
        f"upload of {size / 1024**3:.1f} GB in 256 MB PATCHes: {seconds:.1f} s "
        f"({size / MB / seconds:.0f} MB/s); api VmRSS {baseline:.0f} MB before, peak "
        f"{peak:.0f} MB: growth {peak - baseline:.0f} MB"
    )


def _import_status(client: httpx.Client, headers: dict[str, str], import_id: str) -> Any:
    response = client.get(f"/api/v1/imports/{import_id}", headers=headers)
    response.raise_for_status()
    return response.json()


def _wait(
    client: httpx.Client,
    headers: dict[str, str],
    import_id: str,
    wanted: set[str],
    then: Callable[[], None] | None = None,
) -> Any:
    """Follow the import's event stream, as the app does, until its status is one of ``wanted``;
    ``then`` runs once the stream listens (after its first snapshot). The import, read once the
    status came."""
    path = f"/api/v1/imports/{import_id}/events"
    with client.stream("GET", path, headers=headers) as response:
        response.raise_for_status()
        event = ""
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event in {"snapshot", "status"}:
                status = json.loads(line.removeprefix("data:"))["status"]
                if then is not None:
                    then()
                    then = None
                elif status in wanted:
                    break
                elif status in {"failed", "cancelled", "expired"}:
                    raise RuntimeError(f"import {status}")
    return _import_status(client, headers, import_id)


APP_PATCH_MB = 16
"""The app's PATCH size (``uploadChunkMegabytes`` in the app's config)."""


def bench_e2e(
    work: Path, count: int, *, stored: bool = False, patch_mb: int = APP_PATCH_MB
) -> None:
    files = work / "medium"
    paths = generate(files, count, seed=3)
    archive = zip_medium(paths, work / "medium.zip", stored=stored)
    baseline = run_storescu(work, files, count, "storescu-e2e")
    with OrthancProcess(work / "orthanc-e2e", aet="BENCHPACS") as orthanc:
        with (
            product(work / "e2e", orthanc.dimse_url) as (url, _api, _worker),
            httpx.Client(base_url=url, timeout=600) as client,
        ):
            headers = session(client)
            data = archive.read_bytes()
            started = time.perf_counter()
            created = tus_upload(client, headers, len(data), iter([data]), patch_mb << 20)
            uploaded = time.perf_counter()
            _wait(client, headers, created["id"], {"awaiting_confirmation"})
            analysed = time.perf_counter()
            body = _import_status(client, headers, created["id"])
            uids = [s["study_instance_uid"] for s in body["studies"]]
            confirm_at = 0.0

            def confirm() -> None:
                nonlocal confirm_at
                client.post(
                    f"/api/v1/imports/{created['id']}/confirm",
                    json={"studies": uids, "acknowledge_identity": True},
                    headers=headers,
                ).raise_for_status()
                confirm_at = time.perf_counter()
                marks["confirmed"] = datetime.now(UTC)

            marks: dict[str, datetime] = {}
            _wait(client, headers, created["id"], {"completed"}, then=confirm)
            done = time.perf_counter()
            marks["seen"] = datetime.now(UTC)
            stages = stage_seconds(work / "e2e" / "data" / "importer.sqlite3", **marks)
        held = int(httpx.get(f"{orthanc.http_url}/statistics", timeout=30).json()["CountInstances"])
    total = (analysed - uploaded) + (done - confirm_at)
    print(
        f"e2e, {count} instances ({archive.stat().st_size >> 20} MB ZIP, "
        f"{'stored' if stored else 'deflated'}, in {patch_mb} MB PATCHes: upload "
        f"{uploaded - started:.1f} s): analysis "
        f"{analysed - uploaded:.1f} s, confirm → completed {done - confirm_at:.1f} s, total "
        f"(without the user's think time) {total:.1f} s; storescu {baseline.seconds:.1f} s → "
        f"{total / baseline.seconds:.2f} × storescu; PACS holds {held}"
    )
    print("  stages (started → finished, as the worker recorded them): " + ", ".join(stages))


def bench_single(work: Path, gigabytes: float) -> None:
    """One object of ``gigabytes`` of pixel data (a ZIP storing it as it is) from upload to
    ``completed``, with the worker's VmRSS sampled all along."""
    path = generate_large(work / "large", gigabytes)
    archive = work / "large.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
        out.write(path, "DICOM/LARGE")
    baseline_store = run_storescu(work, path.parent, 1, "storescu-single")
    path.unlink()
    size = archive.stat().st_size
    with (
        OrthancProcess(work / "orthanc-single", aet="BENCHPACS") as orthanc,
        product(work / "single", orthanc.dimse_url) as (url, _api, worker),
        httpx.Client(base_url=url, timeout=600) as client,
    ):
        headers = session(client)
        sampler = Sampler(worker.pid)
        sampler.start()
        baseline = rss_mb(worker.pid)
        with archive.open("rb") as source:
            created = tus_upload(
                client, headers, size, iter(lambda: source.read(64 * MB), b""), 256 * MB
            )
        uploaded = time.perf_counter()
        body = _wait(client, headers, created["id"], {"awaiting_confirmation"})
        analysed = time.perf_counter()
        analysis_peak = max(sampler.samples)
        client.post(
            f"/api/v1/imports/{created['id']}/confirm",
            json={
                "studies": [s["study_instance_uid"] for s in body["studies"]],
                "acknowledge_identity": True,
            },
            headers=headers,
        ).raise_for_status()
        confirm_at = time.perf_counter()
        try:
            _wait(client, headers, created["id"], {"completed"})
            outcome = "completed"
        except RuntimeError as exc:
            outcome = str(exc)
        done = time.perf_counter()
        sampler.stop()
        stages = stage_seconds(work / "single" / "data" / "importer.sqlite3")
    print(
        f"single object, {size / 1024**3:.2f} GB ZIP (stored): analysis "
        f"{analysed - uploaded:.1f} s, "
        f"confirm → {outcome} {done - confirm_at:.1f} s; worker VmRSS {baseline:.0f} MB at "
        f"start, peak {analysis_peak:.0f} MB to the confirmation, {max(sampler.samples):.0f} MB "
        f"in all; storescu {baseline_store.seconds:.1f} s for the same object"
    )
    print("  stages (started → finished, as the worker recorded them): " + ", ".join(stages))


def stage_seconds(
    database: Path, *, confirmed: datetime | None = None, seen: datetime | None = None
) -> list[str]:
    """Each stage's time and the gaps between, from the worker's own records: where the
    confirm → completed time goes; with ``confirmed`` (the confirmation's answer) and ``seen``
    (``completed`` on the event stream), also the gaps before the first stage and after the
    last (the worker's pickup, the event's way to the client)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT name, started_at, finished_at FROM stages "
            "WHERE started_at IS NOT NULL ORDER BY started_at"
        ).fetchall()
    out: list[str] = []
    previous = confirmed
    for name, started, finished in rows:
        start, end = _utc(started), _utc(finished)
        if previous is not None and start < previous:  # the analysis's stages
            continue
        gap = f" (+{(start - previous).total_seconds():.2f} s before)" if previous else ""
        out.append(f"{name} {(end - start).total_seconds():.2f} s{gap}")
        previous = end
    if seen is not None and previous is not None:
        out.append(f"completed seen +{(seen - previous).total_seconds():.2f} s after")
    return out


def _utc(value: str) -> datetime:
    """A time the worker recorded (ISO, naive ones in UTC)."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upload-gb", type=float, default=2.0, help="0: skip")
    parser.add_argument("--count", type=int, default=500, help="e2e instances; 0: skip")
    parser.add_argument(
        "--single-gb", type=float, default=0, help="one object of this size end to end; 0: skip"
    )
    parser.add_argument(
        "--zip",
        choices=("deflate", "stored"),
        default="deflate",
        help="the e2e medium's ZIP: deflated (level 1) or stored, as the app sends by default",
    )
    parser.add_argument(
        "--patch-mb",
        type=int,
        default=APP_PATCH_MB,
        help="the e2e upload's PATCH size, as the app sends (the medium is read as it arrives)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="importer-bench-e2e-") as tmp:
        if args.upload_gb:
            bench_upload(Path(tmp), args.upload_gb)
        if args.count:
            bench_e2e(Path(tmp), args.count, stored=args.zip == "stored", patch_mb=args.patch_mb)
        if args.single_gb:
            bench_single(Path(tmp), args.single_gb)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
