"""`make run`: the whole product on its embedded defaults, on one machine, on loopback.

Starts (when needed) Redis, a local Orthanc as the demo PACS, dcmtk's wlmscpfs as the demo
worklist, applies migrations on the SQLite database, starts the api and the worker, seeds a demo
RIS order and prints its launch link. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from devstack import OrthancProcess, WorklistProcess, ensure_redis, free_port
from importer.security import split_ris_key
from scripts.demo_media import main as main_demo_media

ROOT = Path(__file__).resolve().parents[1]
DEMO_RIS_KEY = "demo-ris-key"
DEMO_ORDER = {
    "accession_number": "DEMO0001",
    "requested_procedure_id": "RP0001",
    "procedure": {"code": "EXTIMP", "description": "External study import"},
    "modality": "OT",
    "patient": {
        "id": "DEMO-000042",
        "issuer": "DEMO-HOSPITAL",
        "name": "ROSSI^MARIO",
        "birth_date": "19740101",
        "sex": "M",
    },
}


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def pick(port: int) -> int:
    return port if port_free(port) else free_port()


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the api exited with code {proc.returncode}; see var/logs/api.log")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit("the api did not become ready in time; see var/logs/api.log")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    data_dir = Path(os.environ.get("IMPORTER_DATA_DIR", ROOT / "var")).resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["IMPORTER_DATA_DIR"] = str(data_dir)
    env.setdefault("IMPORTER_RIS_API_KEYS", DEMO_RIS_KEY)
    ris_key = split_ris_key(env["IMPORTER_RIS_API_KEYS"].split(",")[0])[1]
    api_port = int(env.get("IMPORTER_PORT", "0")) or pick(8000)
    base_url = f"http://127.0.0.1:{api_port}"
    env.setdefault("IMPORTER_PUBLIC_URL", base_url)
    env.setdefault("IMPORTER_PUBLIC_DOCS", "true")  # the printed API docs link (off by default)

    with ExitStack() as stack:
        redis_url = env.get("IMPORTER_REDIS_URL", "redis://127.0.0.1:6379/0")
        redis = ensure_redis(redis_url, data_dir=data_dir / "redis")
        if redis is not None:
            stack.callback(redis.stop)
            env["IMPORTER_REDIS_URL"] = redis.url
            print(f"started Redis on {redis.url}")

        if "IMPORTER_PACS_URL" not in os.environ:
            orthanc = OrthancProcess(
                data_dir / "orthanc", dicom_port=pick(4242), http_port=pick(8042)
            )
            stack.enter_context(orthanc)
            env["IMPORTER_PACS_URL"] = orthanc.dimse_url
            orthanc_http = orthanc.http_url
            # the demo PACS takes an undone import's instances back through its REST API
            env.setdefault("IMPORTER_REJECT_URL", f"orthanc+{orthanc.http_url}")
        else:
            orthanc_http = "(external PACS)"

        if "IMPORTER_WORKLIST_URL" not in os.environ:
            worklist = WorklistProcess(data_dir / "worklist", port=pick(11112))
            patient = DEMO_ORDER["patient"]
            assert isinstance(patient, dict)
            worklist.add_item(
                patient_name=patient["name"],
                patient_id=patient["id"],
                patient_birth_date=patient["birth_date"],
                patient_sex=patient["sex"],
                issuer_of_patient_id=patient["issuer"],
                accession_number=str(DEMO_ORDER["accession_number"]),
                requested_procedure_id=str(DEMO_ORDER["requested_procedure_id"]),
                requested_procedure_description="External study import",
                modality="OT",
            )
            stack.enter_context(worklist)
            env["IMPORTER_WORKLIST_URL"] = worklist.dimse_url

        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True
        )
        api_log = (logs / "api.log").open("ab")
        worker_log = (logs / "worker.log").open("ab")
        stack.callback(api_log.close)
        stack.callback(worker_log.close)
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
             "--port", str(api_port)],
            cwd=ROOT, env=env, stdout=api_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        stack.callback(stop, api)
        worker = subprocess.Popen(
            [sys.executable, "-m", "arq", "worker.main.WorkerSettings"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        stack.callback(stop, worker)
        wait_ready(base_url, api)

        launch = httpx.post(
            f"{base_url}/api/v1/launches",
            json={
                "user": {"id": "demo-tech", "name": "Demo Technologist",
                         "department": "Radiology", "roles": ["clinician"]},
                "order": DEMO_ORDER,
            },
            headers={"Authorization": f"Bearer {ris_key}"},
            timeout=10,
        )  # fmt: skip
        launch.raise_for_status()
        worklist_launch = httpx.post(
            f"{base_url}/api/v1/launches",
            json={"user": {"id": "demo-tech", "name": "Demo Technologist",
                           "department": "Radiology", "roles": ["clinician"]}},
            headers={"Authorization": f"Bearer {ris_key}"},
            timeout=10,
        )  # fmt: skip
        worklist_launch.raise_for_status()
        print()
        print("PACS Media Import is running (Ctrl-C stops everything).")
        print(f"  Launch link (demo order DEMO0001, single use): {launch.json()['url']}")
        print(f"  Launch link (worklist mode, no order):         {worklist_launch.json()['url']}")
        print(f"  API docs:        {base_url}/docs")
        print(f"  Demo PACS:       {orthanc_http}  ({env['IMPORTER_PACS_URL']})")
        print(f"  Demo worklist:   {env.get('IMPORTER_WORKLIST_URL')}")
        print(f"  RIS API key:     {ris_key}")
        print(f"  Logs:            {logs}")
        demo_media = main_demo_media([str(data_dir / "demo-media")]) == 0
        if demo_media:
            print(f"  Demo media to pick in the app: {data_dir / 'demo-media'}")
            print("    CD-ROSSI-MARIO (the order's patient), USB-ROSSI-MARIA (a different patient)")
        print("  Import the sample medium over the API, as the browser app does:")
        print("    make demo-import     (or make demo-import ARGS=/path/to/cd)")
        print("  A new launch link for another order: see docs/ris-integration.md")
        sys.stdout.flush()
        stopping = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.set())
        while not stopping.wait(0.5):
            if api.poll() is not None or worker.poll() is not None:
                # Ctrl-C reaches the children too: give our own handler a moment to see it
                if stopping.wait(1.0):
                    break
                print("a process stopped unexpectedly; see the logs", file=sys.stderr)
                return 1
        print("\nstopping…")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
