"""Launches (RIS → token), sessions (token → browser session) and their rules."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from importer.access import repository
from importer.access.models import LaunchToken, Order, UserSession
from importer.access.policy import RisClient, check_callback_url
from importer.access.schemas import (
    PATIENT_KEY_PREFIX,
    LaunchCreate,
    LaunchOut,
    OrderIn,
    OrderOut,
    PatientIn,
    ProcedureIn,
    SessionContext,
    SessionOut,
    UserOut,
)
from importer.audit.actions import AuditAction
from importer.audit.service import Actor, about, record
from importer.db import utcnow
from importer.errors import Conflict, OrderChanged, Unauthorized
from importer.security import hash_token, new_token
from importer.settings import Settings
from importer.worklist.query import WorklistItem


class TokenError(Unauthorized):
    """A launch or session token that cannot be used; ``code`` says why."""


_ORDER_PATIENT = (
    "patient_id",
    "patient_issuer",
    "patient_name",
    "patient_birth_date",
    "patient_sex",
)
_ORDER_FIELDS = (
    "requested_procedure_id",
    "order_id",
    "procedure_code",
    "procedure_code_scheme",
    "procedure_description",
    "scheduled_procedure_step_id",
    "modality",
    *_ORDER_PATIENT,
)


async def _apply_order(
    db: AsyncSession,
    accession: str,
    values: Mapping[str, Any],
    *,
    ris_client: str,
    actor: Actor,
    source: str,
    asked_at: datetime | None = None,
) -> Order:
    """Create the order or bring it to what the RIS (directly or through its worklist) says
    now: the RIS is the master. Only the RIS's own routes and the worklist reach this; a browser
    session never supplies an order. An order belongs to one RIS client (``ris_client``):
    another client's order of the same accession number is never read nor changed. Every
    change is audited with before and after."""
    order, created = await repository.create_or_lock_order(db, ris_client, accession, values)
    if order.kind != values.get("kind", "order"):
        # a patient's key and an order's accession number never name one another's row
        raise Conflict(
            f"{accession} names a patient launched for without an order, not an order.",
            code="order_invalid",
            params={"reason": "invalid_input"},
        )
    before = {k: getattr(order, k) for k in _ORDER_FIELDS} if not created else None
    if (
        before is not None
        and asked_at is not None
        and order.updated_at > asked_at
        and any(before[k] != values[k] for k in _ORDER_PATIENT)
    ):
        # the RIS corrected the order after its worklist was asked: the answer is stale
        raise OrderChanged(
            f"The RIS changed the order {accession} while its worklist was being asked: "
            "search the worklist again.",
        )
    if not created:
        for key, value in values.items():
            setattr(order, key, value)
        await db.flush()
    after = {k: getattr(order, k) for k in _ORDER_FIELDS}
    changed = created or any(before and before[k] != after[k] for k in _ORDER_FIELDS)
    if changed:
        await record(
            db,
            action=AuditAction.order_created if created else AuditAction.order_updated,
            actor=actor,
            **about(order),
            details={
                "source": source,
                "ris_client": ris_client,
                "before": before,
                "after": after,
                "patient_changed": bool(
                    before and any(before[k] != after[k] for k in _ORDER_PATIENT)
                ),
            },
        )
    return order


async def upsert_order(db: AsyncSession, data: OrderIn, *, ris_client: str, actor: Actor) -> Order:
    """The order as the RIS client ``ris_client`` sends it (launch or order route)."""
    procedure = data.procedure or ProcedureIn()
    values = {
        "requested_procedure_id": data.requested_procedure_id,
        "order_id": data.order_id,
        "procedure_code": procedure.code,
        "procedure_code_scheme": procedure.scheme,
        "procedure_description": procedure.description,
        "scheduled_procedure_step_id": data.scheduled_procedure_step_id,
        "scheduled_at": data.scheduled_at,
        "modality": data.modality,
        "patient_id": data.patient.id,
        "patient_issuer": data.patient.issuer,
        "patient_name": data.patient.name,
        "patient_birth_date": data.patient.birth_date,
        "patient_sex": data.patient.sex,
    }
    return await _apply_order(
        db, data.accession_number, values, ris_client=ris_client, actor=actor, source="ris"
    )


async def upsert_order_from_worklist(
    db: AsyncSession,
    item: WorklistItem,
    *,
    ris_client: str,
    actor: Actor,
    asked_at: datetime | None = None,
) -> Order:
    """Worklist mode: the order as the RIS's worklist describes it, an order of the RIS client
    of the session (``ris_client``)."""
    values = {
        "requested_procedure_id": item.requested_procedure_id,
        "procedure_code": item.procedure_code,
        "procedure_code_scheme": item.procedure_code_scheme,
        "scheduled_procedure_step_id": item.scheduled_procedure_step_id,
        "procedure_description": item.requested_procedure_description,
        "modality": item.modality,
        "patient_id": item.patient_id,
        "patient_issuer": item.issuer_of_patient_id,
        "patient_name": item.patient_name,
        "patient_birth_date": item.patient_birth_date,
        "patient_sex": item.patient_sex,
    }
    return await _apply_order(
        db,
        item.accession_number,
        values,
        ris_client=ris_client,
        actor=actor,
        source="worklist",
        asked_at=asked_at,
    )


def patient_key(patient: PatientIn) -> str:
    """Our key of a patient launched for without an order, in an order's accession number's
    place (16 characters): the same for the same Patient ID and issuer, so that the patient's
    imports are listed together; never written into an image (:func:`~importer.coerce.target_of`
    leaves the accession empty)."""
    digest = hashlib.sha256(f"{patient.issuer}\0{patient.id}".encode()).digest()
    return PATIENT_KEY_PREFIX + base64.b32encode(digest).decode()[:15]


async def upsert_patient_order(
    db: AsyncSession, patient: PatientIn, *, ris_client: str, actor: Actor
) -> Order:
    """The patient a RIS launched an import for without an order, as an order of kind
    ``patient`` (:func:`patient_key`): the RIS is the master of the patient as of an order."""
    values = {
        "kind": "patient",
        "patient_id": patient.id,
        "patient_issuer": patient.issuer,
        "patient_name": patient.name,
        "patient_birth_date": patient.birth_date,
        "patient_sex": patient.sex,
    }
    return await _apply_order(
        db, patient_key(patient), values, ris_client=ris_client, actor=actor, source="ris"
    )


def ris_actor(ris: RisClient) -> Actor:
    """The RIS client as the audit trail names it (``ris:<client name>``)."""
    return Actor(id=f"ris:{ris.name}", name=f"RIS {ris.name}")


async def create_launch(
    db: AsyncSession, *, data: LaunchCreate, ris: RisClient, settings: Settings
) -> LaunchOut:
    if data.callback_url is not None:
        check_callback_url(
            str(data.callback_url),
            signed=bool(settings.callback_secret.get_secret_value()),
            hosts=settings.callback_hosts,
            allow_http=settings.callback_allow_http,
        )
    if data.order is not None:
        order = await upsert_order(db, data.order, ris_client=ris.name, actor=ris_actor(ris))
    elif data.patient is not None:
        order = await upsert_patient_order(
            db, data.patient, ris_client=ris.name, actor=ris_actor(ris)
        )
    else:
        order = None
    token = new_token()
    expires_at = utcnow() + timedelta(seconds=settings.launch_token_ttl_s)
    launch = LaunchToken(
        token_hash=hash_token(token),
        user_id=data.user.id,
        user_name=data.user.name,
        department=data.user.department,
        roles=list(data.user.roles),
        order_pk=order.id if order else None,
        callback_url=str(data.callback_url) if data.callback_url else None,
        ris_client=ris.name,
        expires_at=expires_at,
    )
    db.add(launch)
    await db.flush()
    await record(
        db,
        action=AuditAction.launch_created,
        actor=ris_actor(ris),
        **about(order),
        details={
            "launch_id": launch.id,
            "user_id": data.user.id,
            "roles": list(data.user.roles),
            "mode": order.kind if order else "worklist",
        },
    )
    url = f"{settings.public_url.rstrip('/')}/#token={token}"  # a fragment: never sent to a server
    return LaunchOut(token=token, expires_at=expires_at, url=url)


async def open_session(db: AsyncSession, *, launch_token: str, settings: Settings) -> SessionOut:
    if not launch_token:
        raise TokenError(
            "No launch token was given. Open the import again from the RIS.", code="token_missing"
        )
    launch = await repository.get_launch_by_hash(db, hash_token(launch_token))
    if launch is None:
        raise TokenError(
            "This launch link is not valid. Open the import again from the RIS.",
            code="token_invalid",
        )
    now = utcnow()
    if launch.used_at is not None:
        raise TokenError(
            "This launch link has already been used. Open the import again from the RIS.",
            code="token_used",
        )
    if launch.expires_at <= now:
        raise TokenError(
            "This launch link has expired. Open the import again from the RIS.",
            code="token_expired",
        )
    launch.used_at = now
    token = new_token()
    user_session = UserSession(
        token_hash=hash_token(token),
        launch_id=launch.id,
        user_id=launch.user_id,
        user_name=launch.user_name,
        department=launch.department,
        roles=list(launch.roles),
        order_pk=launch.order_pk,
        order=launch.order,
        callback_url=launch.callback_url,
        ris_client=launch.ris_client,
        expires_at=now + timedelta(seconds=settings.session_ttl_s),
    )
    db.add(user_session)
    await db.flush()
    await record(
        db,
        action=AuditAction.session_opened,
        actor=actor_of(user_session),
        **about(launch.order),
        details={"session_id": user_session.id, "launch_id": launch.id},
    )
    context = session_context(user_session)
    return SessionOut(session_token=token, **context.model_dump())


async def authenticate(db: AsyncSession, token: str) -> UserSession:
    if not token:
        raise TokenError("No session token was given.", code="token_missing")
    user_session = await repository.get_session_by_hash(db, hash_token(token))
    if user_session is None:
        raise TokenError(
            "This session is not valid. Open the import again from the RIS.", code="token_invalid"
        )
    if user_session.expires_at <= utcnow():
        raise TokenError(
            "This session has expired. Open the import again from the RIS.", code="token_expired"
        )
    return user_session


def actor_of(user_session: UserSession) -> Actor:
    """The session's user as the audit trail names them, with their RIS client."""
    return Actor(
        id=user_session.user_id,
        name=user_session.user_name,
        department=user_session.department,
        client=user_session.ris_client,
    )


def order_out(order: Order) -> OrderOut:
    return OrderOut.model_validate(order)


def session_context(user_session: UserSession) -> SessionContext:
    return SessionContext(
        user=UserOut(
            id=user_session.user_id,
            name=user_session.user_name,
            roles=list(user_session.roles),
            department=user_session.department,
        ),
        order=order_out(user_session.order) if user_session.order else None,
        expires_at=user_session.expires_at,
    )


async def end_session(db: AsyncSession, user_session: UserSession) -> None:
    """End the session at once (the user leaves): from now on its token is refused as an expired
    one (401 ``token_expired``) on every route, and its live streams end. Audited
    (``session.closed``). A session already ended is refused as ``authenticate`` refuses it."""
    now = utcnow()
    if not await repository.end_session(db, user_session.id, at=now):
        raise TokenError(
            "This session has expired. Open the import again from the RIS.", code="token_expired"
        )
    user_session.expires_at = now
    await record(
        db,
        action=AuditAction.session_closed,
        actor=actor_of(user_session),
        **about(user_session.order),
        details={"session_id": user_session.id, "reason": "ended"},
    )


async def session_expiry(db: AsyncSession, session_id: str) -> datetime | None:
    """When the session ends, as the database says now (``None``: no such session)."""
    return await repository.get_session_expiry(db, session_id)
