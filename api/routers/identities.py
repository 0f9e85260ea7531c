"""Remembered identities: which local patient each medium's patient was filed under (issue 16,
point 1), listed, searched and removed by the referents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CurrentSession, SessionDep, require_role
from api.errors import responses
from importer.imports import service
from importer.imports.schemas import RememberedList

router = APIRouter(tags=["remembered identities"])


@router.get(
    "/identities",
    responses=responses(401, 403, 422),
    dependencies=[require_role("temporary_zone")],
)
async def list_identities(
    user_session: CurrentSession,
    db: SessionDep,
    q: Annotated[
        str, Query(max_length=64, description="A Patient ID or a name, either side's")
    ] = "",
) -> RememberedList:
    """The identities remembered for the session's RIS client, the last filed first (at most
    200): each medium's patient (its Patient ID with the issuer or institution, name and birth
    date) with the local patient it was filed under, when and by whom. The next medium of that
    outside patient is compared with it: when its order's patient is another, the comparison is
    a mismatch that needs the acknowledgement."""
    return RememberedList(
        items=await service.list_remembered(db, user_session=user_session, query=q)
    )


@router.delete(
    "/identities/{mapping_id}",
    status_code=204,
    responses=responses(401, 403, 404),
    dependencies=[require_role("temporary_zone")],
)
async def forget_identity(
    mapping_id: str, user_session: CurrentSession, db: SessionDep
) -> Response:
    """Remove a remembered identity (a wrong filing, since undone or corrected): the next medium
    of that outside patient is no longer compared with it. Audited (``identity.forgotten``)."""
    await service.forget_remembered(db, mapping_id, user_session=user_session)
    return Response(status_code=204)
