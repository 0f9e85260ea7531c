"""The processing job, after the user confirmed: each selected study runs through its stages
(verify, store, commit, merge, notify, finish: :mod:`importer.pipeline.stages`); this module
drives them, records each outcome, retries what may go through later and ends the import.
Resumable: finished stages and sent instances are skipped on a second run. Every study runs to
its own end; the import ends once, completed only when every instance of every study is
recorded as sent or on the PACS."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from importer import metrics
from importer.audit import repository as audit_repository
from importer.audit.service import SYSTEM, about, record
from importer.db import transaction, utcnow
from importer.errors import Failure, ImporterError
from importer.imports import repository
from importer.imports.models import Import, Stage, Study
from importer.imports.states import (
    MEDIUM_ERRORS,
    ImportStatus,
    StageName,
    StageStatus,
    reset_stage,
    set_status,
    studies_to_run,
)
from importer.messages import (
    MessageCode,
    Note,
    Params,
    clean_params,
    message_code,
    stored_code,
)
from importer.pipeline.context import PipelineContext, RetryLater
from importer.pipeline.failures import fail_import
from importer.pipeline.stages import STAGES, StudyRef, instances_missing

log = logging.getLogger(__name__)

RETRY_DELAY_S = 5.0
MAX_RETRY_DELAY_S = 300.0


@dataclass(frozen=True, slots=True)
class StudyFailure:
    """A study whose stage failed for good (this run or an earlier one)."""

    ref: StudyRef
    stage: StageName
    code: MessageCode
    message: str
    params: Params


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
            code = await _failure_code(db, ref, stage)
            return StudyFailure(ref, name, code, stage.message, clean_params(stage.params))
        await ctx.ensure_lease(db)
        _set_stage(stage, StageStatus.running)  # its last note (a retry's error) stays
        stage.started_at = stage.started_at or utcnow()
    await _publish_stage(ctx, ref, stage)
    started = time.monotonic()
    try:
        status, note = await STAGES[name](ctx, ref)
    except Failure as exc:  # work that did not go through fails the stage with its code
        # (a request's error, InvalidInput or Conflict, is a bug here: arq retries, then the
        # import fails as internal_error)
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
        _set_stage(stage, status, note)
        stage.finished_at = utcnow()
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        await _audit_stage(db, imp, ref, stage)
    await _publish_stage(ctx, ref, stage)
    return None


async def _stage_failed(
    ctx: PipelineContext, ref: StudyRef, name: StageName, exc: ImporterError
) -> StudyFailure:
    """Record a stage's failure: a retryable one with attempts left runs again later
    (:class:`RetryLater`); otherwise the study failed for good."""
    async with transaction(ctx.sessionmaker) as db:
        await ctx.ensure_lease(db)
        stage = await _stage(db, ref.study_id, name)
        stage.attempts_left = max(stage.attempts_left - 1, 0)
        retry = exc.retryable and stage.attempts_left > 0
        code = message_code(exc.code)
        if retry:
            # the app words the error and the attempts left (``attempts_left``) itself
            message = f"{exc.message} Retrying ({stage.attempts_left} attempt(s) left)."
            _set_stage(stage, StageStatus.pending, Note(code, message, exc.params))
        else:
            _set_stage(stage, StageStatus.failed, Note(code, exc.message, exc.params))
            stage.finished_at = utcnow()
            imp = await repository.get(db, ref.import_id)
            assert imp is not None
            await _audit_stage(db, imp, ref, stage, error=exc.code)
    await _publish_stage(ctx, ref, stage)
    if retry:
        used = ctx.settings.stage_attempts - stage.attempts_left
        raise RetryLater(min(RETRY_DELAY_S * 2 ** (used - 1), MAX_RETRY_DELAY_S), exc.code) from exc
    return StudyFailure(ref, name, code, exc.message, exc.params)


async def _failure_code(db: AsyncSession, ref: StudyRef, stage: Stage) -> MessageCode:
    """The error code a stage failed with: its own, else (a stage failed before stages kept
    one) as its audit event recorded it."""
    if stage.code is not None:
        return stored_code(stage.code)
    for event in reversed(await audit_repository.events_for_import(db, ref.import_id)):
        if (
            event.action == f"stage.{stage.name}"
            and event.outcome == "failure"
            and event.study_instance_uid == ref.study_instance_uid
        ):
            return stored_code(str(event.details.get("error") or ""))
    return MessageCode.failed


async def _fail_studies(
    ctx: PipelineContext, import_id: str, failures: list[StudyFailure], *, total: int
) -> None:
    """End the import failed, once, naming how many studies did not finish and why the first
    did not; the others keep their finished stages."""
    first = failures[0]
    code, params = failure_code_params(failures, total=total)
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
        code=code,
        message=message,
        params=params,
        action="import.failed",
        details={
            "failed_studies": [
                {"study_instance_uid": f.ref.study_instance_uid, "stage": f.stage, "error": f.code}
                for f in failures
            ],
            "studies": total,
        },
    )


def failure_code_params(failures: list[StudyFailure], *, total: int) -> tuple[MessageCode, Params]:
    """The import's error when studies did not finish, with how many failed of how many, how
    many finished and the stage that failed. One study failed: that failure's own code, its own
    params first (its ``total`` is its images, not the import's studies). Several:
    ``studies_failed``, with as ``reason`` the first failure a retry may help (else the first),
    whose params fill the names still free."""
    counts: Params = {
        "failed": len(failures),
        "total": total,
        "finished": total - len(failures),
        "stage": failures[0].stage.value,
    }
    if len(failures) == 1:
        return failures[0].code, {**counts, **failures[0].params}
    retryable = [f for f in failures if f.code not in MEDIUM_ERRORS]
    reason = (retryable or failures)[0]
    counts["stage"] = reason.stage.value
    own = dict(reason.params)
    # the reason's count is of every study it failed, not of the first alone (the app words it)
    alike = [f.params.get("count") for f in failures if f.code == reason.code]
    if isinstance(own.get("count"), int) and all(isinstance(n, int) for n in alike):
        own["count"] = sum(int(n) for n in alike if n is not None)
    return MessageCode.studies_failed, {
        **own,
        **counts,
        "reason": reason.code.value,
    }


async def _stage(db: AsyncSession, study_id: str, name: StageName) -> Stage:
    result = await db.execute(
        select(Stage).where(Stage.study_id == study_id, Stage.name == name.value)
    )
    return result.scalar_one()


def _set_stage(stage: Stage, status: StageStatus, note: Note | None = None) -> None:
    """The stage's new status, with its note (code, params and the English) when given."""
    stage.status = status
    if note is not None:
        stage.code = note.code.value
        stage.params = dict(note.params)
        stage.message = note.message
    stage.updated_at = utcnow()


async def _publish_stage(ctx: PipelineContext, ref: StudyRef, stage: Stage) -> None:
    await ctx.publish(
        ref.import_id,
        "stage",
        study=ref.study_instance_uid,
        name=stage.name,
        status=stage.status,
        attempts_left=stage.attempts_left,
        code=stage.code,
        params=clean_params(stage.params),
        message=stage.message,
    )


async def _audit_stage(
    db: AsyncSession, imp: Import, ref: StudyRef, stage: Stage, *, error: str | None = None
) -> None:
    details: dict[str, Any] = {
        "status": stage.status,
        "code": stage.code,
        "params": clean_params(stage.params),
        "message": stage.message,
    }
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


def _sends(ctx: PipelineContext, imp: Import) -> bool:
    """Whether the store stage sends the import's instances anywhere (a temporary-zone import
    without a temporary PACS node is kept here, unsent, for review)."""
    return not (imp.zone == "temporary" and ctx.temporary_pacs is None)


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
            if not temporary and ctx.settings.undo_possible:
                # a referent may undo it for a while, and file the medium again then
                imp.files_kept_until = utcnow() + timedelta(hours=ctx.settings.undo_hours)
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
            params={"count": missing, "studies": len(short)},
            action="import.failed",
        )
        return
    # the clerk learns it at once; the files (recorded as completed, every instance on the PACS)
    # leave the spool after: removing a DVD's files takes a tenth of a second or more
    await ctx.publish(import_id, "status", status=ImportStatus.completed)
    kept = ctx.settings.retain_spool == "all" or ctx.settings.undo_possible
    if not kept and not temporary:
        await asyncio.to_thread(ctx.spool.delete, import_id)


def _reopen_store(ctx: PipelineContext, study: Study, missing: int) -> Stage:
    """The store stage of a study found short at the end: failed (a retry runs it again), and
    the stages after it pending again (committed, merged and told anew once all is sent)."""
    now = utcnow()
    store_stage = next(st for st in study.stages if st.name == StageName.store.value)
    for stage in study.stages:
        if stage.position > store_stage.position:
            reset_stage(stage, attempts=ctx.settings.stage_attempts, message="", now=now)
    message = (
        f"{missing} of {study.instance_count} instance(s) are not recorded as stored on the "
        "PACS; the files are kept."
    )
    params: Params = {"count": missing, "total": study.instance_count}
    _set_stage(
        store_stage, StageStatus.failed, Note(MessageCode.instances_missing, message, params)
    )
    store_stage.finished_at = now
    return store_stage
