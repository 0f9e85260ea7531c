"""Worklist mode: search the RIS worklist by the identity on the medium (or as typed); the
worklist's orders for a confirmation or a promotion (:func:`ask_worklist`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import CurrentSession, RedisDep, SettingsDep, require_role
from api.errors import responses
from importer.errors import InvalidInput
from importer.imports.reconcile import AskWorklist
from importer.jobs import WORKLIST_ORDERS, WORKLIST_SEARCH
from importer.worklist.errors import error_from_reply
from importer.worklist.query import WorklistItem
from importer.worklist.schemas import WorklistOrders, WorklistResult
from worker.rpc import call

router = APIRouter(tags=["worklist"])


def ask_worklist(redis: RedisDep, settings: SettingsDep) -> AskWorklist:
    """The worklist's orders, asked of the worker (which alone speaks DICOM); its refusals
    come back as the same domain errors (:func:`error_from_reply`)."""

    async def ask(accessions: list[str]) -> Mapping[str, WorklistItem | None]:
        answer = await call(
            redis,
            WORKLIST_ORDERS,
            accessions,
            reply=WorklistOrders,
            error=error_from_reply,
            queue_name=settings.queue_name,
            wait_s=settings.worklist_wait_s,
        )
        return answer.items

    return ask


WorklistDep = Annotated[AskWorklist, Depends(ask_worklist)]


Text = Annotated[str, Query(max_length=200)]


@router.get(
    "/worklist",
    responses=responses(401, 403, 422, 502, 503),
    dependencies=[require_role("clinician", "temporary_zone")],
)
async def search_worklist(
    _: CurrentSession,
    redis: RedisDep,
    settings: SettingsDep,
    name: Text = "",
    given: Annotated[str, Query(max_length=64)] = "",
    birth_date: Annotated[str, Query(max_length=10)] = "",
    sex: Annotated[str, Query(pattern=r"^[MFOmfo]?$")] = "",
    date: Annotated[str, Query(max_length=21, description="YYYYMMDD or a range")] = "",
    accession: Annotated[str, Query(max_length=16)] = "",
    patient_id: Annotated[str, Query(max_length=64)] = "",
) -> WorklistResult:
    """Orders of the worklist for an identity, ranked by similarity. The search relaxes step by
    step when nothing matches (name as given; first letters of each name with the birth date;
    the birth date alone; the day's orders)."""
    query = {
        "name": name,
        "given": given,
        "birth_date": birth_date,
        "sex": sex.upper(),
        "scheduled_date": date,
        "accession_number": accession,
        "patient_id": patient_id,
    }
    if not any(query.values()):
        raise InvalidInput(
            "Give at least a name, a birth date, a date or an id.", code="empty_query"
        )
    return await call(
        redis,
        WORKLIST_SEARCH,
        query,
        reply=WorklistResult,
        error=error_from_reply,
        queue_name=settings.queue_name,
        wait_s=settings.worklist_wait_s,
    )
