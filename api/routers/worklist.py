"""Worklist mode: search the RIS worklist by the identity on the medium (or as typed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentSession, RedisDep, SettingsDep, require_role
from api.errors import responses
from importer.errors import ImporterError, InvalidInput, ServiceUnavailable
from importer.imports.schemas import (
    IdentityOut,
    WorklistCandidate,
    WorklistPatient,
    WorklistProcedure,
    WorklistResult,
)
from worker.rpc import WORKLIST_SEARCH, call

router = APIRouter(tags=["worklist"])


class WorklistFailed(ImporterError):
    status_code = 502
    code = "worklist_failed"


def raise_for(answer: dict[str, Any]) -> None:
    """Turn a worker's refusal into the matching API error."""
    if answer.get("ok"):
        return
    code, message = str(answer.get("code")), str(answer.get("message"))
    if code == "invalid_input":
        raise InvalidInput(message)
    if code == "worklist_not_configured":
        raise ServiceUnavailable("No worklist is configured on this server.", code=code)
    raise WorklistFailed(f"The worklist could not be searched: {message}", code=code)


def candidate(data: dict[str, Any]) -> WorklistCandidate:
    item = data["item"]
    return WorklistCandidate(
        accession_number=item["accession_number"],
        requested_procedure_id=item["requested_procedure_id"],
        procedure=WorklistProcedure(
            code=item["procedure_code"], description=item["requested_procedure_description"]
        ),
        modality=item["modality"],
        scheduled_date=item["scheduled_date"],
        scheduled_time=item["scheduled_time"],
        patient=WorklistPatient(
            name=item["patient_name"],
            id=item["patient_id"],
            issuer=item["issuer_of_patient_id"],
            birth_date=item["patient_birth_date"],
            sex=item["patient_sex"],
        ),
        identity=IdentityOut.model_validate(data["identity"]),
        score=data["score"],
        step=data["step"],
    )


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
    answer = await call(
        redis,
        WORKLIST_SEARCH,
        query,
        queue_name=settings.queue_name,
        wait_s=settings.worklist_wait_s,
    )
    raise_for(answer)
    return WorklistResult(items=[candidate(c) for c in answer["candidates"]])
