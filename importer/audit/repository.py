"""Queries on the audit trail (read only: the trail is append-only)."""

from __future__ import annotations

from collections.abc import Sequence

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
