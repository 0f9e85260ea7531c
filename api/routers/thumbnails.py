"""SPA route: the thumbnail of one series of an import (a small PNG rendered by the worker)."""

from __future__ import annotations

import asyncio
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Response

from api.deps import CurrentSession, SessionDep, SpoolDep
from api.errors import responses
from importer.errors import NotFound
from importer.imports import service
from importer.media.thumbnail import thumbnail_path

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
