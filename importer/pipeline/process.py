"""The processing job, after the user confirmed: each selected study runs through its stages
(verify, store, commit, merge, notify, finish). Resumable: finished stages and sent instances
are skipped on a second run."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from importer import metrics
from importer.audit.service import SYSTEM, about, record
from importer.coerce import validate_target
from importer.db import transaction, utcnow
from importer.errors import InvalidInput
from importer.imports import repository
from importer.imports.models import Import, Stage
from importer.imports.service import set_status, studies_to_run, study_order
from importer.imports.states import ImportStatus, StageName, StageStatus
from importer.merge import LocalPatient, MergeError, PatientRef, make_merger
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
from importer.pipeline.store import encode_for_store, load_for_store, target_of
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


async def process_import(ctx: PipelineContext, import_id: str) -> None:
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id)
        if imp is None or imp.status != ImportStatus.processing:
            return
        refs = [StudyRef(imp.id, s.id, s.study_instance_uid) for s in studies_to_run(imp)]
    for ref in refs:
        for name in StageName:
            finished = await _run_stage(ctx, ref, name)
            if not finished:
                return  # failed for good: the import is failed
    await _complete(ctx, import_id)


async def _run_stage(ctx: PipelineContext, ref: StudyRef, name: StageName) -> bool:
    async with transaction(ctx.sessionmaker) as db:
        stage = await _stage(db, ref.study_id, name)
        if stage.status in (StageStatus.done, StageStatus.skipped):
            return True
        if stage.status == StageStatus.failed:
            return False
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
        stage = await _stage(db, ref.study_id, name)
        _set_stage(stage, status, message)
        stage.finished_at = utcnow()
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        await _audit_stage(db, imp, ref, stage)
    await _publish_stage(ctx, ref, stage)
    return True


async def _stage_failed(
    ctx: PipelineContext, ref: StudyRef, name: StageName, exc: StageError
) -> bool:
    async with transaction(ctx.sessionmaker) as db:
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
            await _audit_stage(db, imp, ref, stage)
    await _publish_stage(ctx, ref, stage)
    if retry:
        used = ctx.settings.stage_attempts - stage.attempts_left
        raise RetryLater(min(RETRY_DELAY_S * 2 ** (used - 1), MAX_RETRY_DELAY_S), exc.code) from exc
    await fail_import(
        ctx,
        ref.import_id,
        code=exc.code,
        message=f"Stage {name} failed for study {ref.study_instance_uid}: {exc.message}",
        action="import.failed",
    )
    return False


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


async def _audit_stage(db: AsyncSession, imp: Import, ref: StudyRef, stage: Stage) -> None:
    await record(
        db,
        action=f"stage.{stage.name}",
        outcome="failure" if stage.status == StageStatus.failed else "success",
        actor=SYSTEM,
        import_id=imp.id,
        **about(imp.order),
        study_instance_uid=ref.study_instance_uid,
        details={"status": stage.status, "message": stage.message},
    )


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
        order = study_order(next(s for s in imp.studies if s.id == ref.study_id))
        rows = await repository.instances_of_study(db, ref.study_id)
    if temporary:
        if ctx.temporary_pacs is None:
            return StageStatus.skipped, (
                "No temporary PACS node is configured: the study is kept here for review."
            )
        target = None  # the temporary zone keeps the medium's identity untouched
        pacs = ctx.temporary_pacs
    else:
        if order is None:
            raise StageError(
                "order_missing", "This study has no order to file it under.", retryable=False
            )
        target = target_of(order)
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

    def run() -> None:
        sender = pacs().store(items)
        try:
            for outcome in sender:
                loop.call_soon_threadsafe(queue.put_nowait, outcome)
                if stop.is_set():
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
    if error:
        raise StageError(error[0].code, error[0].message, retryable=True) from error[0]
    return outcomes


async def _persist(ctx: PipelineContext, outcomes: list[StoreOutcome]) -> None:
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
    if not ctx.settings.merge_url:
        return StageStatus.skipped, "No PACS-side patient merge is configured."
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        study = next(s for s in imp.studies if s.id == ref.study_id)
        order = study_order(study)
        if imp.zone == "temporary" or order is None:
            return StageStatus.skipped, "Nothing to merge in the temporary zone."
        foreign = PatientRef(id=study.patient_id, issuer=study.patient_issuer)
        local = LocalPatient(
            id=order.patient_id,
            issuer=order.patient_issuer,
            name=order.patient_name,
            birth_date=order.patient_birth_date,
            sex=order.patient_sex,
        )
    try:
        merger = make_merger(ctx.settings.merge_url)
        result = await asyncio.to_thread(merger.merge, foreign=foreign, local=local)
    except MergeError as exc:
        raise StageError(exc.code, exc.message, retryable=True) from exc
    return StageStatus.done, result.message


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
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.status != ImportStatus.processing:
            return
        set_status(imp, ImportStatus.completed)
        temporary = imp.zone == "temporary"  # kept here for review until promoted or purged
        studies = studies_to_run(imp)
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
    if ctx.settings.retain_spool != "all" and not temporary:
        await asyncio.to_thread(ctx.spool.delete, import_id)
    await ctx.publish(import_id, "status", status=ImportStatus.completed)
