"""The OpenAPI fuzz run: the real app served by uvicorn (in a thread with its own event loop),
a live worker (worklist questions go through it), a real worklist SCP, the integration
harness's database and Redis."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from devstack import WorklistProcess, free_port
from importer.settings import Settings
from tests.faults.support import start_worker, stop_process
from tests.integration.conftest import database_url, redis_url, worklist_scp
from tests.support.app import DEMO_PATIENT, RIS_KEY, running_api

__all__ = ["database_url", "redis_url", "worklist_scp"]


KNOWN_FAILURES: dict[str, str] = {}
"""Operations on which the fuzzer finds a product bug today (deterministic: derandomized)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/fuzz" in str(item.path):
            item.add_marker(pytest.mark.integration)
            reason = KNOWN_FAILURES.get(item.name)
            if reason is not None:
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


@dataclass(frozen=True)
class FuzzTarget:
    base_url: str
    ris_key: str
    session_token: str
    import_id: str
    spare_session_token: str
    """A session of its own for ``DELETE /session``, which ends the session it is given: the
    other operations keep a live one."""


def _serve(
    settings: Settings,
    started: list[str],
    ready: threading.Event,
    done: threading.Event,
    failed: list[BaseException],
) -> None:
    async def main() -> None:
        async with running_api(settings) as base_url:
            started.append(base_url)
            ready.set()
            await asyncio.to_thread(done.wait)

    try:
        asyncio.run(main())
    except BaseException as exc:  # reported to the test thread
        failed.append(exc)
        ready.set()


@pytest.fixture(scope="module")
def fuzz_target(
    database_url: str,
    redis_url: str,
    worklist_scp: WorklistProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FuzzTarget]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        queue_name=f"importer:fuzz:{uuid.uuid4().hex}",
        spool_dir=tmp / "spool",
        data_dir=tmp,
        pacs_url=f"dimse://NOPACS@127.0.0.1:{free_port()}",  # the API never speaks DICOM
        worklist_url=worklist_scp.dimse_url,
        calling_ae="IMPORTTEST",
        ris_api_keys=SecretStr(RIS_KEY),
        public_url="http://importer.test",
        # the fuzzer creates many launches and sessions from one address
        rate_launches_per_min=1_000_000,
        rate_sessions_per_min=1_000_000,
        max_open_uploads_per_session=1_000_000,
        worklist_wait_s=10,
    )
    # a real worker process (worklist questions go through it), as deployed
    worker = start_worker(
        settings, tmp / "worker.log", IMPORTER_WORKLIST_URL=settings.worklist_url or ""
    )
    started: list[str] = []
    failed: list[BaseException] = []
    ready, done = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_serve, args=(settings, started, ready, done, failed), name="fuzz-api", daemon=True
    )
    thread.start()
    ready.wait(60)
    if failed or not started:
        done.set()
        stop_process(worker)
        raise RuntimeError(f"the API did not start: {failed!r}")
    base_url = started[0]
    try:
        with httpx.Client(base_url=base_url, timeout=30) as http:
            token, spare = _open_session(http), _open_session(http)
            created = http.post(
                "/api/v1/imports",
                headers={"Authorization": f"Bearer {token}"},
                json={"size": 1024, "filename": "cd.zip"},
            )
            created.raise_for_status()
        yield FuzzTarget(base_url, RIS_KEY, token, created.json()["id"], spare)
    finally:
        done.set()
        thread.join(60)
        stop_process(worker)


def _open_session(http: httpx.Client) -> str:
    """A session of the fuzz user (all roles) on the fuzz order."""
    launch = http.post(
        "/api/v1/launches",
        headers={"Authorization": f"Bearer {RIS_KEY}"},
        json={
            "user": {
                "id": "u-fuzz",
                "name": "Fuzz",
                "roles": ["clinician", "temporary_zone", "auditor"],
            },
            "order": {
                "accession_number": "FUZZ0001",
                "requested_procedure_id": "RP1",
                "procedure": {"code": "IMPORT", "description": "External study import"},
                "patient": DEMO_PATIENT,
            },
        },
    )
    launch.raise_for_status()
    session = http.post("/api/v1/sessions", json={"launch_token": launch.json()["token"]})
    session.raise_for_status()
    return str(session.json()["session_token"])
