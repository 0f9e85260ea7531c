"""Load: 10 imports of 200 instances at once through the API, as subprocesses like a deployment
runs them (api with uvicorn, N arq workers, PostgreSQL, a throw-away Redis, a fresh Orthanc
with ``TCP_NODELAY=1``). Measures the time until every import is completed, the latency of
status reads (``GET /imports/{id}``) while it runs, and one worker against two.

``python -m bench.load [--imports 10] [--count 200] [--workers 1 2]``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx

from bench.e2e import RIS_KEY, _wait, session, tus_upload
from bench.medium import generate, zip_medium
from devstack import OrthancProcess, RedisProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("IMPORTER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def database() -> Iterator[str]:
    name = f"importer_load_{uuid.uuid4().hex[:10]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    base = ADMIN_URL.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def product(work: Path, pacs_url: str, workers: int) -> Iterator[str]:
    redis = RedisProcess(free_port(), data_dir=work / "redis")
    redis.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    processes: list[subprocess.Popen[bytes]] = []
    with database() as db_url:
        env = {
            **os.environ,
            "IMPORTER_DATABASE_URL": db_url,
            "IMPORTER_DATA_DIR": str(work / "data"),
            "IMPORTER_REDIS_URL": redis.url,
            "IMPORTER_RIS_API_KEYS": RIS_KEY,
            "IMPORTER_PUBLIC_URL": url,
            "IMPORTER_PACS_URL": pacs_url,
            "IMPORTER_LOG_LEVEL": "WARNING",
            "IMPORTER_RATE_SESSIONS_PER_MIN": "10000",
        }
        (work / "data").mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"],
                cwd=ROOT, env=env, check=True, capture_output=True,
            )  # fmt: skip
            with (work / "api.log").open("ab") as log:
                processes.append(subprocess.Popen(  # noqa: S603 - our own command line
                    [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                     "--port", str(port), "--log-level", "warning", "--no-access-log"],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                ))  # fmt: skip
                for _ in range(workers):
                    processes.append(subprocess.Popen(
                        [sys.executable, "-m", "arq", "worker.main.WorkerSettings"],
                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    ))  # fmt: skip
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the api did not start; see {work / 'api.log'}")
                time.sleep(0.2)
            yield url
        finally:
            for proc in processes:
                proc.terminate()
            for proc in processes:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            redis.stop()


def one_import(url: str, archive: Path, ids: list[tuple[dict[str, str], str]]) -> float:
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as client:
        headers = session(client)
        data = archive.read_bytes()
        created = tus_upload(client, headers, len(data), iter([data]), 32 * 1024 * 1024)
        ids.append((headers, created["id"]))
        analysed = _wait(client, headers, created["id"], {"awaiting_confirmation"})
        uids = [s["study_instance_uid"] for s in analysed["studies"]]
        client.post(
            f"/api/v1/imports/{created['id']}/confirm",
            json={"studies": uids, "acknowledge_identity": True},
            headers=headers,
        ).raise_for_status()
        _wait(client, headers, created["id"], {"completed"})
    return time.perf_counter() - started


def reader(url: str, ids: list[tuple[dict[str, str], str]], stop: threading.Event,
           latencies: list[float]) -> None:  # fmt: skip
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            for headers, import_id in list(ids):
                t0 = time.perf_counter()
                client.get(f"/api/v1/imports/{import_id}", headers=headers).raise_for_status()
                latencies.append(time.perf_counter() - t0)
            time.sleep(0.01)


def run(work: Path, archives: list[Path], workers: int) -> dict[str, float]:
    with (
        OrthancProcess(work / f"orthanc-{workers}") as orthanc,
        product(work / f"product-{workers}", orthanc.dimse_url, workers) as url,
    ):
        ids: list[tuple[dict[str, str], str]] = []
        latencies: list[float] = []
        stop = threading.Event()
        watcher = threading.Thread(target=reader, args=(url, ids, stop, latencies))
        watcher.start()
        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(len(archives)) as pool:
                durations = list(pool.map(lambda a: one_import(url, a, ids), archives))
        finally:
            stop.set()
            watcher.join()
        total = time.perf_counter() - started
        held = len(httpx.get(f"{orthanc.http_url}/instances", timeout=60).json())
    latencies.sort()
    return {
        "total_s": total,
        "slowest_import_s": max(durations),
        "instances_on_pacs": held,
        "reads": len(latencies),
        "read_p50_ms": statistics.median(latencies) * 1000,
        "read_p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Load run: concurrent imports")
    parser.add_argument("--imports", type=int, default=10)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="importer-load-") as tmp:
        work = Path(tmp)
        archives = []
        for i in range(args.imports):
            paths = generate(work / f"medium-{i}", args.count, seed=100 + i)
            archives.append(zip_medium(paths, work / f"medium-{i}.zip"))
        results = {w: run(work, archives, w) for w in args.workers}
    print(f"{args.imports} imports of {args.count} instances at once")
    print("| workers | all completed | slowest import | on PACS | status reads | p50 | p95 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for w, r in results.items():
        print(
            f"| {w} | {r['total_s']:.1f} s | {r['slowest_import_s']:.1f} s | "
            f"{r['instances_on_pacs']:.0f} | {r['reads']:.0f} | {r['read_p50_ms']:.0f} ms | "
            f"{r['read_p95_ms']:.0f} ms |"
        )
    if 1 in results and 2 in results:
        print(f"two workers against one: {results[1]['total_s'] / results[2]['total_s']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
