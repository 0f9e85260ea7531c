"""Ops probes: liveness and readiness."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import text

from api.deps import RedisDep, SessionMakerDep, SettingsDep, SpoolDep
from importer import metrics
from importer.imports import repository as imports_repository

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Readiness}})
async def readyz(factory: SessionMakerDep, redis: RedisDep, spool: SpoolDep) -> Readiness:
    """Database, Redis and the spool volume are usable; 503 otherwise."""
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
    body = Readiness(status="ok" if ready else "unavailable", checks=checks)
    if not ready:
        return JSONResponse(body.model_dump(), status_code=503)  # type: ignore[return-value]
    return body


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
