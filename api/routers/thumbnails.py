"""SPA routes: the thumbnail of one series of an import (a small PNG rendered by the worker
during the analysis), and the viewer's image of one instance of a series (rendered by the
worker when first asked, then cached in the spool)."""

from __future__ import annotations

import asyncio
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import (
    CurrentSession,
    CurrentSessionShort,
    RedisDep,
    SessionDep,
    SessionMakerDep,
    SettingsDep,
    SpoolDep,
)
from api.errors import responses
from importer.db import transaction
from importer.errors import ImporterError, NotFound
from importer.imports import service
from importer.imports.states import ImportStatus
from importer.jobs import INSTANCE_IMAGE
from importer.media.thumbnail import (
    THUMBNAILS_DIR,
    RenderedView,
    image_unavailable,
    thumbnail_path,
    view_path,
)
from importer.messages import Params
from worker.rpc import call

router = APIRouter(prefix="/imports", tags=["imports"])

CACHE_CONTROL = "private, max-age=3600"

_UID_PATTERN = r"^[0-9]+(\.[0-9]+)*$"
Uid = Annotated[
    str,
    Path(
        pattern=_UID_PATTERN,
        max_length=64,
        description="A DICOM UID: digits and dots, at most 64 characters",
    ),
]


def _unavailable() -> NotFound:
    return NotFound("No thumbnail is available for this series.", code="thumbnail_unavailable")


def _read(path: FilePath) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@router.get(
    "/{import_id}/studies/{study_uid}/series/{series_uid}/thumbnail",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The series thumbnail (PNG)"},
        **responses(401, 404, 422),
    },
)
async def get_series_thumbnail(
    import_id: str,
    study_uid: Uid,
    series_uid: Uid,
    user_session: CurrentSession,
    db: SessionDep,
    spool: SpoolDep,
) -> Response:
    """A small PNG of the series' middle image; ``404 thumbnail_unavailable`` when the series
    has none (no pixels, such as a report; a codec that cannot be decoded; not rendered yet)."""
    imp = await service.get_for_session(db, import_id, user_session)
    study = next((s for s in imp.studies if s.study_instance_uid == study_uid), None)
    if study is None or not any(se.series_instance_uid == series_uid for se in study.series):
        raise _unavailable()
    path = thumbnail_path(spool.import_dir(imp.id), series_uid)
    data = await asyncio.to_thread(_read, path)
    if data is None:
        raise _unavailable()
    return Response(content=data, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})


DocumentId = Annotated[
    str,
    Path(
        pattern=r"^[0-9a-f-]+$", max_length=36, description="A document's id (ImportOut.documents)"
    ),
]


@router.get(
    "/{import_id}/documents/{document_id}/preview",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The document's preview (PNG)"},
        **responses(401, 404, 422),
    },
)
async def get_document_preview(
    import_id: str,
    document_id: DocumentId,
    user_session: CurrentSession,
    db: SessionDep,
    spool: SpoolDep,
) -> Response:
    """A PNG of the document's first page (at most 1024 pixels a side), rendered by the
    analysis; ``404 thumbnail_unavailable`` when it has none or the import's files are gone."""
    imp = await service.get_for_session(db, import_id, user_session)
    doc = next((d for d in imp.documents if d.id == document_id), None)
    if doc is None or doc.preview is None:
        raise NotFound("No preview is available for this document.", code="thumbnail_unavailable")
    data = await asyncio.to_thread(_read, spool.import_dir(imp.id) / THUMBNAILS_DIR / doc.preview)
    if data is None:
        raise NotFound("No preview is available for this document.", code="thumbnail_unavailable")
    return Response(content=data, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})


MAX_POSITION = 100_000
Position = Annotated[
    int,
    Path(
        ge=1,
        le=MAX_POSITION,
        description="The instance's place in the series, 1-based, in Instance Number order",
    ),
]


def _refused(_code: str, _message: str, _params: Params) -> ImporterError:
    # the worker's one refusal is image_unavailable
    return image_unavailable()


@router.get(
    "/{import_id}/studies/{study_uid}/series/{series_uid}/instances/{position}/image",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The instance's image (PNG)"},
        **responses(401, 404, 422, 503),
    },
)
async def get_instance_image(
    import_id: str,
    study_uid: Uid,
    series_uid: Uid,
    position: Position,
    user_session: CurrentSessionShort,
    factory: SessionMakerDep,
    spool: SpoolDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> Response:
    """A PNG of one instance of a series (at most 1024 pixels a side; the middle frame of a
    multi-frame object), for the viewer: ``position`` counts from 1 in Instance Number order, up
    to the series' ``instance_count``. Whoever may see the import's thumbnails may see its
    images. ``404 image_unavailable`` when there is no such instance, it has no pixels or they
    cannot be decoded, or the import's files are gone (purged); ``503 worker_unavailable`` when
    no worker renders it in time."""
    # no transaction is held while the worker renders
    async with transaction(factory) as db:
        imp = await service.get_for_session(db, import_id, user_session)
        study = next((s for s in imp.studies if s.study_instance_uid == study_uid), None)
        series = next(
            (se for se in (study.series if study else []) if se.series_instance_uid == series_uid),
            None,
        )
        gone = imp.purged_at is not None or imp.status == ImportStatus.purged
        if study is None or series is None or gone or position > series.instance_count:
            raise image_unavailable()
        # read before the transaction ends (its objects expire then)
        imp_id, study_id, series_id = imp.id, study.id, series.id
    path = view_path(spool.import_dir(imp_id), series_uid, position)
    data = await asyncio.to_thread(_read, path)
    if data is None:
        await call(
            redis,
            INSTANCE_IMAGE,
            imp_id,
            study_id,
            series_id,
            series_uid,
            position,
            reply=RenderedView,
            error=_refused,
            queue_name=settings.queue_name,
            wait_s=settings.worklist_wait_s,
        )
        data = await asyncio.to_thread(_read, path)
    if data is None:
        raise image_unavailable()
    return Response(content=data, media_type="image/png", headers={"Cache-Control": CACHE_CONTROL})
