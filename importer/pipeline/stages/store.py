"""The store stage: each instance not yet on the PACS sent with the frozen target's coerced
header (the file's own pixel bytes where the PACS takes them as they are), each outcome
persisted as it comes, in batches; resumable (what was sent is not sent again). Done only when
the database records every instance of the study as sent or on the PACS."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from importer import metrics
from importer.coerce import CoercionTarget, validate_target
from importer.db import transaction, utcnow
from importer.errors import InvalidInput
from importer.imports import repository
from importer.imports.models import Instance
from importer.imports.states import StageStatus, UnsentReason
from importer.messages import MessageCode, Note, Params
from importer.pacs import (
    STATUS_DECODE_FAILED,
    STATUS_FILE_CHANGED,
    STATUS_INVALID_DATASET,
    STATUS_LOAD_FAILED,
    STATUS_NO_CONTEXT,
    STATUS_SPOOL_UNREADABLE,
    PacsClient,
    PacsError,
    StoreItem,
    StoreOutcome,
)
from importer.pacs.transcode import syntax_family
from importer.pipeline.context import PipelineContext
from importer.pipeline.pacs_fit import UNSENT_LISTED, unsent_entry
from importer.pipeline.prepare import encode_for_store, forget, load_for_store
from importer.pipeline.stages.base import StageError, StudyRef
from importer.pipeline.stages.verify import verify

PERMANENT_FAILURES = frozenset({STATUS_LOAD_FAILED, STATUS_INVALID_DATASET, STATUS_DECODE_FAILED})
PROGRESS_EVERY_S = 0.5
UNRECORDED_MAX = 50
"""Outcomes the sender may have ahead of the database, at most: it waits for a write before
sending more. With the instances in flight, what a retry may send twice after a crash or while
the database is gone."""
PERSIST_BATCH = UNRECORDED_MAX // 2
"""Outcomes recorded per database write, at most: half of :data:`UNRECORDED_MAX`, so that the
sender seldom waits for a write."""
PERSIST_EVERY_S = 0.25
"""An outcome waits this long at most for others to share its database write."""


SENT_STATES = frozenset({"sent", "on_pacs"})
_NOTHING_YET = object()
"""No outcome came while a batch waited."""


async def instances_missing(db: AsyncSession, study_id: str) -> int:
    """The invariant behind ``completed``: how many instances of the study are not recorded
    as sent or already on the PACS. Checked last by the store stage and again before an
    import completes (and its files leave the spool)."""
    counts = await repository.count_by_sent_state(db, study_id)
    return sum(n for state, n in counts.items() if state not in SENT_STATES)


async def store(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    settings = ctx.settings
    import_dir = ctx.spool.import_dir(ref.import_id)
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        temporary = imp.zone == "temporary"
        study = next(s for s in imp.studies if s.id == ref.study_id)
        frozen = CoercionTarget(**study.target) if study.target else None
        listed_unsent = study.unsent_count
        rows = await repository.instances_of_study(db, ref.study_id)
    if any(r.file_stamp is None for r in rows if r.sent_state not in SENT_STATES):
        # verified before stamps were recorded (an import in flight across an upgrade): verified
        # again, and stamped, so that no file is sent but as it was checked
        await verify(ctx, ref)
        async with transaction(ctx.sessionmaker) as db:
            rows = await repository.instances_of_study(db, ref.study_id)
    target: CoercionTarget | None
    if temporary:
        if ctx.temporary_pacs is None:
            return StageStatus.skipped, Note(
                MessageCode.no_temporary_pacs,
                "No temporary PACS node is configured: the study is kept here for review.",
            )
        target = None  # the temporary zone keeps the medium's identity untouched
        pacs = ctx.temporary_pacs
    else:
        # what the user confirmed (frozen then), never the order as it may read now
        if frozen is None:
            raise StageError(
                "target_missing",
                "This study was not confirmed against its order's patient: retry to compare "
                "it again before anything is sent.",
                retryable=False,
            )
        target = frozen
        pacs = ctx.pacs
        try:
            validate_target(target)
        except InvalidInput as exc:
            raise StageError(
                "invalid_target",
                f"The order cannot be written into the images: {exc.message}.",
                retryable=False,
                params=exc.params,
            ) from exc
    total = len(rows)
    held = sum(1 for r in rows if r.sent_state == "on_pacs")
    pending = [r for r in rows if r.sent_state not in ("sent", "on_pacs")]
    now = utcnow()
    items = [
        StoreItem(
            key=r.id,
            sop_class_uid=r.sop_class_uid,
            sop_instance_uid=r.sop_instance_uid,
            transfer_syntax_uid=r.transfer_syntax_uid,
            size=r.size,
            modifying_system=settings.modifying_system,
            load=partial(
                load_for_store,
                import_dir / Path(r.path),
                stamp=r.file_stamp,
                target=target,
                modifying_system=settings.modifying_system,
                now=now,
                add_other_patient_ids=settings.add_other_patient_ids,
            ),
            encoded=partial(
                encode_for_store,
                import_dir / Path(r.path),
                stamp=r.file_stamp,
                target=target,
                modifying_system=settings.modifying_system,
                now=now,
                add_other_patient_ids=settings.add_other_patient_ids,
            ),
        )
        for r in pending
    ]
    already = total - len(pending)
    outcomes: list[StoreOutcome] = []
    if items:
        sizes = {r.id: r.size for r in pending}
        destination = "temporary" if temporary else "pacs"
        outcomes = await _send(ctx, ref, pacs, items, already=already, total=total)
        stored = [o for o in outcomes if o.ok]
        metrics.INSTANCES_STORED.labels(destination).inc(len(stored))
        metrics.BYTES_STORED.labels(destination).inc(sum(sizes.get(o.key, 0) for o in stored))
    failed = [o for o in outcomes if not o.ok]
    if listed_unsent or any(o.status in UNSENT_REASONS for o in failed):
        await _record_unsent(ctx, ref.study_id, failed, {r.id: r for r in pending})
    warned = [o for o in outcomes if o.ok and o.warning]
    sent = already + len(outcomes) - len(failed)
    if failed:
        _refuse_spool_faults(failed, total)
        _refuse_unsendable(failed, total, {r.id: r.transfer_syntax_uid for r in pending})
        # an instance we cannot read or decode will not go better next time
        permanent = all(o.status in PERMANENT_FAILURES for o in failed)
        raise StageError(
            "store_failed",
            f"{len(failed)} of {total} instance(s) were not stored: {failed[0].message}",
            retryable=not permanent,
            params=_failed_params(failed, total),
        )
    # the last word is the database's: every instance recorded as sent or on the PACS
    async with transaction(ctx.sessionmaker) as db:
        missing = await instances_missing(db, ref.study_id)
    if missing:
        raise StageError(
            "instances_missing",
            f"{missing} of {total} instance(s) are not recorded as stored on the PACS; "
            "the files are kept.",
            retryable=True,
            params={"count": missing, "total": total},
        )
    converted = Counter(o.converted for o in outcomes if o.ok and o.converted)
    return StageStatus.done, stored_note(sent - held, held, len(warned), total, converted)


def stored_note(
    stored: int, held: int, warned: int, total: int, converted: Mapping[str, int] | None = None
) -> Note:
    """What the store stage did: ``stored`` instances sent (by this run or an earlier one),
    ``held`` found on the PACS already, ``warned`` of them stored with a warning, ``converted``
    by this run to a syntax the PACS takes, counted by how (a decoder's label, "byte-swapped",
    "re-encoded": the audit trail keeps them, as ``decoded_by``)."""
    params: Params = {"count": stored, "total": total, "already": held, "warnings": warned}
    if stored == 0 and held:
        message = f"All {held} instance(s) were on the PACS already."
        return Note(MessageCode.instances_already_on_pacs, message, params)
    message = f"{stored} of {total} instance(s) stored."
    if held:
        message += f" {held} were on the PACS already."
    if warned:
        message += f" {warned} stored with a warning from the PACS."
    if converted:
        params["converted"] = sum(converted.values())
        params["decoded_by"] = ", ".join(f"{how} {n}" for how, n in sorted(converted.items()))
        message += (
            f" {params['converted']} converted to a transfer syntax the PACS takes "
            f"({params['decoded_by']})."
        )
    return Note(MessageCode.instances_stored, message, params)


UNSENT_REASONS: Mapping[int, UnsentReason] = {
    STATUS_DECODE_FAILED: "cannot_convert",
    STATUS_NO_CONTEXT: "sop_class_not_accepted",
}
"""The outcomes that say an object cannot reach this PACS, with what the study lists them for."""


async def _record_unsent(
    ctx: PipelineContext,
    study_id: str,
    failed: list[StoreOutcome],
    rows: Mapping[str, Instance],
) -> None:
    """What the analysis foresaw replaced by what the store found: the study's objects that
    could not reach the PACS, by name (none when every one that was foreseen went)."""
    unsent = sorted(
        (
            unsent_entry(row.display_path, UNSENT_REASONS[o.status], row.transfer_syntax_uid)
            for o in failed
            if o.status in UNSENT_REASONS and (row := rows.get(o.key)) is not None
        ),
        key=lambda entry: entry["path"],  # as the analysis lists them, whatever came first
    )
    ctx.check_lease()
    async with transaction(ctx.sessionmaker) as db:
        await ctx.ensure_lease(db)
        await repository.set_unsent(db, study_id, unsent[:UNSENT_LISTED], len(unsent))


def _refuse_spool_faults(failed: list[StoreOutcome], total: int) -> None:
    """Raise the store's failure when the spool, not the PACS, is at fault: a file changed
    after it was vouched for (never sent, whatever the retry), or files the spool could not
    give (a retry may, once the storage is mended)."""
    changed = [o for o in failed if o.status == STATUS_FILE_CHANGED]
    if changed:
        raise StageError(
            "file_changed",
            f"{len(changed)} of {total} instance(s) changed on the server's storage after they "
            "were checked: they were not sent.",
            retryable=False,
            params={"count": len(changed), "total": total},
        )
    if all(o.status == STATUS_SPOOL_UNREADABLE for o in failed):
        raise StageError(
            "spool_unreadable",
            "The files of the import could not be read from the server's storage.",
            retryable=True,
            params={"count": len(failed), "total": total},
        )


def _refuse_unsendable(failed: list[StoreOutcome], total: int, syntaxes: Mapping[str, str]) -> None:
    """Raise the store's failure when what was left behind is only what cannot reach this PACS
    (:data:`UNSENT_REASONS`): objects no decoder could convert for a PACS that refuses their
    syntax (``cannot_convert``), or of a kind the PACS takes none of
    (``sop_class_not_accepted``). Every other instance was sent; these stay on the spool, their
    files kept, for a person (a PACS configured to accept them, a decoder installed, then
    Retry). Not retried by itself: the same files fail the same way until then."""
    if not all(o.status in UNSENT_REASONS for o in failed):
        return
    undecoded = [o for o in failed if o.status == STATUS_DECODE_FAILED]
    if not undecoded:
        raise StageError(
            "sop_class_not_accepted",
            f"{len(failed)} of {total} instance(s) are of a kind the PACS accepts none of: they "
            "were not sent, their files are kept.",
            retryable=False,
            params={"count": len(failed), "total": total},
        )
    syntax = syntaxes.get(undecoded[0].key, "")
    family = syntax_family(syntax) if syntax else ""
    raise StageError(
        "cannot_convert",
        f"{len(undecoded)} of {total} instance(s) could not be converted to a transfer syntax "
        f"the PACS accepts ({family or 'unknown syntax'}): they were not sent, their files are "
        "kept.",
        retryable=False,
        params={"count": len(undecoded), "total": total, "syntax": family},
    )


def _failed_params(failed: list[StoreOutcome], total: int) -> Params:
    """The facts of a store that left instances behind: how many of how many, and the first
    refusal's DIMSE status when the PACS gave one (ours, negative, say nothing to a user)."""
    params: Params = {"count": len(failed), "total": total}
    if failed[0].status >= 0:
        params["status"] = f"0x{failed[0].status:04X}"
    return params


async def _send(
    ctx: PipelineContext,
    ref: StudyRef,
    pacs: Callable[[], PacsClient],
    items: list[StoreItem],
    *,
    already: int,
    total: int,
) -> list[StoreOutcome]:
    """Run the blocking DIMSE sender in a thread; persist each outcome as it comes. An instance
    sent but not recorded would be sent again by the retry, so the sender never gets more than
    :data:`UNRECORDED_MAX` outcomes ahead of the database (it waits for a write), and when the
    outcomes cannot be recorded (the database is gone) it is stopped at once."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[StoreOutcome | None] = asyncio.Queue()
    error: list[PacsError] = []
    stop = threading.Event()
    ended = ctx.lease.ended if ctx.lease is not None else threading.Event()
    # one permit per outcome taken, given back once it is recorded
    room = threading.BoundedSemaphore(UNRECORDED_MAX)

    def halted() -> bool:
        return stop.is_set() or ended.is_set()  # the stage failed, or the job lost its import

    def room_for_one() -> bool:
        """A permit to take one more outcome (the sender waits for a write while
        UNRECORDED_MAX are unrecorded); False when halted."""
        while not room.acquire(timeout=0.05):
            if halted():
                return False
        return not halted()

    def run() -> None:
        sender = None
        try:
            sender = pacs().store(items)
            # the adapters send no further ahead of what is taken than their associations
            # (PacsClient.store), so holding the takes back holds the sending back
            while room_for_one():
                outcome = next(sender, None)
                if outcome is None:
                    break
                loop.call_soon_threadsafe(queue.put_nowait, outcome)
        except PacsError as exc:
            error.append(exc)
        finally:
            close = getattr(sender, "close", None)
            if close is not None:
                close()  # the generator's own finally releases its associations
            forget()  # the coerced headers remembered for this study's instances
            loop.call_soon_threadsafe(queue.put_nowait, None)

    worker = asyncio.create_task(asyncio.to_thread(run))
    outcomes: list[StoreOutcome] = []
    batch: list[StoreOutcome] = []
    batch_since = 0.0
    last_publish = 0.0
    getter: asyncio.Task[StoreOutcome | None] | None = None
    try:
        while True:
            # the batch is written when full, when the sender ends, or when its first outcome
            # has waited PERSIST_EVERY_S: one write per batch, not per instance. The same get
            # waits across turns (never cancelled by a timeout, so no outcome is dropped).
            if getter is None:
                getter = asyncio.ensure_future(queue.get())
            wait = PERSIST_EVERY_S - (time.monotonic() - batch_since) if batch else None
            await asyncio.wait({getter}, timeout=None if wait is None else max(wait, 0.0))
            outcome: StoreOutcome | object | None = _NOTHING_YET
            if getter.done():
                outcome, getter = getter.result(), None
            if isinstance(outcome, StoreOutcome):
                if not batch:
                    batch_since = time.monotonic()
                batch.append(outcome)
                outcomes.append(outcome)
            now = time.monotonic()
            finished = outcome is None
            full = len(batch) >= PERSIST_BATCH or now - batch_since >= PERSIST_EVERY_S
            if batch and (finished or full):
                await _persist(ctx, batch)
                room.release(len(batch))
                batch = []
            if finished or now - last_publish >= PROGRESS_EVERY_S:
                last_publish = now
                done = already + sum(1 for o in outcomes if o.ok)
                await ctx.publish(
                    ref.import_id, "progress", study=ref.study_instance_uid, sent=done, total=total
                )
            if finished:
                break
    except BaseException:
        stop.set()
        if getter is not None:
            getter.cancel()
        await asyncio.shield(worker)
        raise
    await worker
    ctx.check_lease()
    if error:  # whatever the PACS said, what was recorded stays sent: a retry sends the rest
        raise StageError(
            error[0].code, error[0].message, retryable=True, params=error[0].params
        ) from error[0]
    return outcomes


async def _persist(ctx: PipelineContext, outcomes: list[StoreOutcome]) -> None:
    ctx.check_lease()
    async with transaction(ctx.sessionmaker) as db:
        await repository.mark_sent(
            db,
            [
                repository.SentOutcome(
                    instance_id=o.key,
                    state="sent" if o.ok else "failed",
                    status=o.status,
                    message=o.message,
                )
                for o in outcomes
            ],
            at=utcnow(),
        )
