"""The reconciler: the database is the truth, the queue is not. Imports left in a working state
without a job (Redis lost, worker killed: no live lease) are handed back; unconfirmed ones
expire."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from importer.audit import atna, chain
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
    undo: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    sealed: int = 0
    delivered: int = 0


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
        # undos whose job was lost; imports whose undo period is over let their files go
        out.undo = list(await repository.list_undo_lost(db, grace, now))
        out.released = list(await repository.release_files_kept(db, now))
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
    async with transaction(ctx.sessionmaker) as db:
        if settings.atna_syslog:
            await atna.start(db)
        out.sealed = await chain.seal(db)
    for import_id in out.released:
        if settings.retain_spool != "all":
            await asyncio.to_thread(ctx.spool.delete, import_id)
    for import_id in out.expired:
        await asyncio.to_thread(ctx.spool.delete, import_id)
        await ctx.publish(import_id, "status", status=ImportStatus.expired)
    if settings.atna_syslog:
        out.delivered = await deliver_audit(ctx)
    return out


async def deliver_audit(ctx: PipelineContext) -> int:
    """Send the sealed audit events the audit repository has not received, in order, batch by
    batch: read a batch, send it outside any transaction (the network never holds the
    database), then move the cursor from where it was read. On a failure it stays: the next
    tick sends from there. Returns how many went out."""
    settings = ctx.settings
    assert settings.atna_syslog
    destination = atna.Destination(
        settings.atna_syslog,
        ca_file=settings.atna_ca_file,
        cert_file=settings.atna_cert_file,
        key_file=settings.atna_key_file,
    )
    sent = 0
    deadline = time.monotonic() + atna.TICK_BUDGET_S  # the next tick comes 30 s later
    try:
        for _ in range(atna.MAX_BATCHES):
            if time.monotonic() > deadline:
                break
            async with transaction(ctx.sessionmaker) as db:
                found = await atna.pending(db)
            if found is None or not found[1]:  # no cursor yet, or all sent
                break
            after, batch = found
            await asyncio.to_thread(atna.send, destination, batch)
            async with transaction(ctx.sessionmaker) as db:
                moved = await atna.delivered(db, after=after, events=batch)
            sent += len(batch)
            if not moved:  # another delivery sent from there too: it goes on
                break
    except (OSError, ValueError) as exc:
        # the trail is safe in the database and the cursor did not move: sent again next tick
        async with transaction(ctx.sessionmaker) as db:
            waiting = await atna.backlog(db)
        log.warning(
            "ATNA audit messages not delivered (%d waiting, sent on a later tick): %s",
            waiting,
            type(exc).__name__,  # its message may quote what the repository answered
            extra={"code": type(exc).__name__, "event": waiting},
        )
    return sent
