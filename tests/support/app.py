"""The whole product on real services for integration tests: uvicorn on a free loopback port,
a burst arq worker, a RIS and a browser speaking HTTP to it."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from arq.worker import Worker
from pydicom.data import get_testdata_file
from sqlalchemy import text
from starlette.types import ASGIApp

from api.main import create_app
from devstack import free_port
from importer.db import make_engine
from importer.settings import Settings
from worker.main import worker_options

RIS_KEY = "test-ris-key"
REFERENT_USER = {
    "id": "u-ref-1",
    "name": "Referent One",
    "department": "Radiology",
    "roles": ["temporary_zone", "clinician"],
}
"""An imaging referent who also imports (the temporary zone's role and the clinician's)."""
CALLBACK_SECRET = "callback-secret"  # what the integration settings sign RIS callbacks with

DEMO_PATIENT: dict[str, str] = {
    "id": "HOSP-0042",
    "issuer": "HOSPITAL",
    "name": "ROSSI^MARIO",
    "birth_date": "19740101",
    "sex": "M",
}


def sample(name: str) -> Path:
    """A DICOM file that pydicom ships (never downloaded)."""
    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(name)
    return Path(str(path))


def make_zip(files: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


@asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[str]:
    """Serve the app with uvicorn on 127.0.0.1 and a free port; yield its base URL."""
    async with serving(create_app(settings)) as url:
        yield url


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 and a free port; yield its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def run_worker(settings: Settings, *, reconcile: bool = False) -> None:
    """Run every queued job to the end (a burst worker), as the real worker would; with
    ``reconcile``, the reconciler cron runs once at start."""
    options = worker_options(settings)
    if not reconcile:
        options["cron_jobs"] = []
    options["poll_delay"] = 0.05
    worker = Worker(**options, burst=True, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()


@asynccontextmanager
async def live_worker(
    settings: Settings, *, crons: Collection[str] = (), **extra: Any
) -> AsyncIterator[None]:
    """A worker running in the background (for requests that wait on it: worklist queries),
    with only the cron jobs named in ``crons`` and ``extra`` given to arq's ``Worker``."""
    options = worker_options(settings)
    options["cron_jobs"] = [c for c in options["cron_jobs"] if c.name in crons]
    assert len(options["cron_jobs"]) == len(crons), "a cron job named that does not exist"
    options["poll_delay"] = 0.05
    worker = Worker(**options, handle_signals=False, **extra)
    task = asyncio.create_task(worker.main())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await worker.close()


@dataclass
class Launched:
    session_token: str
    context: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session_token}"}


class Journey:
    """What a RIS and a browser do, step by step, over real HTTP."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def launch(
        self,
        *,
        accession: str = "ACC0001",
        patient: dict[str, str] | None = None,
        user: dict[str, Any] | None = None,
        callback_url: str | None = None,
        worklist_mode: bool = False,
        ris_key: str = RIS_KEY,
    ) -> str:
        body: dict[str, Any] = {
            "user": user or {"id": "u-tech-1", "name": "Tech One", "department": "Radiology"},
        }
        if not worklist_mode:
            body["order"] = {
                "accession_number": accession,
                "requested_procedure_id": "RP1",
                "procedure": {"code": "IMPORT", "description": "External study import"},
                "patient": patient or DEMO_PATIENT,
            }
        if callback_url:
            body["callback_url"] = callback_url
        response = await self.client.post(
            "/api/v1/launches", json=body, headers={"Authorization": f"Bearer {ris_key}"}
        )
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    async def open_session(self, launch_token: str) -> Launched:
        response = await self.client.post("/api/v1/sessions", json={"launch_token": launch_token})
        assert response.status_code == 201, response.text
        body = response.json()
        return Launched(session_token=body["session_token"], context=body)

    async def start(self, **launch: Any) -> Launched:
        return await self.open_session(await self.launch(**launch))

    async def create_import(self, session: Launched, size: int) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/imports", json={"size": size, "filename": "cd.zip"}, headers=session.headers
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def patch(self, session: Launched, url: str, offset: int, data: bytes) -> httpx.Response:
        return await self.client.patch(
            url,
            content=data,
            headers={
                **session.headers,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )

    async def upload(self, session: Launched, url: str, data: bytes, chunk: int = 4096) -> None:
        await self.upload_from(session, url, data, 0, chunk)

    async def upload_from(
        self, session: Launched, url: str, data: bytes, offset: int, chunk: int = 4096
    ) -> None:
        while offset < len(data):
            response = await self.patch(session, url, offset, data[offset : offset + chunk])
            assert response.status_code == 204, response.text
            offset = int(response.headers["Upload-Offset"])

    async def get_import(self, session: Launched, import_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/imports/{import_id}", headers=session.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def audit_actions(self, import_id: str) -> list[str]:
        """The import's audit trail as an auditor reads it: its actions, newest first."""
        auditor = await self.start(user={"id": "aud", "name": "Auditor", "roles": ["auditor"]})
        page = await self.client.get(
            "/api/v1/audit", params={"import_id": import_id, "limit": 500}, headers=auditor.headers
        )
        assert page.status_code == 200, page.text
        return [event["action"] for event in page.json()["items"]]

    async def import_media(self, session: Launched, archive: bytes) -> dict[str, Any]:
        """Create, upload and analyse: return the import awaiting the user's decision."""
        created = await self.create_import(session, len(archive))
        await self.upload(session, created["upload_url"], archive)
        await run_worker(self.settings)
        return await self.get_import(session, created["id"])

    async def confirm(
        self, session: Launched, import_id: str, uids: list[str], *, acknowledge: bool
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/imports/{import_id}/confirm",
            json={"studies": uids, "acknowledge_identity": acknowledge},
            headers=session.headers,
        )


async def sql(settings: Settings, statement: str, **params: Any) -> None:
    """Run one statement on the app's database, as an operator (or another process) would."""
    engine = make_engine(settings.effective_database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement), params)
    finally:
        await engine.dispose()


def sse_events(raw: str) -> list[tuple[str, Any]]:
    """Parse a Server-Sent Events text into (event, data) pairs."""
    out: list[tuple[str, Any]] = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            out.append((name, json.loads("\n".join(data))))
    return out
