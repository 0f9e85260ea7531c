"""The rules of an import's life: create, upload, confirm, cancel, expire, and how it is shown."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import Order, UserSession
from importer.access.policy import can_see, check_zone_role
from importer.access.service import actor_of, upsert_order_from_worklist
from importer.audit.service import SYSTEM, Actor, about, record
from importer.coerce import CoercionTarget
from importer.db import utcnow
from importer.errors import Conflict, InvalidInput, NotFound, OrderChanged
from importer.identity.gate import Person
from importer.imports import repository
from importer.imports.models import Import, Stage, Study
from importer.imports.reconcile import (
    freeze_targets,
    pass_gate,
    study_order,
    usable_target,
)
from importer.imports.schemas import (
    ConfirmIn,
    ImportCreate,
    ImportOut,
    ImportSummary,
    PatientSeen,
    TemporaryItem,
)
from importer.imports.states import (
    CANCELLABLE,
    STAGE_ORDER,
    TERMINAL,
    ImportStatus,
    StageName,
    StageStatus,
    reset_stage,
    set_status,
    studies_to_run,
)
from importer.settings import Settings

_SUPPORT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_support_id() -> str:
    """A short id a user can read to the help desk over the phone."""
    return "MI-" + "".join(secrets.choice(_SUPPORT_ALPHABET) for _ in range(8))


async def create_import(
    db: AsyncSession, *, user_session: UserSession, data: ImportCreate, settings: Settings
) -> Import:
    check_zone_role(user_session, data.zone)
    if await repository.count_open_uploads(db, user_session.id) >= (
        settings.max_open_uploads_per_session
    ):
        raise Conflict(
            "This session has too many unfinished uploads: finish or cancel one first.",
            code="too_many_uploads",
        )
    # the temporary zone is for patients the hospital does not know yet: no order
    order = user_session.order if data.zone == "pacs" else None
    if data.size > settings.max_upload_bytes:
        raise InvalidInput(
            f"The archive is larger than the limit of {settings.max_upload_bytes} bytes.",
            code="upload_too_large",
        )
    imp = Import(
        support_id=new_support_id(),
        zone=data.zone,
        status=ImportStatus.created,
        order_pk=order.id if order else None,
        order=order,
        session_id=user_session.id,
        created_by=user_session.user_id,
        created_by_name=user_session.user_name,
        department=user_session.department,
        callback_url=user_session.callback_url,
        upload_size=data.size,
        upload_filename=data.filename,
        studies=[],
    )
    db.add(imp)
    await db.flush()
    await record(
        db,
        action="import.created",
        actor=actor_of(user_session),
        import_id=imp.id,
        accession_number=order.accession_number if order else "",
        patient_id=order.patient_id if order else "",
        details={
            "support_id": imp.support_id,
            "zone": imp.zone,
            "size": data.size,
            "mode": "order" if order else ("worklist" if data.zone == "pacs" else "temporary"),
        },
    )
    return imp


async def get_for_session(
    db: AsyncSession, import_id: str, user_session: UserSession, *, lock: bool = False
) -> Import:
    imp = await repository.get(db, import_id, lock=lock)
    if imp is None or not can_see(imp, user_session):
        raise NotFound("No such import.", code="import_not_found")
    return imp


async def list_for_session(db: AsyncSession, user_session: UserSession) -> list[ImportSummary]:
    if user_session.order_pk is not None:
        rows = await repository.list_for_order(db, user_session.order_pk)
    else:
        rows = await repository.list_for_user(db, user_session.user_id)
    return [summary(row) for row in rows]


async def list_for_accession(db: AsyncSession, accession_number: str) -> list[ImportSummary]:
    return [summary(row) for row in await repository.list_for_accession(db, accession_number)]


def summary(imp: Import) -> ImportSummary:
    return ImportSummary.model_validate(imp)


def to_public(imp: Import) -> ImportOut:
    return ImportOut.model_validate(imp)


async def cancel(db: AsyncSession, imp: Import, *, actor: Actor) -> None:
    if imp.status == ImportStatus.cancelled:
        return
    if imp.status not in CANCELLABLE:
        raise Conflict(
            f"An import that is {imp.status} can no longer be cancelled.", code="not_cancellable"
        )
    previous = imp.status
    set_status(imp, ImportStatus.cancelled)
    await record(
        db,
        action="import.cancelled",
        actor=actor,
        import_id=imp.id,
        **about(imp.order),
        details={"from_status": previous, "studies": [s.study_instance_uid for s in imp.studies]},
    )


def check_confirmable(imp: Import, data: ConfirmIn) -> None:
    """What can be refused before anything is looked up."""
    if imp.status != ImportStatus.awaiting_confirmation:
        raise Conflict(
            f"Only an import awaiting confirmation can be confirmed; this one is {imp.status}.",
            code="not_awaiting_confirmation",
        )
    if data.order_for_study and (imp.order is not None or imp.zone == "temporary"):
        raise InvalidInput(
            "order_for_study is for worklist mode; this import has its order already or "
            "goes to the temporary zone.",
            code="invalid_input",
        )
    uids = {s.study_instance_uid for s in imp.studies}
    unknown = [uid for uid in data.studies if uid not in uids]
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} selected study UID(s) are not in this import.", code="unknown_study"
        )
    if imp.order is None and imp.zone == "pacs":
        chosen = data.order_for_study or {}
        if any(uid not in chosen for uid in data.studies):
            raise InvalidInput(
                "Worklist mode: choose an order for each selected study (order_for_study).",
                code="order_required",
            )


async def assign_worklist_orders(
    db: AsyncSession,
    imp: Import,
    *,
    data: ConfirmIn,
    items: Mapping[str, Mapping[str, str] | None],
    actor: Actor,
    asked_at: datetime,
) -> None:
    """Worklist mode: each selected study goes to the order the user chose, as the worklist
    (not the browser) describes it; the identity gate of :func:`confirm` then compares."""
    chosen = data.order_for_study or {}
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    for uid in data.studies:
        item = items.get(chosen[uid])
        if item is None:
            raise Conflict(
                f"The worklist has no single order with accession number {chosen[uid]}.",
                code="order_not_in_worklist",
            )
        order = await upsert_order_from_worklist(db, item, actor=actor, asked_at=asked_at)
        usable_target(order)
        study = by_uid[uid]
        study.order = order
        study.order_pk = order.id
    await db.flush()


def already_present(study: Study, order: Order) -> bool:
    """The PACS holds every instance of the study, under the order's patient: nothing to send."""
    return (
        study.on_pacs
        and not study.pacs_conflict
        and study.instances_on_pacs == study.instance_count
        and study.pacs_patient_id == order.patient_id
    )


async def confirm(
    db: AsyncSession, imp: Import, *, data: ConfirmIn, user_session: UserSession, settings: Settings
) -> None:
    """File the selected studies: each through the identity gate against its order as it is
    now, its coercion target frozen. A study the PACS holds already is ignored (never sent
    again); when every selected study is, the import is complete at once."""
    check_confirmable(imp, data)
    actor = actor_of(user_session)
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    selected = [by_uid[uid] for uid in dict.fromkeys(data.studies)]
    present: list[Study] = []
    gated: list[tuple[Study, Order]] = []
    for study in selected:
        order = study_order(study)
        if imp.zone == "temporary":
            if study.on_pacs:
                present.append(study)
            continue  # kept as the medium names it: nothing to compare yet
        assert order is not None  # order mode, or chosen per study (check_confirmable)
        if already_present(study, order):
            present.append(study)
        else:
            gated.append((study, order))
    seen = {uid: Person(**p.model_dump()) for uid, p in (data.seen_patients or {}).items()}
    verdict = await pass_gate(
        db,
        gated,
        acknowledged=data.acknowledge_identity,
        seen=seen,
        actor=actor,
        import_id=imp.id,
    )
    freeze_targets(gated)
    now = utcnow()
    to_file = [s for s in selected if s not in present]
    for study in imp.studies:
        study.selected = study in selected
        if study in to_file and not study.stages:
            study.stages = [
                Stage(
                    name=name.value,
                    position=i,
                    status=StageStatus.pending,
                    attempts_left=settings.stage_attempts,
                    updated_at=now,
                )
                for i, name in enumerate(STAGE_ORDER)
            ]
    # what was acknowledged: a mismatch the user saw (never a bare flag with nothing to accept)
    imp.acknowledged_identity = bool(verdict.mismatched)
    imp.confirmed_by = user_session.user_id
    imp.confirmed_at = now
    set_status(imp, ImportStatus.processing)
    for study in selected:
        order = study_order(study)
        await record(
            db,
            action="study.already_present" if study in present else "import.confirmed",
            actor=actor,
            import_id=imp.id,
            accession_number=order.accession_number if order else "",
            patient_id=order.patient_id if order else "",
            study_instance_uid=study.study_instance_uid,
            details={
                "identity": study.identity,
                "patients": len(study.patients or []) or 1,
                "compared_with": study.compared_with,
                "acknowledged_identity": data.acknowledge_identity,
                "medium_patient": _medium_patient(study),
                "worklist_mode": imp.order is None and imp.zone == "pacs",
                "institution": study.institution,
                "description": study.description,
                "series": study.series_count,
                "instances": study.instance_count,
            },
        )
    if not to_file:
        set_status(imp, ImportStatus.completed)
        await record(
            db,
            action="import.completed",
            actor=SYSTEM,
            import_id=imp.id,
            **about(imp.order),
            details={
                "already_present": [s.study_instance_uid for s in present],
                "studies": [],
            },
        )
    await db.flush()


def _medium_patient(study: Study) -> dict[str, str | None]:
    return {
        "name": study.patient_name,
        "id": study.patient_id,
        "birth_date": study.patient_birth_date,
        "sex": study.patient_sex,
    }


async def promote(
    db: AsyncSession,
    imp: Import,
    *,
    order: Order,
    acknowledge_identity: bool,
    seen: PatientSeen | None = None,
    user_session: UserSession,
    settings: Settings,
) -> None:
    """File a temporary-zone import under an order: through the identity gate, then
    reconciled and stored to the main PACS exactly as an order import."""
    if imp.zone != "temporary" or imp.status != ImportStatus.completed:
        raise Conflict(
            "Only an import kept in the temporary zone can be promoted.", code="not_promotable"
        )
    usable_target(order)
    studies = [s for s in imp.studies if s.selected]
    pairs = [(s, order) for s in studies]
    shown = Person(**seen.model_dump()) if seen is not None else None
    verdict = await pass_gate(
        db,
        pairs,
        acknowledged=acknowledge_identity,
        seen={s.study_instance_uid: shown for s in studies} if shown else None,
        actor=actor_of(user_session),
        import_id=imp.id,
    )
    freeze_targets(pairs)
    now = utcnow()
    for study in studies:
        for stage in study.stages:
            reset_stage(stage, attempts=settings.stage_attempts, message="", now=now)
    await repository.reset_sent(db, imp.id)
    imp.zone = "pacs"
    imp.order = order
    imp.order_pk = order.id
    imp.promoted_at = now
    imp.acknowledged_identity = bool(verdict.mismatched)
    imp.finished_at = None
    set_status(imp, ImportStatus.processing)
    for study in studies:
        await record(
            db,
            action="import.promoted",
            actor=actor_of(user_session),
            import_id=imp.id,
            accession_number=order.accession_number,
            patient_id=order.patient_id,
            study_instance_uid=study.study_instance_uid,
            details={
                "identity": study.identity,
                "acknowledged_identity": acknowledge_identity,
                "medium_patient": _medium_patient(study),
                "series": study.series_count,
                "instances": study.instance_count,
            },
        )


async def purge(db: AsyncSession, imp: Import, *, actor: Actor) -> None:
    """Delete our copy of a temporary-zone import (the route deletes its files)."""
    if imp.status == ImportStatus.purged:
        return
    if imp.zone != "temporary":
        raise Conflict(
            "Only temporary-zone imports are purged; an order import is cancelled instead.",
            code="not_purgeable",
        )
    if imp.status not in TERMINAL and imp.status != ImportStatus.awaiting_confirmation:
        raise Conflict(
            f"An import that is {imp.status} cannot be purged now; try again when it ends.",
            code="not_purgeable",
        )
    set_status(imp, ImportStatus.purged)
    imp.purged_at = imp.updated_at
    await record(
        db,
        action="import.purged",
        actor=actor,
        import_id=imp.id,
        details={
            "studies": [
                {"study_instance_uid": s.study_instance_uid, "medium_patient": _medium_patient(s)}
                for s in imp.studies
            ]
        },
    )


async def list_temporary(db: AsyncSession, *, settings: Settings) -> list[TemporaryItem]:
    now = utcnow()
    rows = await repository.list_zone(
        db, "temporary", exclude=[ImportStatus.purged, ImportStatus.cancelled, ImportStatus.expired]
    )
    context = {"now": now, "review_days": settings.temporary_review_days}
    return [TemporaryItem.model_validate(imp, context=context) for imp in rows]


MEDIUM_ERRORS = frozenset(
    {"archive_invalid", "archive_unsafe", "archive_too_large", "no_dicom", "verify_failed"}
)


async def retry(
    db: AsyncSession, imp: Import, *, actor: Actor, settings: Settings, files_present: bool
) -> str:
    """Put a failed import back to work; return which job to run ("analyse" or "process")."""
    if imp.status != ImportStatus.failed:
        raise Conflict(
            f"Only a failed import can be retried; this one is {imp.status}.", code="not_retryable"
        )
    if imp.error_code in MEDIUM_ERRORS:
        raise Conflict(
            "The medium itself is the problem: retrying cannot help. Load it again or check it.",
            code="not_retryable",
        )
    if not files_present:
        raise Conflict(
            "The files of this import are no longer kept: load the medium again.",
            code="files_gone",
        )
    job = "process" if imp.confirmed_at is not None else "analyse"
    if job == "process" and imp.zone == "pacs":
        await _gate_again(db, imp, actor=actor)
    failed = [st for s in imp.studies for st in s.stages if st.status == StageStatus.failed]
    previous = {"error": imp.error_code, "stages": [st.name for st in failed]}
    now = utcnow()
    for stage in failed:
        reset_stage(stage, attempts=settings.stage_attempts, message="Retry requested.", now=now)
    imp.error_code = None
    imp.error_message = None
    imp.finished_at = None
    set_status(imp, ImportStatus.processing if job == "process" else ImportStatus.queued)
    await record(
        db,
        action="import.retried",
        actor=actor,
        import_id=imp.id,
        **about(imp.order),
        details=previous,
    )
    return job


async def _gate_again(db: AsyncSession, imp: Import, *, actor: Actor) -> None:
    """A retry files what is left under the patient accepted at confirmation: the order must
    still name that patient. When it does not, the new comparison is recorded; an import that
    sent nothing yet goes back to confirmation, one that did stays failed for a referent."""
    pending = [
        s
        for s in studies_to_run(imp)
        if any(st.status not in (StageStatus.done, StageStatus.skipped) for st in s.stages)
    ]
    pairs = []
    for study in pending:
        order = study_order(study)
        if order is None:
            continue
        pairs.append((study, order))
    accepted = {
        s.study_instance_uid: CoercionTarget(**s.target).person for s, _ in pairs if s.target
    }
    try:
        await pass_gate(
            db,
            pairs,
            acknowledged=imp.acknowledged_identity,
            seen=accepted,
            actor=actor,
            import_id=imp.id,
        )
        # a study confirmed before targets were frozen (an import older than the gate) gets
        # the target of the order it has just been compared with
        freeze_targets([(s, o) for s, o in pairs if s.target is None])
    except OrderChanged:
        # an instance may be on the PACS without being recorded as sent (the association broke
        # after the PACS stored it): only an import whose store never began goes back
        started = any(
            st.name == StageName.store and st.started_at is not None
            for s in imp.studies
            for st in s.stages
        )
        if not started and await repository.count_sent(db, imp.id) == 0:
            for study in imp.studies:
                study.stages = []
                study.target = None
                study.selected = False
            imp.confirmed_at = None
            imp.confirmed_by = None
            imp.acknowledged_identity = False
            imp.error_code = None
            imp.error_message = None
            imp.finished_at = None
            set_status(imp, ImportStatus.awaiting_confirmation)
            await record(
                db,
                action="import.reopened",
                actor=actor,
                import_id=imp.id,
                **about(imp.order),
                details={"reason": "order_changed"},
            )
        else:
            imp.error_code = "order_changed"
            imp.error_message = (
                "The order's patient changed after part of this import was sent: a referent "
                "must check it before anything more is filed."
            )
        raise
