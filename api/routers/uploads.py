"""The tus 1.0.0 core protocol on an import's ``upload_url``: resumable, streamed to the spool."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request, Response
from starlette.requests import ClientDisconnect

from api.deps import (
    AfterCommit,
    CurrentSession,
    CurrentSessionShort,
    RedisDep,
    SessionDep,
    SessionMakerDep,
    SettingsDep,
    SpoolDep,
)
from api.errors import error_json, responses
from importer import metrics
from importer.db import transaction
from importer.imports import service
from importer.imports.upload import Progress, append_chunks
from worker.enqueue import ANALYSE

router = APIRouter(prefix="/uploads", tags=["uploads"])

TUS_VERSION = "1.0.0"
OFFSET_TYPE = "application/offset+octet-stream"


def tus_headers(settings_max: int, **extra: str) -> dict[str, str]:
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Max-Size": str(settings_max),
        "Cache-Control": "no-store",
        **extra,
    }


@router.options("/{import_id}", status_code=204)
async def upload_options(import_id: str, settings: SettingsDep) -> Response:
    """tus discovery: the protocol version and the largest upload accepted."""
    return Response(status_code=204, headers=tus_headers(settings.max_upload_bytes))


@router.head("/{import_id}", status_code=200, responses=responses(401, 404))
async def upload_offset(
    import_id: str, user_session: CurrentSession, db: SessionDep, settings: SettingsDep
) -> Response:
    """How many bytes the server holds (``Upload-Offset``): where to resume."""
    imp = await service.get_for_session(db, import_id, user_session)
    return Response(
        status_code=200,
        headers=tus_headers(
            settings.max_upload_bytes,
            **{"Upload-Offset": str(imp.upload_received), "Upload-Length": str(imp.upload_size)},
        ),
    )


@router.patch(
    "/{import_id}", status_code=204, responses=responses(400, 401, 404, 409, 412, 413, 415)
)
async def upload_patch(
    import_id: str,
    request: Request,
    user_session: CurrentSessionShort,
    factory: SessionMakerDep,
    spool: SpoolDep,
    settings: SettingsDep,
    redis: RedisDep,
    upload_offset: int = Header(alias="Upload-Offset", ge=0),
    tus_resumable: str = Header(alias="Tus-Resumable"),
    content_type: str = Header(alias="Content-Type"),
) -> Response:
    """Append the body at ``Upload-Offset``. The last byte queues the import for analysis."""
    headers = tus_headers(settings.max_upload_bytes)
    if tus_resumable != TUS_VERSION:
        return error_json(412, "tus_version", f"Only tus {TUS_VERSION} is supported.", headers)
    if content_type.split(";")[0].strip().lower() != OFFSET_TYPE:
        return error_json(
            415, "unsupported_media_type", f"Content-Type must be {OFFSET_TYPE}.", headers
        )
    # Short transactions around the transfer: no database session is held while bytes flow.
    async with transaction(factory) as db:
        imp = await service.get_for_session(db, import_id, user_session)
        service.check_upload_offset(imp, upload_offset)
        size = imp.upload_size
    progress = Progress()
    try:
        await append_chunks(
            spool.upload_path(import_id),
            offset=upload_offset,
            limit=size,
            chunks=request.stream(),
            progress=progress,
        )
    except ClientDisconnect:
        pass  # keep what arrived; the client resumes from HEAD
    finally:
        new_offset = upload_offset + progress.written
        metrics.UPLOAD_BYTES.inc(progress.written)
        async with transaction(factory) as db:
            imp = await service.get_for_session(db, import_id, user_session, lock=True)
            if imp.upload_received == upload_offset:
                completed = await service.record_upload(db, imp, received=new_offset)
            else:
                completed = False
    after = AfterCommit()  # the transactions above are committed already
    if completed:
        after.enqueue(ANALYSE, import_id)
        after.publish(import_id, "status", status="queued")
    after.publish(import_id, "upload", received=new_offset, size=size)
    await after.run(redis, settings)
    return Response(status_code=204, headers={**headers, "Upload-Offset": str(new_offset)})
