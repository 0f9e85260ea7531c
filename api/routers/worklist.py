"""Worklist mode: search the RIS worklist by the identity on the medium (or as typed); the
worklist's orders for a confirmation or a promotion (:func:`ask_worklist`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import CurrentSessionShort, RedisDep, SessionMakerDep, SettingsDep
from api.errors import responses
from importer.access.models import UserSession
from importer.access.policy import check_roles
from importer.access.service import actor_of
from importer.db import transaction
from importer.errors import InvalidInput, NotFound
from importer.identity.memory import FiledBefore, apply
from importer.identity.schemas import IdentityOut
from importer.imports import memory, repository
from importer.imports.reconcile import AskWorklist, medium_patients
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
ImportId = Annotated[
    str | None, Query(max_length=36, description="With ``study``: compare with its patient")
]
StudyUid = Annotated[
    str | None,
    Query(
        max_length=64,
        pattern=r"^[0-9.]+$",
        description="A study of ``import_id``: every order found is compared with the patient "
        "this study names on the medium (not with the fields typed)",
    ),
]


async def medium_patient(
    factory: async_sessionmaker[AsyncSession],
    user_session: UserSession,
    import_id: str | None,
    study: str | None,
) -> tuple[dict[str, str | None] | None, list[FiledBefore]]:
    """The patient a study of the medium names, as the confirmation compares it, for the orders
    found to be compared with, and the local patients it was filed under before (remembered:
    each order is then compared with them too, as the gate will). None without a study, or when
    the study names several patients (one badge cannot say how an order compares with each: the
    orders are then compared with what was typed, and the confirmation compares every patient).
    Read in a transaction that ends at once: none is held while the worker answers."""
    if (import_id is None) != (study is None):
        raise InvalidInput(
            "import_id and study go together.", code="invalid_input", params={"fields": "study"}
        )
    if import_id is None or study is None:
        return None, []
    async with transaction(factory) as db:
        imp = await repository.get_for_session(db, import_id, user_session)
        found = next((s for s in imp.studies if s.study_instance_uid == study), None)
        if found is None:
            raise NotFound("The import has no such study.", code="unknown_study")
        patients = medium_patients(found)
        if len(patients) != 1:
            return None, []
        key = memory.key_of(patients[0], found.institution)
        remembered = await memory.recall(db, user_session.ris_client, [key] if key else [])
        filed = remembered.get(key, []) if key else []
        await memory.audit_recall(
            db,
            filed,
            actor=actor_of(user_session),
            import_id=imp.id,
            study_uid=found.study_instance_uid,
            worklist=True,
        )
        return patients[0].comparable(), filed


def with_filed_before(result: WorklistResult, filed: list[FiledBefore]) -> WorklistResult:
    """Each order found compared with what the medium's patient was filed under before: one
    whose patient is not one of them is a mismatch (:func:`importer.identity.memory.apply`)."""
    if not filed:
        return result
    for candidate in result.items:
        report = apply(candidate.identity.model_dump(), filed, *candidate.patient_key())
        candidate.identity = IdentityOut.model_validate(report)
    return result


@router.get(
    "/worklist",
    responses=responses(401, 403, 404, 422, 502, 503),
)
async def search_worklist(
    user_session: CurrentSessionShort,
    factory: SessionMakerDep,
    redis: RedisDep,
    settings: SettingsDep,
    name: Text = "",
    given: Annotated[str, Query(max_length=64)] = "",
    birth_date: Annotated[str, Query(max_length=10)] = "",
    sex: Annotated[str, Query(pattern=r"^[MFOmfo]?$")] = "",
    date: Annotated[str, Query(max_length=21, description="YYYYMMDD or a range")] = "",
    accession: Annotated[str, Query(max_length=16)] = "",
    patient_id: Annotated[str, Query(max_length=64)] = "",
    import_id: ImportId = None,
    study: StudyUid = None,
) -> WorklistResult:
    """Orders of the worklist for an identity, ranked by similarity. The search relaxes step by
    step when nothing matches (name as given; first letters of each name with the birth date;
    the birth date alone; the day's orders). With ``import_id`` and ``study``, each order's
    identity badge compares it with that study's patient on the medium (``404`` when the
    session cannot see the import or it has no such study)."""
    # no database transaction is held while the worker searches (on SQLite it would be the
    # write lock every other request waits for)
    check_roles(user_session, ("clinician", "temporary_zone"))
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
    expected, filed = await medium_patient(factory, user_session, import_id, study)
    result = await call(
        redis,
        WORKLIST_SEARCH,
        query,
        expected,
        reply=WorklistResult,
        error=error_from_reply,
        queue_name=settings.queue_name,
        wait_s=settings.worklist_wait_s,
    )
    return with_filed_before(result, filed)
