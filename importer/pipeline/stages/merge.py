"""The merge stage: earlier studies of the medium's patient on the PACS moved under the local
patient (a PACS-side merge), only for a study whose every patient matched the order's and
that was confirmed without acknowledging a mismatch; each move audited."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from importer.access.models import Order
from importer.audit.service import SYSTEM, about, record
from importer.coerce import CoercionTarget
from importer.db import transaction
from importer.identity.gate import ACCEPTED, overall
from importer.imports import repository
from importer.imports.models import Import, Study
from importer.imports.states import StageStatus
from importer.merge import (
    LocalPatient,
    MergeError,
    MergeResult,
    MovedStudy,
    PatientRef,
    make_merger,
)
from importer.messages import MessageCode, Note, Params
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StudyRef


async def merge(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    settings = ctx.settings
    if not settings.merge_url:
        return StageStatus.skipped, Note(
            MessageCode.merge_not_configured, "No PACS-side patient merge is configured."
        )
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        study = next(s for s in imp.studies if s.id == ref.study_id)
        order = study.filed_under
        if imp.zone == "temporary" or (order is None and not study.target):
            return StageStatus.skipped, Note(
                MessageCode.merge_not_for_temporary, "Nothing to merge in the temporary zone."
            )
        refused = _merge_refused(imp, study)
        if refused:
            return StageStatus.skipped, Note(MessageCode.merge_refused, refused)
        foreign = PatientRef(id=study.patient_id, issuer=study.patient_issuer)
        local = _local_patient(study, order)
        accession = about(order)["accession_number"]
    try:
        merger = make_merger(settings.merge_url, local_issuers=settings.local_issuers)
        result = await asyncio.to_thread(merger.merge, foreign=foreign, local=local)
    except MergeError as exc:  # fails the stage, retryable; what it moved is audited first
        await _audit_merged(ctx, ref, exc.moved, foreign, local, accession)
        raise
    await _audit_merged(ctx, ref, result.moved, foreign, local, accession)
    return StageStatus.done, merged_note(result)


def merged_note(result: MergeResult) -> Note:
    """What the merge did: ``merged`` with how many earlier studies it moved (none may have
    been there) and how many under the same ID it left alone, belonging to another person;
    ``merge_refused`` when nothing may be merged for the medium's patient at all."""
    if result.refused:
        return Note(MessageCode.merge_refused, result.message)
    params: Params = {"count": result.studies_moved, "left_alone": result.left_alone}
    return Note(MessageCode.merged, result.message, params)


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
        return CoercionTarget(**study.target).person
    assert order is not None
    return order.patient


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
