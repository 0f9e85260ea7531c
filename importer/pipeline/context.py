"""What a pipeline job needs, made once at worker start-up and passed in; and the lease that
lets one job at a time work on an import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from importer import events
from importer.db import transaction, utcnow
from importer.imports import repository
from importer.pacs import PacsClient
from importer.settings import Settings
from importer.spool import Spool

log = logging.getLogger(__name__)

LEASE_GRACE_S: Final = 2.0
"""How long a job waits for an import held by another job before it runs later: the job before
releases its hold a few milliseconds after it wrote its last state, which the app may already
have shown (without it, a confirmation sent in that moment waited for the whole lease, 30 s)."""
LEASE_POLL_S: Final = 0.05


class RetryLater(Exception):
    """Run the job again after ``defer_s`` seconds (the worker maps it to its queue's retry)."""

    def __init__(self, defer_s: float, reason: str) -> None:
        super().__init__(reason)
        self.defer_s = defer_s


class LeaseLost(Exception):
    """This job no longer holds its import (it could not renew its lease in time, and another
    job may have taken the import over): it stops between two files and writes nothing."""


@dataclass(slots=True)
class Lease:
    """A job's hold on one import (``imports.lease_owner``/``lease_expires_at``).

    ``ended`` is set once the hold is lost or the job ends: threads working for the job
    (unpacking, reading, sending) look at it between two files and stop."""

    import_id: str
    owner: str
    expires_at: datetime
    ended: threading.Event = field(default_factory=threading.Event)

    @property
    def lost(self) -> bool:
        return self.ended.is_set() or utcnow() >= self.expires_at

    def check(self) -> None:
        """Raise :class:`LeaseLost` when the job may no longer act on its import."""
        if self.lost:
            self.ended.set()
            raise LeaseLost(self.import_id)


@dataclass(slots=True)
class PipelineContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    spool: Spool
    pacs: Callable[[], PacsClient]
    http: httpx.AsyncClient
    temporary_pacs: Callable[[], PacsClient] | None = None
    scan_pool: Executor | None = None
    """The processes the analysis reads headers in (``IMPORTER_SCAN_PROCESSES``); None: in the
    job's own thread."""
    lease: Lease | None = None
    """The running job's hold on its import (see :func:`run_leased`); None outside a job."""

    async def publish(self, import_id: str, kind: str, **fields: Any) -> None:
        await events.publish(self.redis, import_id, kind, **fields)

    def check_lease(self) -> None:
        """Between two files or instances: stop (:class:`LeaseLost`) once the lease is lost."""
        if self.lease is not None:
            self.lease.check()

    async def ensure_lease(self, db: AsyncSession) -> None:
        """In a transaction about to write the import's state: raise :class:`LeaseLost` (the
        transaction rolls back) unless this job still holds the import, as the database says."""
        lease = self.lease
        if lease is None:
            return
        lease.check()
        if not await repository.holds_lease(db, lease.import_id, owner=lease.owner, now=utcnow()):
            lease.ended.set()
            raise LeaseLost(lease.import_id)

    async def still_holds(self) -> None:
        """Before acting on a failure that may be another job's doing: raise
        :class:`LeaseLost` unless the database says this job still holds its import."""
        if self.lease is not None:
            async with transaction(self.sessionmaker) as db:
                await self.ensure_lease(db)


async def run_leased(
    ctx: PipelineContext, import_id: str, job: Callable[[PipelineContext], Awaitable[None]]
) -> None:
    """Run ``job`` holding the import: one job per import at a time.

    The lease is taken with one conditional UPDATE, renewed by a heartbeat every third of
    ``job_lease_s``, and released at the end. A job that finds the import held waits up to
    :data:`LEASE_GRACE_S` for it (the job before may have written its last state and be about
    to let go: a clerk's confirmation can arrive in that moment); while another live job still
    holds it, this one runs later (:class:`RetryLater`, when that lease would run out); a killed
    or frozen worker's lease simply runs out. A job that loses its lease stops between files and
    writes nothing (:class:`LeaseLost` ends it quietly: the job that holds the import now does
    the work)."""
    lease_s = ctx.settings.job_lease_s
    owner = uuid.uuid4().hex
    grace_ends = time.monotonic() + LEASE_GRACE_S
    while True:
        now = utcnow()
        until = now + timedelta(seconds=lease_s)
        async with transaction(ctx.sessionmaker) as db:
            taken = await repository.take_lease(db, import_id, owner=owner, now=now, until=until)
            exists, expires_at = (
                (True, None) if taken else await repository.lease_expiry(db, import_id)
            )
        if taken or not exists or time.monotonic() >= grace_ends:
            break
        await asyncio.sleep(LEASE_POLL_S)
    if not exists:
        return  # gone (purged): nothing to do
    if not taken:
        wait = (expires_at - utcnow()).total_seconds() if expires_at else 0.0
        log.info("import held by another job", extra={"import_id": import_id})
        raise RetryLater(max(wait, 0.0) + 1.0, "lease_busy")
    lease = Lease(import_id=import_id, owner=owner, expires_at=until)
    heartbeat = asyncio.create_task(_heartbeat(ctx, lease, lease_s))
    try:
        await job(replace(ctx, lease=lease))
    except LeaseLost:
        log.warning("job stopped: its import was taken over", extra={"import_id": import_id})
    finally:
        lease.ended.set()  # threads still working for the job stop between two files
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        await asyncio.shield(_release(ctx, lease))


async def _heartbeat(ctx: PipelineContext, lease: Lease, lease_s: int) -> None:
    every = lease_s / 3
    while not lease.ended.is_set():
        await asyncio.sleep(every)
        until = utcnow() + timedelta(seconds=lease_s)
        try:
            async with transaction(ctx.sessionmaker) as db:
                renewed = await repository.renew_lease(
                    db, lease.import_id, owner=lease.owner, until=until
                )
        except Exception:  # the database is away: the lease runs out unless it comes back
            log.warning("lease not renewed", extra={"import_id": lease.import_id}, exc_info=True)
            if lease.lost:
                lease.ended.set()
                return
            continue
        if not renewed:
            log.warning("lease taken over", extra={"import_id": lease.import_id})
            lease.ended.set()
            return
        lease.expires_at = until


async def _release(ctx: PipelineContext, lease: Lease) -> None:
    try:
        async with transaction(ctx.sessionmaker) as db:
            await repository.release_lease(db, lease.import_id, owner=lease.owner)
    except Exception:  # it runs out by itself
        log.warning("lease not released", extra={"import_id": lease.import_id}, exc_info=True)
