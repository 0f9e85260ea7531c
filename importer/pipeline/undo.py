"""The worker's side of an undo (the rule is :mod:`importer.imports.undo`'s): ask the PACS to
take back what the import stored, record each instance it took back, and, once none is left,
end the undo: the import moves to the temporary zone with its files, what it remembered is
forgotten, the RIS is told.

Run holding the import (:func:`~importer.pipeline.context.run_leased`, one job at a time). A
PACS away or refusing leaves the undo ``failed`` with its code: what was taken back stays
recorded, and the referent's next request asks for the rest only. An undo whose job was lost
(a worker killed) is handed back by the reconciler.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.actions import AuditAction
from importer.audit.service import SYSTEM, about, record
from importer.db import transaction, utcnow
from importer.imports import memory, repository, ris_outbox
from importer.imports.models import Import, Study
from importer.imports.undo import Taken, counted_elsewhere, group_by_study, stored_by
from importer.logs import describe_exception
from importer.messages import Params
from importer.pacs.base import PacsError
from importer.pacs.reject import Rejector, RejectResult, rejector_for
from importer.pacs.rejection import NoteStudy, RejectedInstance, UndoReason
from importer.pipeline.context import PipelineContext

log = logging.getLogger(__name__)


def note_study(study: Study) -> NoteStudy:
    """The study as it was stored: the patient and order it was filed under (its frozen
    target), the medium's study date and time."""
    target = study.target or {}
    return NoteStudy(
        study_instance_uid=study.study_instance_uid,
        patient_name=str(target.get("patient_name", "")),
        patient_id=str(target.get("patient_id", "")),
        issuer=str(target.get("issuer_of_patient_id", "")),
        birth_date=str(target.get("birth_date", "")),
        sex=str(target.get("sex", "")),
        accession_number=str(target.get("accession_number", "")),
        study_date=study.date or "",
        study_time=study.time or "",
    )


def as_reason(value: str | None) -> UndoReason:
    """The reason recorded with the request (the safer one if it is not one we know)."""
    return "wrong_worklist_entry" if value == "wrong_worklist_entry" else "patient_safety"


def rejector(ctx: PipelineContext) -> Rejector | None:
    return rejector_for(
        ctx.settings.reject_url, ctx.pacs, manufacturer=ctx.settings.modifying_system
    )


def _ask(
    adapter: Rejector,
    studies: list[tuple[NoteStudy, list[Taken]]],
    reason: UndoReason,
) -> tuple[list[RejectResult], str | None]:
    """Ask the PACS study by study; stop at the first study it cannot be asked for (its
    ``pacs_*`` code returned with what was done before)."""
    results: list[RejectResult] = []
    for study, taken in studies:
        refs = [
            RejectedInstance(t.sop_class_uid, t.sop_instance_uid, t.series_instance_uid)
            for t in taken
        ]
        try:
            results.append(adapter.reject(study, refs, reason))
        except PacsError as exc:
            return results, exc.code
    return results, None


async def undo_import(ctx: PipelineContext, import_id: str) -> None:
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.undo_requested_at is None or imp.undone_at is not None:
            return
        if imp.undo_error_code is not None:
            return  # it failed: the referent asks again
        await ctx.ensure_lease(db)
        reason = as_reason(imp.undo_reason)
        taken = await stored_by(db, imp.id)
        # asked again now: an import analysed since the request may count these images as
        # already there, and would complete without them
        others = await counted_elsewhere(db, imp.id)
        if others:
            params: Params = {"count": len(others), "support_id": others[0]}
            await _failed(db, imp, "undo_used_later", params, taken=0)
        by_uid = {s.study_instance_uid: s for s in imp.studies}
        studies = [(note_study(by_uid[uid]), items) for uid, items in group_by_study(taken).items()]
    if others:
        await ctx.publish(import_id, "status", status=imp.status, zone=imp.zone)
        return
    adapter = rejector(ctx)
    error: str | None
    results: list[RejectResult]
    if adapter is None:
        results, error = [], "undo_not_configured"
    else:
        try:
            results, error = await asyncio.to_thread(_ask, adapter, studies, reason)
        except Exception as exc:  # its type only: the message may quote a value
            log.warning(
                "the undo stopped: %s", describe_exception(exc), extra={"import_id": import_id}
            )
            results, error = [], "internal_error"
    done = {uid for r in results for uid in r.taken}
    absent = {uid for r in results for uid in r.absent}
    failed = {uid: code for r in results for uid, code in r.failed.items()}
    if failed and error is None:
        error = next(iter(failed.values()))
    ids = [t.instance_id for t in taken if t.sop_instance_uid in done]
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.undone_at is not None:
            return
        await ctx.ensure_lease(db)
        await repository.mark_rejected(db, ids)
        imp.undo_rejected += len(ids)
        if error is not None:
            await _failed(db, imp, error, {"count": len(taken) - len(ids)}, taken=len(ids))
        else:
            await _done(
                db, imp, absent=len(absent), studies=sorted({t.study_instance_uid for t in taken})
            )
    await ctx.publish(import_id, "status", status=imp.status, zone=imp.zone)


async def _failed(db: AsyncSession, imp: Import, code: str, params: Params, *, taken: int) -> None:
    imp.undo_error_code = code
    imp.undo_error_params = dict(params)
    await record(
        db,
        action=AuditAction.import_undo_failed,
        actor=SYSTEM,
        import_id=imp.id,
        outcome="failure",
        **about(imp.order),
        details={
            "code": code,
            "params": dict(params),
            "taken_back": taken,
            "reason": imp.undo_reason,
        },
    )


async def _done(db: AsyncSession, imp: Import, *, absent: int, studies: list[str]) -> None:
    now = utcnow()
    imp.undone_at = now
    imp.undo_error_code = None
    imp.undo_error_params = None
    # kept for a referent: promoted to the right order, or purged (the temporary zone's rule)
    imp.zone = "temporary"
    imp.files_kept_until = None
    for study in imp.studies:
        study.forget_reach()
        # compared anew with the order it is promoted to, as a temporary-zone import is: what
        # it was compared with (the wrong order) says nothing of the right one
        study.identity = None
        study.compared_with = None
        study.target = None
        study.patients = [{**p, "identity": None} for p in study.patients or []]
    # the wrong patient: what this import remembered is wrong, forgotten; the right patient's
    # wrong order: its patient was right, and stays remembered
    wrong_patient = as_reason(imp.undo_reason) == "patient_safety"
    forgotten = await memory.forget_filed_by(db, imp.id) if wrong_patient else []
    for row in forgotten:
        await record(
            db,
            action=AuditAction.identity_forgotten,
            actor=SYSTEM,
            import_id=imp.id,
            patient_id=row.local_patient_id,
            details={"mapping": row.id, "why": "import.undone", "support_id": imp.support_id},
        )
    await record(
        db,
        action=AuditAction.import_undone,
        actor=SYSTEM,
        import_id=imp.id,
        **about(imp.order),
        details={
            "reason": imp.undo_reason,
            "taken_back": imp.undo_rejected,
            "absent": absent,
            "requested_by": imp.undo_requested_by,
            "identities_forgotten": len(forgotten),
        },
    )
    ris_outbox.on_undone(imp, studies)


async def undo_failed(ctx: PipelineContext, import_id: str, *, code: str) -> None:
    """The undo's job stopped on an error of its own: the undo is failed (the referent asks
    again), the import itself untouched."""
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.undo_requested_at is None or imp.undone_at is not None:
            return
        taken = await stored_by(db, imp.id)
        await _failed(db, imp, code, {"count": len(taken)}, taken=0)
    await ctx.publish(import_id, "status", status=imp.status, zone=imp.zone)
