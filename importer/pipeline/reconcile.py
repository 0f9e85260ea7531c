"""The reconciler: the database is the truth, the queue is not. Imports left in a working state
without a job (Redis lost, worker killed: no live lease) are handed back; unconfirmed ones
expire."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from importer.audit import atna, chain
from importer.audit.models import AuditEvent
from importer.audit.service import SYSTEM, about, record
from importer.db import transaction, utcnow
from importer.imports import repository
from importer.imports.states import ImportStatus, set_status
from importer.pipeline.context import PipelineContext

log = logging.getLogger(__name__)

GRACE_S = 30


@dataclass(slots=True)
class Reconciled:
    analyse: list[str] = field(default_factory=list)
    process: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    sealed: int = 0


async def reconcile(ctx: PipelineContext) -> Reconciled:
    settings = ctx.settings
    now = utcnow()
    out = Reconciled()
    async with transaction(ctx.sessionmaker) as db:
        grace = now - timedelta(seconds=GRACE_S)
        # a job that holds its import (its lease is live) is running, not lost
        out.analyse = list(
            await repository.list_stale_unleased(
                db, [ImportStatus.queued, ImportStatus.analyzing], grace, now
            )
        )
        out.process = list(
            await repository.list_stale_unleased(db, [ImportStatus.processing], grace, now)
        )
        for statuses, timeout in (
            ([ImportStatus.created], settings.upload_timeout_s),
            ([ImportStatus.awaiting_confirmation], settings.confirmation_timeout_s),
        ):
            for import_id in await repository.list_stale(
                db, statuses, now - timedelta(seconds=timeout)
            ):
                imp = await repository.get(db, import_id, lock=True)
                if imp is None or imp.status not in statuses:
                    continue
                previous = imp.status
                set_status(imp, ImportStatus.expired)
                await record(
                    db,
                    action="import.expired",
                    actor=SYSTEM,
                    import_id=imp.id,
                    **about(imp.order),
                    details={"from_status": previous, "after_s": timeout},
                )
                out.expired.append(imp.id)
    outgoing: list[AuditEvent] = []
    async with transaction(ctx.sessionmaker) as db:
        out.sealed = await chain.seal(
            db, on_sealed=outgoing.extend if settings.atna_syslog else None
        )
    if settings.atna_syslog and outgoing:
        try:
            await asyncio.to_thread(atna.send, settings.atna_syslog, outgoing)
        except OSError:
            # the trail itself is safe in the database; the repository misses these messages
            log.warning("ATNA audit messages not sent", extra={"event": len(outgoing)})
    for import_id in out.expired:
        await asyncio.to_thread(ctx.spool.delete, import_id)
        await ctx.publish(import_id, "status", status=ImportStatus.expired)
    return out
