"""The tus 1.0.0 core protocol on an import's ``upload_url``: resumable, streamed to the spool."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from importer.imports import upload
from importer.jobs import ANALYSE, READ_AHEAD

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


@router.head("/{import_id}", status_code=200, responses=responses(401, 403, 404))
async def upload_offset(
    import_id: str, user_session: CurrentSession, db: SessionDep, settings: SettingsDep
) -> Response:
    """How many bytes the server holds (``Upload-Offset``): where to resume. Only for the session
    that created the import (``403 upload_not_owned`` for another one that may see it)."""
    imp = await upload.get_own_upload(db, import_id, user_session)
    return Response(
        status_code=200,
        headers=tus_headers(
            settings.max_upload_bytes,
            **{"Upload-Offset": str(imp.upload_received), "Upload-Length": str(imp.upload_size)},
        ),
    )


async def body_of(request: Request) -> AsyncIterator[bytes]:
    """The body as it arrives; a client that goes away keeps what arrived (it resumes from
    ``HEAD``)."""
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        return


@router.patch(
    "/{import_id}", status_code=204, responses=responses(400, 401, 403, 404, 409, 412, 413, 415)
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
    """Append the body at ``Upload-Offset``. The last byte queues the import for analysis.

    Only the session that created the import may append (``403 upload_not_owned``). ``409``:
    ``offset_mismatch`` (ask ``HEAD``), ``upload_busy`` (another transfer of it runs),
    ``upload_closed`` (complete, or cancelled or expired, also while this body streamed: then
    nothing is recorded and its files are deleted)."""
    headers = tus_headers(settings.max_upload_bytes)
    if tus_resumable != TUS_VERSION:
        return error_json(412, "tus_version", f"Only tus {TUS_VERSION} is supported.", headers)
    if content_type.split(";")[0].strip().lower() != OFFSET_TYPE:
        return error_json(
            415, "unsupported_media_type", f"Content-Type must be {OFFSET_TYPE}.", headers
        )
    received = await upload.receive(
        factory,
        spool,
        import_id=import_id,
        user_session=user_session,
        offset=upload_offset,
        chunks=body_of(request),
    )
    after = AfterCommit()  # receive committed already
    if received.completed:
        after.enqueue(ANALYSE, import_id)
        after.publish(import_id, "status", status="queued")
    elif received.offset > upload_offset:
        after.enqueue(READ_AHEAD, import_id)  # the entries arrived, read while the rest comes
    after.publish(import_id, "upload", received=received.offset, size=received.size)
    await after.run(redis, settings)
    return Response(status_code=204, headers={**headers, "Upload-Offset": str(received.offset)})
