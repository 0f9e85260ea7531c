"""The audit trail's hash chain. Events are written without a hash in the transaction of the
change they record; one sealer (the worker's reconciler cron, which runs once at a time) then
gives each new event the next ``seq`` and ``hash = sha256(prev_hash + canonical content)``.
Changing, removing or inserting an event afterwards breaks the chain from there on, and
:func:`verify` says where."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.models import AuditEvent

GENESIS = "0" * 64
BATCH = 1000


def content_of(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "action": event.action,
        "outcome": event.outcome,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "department": event.department,
        "import_id": event.import_id,
        "accession_number": event.accession_number,
        "patient_id": event.patient_id,
        "study_instance_uid": event.study_instance_uid,
        "details": event.details,
    }


def hash_of(prev_hash: str, event: AuditEvent) -> str:
    canonical = json.dumps(
        content_of(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


async def seal(db: AsyncSession) -> int:
    """Chain every event not sealed yet; return how many were sealed (the ATNA export sends
    them from the trail afterwards, :mod:`importer.audit.atna`)."""
    last = (
        await db.execute(select(AuditEvent).where(AuditEvent.seq.is_not(None)).order_by(
            AuditEvent.seq.desc()).limit(1))
    ).scalar_one_or_none()  # fmt: skip
    seq = (last.seq or 0) if last else 0
    prev = (last.hash or GENESIS) if last else GENESIS
    sealed = 0
    while True:
        rows = (
            await db.execute(
                select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
                .limit(BATCH)
            )
        ).scalars().all()  # fmt: skip
        if not rows:
            return sealed
        for event in rows:
            seq += 1
            event.seq = seq
            event.prev_hash = prev
            event.hash = prev = hash_of(prev, event)
            sealed += 1
        await db.flush()


@dataclass(frozen=True, slots=True)
class ChainReport:
    sealed: int
    unsealed: int
    broken_at: int | None  # the first seq whose hash does not follow


async def verify(db: AsyncSession) -> ChainReport:
    prev = GENESIS
    expected_seq = 0
    sealed = 0
    after = 0
    while True:
        rows = (
            await db.execute(
                select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq)
                .limit(BATCH)
            )
        ).scalars().all()  # fmt: skip
        if not rows:
            break
        for event in rows:
            expected_seq += 1
            assert event.seq is not None
            if (
                event.seq != expected_seq
                or event.prev_hash != prev
                or event.hash != hash_of(prev, event)
            ):
                unsealed = await _unsealed(db)
                return ChainReport(sealed=sealed, unsealed=unsealed, broken_at=expected_seq)
            prev = event.hash
            sealed += 1
            after = event.seq
    return ChainReport(sealed=sealed, unsealed=await _unsealed(db), broken_at=None)


async def _unsealed(db: AsyncSession) -> int:
    result = await db.execute(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None))
    )
    return int(result.scalar_one())
