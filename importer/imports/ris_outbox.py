"""The RIS told how each import lives, through an outbox (docs/ris-integration.md, "Callbacks").

Every callback is first a row of ``ris_callbacks``, written by :func:`enqueue` in the session
(so the transaction) of the state change that causes it: the row exists exactly when the change
was committed. The worker's delivery (:func:`deliver`, a cron every few seconds) posts the rows
of each import one at a time, oldest first, and the next one of an import only once the one
before it is over (delivered, refused or given up): a RIS never gets ``import.progress`` after
``import.finished``. A RIS that does not answer gets the row again after a growing delay (5 s,
10 s, 20 s … up to 5 minutes) for ``IMPORTER_CALLBACK_GIVE_UP_S``; the import itself never
waits for it. Delivery is at least once: a worker that dies between the post and its record
posts again (``X-Importer-Event-Id`` names the row).

The events, their one place each:

- ``import.started``: the import is created, its upload begins (:func:`on_created`, called by
  the service that creates it);
- ``import.progress``: the import is confirmed, retried or promoted (:func:`on_status`, called
  by :func:`~importer.imports.states.set_status` for every change of status), and each study is
  stored (:func:`on_study_stored`, the notify stage), with counts, never a patient's name;
- ``study.stored``: the study is in the PACS (the notify stage, as before the outbox);
- ``import.finished``: the import ends, ``completed``, ``failed`` (with its error code),
  ``cancelled``, ``expired`` or ``purged`` (:func:`on_status`);
- ``import.undone``: a referent took a completed import back and the PACS holds none of the
  instances it stored any more (:func:`on_undone`, called by the undo's job).

An import without a callback URL writes no row. An event left out of ``IMPORTER_CALLBACK_EVENTS``
is written, and closed unsent (``callback_event_off``) when its turn comes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, func, select, update
from sqlalchemy import inspect as inspect_state
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from importer import metrics
from importer.access.policy import CallbackRefused, check_callback_url
from importer.db import Base, UTCDateTime, transaction, utcnow
from importer.imports.models import Import
from importer.imports.states import TERMINAL, ImportStatus
from importer.ris import RisError, post_callback
from importer.settings import CALLBACK_EVENTS

if TYPE_CHECKING:
    from importer.access.models import Order
    from importer.imports.models import Study
    from importer.settings import Settings

log = logging.getLogger(__name__)

STARTED = "import.started"
PROGRESS = "import.progress"
STORED = "study.stored"
FINISHED = "import.finished"
UNDONE = "import.undone"
EVENTS: tuple[str, ...] = CALLBACK_EVENTS  # (STARTED, PROGRESS, STORED, FINISHED, UNDONE)

FIRST_DELAY_S = 5.0
MAX_DELAY_S = 300.0
CLAIM_S = 60.0
"""A row being posted is not due again before this (longer than a post's timeout): a worker
that died while posting leaves it to be posted again after that."""
POST_TIMEOUT_S = 10.0
DELIVERY_SECONDS: set[int] = set(range(0, 60, 5))
"""When the worker's delivery runs (the seconds of each minute)."""
TICK_BUDGET_S = 20.0
"""No new post is started after this long in one delivery run."""
EVENT_OFF = "callback_event_off"
GIVEN_UP = "callback_given_up"


class RisCallback(Base):
    """One callback for the RIS: written with the change it tells, posted by :func:`deliver`."""

    __tablename__ = "ris_callbacks"
    __table_args__ = (
        Index("ix_ris_callbacks_import_id_id", "import_id", "id"),
        Index("ix_ris_callbacks_next_attempt_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When it is posted (again); None once it is over: delivered, refused or given up."""
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The code of the last failure (``ris_unreachable``, ``ris_rejected``, a ``callback_*``
    refusal, ``callback_given_up``, ``callback_event_off``): never what the RIS answered."""


# --- what is told (pure) -------------------------------------------------------------------


def backoff_s(attempts: int) -> float:
    """The delay before the next post after ``attempts`` failed ones: 5 s, 10 s, 20 s … 5 min."""
    return float(min(FIRST_DELAY_S * 2 ** max(attempts - 1, 0), MAX_DELAY_S))


def transition_event(previous: str, status: str) -> tuple[str, str | None] | None:
    """The event a change of status tells the RIS, with its ``step`` (None: nothing to tell).
    An import ends once (``import.finished``: the first terminal status it reaches); it is back
    at work when confirmed, retried after a failure, or promoted out of the temporary zone."""
    if status == previous:
        return None
    if status in TERMINAL:
        return None if previous in TERMINAL else (FINISHED, None)
    if previous == ImportStatus.awaiting_confirmation and status == ImportStatus.processing:
        return PROGRESS, "confirmed"
    if previous == ImportStatus.failed:
        return PROGRESS, "retried"
    if previous == ImportStatus.completed and status == ImportStatus.processing:
        return PROGRESS, "promoted"
    return None


def _loaded(obj: object, name: str) -> bool:
    """Whether reading ``obj.name`` needs no query (an async session cannot lazy-load)."""
    return name not in inspect_state(obj).unloaded


def order_of(imp: Import) -> Order | None:
    return imp.order if _loaded(imp, "order") else None


def identifiers(imp: Import, order: Order | None) -> dict[str, Any]:
    """What names the import to the RIS: ours, and the order's (never the patient's name); an
    import launched for a patient without an order has no accession number (``null``)."""
    ordered = order is not None and order.kind != "patient"
    return {
        "import_id": imp.id,
        "support_id": imp.support_id,
        "accession_number": order.accession_number if order and ordered else None,
        "patient_id": order.patient_id if order else None,
    }


def counts(studies: Iterable[Study], *, done_now: str | None = None) -> dict[str, int]:
    """How far the import is: the studies it files (selected, not already on the PACS), how
    many are done (``done_now``: one whose last stages are still running), their instances,
    and the instances of the done ones."""
    to_file = [s for s in studies if s.selected and not s.on_pacs]
    done = [s for s in to_file if s.id == done_now or s.outcome == "done"]
    return {
        "studies": len(to_file),
        "studies_done": len(done),
        "instances": sum(s.instance_count for s in to_file),
        "instances_stored": sum(s.instance_count for s in done),
    }


def _counts_of(imp: Import, *, done_now: str | None = None) -> dict[str, int] | None:
    return counts(imp.studies, done_now=done_now) if _loaded(imp, "studies") else None


def _at(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def started_payload(imp: Import, *, at: datetime) -> dict[str, Any]:
    return {
        "event": STARTED,
        **identifiers(imp, order_of(imp)),
        "zone": imp.zone,
        "status": imp.status,
        "at": _at(at),
    }


def progress_payload(
    imp: Import, *, step: str, at: datetime, study: Study | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event": PROGRESS,
        **identifiers(imp, order_of(imp)),
        "zone": imp.zone,
        "status": imp.status,
        "step": step,
    }
    if study is not None:
        payload["study_instance_uid"] = study.study_instance_uid
    return {
        **payload,
        **(_counts_of(imp, done_now=study.id if study else None) or {}),
        "at": _at(at),
    }


def finished_payload(imp: Import, *, at: datetime) -> dict[str, Any]:
    error = (
        {"code": imp.error_code, "params": dict(imp.error_params or {})}
        if imp.status == ImportStatus.failed and imp.error_code
        else None
    )
    return {
        "event": FINISHED,
        **identifiers(imp, order_of(imp)),
        "zone": imp.zone,
        "status": imp.status,
        "error": error,
        **(_counts_of(imp) or {}),
        "at": _at(at),
    }


def stored_payload(
    imp: Import, study: Study, order: Order | None, *, instances_stored: int
) -> dict[str, Any]:
    """``study.stored``, as integrators have had it since the first release."""
    return {
        "event": STORED,
        **identifiers(imp, order),
        "study_instance_uid": study.study_instance_uid,
        "instances": study.instance_count,
        "instances_stored": instances_stored,
        "status": "stored",
    }


def undone_payload(imp: Import, studies: list[str], *, at: datetime) -> dict[str, Any]:
    """``import.undone``: the order the import was filed under (``accession_number``, as it was
    then), why it was taken back, the studies whose images the PACS took back and how many;
    never a patient's name."""
    order = order_of(imp)
    return {
        "event": UNDONE,
        **identifiers(imp, order),
        "accession_number": imp.undo_accession,
        "reason": imp.undo_reason,
        "study_instance_uids": studies,
        "instances_taken_back": imp.undo_rejected,
        "at": _at(at),
    }


# --- written with the change (the one place each event is written) --------------------------


def _session(imp: Import) -> Session | None:
    """Where a callback of ``imp`` is written: None when it has no callback URL (nothing to
    tell), or is in no session (no change of it is committed either)."""
    if not imp.callback_url:
        return None
    return object_session(imp)


def enqueue(imp: Import, event: str, payload: dict[str, Any]) -> None:
    """Write one callback in the session ``imp`` belongs to: committed with the change that
    causes it, or rolled back with it. Nothing when the import has no callback URL (an import
    in no session has no change to commit either)."""
    session = _session(imp)
    if session is None:
        return
    session.add(
        RisCallback(import_id=imp.id, event=event, payload=payload, next_attempt_at=utcnow())
    )


def on_created(imp: Import) -> None:
    """The import exists (flushed: it has its id) and its upload begins."""
    if _session(imp) is None:
        return
    enqueue(imp, STARTED, started_payload(imp, at=imp.created_at or utcnow()))


def on_status(imp: Import, previous: str) -> None:
    """``imp`` has just moved from ``previous`` to its status (its error set, if any)."""
    told = transition_event(previous, imp.status)
    if told is None or _session(imp) is None:
        return
    event, step = told
    at = imp.updated_at or utcnow()
    if event == FINISHED:
        enqueue(imp, FINISHED, finished_payload(imp, at=at))
    else:
        enqueue(imp, PROGRESS, progress_payload(imp, step=step or "", at=at))


def on_undone(imp: Import, studies: list[str]) -> None:
    """``imp`` has just been undone: every instance it stored, of ``studies``, is off the PACS."""
    if _session(imp) is None:
        return
    enqueue(imp, UNDONE, undone_payload(imp, studies, at=imp.undone_at or utcnow()))


def on_study_stored(imp: Import, study: Study, *, instances_stored: int) -> None:
    """``study`` is in the PACS (the notify stage): the import's progress, then ``study.stored``."""
    if _session(imp) is None:
        return
    enqueue(imp, PROGRESS, progress_payload(imp, step="study_stored", at=utcnow(), study=study))
    order = (study.order if _loaded(study, "order") else None) or order_of(imp)
    enqueue(imp, STORED, stored_payload(imp, study, order, instances_stored=instances_stored))


# --- delivered by the worker -----------------------------------------------------------------


@dataclass(slots=True)
class Delivered:
    sent: int = 0
    retried: int = 0
    closed: int = 0
    """Over without being delivered: refused, given up, or an event turned off."""


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    import_id: str
    event: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    until: datetime
    url: str | None


async def _claim_next(db: AsyncSession, *, now: datetime) -> _Claimed | None:
    """The oldest row of some import whose previous rows are all over, if it is due; claimed
    (not due again for :data:`CLAIM_S`) so that no other delivery posts it meanwhile."""
    heads = (
        select(func.min(RisCallback.id))
        .where(RisCallback.next_attempt_at.is_not(None))
        .group_by(RisCallback.import_id)
    )
    for _ in range(5):  # another delivery may claim the same head first: take the next one
        row = (
            await db.execute(
                select(RisCallback)
                .where(RisCallback.id.in_(heads), RisCallback.next_attempt_at <= now)
                .order_by(RisCallback.next_attempt_at, RisCallback.id)
                .limit(1)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
        if row is None or row.next_attempt_at is None:
            return None
        until = now + timedelta(seconds=CLAIM_S)
        claimed = await db.execute(
            update(RisCallback)
            .where(RisCallback.id == row.id, RisCallback.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=until, attempts=RisCallback.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        url = (
            await db.execute(select(Import.callback_url).where(Import.id == row.import_id))
        ).scalar_one_or_none()
        return _Claimed(
            id=row.id,
            import_id=row.import_id,
            event=row.event,
            payload=dict(row.payload),
            created_at=row.created_at,
            attempts=row.attempts + 1,
            until=until,
            url=url,
        )
    return None


async def _post(http: httpx.AsyncClient, settings: Settings, row: _Claimed) -> None:
    """Post one row as the configuration of the moment allows (raises :class:`RisError`)."""
    if not row.url:
        raise RisError("callback_invalid", "The import has no callback address.", retryable=False)
    secret = settings.callback_secret.get_secret_value()
    try:
        # the address was checked at launch; the rules may have changed since
        check_callback_url(
            row.url,
            signed=bool(secret),
            hosts=settings.callback_hosts,
            allow_http=settings.callback_allow_http,
        )
    except CallbackRefused as exc:
        raise RisError(exc.code, exc.message, retryable=False) from None
    await post_callback(
        http, row.url, row.payload, secret=secret, timeout_s=POST_TIMEOUT_S, event_id=row.id
    )


def next_step(
    row_attempts: int,
    *,
    created_at: datetime,
    now: datetime,
    error: RisError | None,
    give_up_s: int,
) -> tuple[datetime | None, str | None]:
    """After a post: when the row is posted again (None: it is over) and the code it keeps."""
    if error is None:
        return None, None
    if not error.retryable:
        return None, error.code
    if (now - created_at).total_seconds() >= give_up_s:
        return None, GIVEN_UP
    return now + timedelta(seconds=backoff_s(row_attempts)), error.code


async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    settings: Settings,
    *,
    budget_s: float = TICK_BUDGET_S,
) -> Delivered:
    """Post the callbacks that are due, one at a time, each import's in order; record each
    outcome. The network never holds the database: a row is claimed in one transaction, posted
    outside any, and its outcome recorded in another."""
    out = Delivered()
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        async with transaction(sessionmaker) as db:
            row = await _claim_next(db, now=utcnow())
        if row is None:
            break
        error: RisError | None = None
        code: str | None
        if row.event not in settings.callback_events:
            now, retry_at, code = utcnow(), None, EVENT_OFF  # closed unsent
        else:
            try:
                await _post(http, settings, row)
            except RisError as exc:
                error = exc
            now = utcnow()
            retry_at, code = next_step(
                row.attempts,
                created_at=row.created_at,
                now=now,
                error=error,
                give_up_s=settings.callback_give_up_s,
            )
        async with transaction(sessionmaker) as db:
            await db.execute(
                update(RisCallback)
                .where(RisCallback.id == row.id, RisCallback.next_attempt_at == row.until)
                .values(
                    next_attempt_at=retry_at,
                    delivered_at=now if code is None else None,
                    last_error=code,
                )
                .execution_options(synchronize_session=False)
            )
        if code is None:
            out.sent += 1
            continue
        if error is not None:
            metrics.RIS_ERRORS.labels(error.code).inc()
            # codes and ids only: never the payload, the address or what the RIS answered
            log.warning(
                "RIS callback not delivered (%s, %s)",
                code,
                "posted again later" if retry_at else "given up",
                extra={"import_id": row.import_id, "event": row.event, "code": code},
            )
        if retry_at is None:
            out.closed += 1
        else:
            out.retried += 1
    return out


async def pending(db: AsyncSession, import_id: str) -> Sequence[RisCallback]:
    """The callbacks of an import not over yet, in order (for tests and support)."""
    result = await db.execute(
        select(RisCallback)
        .where(RisCallback.import_id == import_id, RisCallback.next_attempt_at.is_not(None))
        .order_by(RisCallback.id)
    )
    return result.scalars().all()


class DeliveryGuard:
    """One delivery at a time per worker process: a run that outlasts the cron's period makes
    the next tick return at once instead of taking another of the worker's job slots."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    @property
    def busy(self) -> bool:
        """A delivery is running (its outcomes may not all be recorded yet)."""
        return self._lock.locked()

    async def run(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        settings: Settings,
    ) -> Delivered:
        if self._lock.locked():
            return Delivered()
        async with self._lock:
            return await deliver(sessionmaker, http, settings)
