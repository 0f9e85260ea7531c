"""RIS-facing routes: create a launch for a user and an order; read an order's imports."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.deps import RisDep, SessionDep, SettingsDep
from api.errors import responses
from api.security import rate_limit
from importer.access import service
from importer.access.schemas import LaunchCreate, LaunchOut, OrderIn, OrderOut
from importer.errors import InvalidInput
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
    """Create a short-lived, single-use launch token (and link) for one user and order. A
    ``callback_url`` is refused (422) unless callbacks are signed, its host is allowed and it
    is https: ``callback_unsigned``, ``callback_host_not_allowed``, ``callback_insecure``,
    ``callback_userinfo``, ``callback_invalid``."""
    return await service.create_launch(db, data=body, ris=ris, settings=settings)


@router.put("/orders/{accession_number}", responses=responses(401, 422))
async def put_order(
    body: OrderIn, ris: RisDep, db: SessionDep, accession_number: str = Path(max_length=16)
) -> OrderOut:
    """Create or correct an order of the calling RIS client (the RIS is the master; audited
    with before and after; another RIS client's order of the same number is left alone).
    Imports compared with the order's former patient are not filed until the user has seen the
    new comparison (409 ``order_changed`` on confirm, promote and retry)."""
    if body.accession_number != accession_number:
        raise InvalidInput(
            "The accession number of the body is not the one of the address.",
            code="invalid_input",
            params={"fields": "accession_number"},
        )
    order = await service.upsert_order(db, body, ris_client=ris.name, actor=service.ris_actor(ris))
    return service.order_out(order)


@router.get("/orders/{accession_number}/imports", responses=responses(401))
async def order_imports(
    ris: RisDep, db: SessionDep, accession_number: str = Path(max_length=16)
) -> ImportList:
    """Every import of an order of the calling RIS client, with its status."""
    return ImportList(
        items=await imports.list_for_accession(db, accession_number, ris_client=ris.name)
    )
