"""RIS-facing routes: create a launch for a user and an order; read an order's imports."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.deps import RisDep, SessionDep, SettingsDep
from api.errors import responses
from api.security import rate_limit
from importer.access import service
from importer.access.schemas import LaunchCreate, LaunchOut
from importer.imports import service as imports
from importer.imports.schemas import ImportList

router = APIRouter(tags=["ris"])


@router.post(
    "/launches",
    status_code=201,
    responses=responses(401, 422, 429),
    dependencies=[rate_limit("launches", "rate_launches_per_min")],
)
async def create_launch(
    body: LaunchCreate, ris: RisDep, db: SessionDep, settings: SettingsDep
) -> LaunchOut:
    """Create a short-lived, single-use launch token (and link) for one user and order."""
    return await service.create_launch(db, data=body, ris=ris, settings=settings)


@router.get("/orders/{accession_number}/imports", responses=responses(401))
async def order_imports(
    _: RisDep, db: SessionDep, accession_number: str = Path(max_length=16)
) -> ImportList:
    """Every import of an order with its status (for the RIS)."""
    return ImportList(items=await imports.list_for_accession(db, accession_number))
