"""The processing job, after the user confirmed: each selected study runs through its stages
(verify, store, commit, merge, notify, finish). Resumable: finished stages and sent instances
are skipped on a second run. Every study runs to its own end; the import ends once, completed
only when every instance of every study is recorded as sent or on the PACS."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from importer import metrics
from importer.access.models import Order
from importer.audit import repository as audit_repository
from importer.audit.service import SYSTEM, about, record
from importer.coerce import CoercionTarget, validate_target
from importer.db import transaction, utcnow
from importer.errors import InvalidInput
from importer.identity.gate import ACCEPTED, overall
from importer.imports import repository
from importer.imports.models import Import, Stage, Study
from importer.imports.reconcile import study_order
from importer.imports.states import (
    ImportStatus,
    StageName,
    StageStatus,
    reset_stage,
    set_status,
    studies_to_run,
)
from importer.merge import LocalPatient, MergeError, MovedStudy, PatientRef, make_merger
from importer.pacs import (
    STATUS_DECODE_FAILED,
    STATUS_INVALID_DATASET,
    STATUS_LOAD_FAILED,
    PacsClient,
    PacsError,
    StoreItem,
    StoreOutcome,
)
from importer.pipeline.context import PipelineContext, RetryLater
from importer.pipeline.failures import fail_import
from importer.pipeline.store import encode_for_store, load_for_store
from importer.pipeline.verify import InstanceToVerify, verify_instances
from importer.ris import RisError, post_callback

log = logging.getLogger(__name__)

PERMANENT_FAILURES = frozenset({STATUS_LOAD_FAILED, STATUS_INVALID_DATASET, STATUS_DECODE_FAILED})
RETRY_DELAY_S = 5.0
MAX_RETRY_DELAY_S = 300.0
PROGRESS_EVERY_S = 0.5


class StageError(Exception):
    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class StudyRef:
    import_id: str
    study_id: str
    study_instance_uid: str


StageFn = Callable[[PipelineContext, StudyRef], Awaitable[tuple[StageStatus, str]]]


@dataclass(frozen=True, slots=True)
class StudyFailure:
    """A study whose stage failed for good (this run or an earlier one)."""

    ref: StudyRef
    stage: StageName
    code: str
    message: str


async def process_import(ctx: PipelineContext, import_id: str) -> None:
    """Run every selected study to its end, then end the import once: completed when every
    study finished, else failed naming the studies that did not (the others stay done, so a
    retry runs only what did not finish). A study waiting for a planned retry (a transient
    error) does not hold the others back: they run now, and the job runs again later for it."""
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id)
        if imp is None or imp.status != ImportStatus.processing:
            return
        refs = [StudyRef(imp.id, s.id, s.study_instance_uid) for s in studies_to_run(imp)]
    failures: list[StudyFailure] = []
    waiting: list[RetryLater] = []
    for ref in refs:
        try:
            failure = await _run_study(ctx, ref)
        except RetryLater as later:
            waiting.append(later)
            continue
        if failure is not None:
            failures.append(failure)
    if waiting:
        raise min(waiting, key=lambda later: later.defer_s)
    if failures:
        await _fail_studies(ctx, import_id, failures, total=len(refs))
        return
    await _complete(ctx, import_id)


async def _run_study(ctx: PipelineContext, ref: StudyRef) -> StudyFailure | None:
    for name in StageName:
        failure = await _run_stage(ctx, ref, name)
        if failure is not None:
            return failure
    return None


async def _run_stage(ctx: PipelineContext, ref: StudyRef, name: StageName) -> StudyFailure | None:
    async with transaction(ctx.sessionmaker) as db:
        stage = await _stage(db, ref.study_id, name)
        if stage.status in (StageStatus.done, StageStatus.skipped):
            return None
        if stage.status == StageStatus.failed:  # failed for good in an earlier run
            return StudyFailure(ref, name, await _failure_code(db, ref, name), stage.message)
        await ctx.ensure_lease(db)
        _set_stage(stage, StageStatus.running, stage.message or "")
        stage.started_at = stage.started_at or utcnow()
    await _publish_stage(ctx, ref, stage)
    started = time.monotonic()
    try:
        status, message = await STAGES[name](ctx, ref)
    except StageError as exc:
        metrics.STAGE_SECONDS.labels(name.value, "error").observe(time.monotonic() - started)
        if exc.code.startswith("pacs_"):
            metrics.PACS_ERRORS.labels(exc.code).inc()
        elif exc.code.startswith("ris_"):
            metrics.RIS_ERRORS.labels(exc.code).inc()
        return await _stage_failed(ctx, ref, name, exc)
    metrics.STAGE_SECONDS.labels(name.value, str(status)).observe(time.monotonic() - started)
    async with transaction(ctx.sessionmaker) as db:
        await ctx.ensure_lease(db)
        stage = await _stage(db, ref.study_id, name)
        _set_stage(stage, status, message)
        stage.finished_at = utcnow()
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        await _audit_stage(db, imp, ref, stage)
    await _publish_stage(ctx, ref, stage)
    return None


async def _stage_failed(
    ctx: PipelineContext, ref: StudyRef, name: StageName, exc: StageError
) -> StudyFailure:
    """Record a stage's failure: a retryable one with attempts left runs again later
    (:class:`RetryLater`); otherwise the study failed for good."""
    async with transaction(ctx.sessionmaker) as db:
        await ctx.ensure_lease(db)
        stage = await _stage(db, ref.study_id, name)
        stage.attempts_left = max(stage.attempts_left - 1, 0)
        retry = exc.retryable and stage.attempts_left > 0
        if retry:
            _set_stage(
                stage,
                StageStatus.pending,
                f"{exc.message} Retrying ({stage.attempts_left} attempt(s) left).",
            )
        else:
            _set_stage(stage, StageStatus.failed, exc.message)
            stage.finished_at = utcnow()
            imp = await repository.get(db, ref.import_id)
            assert imp is not None
            await _audit_stage(db, imp, ref, stage, error=exc.code)
    await _publish_stage(ctx, ref, stage)
    if retry:
        used = ctx.settings.stage_attempts - stage.attempts_left
        raise RetryLater(min(RETRY_DELAY_S * 2 ** (used - 1), MAX_RETRY_DELAY_S), exc.code) from exc
    return StudyFailure(ref, name, exc.code, exc.message)


async def _failure_code(db: AsyncSession, ref: StudyRef, name: StageName) -> str:
    """The error code a stage failed with, as its audit event recorded it."""
    for event in reversed(await audit_repository.events_for_import(db, ref.import_id)):
        if (
            event.action == f"stage.{name.value}"
            and event.outcome == "failure"
            and event.study_instance_uid == ref.study_instance_uid
        ):
            return str(event.details.get("error") or "stage_failed")
    return "stage_failed"


async def _fail_studies(
    ctx: PipelineContext, import_id: str, failures: list[StudyFailure], *, total: int
) -> None:
    """End the import failed, once, naming how many studies did not finish and why the first
    did not; the others keep their finished stages."""
    first = failures[0]
    detail = f"Stage {first.stage} failed for study {first.ref.study_instance_uid}: {first.message}"
    if total == 1:
        message = detail
    else:
        finished = total - len(failures)
        message = f"{len(failures)} of {total} studies did not finish"
        if finished:
            message += f" (the other {finished} did: a retry leaves them as they are)"
        message += f". {detail}"
        if len(failures) > 1:
            message += f" And {len(failures) - 1} more."
    await fail_import(
        ctx,
        import_id,
        code=first.code,
        message=message,
        action="import.failed",
        details={
            "failed_studies": [
                {"study_instance_uid": f.ref.study_instance_uid, "stage": f.stage, "error": f.code}
                for f in failures
            ],
            "studies": total,
        },
    )


async def _stage(db: AsyncSession, study_id: str, name: StageName) -> Stage:
    result = await db.execute(
        select(Stage).where(Stage.study_id == study_id, Stage.name == name.value)
    )
    return result.scalar_one()


def _set_stage(stage: Stage, status: StageStatus, message: str) -> None:
    stage.status = status
    stage.message = message
    stage.updated_at = utcnow()


async def _publish_stage(ctx: PipelineContext, ref: StudyRef, stage: Stage) -> None:
    await ctx.publish(
        ref.import_id,
        "stage",
        study=ref.study_instance_uid,
        name=stage.name,
        status=stage.status,
        attempts_left=stage.attempts_left,
        message=stage.message,
    )


async def _audit_stage(
    db: AsyncSession, imp: Import, ref: StudyRef, stage: Stage, *, error: str | None = None
) -> None:
    details: dict[str, Any] = {"status": stage.status, "message": stage.message}
    if error is not None:
        details["error"] = error
    await record(
        db,
        action=f"stage.{stage.name}",
        outcome="failure" if stage.status == StageStatus.failed else "success",
        actor=SYSTEM,
        import_id=imp.id,
        **about(imp.order),
        study_instance_uid=ref.study_instance_uid,
        details=details,
    )


SENT_STATES = frozenset({"sent", "on_pacs"})


async def instances_missing(db: AsyncSession, study_id: str) -> int:
    """The invariant behind ``completed``: how many instances of the study are not recorded
    as sent or already on the PACS. Checked last by the store stage and again before an
    import completes (and its files leave the spool)."""
    counts = await repository.count_by_sent_state(db, study_id)
    return sum(n for state, n in counts.items() if state not in SENT_STATES)


def _sends(ctx: PipelineContext, imp: Import) -> bool:
    """Whether the store stage sends the import's instances anywhere (a temporary-zone import
    without a temporary PACS node is kept here, unsent, for review)."""
    return not (imp.zone == "temporary" and ctx.temporary_pacs is None)


# --- the stages --------------------------------------------------------------------------------


async def verify(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    import_dir = ctx.spool.import_dir(ref.import_id)
    async with transaction(ctx.sessionmaker) as db:
        rows = await repository.instances_of_study(db, ref.study_id)
        items = [
            InstanceToVerify(
                path=import_dir / r.path,
                display_path=r.display_path,
                sop_instance_uid=r.sop_instance_uid,
                study_instance_uid=ref.study_instance_uid,
            )
            for r in rows
        ]
    try:
        problems = await asyncio.to_thread(verify_instances, items)
    except OSError as exc:
        raise StageError(
            "spool_unreadable", f"The files could not be read ({exc.strerror}).", retryable=True
        ) from exc
    if problems:
        first = problems[0]
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise StageError(
            "verify_failed",
            f"{len(problems)} instance(s) are damaged; nothing of this study was sent. "
            f"{first.display_path}: {first.message}{more}.",
            retryable=False,
        )
    return StageStatus.done, f"{len(items)} instance(s) verified."


async def store(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    settings = ctx.settings
    import_dir = ctx.spool.import_dir(ref.import_id)
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        temporary = imp.zone == "temporary"
        study = next(s for s in imp.studies if s.id == ref.study_id)
        frozen = CoercionTarget(**study.target) if study.target else None
        rows = await repository.instances_of_study(db, ref.study_id)
    target: CoercionTarget | None
    if temporary:
        if ctx.temporary_pacs is None:
            return StageStatus.skipped, (
                "No temporary PACS node is configured: the study is kept here for review."
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
            load=partial(
                load_for_store,
                import_dir / Path(r.path),
                target=target,
                modifying_system=settings.modifying_system,
                now=now,
                add_other_patient_ids=settings.add_other_patient_ids,
            ),
            encoded=partial(
                encode_for_store,
                import_dir / Path(r.path),
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
    warned = [o for o in outcomes if o.ok and o.warning]
    sent = already + len(outcomes) - len(failed)
    if failed:
        # an instance we cannot read or decode will not go better next time
        permanent = all(o.status in PERMANENT_FAILURES for o in failed)
        raise StageError(
            "store_failed",
            f"{len(failed)} of {total} instance(s) were not stored: {failed[0].message}",
            retryable=not permanent,
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
        )
    message = f"{sent - held} of {total} instance(s) stored."
    if held:
        message += f" {held} were on the PACS already."
    if warned:
        message += f" {len(warned)} stored with a warning from the PACS."
    return StageStatus.done, message


async def _send(
    ctx: PipelineContext,
    ref: StudyRef,
    pacs: Callable[[], PacsClient],
    items: list[StoreItem],
    *,
    already: int,
    total: int,
) -> list[StoreOutcome]:
    """Run the blocking DIMSE sender in a thread; persist each outcome as it comes. When the
    outcomes cannot be recorded (the database is gone), the sender is stopped at once: an
    instance sent but not recorded would be sent again by the retry."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[StoreOutcome | None] = asyncio.Queue()
    error: list[PacsError] = []
    stop = threading.Event()
    ended = ctx.lease.ended if ctx.lease is not None else threading.Event()

    def run() -> None:
        sender = None
        try:
            sender = pacs().store(items)
            for outcome in sender:
                loop.call_soon_threadsafe(queue.put_nowait, outcome)
                if stop.is_set() or ended.is_set():  # the job lost its import: stop here
                    break
        except PacsError as exc:
            error.append(exc)
        finally:
            close = getattr(sender, "close", None)
            if close is not None:
                close()  # the generator's own finally releases its associations
            loop.call_soon_threadsafe(queue.put_nowait, None)

    worker = asyncio.create_task(asyncio.to_thread(run))
    outcomes: list[StoreOutcome] = []
    batch: list[StoreOutcome] = []
    last_publish = 0.0
    try:
        while True:
            outcome = await queue.get()
            if outcome is not None:
                batch.append(outcome)
                outcomes.append(outcome)
            if batch and (outcome is None or len(batch) >= 50 or queue.empty()):
                await _persist(ctx, batch)
                batch = []
            now = time.monotonic()
            if outcome is None or now - last_publish >= PROGRESS_EVERY_S:
                last_publish = now
                done = already + sum(1 for o in outcomes if o.ok)
                await ctx.publish(
                    ref.import_id, "progress", study=ref.study_instance_uid, sent=done, total=total
                )
            if outcome is None:
                break
    except BaseException:
        stop.set()
        await asyncio.shield(worker)
        raise
    await worker
    ctx.check_lease()
    if error:
        raise StageError(error[0].code, error[0].message, retryable=True) from error[0]
    return outcomes


async def _persist(ctx: PipelineContext, outcomes: list[StoreOutcome]) -> None:
    ctx.check_lease()
    at = utcnow()
    async with transaction(ctx.sessionmaker) as db:
        for o in outcomes:
            await repository.mark_sent(
                db,
                o.key,
                state="sent" if o.ok else "failed",
                status=o.status,
                message=o.message,
                at=at,
            )


async def commit(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    settings = ctx.settings
    if not settings.storage_commitment:
        return StageStatus.skipped, "Storage commitment is not configured for this PACS."
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        if imp.zone == "temporary":
            return StageStatus.skipped, "Not asked of the temporary PACS node."
        rows = await repository.instances_of_study(db, ref.study_id)
        refs = [
            (r.sop_class_uid, r.sop_instance_uid)
            for r in rows
            if r.sent_state in ("sent", "on_pacs")
        ]
    try:
        result = await asyncio.to_thread(
            ctx.pacs().commit, refs, timeout=settings.commitment_timeout_s
        )
    except PacsError as exc:
        if exc.code == PacsError.UNSUPPORTED:
            return StageStatus.skipped, "This PACS offers no storage commitment."
        raise StageError(
            exc.code,
            f"Storage commitment failed: {exc.message}",
            retryable=exc.code != PacsError.REJECTED,
        ) from exc
    if not result.complete:
        raise StageError(
            "commit_incomplete",
            f"The PACS did not commit {len(result.failed)} of {len(refs)} instance(s).",
            retryable=True,
        )
    return StageStatus.done, f"The PACS committed to keeping all {len(refs)} instance(s)."


async def merge(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    settings = ctx.settings
    if not settings.merge_url:
        return StageStatus.skipped, "No PACS-side patient merge is configured."
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        study = next(s for s in imp.studies if s.id == ref.study_id)
        order = study_order(study)
        if imp.zone == "temporary" or (order is None and not study.target):
            return StageStatus.skipped, "Nothing to merge in the temporary zone."
        refused = _merge_refused(imp, study)
        if refused:
            return StageStatus.skipped, refused
        foreign = PatientRef(id=study.patient_id, issuer=study.patient_issuer)
        local = _local_patient(study, order)
        accession = order.accession_number if order else ""
    try:
        merger = make_merger(settings.merge_url, local_issuers=settings.local_issuers)
        result = await asyncio.to_thread(merger.merge, foreign=foreign, local=local)
    except MergeError as exc:
        await _audit_merged(ctx, ref, exc.moved, foreign, local, accession)
        raise StageError(exc.code, exc.message, retryable=True) from exc
    await _audit_merged(ctx, ref, result.moved, foreign, local, accession)
    return StageStatus.done, result.message


def _merge_refused(imp: Import, study: Study) -> str | None:
    """Why the medium's patient must not be merged on the PACS at all, or None: only a study
    whose every patient matched the order's (``match``/``format_different``), confirmed with
    no acknowledgement of a mismatch, is merged."""
    if imp.acknowledged_identity:
        return (
            "Not merged: the import was confirmed with an identity mismatch acknowledged; "
            "earlier studies on the PACS are left to the PACS administrator."
        )
    reports = [study.identity, *(entry.get("identity") for entry in study.patients or [])]
    if any(overall(report) not in ACCEPTED for report in reports):
        return (
            "Not merged: the patient on the medium does not match the order's patient "
            "exactly; earlier studies on the PACS are left to the PACS administrator."
        )
    return None


def _local_patient(study: Study, order: Order | None) -> LocalPatient:
    """The local patient the study was filed under: the target frozen at confirmation, else
    the order."""
    if study.target:
        target = CoercionTarget(**study.target)
        return LocalPatient(
            id=target.patient_id,
            issuer=target.issuer_of_patient_id,
            name=target.patient_name,
            birth_date=target.birth_date,
            sex=target.sex,
        )
    assert order is not None
    return LocalPatient(
        id=order.patient_id,
        issuer=order.patient_issuer,
        name=order.patient_name,
        birth_date=order.patient_birth_date,
        sex=order.patient_sex,
    )


async def _audit_merged(
    ctx: PipelineContext,
    ref: StudyRef,
    moved: Sequence[MovedStudy],
    foreign: PatientRef,
    local: LocalPatient,
    accession: str,
) -> None:
    """One audit event per study the merge moved on the PACS (recorded even when the job
    lost its lease meanwhile: it happened)."""
    if not moved:
        return
    async with transaction(ctx.sessionmaker) as db:
        for study in moved:
            await record(
                db,
                action="study.merged",
                actor=SYSTEM,
                import_id=ref.import_id,
                accession_number=accession,
                patient_id=local.id,
                study_instance_uid=study.study_instance_uid,
                details={
                    "pacs_study": study.pacs_study,
                    "instances": study.instances,
                    "before": {"patient_id": foreign.id, "issuer": foreign.issuer},
                    "after": {"patient_id": local.id, "issuer": local.issuer},
                    "imported_study": ref.study_instance_uid,
                },
            )


async def notify(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        url = imp.callback_url
        study = next(s for s in imp.studies if s.id == ref.study_id)
        order = study_order(study)
        counts = await repository.count_by_sent_state(db, ref.study_id)
        payload = {
            "event": "study.stored",
            "import_id": imp.id,
            "support_id": imp.support_id,
            "accession_number": order.accession_number if order else None,
            "patient_id": order.patient_id if order else None,
            "study_instance_uid": ref.study_instance_uid,
            "instances": study.instance_count,
            "instances_stored": counts.get("sent", 0),
            "status": "stored",
        }
    if imp.zone == "temporary":
        return StageStatus.skipped, "Kept in the temporary zone: the RIS is told on promotion."
    if not url:
        return StageStatus.skipped, "The RIS gave no callback address."
    try:
        await post_callback(
            ctx.http, url, payload, secret=ctx.settings.callback_secret.get_secret_value()
        )
    except RisError as exc:
        raise StageError(exc.code, exc.message, retryable=exc.retryable) from exc
    return StageStatus.done, "The RIS was told."


async def finish(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    return StageStatus.done, "Study imported."


STAGES: dict[StageName, StageFn] = {
    StageName.verify: verify,
    StageName.store: store,
    StageName.commit: commit,
    StageName.merge: merge,
    StageName.notify: notify,
    StageName.finish: finish,
}


async def _complete(ctx: PipelineContext, import_id: str) -> None:
    """Complete the import, and let its files go, only when every instance of every study is
    recorded as sent or on the PACS (:func:`instances_missing`); a study short of that gets
    its store stage failed (and the stages after it to do again) and the import fails,
    retryable, its files kept."""
    short: list[tuple[Study, int]] = []
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.status != ImportStatus.processing:
            return
        await ctx.ensure_lease(db)
        studies = studies_to_run(imp)
        temporary = imp.zone == "temporary"  # kept here for review until promoted or purged
        if _sends(ctx, imp):
            for study in studies:
                missing = await instances_missing(db, study.id)
                if missing:
                    short.append((study, missing))
        for study, missing in short:
            stage = _reopen_store(ctx, study, missing)
            await _audit_stage(
                db,
                imp,
                StudyRef(imp.id, study.id, study.study_instance_uid),
                stage,
                error="instances_missing",
            )
        if not short:
            set_status(imp, ImportStatus.completed)
            await record(
                db,
                action="import.completed",
                actor=SYSTEM,
                import_id=imp.id,
                **about(imp.order),
                details={
                    "studies": [
                        {
                            "study_instance_uid": s.study_instance_uid,
                            "series": s.series_count,
                            "instances": s.instance_count,
                            "institution": s.institution,
                        }
                        for s in studies
                    ],
                },
            )
    if short:
        first, missing = short[0]
        await fail_import(
            ctx,
            import_id,
            code="instances_missing",
            message=f"{missing} instance(s) of study {first.study_instance_uid} are not "
            f"recorded as stored on the PACS ({len(short)} study(ies) short): the import is not "
            "complete; its files are kept and a retry sends what is missing.",
            action="import.failed",
        )
        return
    if ctx.settings.retain_spool != "all" and not temporary:
        await asyncio.to_thread(ctx.spool.delete, import_id)
    await ctx.publish(import_id, "status", status=ImportStatus.completed)


def _reopen_store(ctx: PipelineContext, study: Study, missing: int) -> Stage:
    """The store stage of a study found short at the end: failed (a retry runs it again), and
    the stages after it pending again (committed, merged and told anew once all is sent)."""
    now = utcnow()
    store_stage = next(st for st in study.stages if st.name == StageName.store.value)
    for stage in study.stages:
        if stage.position > store_stage.position:
            reset_stage(stage, attempts=ctx.settings.stage_attempts, message="", now=now)
    _set_stage(
        store_stage,
        StageStatus.failed,
        f"{missing} of {study.instance_count} instance(s) are not recorded as stored on the "
        "PACS; the files are kept.",
    )
    store_stage.finished_at = now
    return store_stage
