"""Ops probes: liveness and readiness."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable
from enum import StrEnum

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from sqlalchemy import text

from api.deps import RedisDep, SessionMakerDep, SettingsDep, SpoolDep
from importer import metrics
from importer.dimse import AssociationFailed, echo
from importer.imports import repository as imports_repository
from importer.pacs import PacsError, make_pacs_client
from importer.settings import Settings, parse_dimse_url

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


class PeerState(StrEnum):
    ok = "ok"
    unreachable = "unreachable"
    error = "error"
    not_configured = "not_configured"


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    peers: dict[str, PeerState] | None = Field(
        None,
        description="With ?peers=true: whether the PACS and the worklist answer (C-ECHO, or a "
        "QIDO-RS for a DICOMweb PACS). Not part of readiness: the api takes uploads while the "
        "PACS is down, and the worker retries.",
    )


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Readiness}})
async def readyz(
    factory: SessionMakerDep,
    redis: RedisDep,
    spool: SpoolDep,
    settings: SettingsDep,
    peers: bool = Query(False, description="Also ask the PACS and the worklist (a few seconds)"),
) -> Readiness:
    """Database, Redis and the spool volume are usable; 503 otherwise. With ``peers=true``,
    also whether the PACS and the worklist answer (reported, not part of readiness)."""
    checks: dict[str, str] = {}
    try:
        async with factory() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.wait_for(redis.ping(), timeout=2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.to_thread(_probe_spool, spool.root)
        checks["spool"] = "ok"
    except OSError as exc:
        checks["spool"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(
        status="ok" if ready else "unavailable",
        checks=checks,
        peers=await _peers(settings) if peers else None,
    )
    if not ready:
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body


PEER_TIMEOUT_S = 5.0


async def _peers(settings: Settings) -> dict[str, PeerState]:
    """The PACS and the worklist, asked at once, each within :data:`PEER_TIMEOUT_S`."""
    timeout = min(settings.dimse_timeout_s, PEER_TIMEOUT_S)

    def pacs() -> None:
        make_pacs_client(settings.pacs_url, calling_ae=settings.calling_ae, timeout=timeout).echo()

    def worklist() -> None:
        assert settings.worklist_url is not None
        node = parse_dimse_url(settings.worklist_url)
        answer = echo(
            node, calling_ae=settings.calling_ae, timeout=timeout, peer_name="the worklist"
        )
        if answer != 0:
            raise RuntimeError("the worklist did not answer C-ECHO with success")

    async def ask(call: Callable[[], None] | None) -> PeerState:
        if call is None:
            return PeerState.not_configured
        try:
            await asyncio.wait_for(asyncio.to_thread(call), timeout=timeout + 1)
        except (AssociationFailed, PacsError, OSError, TimeoutError):
            return PeerState.unreachable
        except Exception:  # an answer that is no success, a malformed URL: not usable
            return PeerState.error
        return PeerState.ok

    pacs_state, worklist_state = await asyncio.gather(
        ask(pacs), ask(worklist if settings.worklist_url else None)
    )
    return {"pacs": pacs_state, "worklist": worklist_state}


def _probe_spool(root: object) -> None:
    with tempfile.NamedTemporaryFile(dir=str(root), prefix=".probe-"):
        pass


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus exposition"}},
)
async def metrics_endpoint(
    factory: SessionMakerDep, redis: RedisDep, settings: SettingsDep
) -> PlainTextResponse:
    """Prometheus metrics: imports by status and zone and the queue depth (read now from the
    database and Redis), and this process's upload counters."""
    async with factory() as session:
        counts = await imports_repository.count_by_status(session)
    metrics.IMPORTS.clear()
    for (status, zone), count in counts.items():
        metrics.IMPORTS.labels(status, zone).set(count)
    # when Redis is down the gauge keeps its last value; /readyz says so
    with contextlib.suppress(RedisError, OSError):
        metrics.QUEUE_DEPTH.set(await redis.zcard(settings.queue_name))
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)
