"""The temporary zone: imports of patients the hospital does not know yet, kept for review."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentSession, SessionDep, SettingsDep, require_role
from api.errors import responses
from importer.imports import service
from importer.imports.schemas import TemporaryList

router = APIRouter(tags=["temporary zone"])


@router.get(
    "/temporary",
    responses=responses(401, 403),
    dependencies=[require_role("temporary_zone")],
)
async def list_temporary(
    user_session: CurrentSession, db: SessionDep, settings: SettingsDep
) -> TemporaryList:
    """Every import of the session's RIS client kept in the temporary zone (patient from the
    medium, studies, size, age, who imported); the ones older than the review age are marked
    ``past_review``. Nothing is deleted without a person's action."""
    return TemporaryList(
        items=await service.list_temporary(db, user_session=user_session, settings=settings)
    )
