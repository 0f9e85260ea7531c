"""Queries on the audit trail (read only: the trail is append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.models import AuditEvent


async def events_for_import(db: AsyncSession, import_id: str) -> Sequence[AuditEvent]:
    result = await db.execute(
        select(AuditEvent).where(AuditEvent.import_id == import_id).order_by(AuditEvent.id)
    )
    return result.scalars().all()


async def import_ids_with_events(db: AsyncSession, import_ids: Sequence[str]) -> set[str]:
    if not import_ids:
        return set()
    result = await db.execute(
        select(AuditEvent.import_id).where(AuditEvent.import_id.in_(import_ids)).distinct()
    )
    return {row for row in result.scalars().all() if row}


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    actor_id: str | None = None
    patient_id: str | None = None
    accession_number: str | None = None
    action: str | None = None  # a prefix: "import." matches every import action
    import_id: str | None = None


async def search(
    db: AsyncSession, where: AuditFilter, *, after_id: int = 0, limit: int = 500
) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.id > after_id)
    if where.since is not None:
        stmt = stmt.where(AuditEvent.at >= where.since)
    if where.until is not None:
        stmt = stmt.where(AuditEvent.at < where.until)
    if where.actor_id:
        stmt = stmt.where(AuditEvent.actor_id == where.actor_id)
    if where.patient_id:
        stmt = stmt.where(AuditEvent.patient_id == where.patient_id)
    if where.accession_number:
        stmt = stmt.where(AuditEvent.accession_number == where.accession_number)
    if where.action:
        stmt = stmt.where(AuditEvent.action.startswith(where.action, autoescape=True))
    if where.import_id:
        stmt = stmt.where(AuditEvent.import_id == where.import_id)
    result = await db.execute(stmt.order_by(AuditEvent.id).limit(limit))
    return result.scalars().all()
