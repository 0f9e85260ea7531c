"""The FastAPI application: ``uvicorn api.main:app`` (or ``create_app(settings)`` in tests)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq.connections import RedisSettings, create_pool
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import docs, errors
from api.routers import (
    audit,
    health,
    identities,
    imports,
    launches,
    sessions,
    temporary,
    thumbnails,
    uploads,
    worklist,
)
from api.security import SecurityHeaders
from importer import jobs
from importer.db import make_engine, make_sessionmaker
from importer.logs import configure_logging
from importer.settings import Settings, get_settings
from importer.spool import Spool

log = logging.getLogger("api")

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.redis = await create_pool(
            RedisSettings.from_dsn(settings.redis_url),
            default_queue_name=settings.queue_name,
            job_serializer=jobs.serialize,
            job_deserializer=jobs.deserialize,
        )
        app.state.spool = Spool(settings.effective_spool_dir)
        app.state.spool.ensure()
        log.info("api started", extra={"pacs": settings.pacs_url})
        try:
            yield
        finally:
            await app.state.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="PACS Media Import",
        version="0.1.0",
        summary="Files the DICOM studies patients bring on CDs, DVDs, USB sticks and ZIPs into "
        "the hospital PACS, under the right patient and RIS order.",
        lifespan=lifespan,
        # the contract is public in the repository (openapi/openapi.json); served only on demand
        openapi_url="/openapi.json" if settings.public_docs else None,
        docs_url=None,  # api.docs serves it without a CDN or an inline script
        redoc_url=None,
    )
    errors.install(app)
    if settings.public_docs:
        docs.install(app)
    app.add_middleware(
        SecurityHeaders,
        frame_ancestors=settings.frame_ancestors,
        https=settings.public_url.startswith("https://"),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "HEAD", "OPTIONS", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Tus-Resumable", "Upload-Offset"],
            expose_headers=["Upload-Offset", "Upload-Length", "Tus-Resumable", "Tus-Version"],
        )
    api = APIRouter(prefix=API_PREFIX)
    for router in (
        launches.router,
        sessions.router,
        imports.router,
        thumbnails.router,
        uploads.router,
        worklist.router,
        temporary.router,
        identities.router,
        audit.router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(health.router)
    if settings.frontend_dir and settings.frontend_dir.is_dir():
        app.mount("/", StaticFiles(directory=settings.frontend_dir, html=True), name="spa")
    else:

        @app.get("/", include_in_schema=False)
        async def placeholder() -> HTMLResponse:
            return HTMLResponse(_PLACEHOLDER)

    return app


_PLACEHOLDER = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>PACS Media Import</title>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto">
<h1>PACS Media Import</h1>
<p>The API is running. The web app is not built on this server
(set <code>IMPORTER_FRONTEND_DIR</code> to its build folder).</p>
<p>API documentation: <a href="/docs">/docs</a>.</p></body></html>"""


def __getattr__(name: str) -> FastAPI:
    """``uvicorn api.main:app`` builds the app on first access, not at import time."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
