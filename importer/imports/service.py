"""The rules of an import's life: create, upload, confirm, cancel, expire, and how it is shown."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import UserSession
from importer.access.policy import check_zone_role
from importer.access.service import actor_of
from importer.audit import repository as audit_repository
from importer.audit.actions import AuditAction
from importer.audit.service import Actor, about, record
from importer.coerce import CoercionTarget
from importer.db import utcnow
from importer.errors import Conflict, InvalidInput, NotFound, OrderChanged
from importer.identity.schemas import LocalPatientOut
from importer.imports import memory, reconcile, repository, ris_outbox
from importer.imports.log import ImportLog, import_log
from importer.imports.models import Import, RememberedIdentity
from importer.imports.reconcile import freeze_targets, medium_patient, pass_gate
from importer.imports.repository import get_for_session as get_for_session
from importer.imports.schemas import (
    ImportCreate,
    ImportOut,
    ImportSummary,
    OutsidePatientOut,
    RememberedOut,
    TemporaryItem,
)
from importer.imports.states import (
    CANCELLABLE,
    TERMINAL,
    ImportStatus,
    StageName,
    StageStatus,
    clear_error,
    reset_stage,
    set_status,
    studies_to_run,
)
from importer.messages import stored_code
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
            params={"limit": settings.max_open_uploads_per_session},
        )
    # the temporary zone is for patients the hospital does not know yet: no order
    order = user_session.order if data.zone == "pacs" else None
    if data.size > settings.max_upload_bytes:
        raise InvalidInput(
            f"The archive is larger than the limit of {settings.max_upload_bytes} bytes.",
            code="upload_too_large",
            params={"max_bytes": settings.max_upload_bytes},
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
    ris_outbox.on_created(imp)
    await record(
        db,
        action=AuditAction.import_created,
        actor=actor_of(user_session),
        import_id=imp.id,
        **about(order),
        details={
            "support_id": imp.support_id,
            "zone": imp.zone,
            "size": data.size,
            # an order's kind: a RIS order, or a patient launched for without one
            "mode": order.kind if order else ("worklist" if data.zone == "pacs" else "temporary"),
        },
    )
    return imp


async def list_for_session(db: AsyncSession, user_session: UserSession) -> list[ImportSummary]:
    if user_session.order_pk is not None:
        rows = await repository.list_for_order(db, user_session.order_pk)
    else:
        rows = await repository.list_for_user(
            db, user_session.user_id, ris_client=user_session.ris_client
        )
    return [summary(row) for row in rows]


async def list_for_accession(
    db: AsyncSession, accession_number: str, *, ris_client: str
) -> list[ImportSummary]:
    """The imports of the order ``ris_client`` sent under ``accession_number``."""
    rows = await repository.list_for_accession(db, accession_number, ris_client=ris_client)
    return [summary(row) for row in rows]


def summary(imp: Import) -> ImportSummary:
    return ImportSummary.model_validate(imp)


def to_public(imp: Import) -> ImportOut:
    return ImportOut.model_validate(imp)


async def log_of(db: AsyncSession, imp: Import) -> ImportLog:
    """The import's own log: its audit events, oldest first, told without patient data (a study
    by its number in the import, never its UID)."""
    events = await audit_repository.events_for_import(db, imp.id)
    numbers = {s.study_instance_uid: n for n, s in enumerate(imp.studies, start=1)}
    return import_log(events, study_numbers=numbers)


async def cancel(db: AsyncSession, imp: Import, *, actor: Actor) -> None:
    if imp.status == ImportStatus.cancelled:
        return
    if imp.status not in CANCELLABLE:
        raise Conflict(
            f"An import that is {imp.status} can no longer be cancelled.",
            code="not_cancellable",
            params={"status": imp.status},
        )
    previous = imp.status
    set_status(imp, ImportStatus.cancelled)
    await record(
        db,
        action=AuditAction.import_cancelled,
        actor=actor,
        import_id=imp.id,
        **about(imp.order),
        details={"from_status": previous, "studies": [s.study_instance_uid for s in imp.studies]},
    )


async def purge(db: AsyncSession, imp: Import, *, actor: Actor) -> None:
    """Delete our copy of a temporary-zone import (the route deletes its files)."""
    if imp.status == ImportStatus.purged:
        return
    if imp.zone != "temporary":
        raise Conflict(
            "Only temporary-zone imports are purged; an order import is cancelled instead.",
            code="not_purgeable",
            params={"zone": imp.zone},
        )
    if imp.status not in TERMINAL and imp.status != ImportStatus.awaiting_confirmation:
        raise Conflict(
            f"An import that is {imp.status} cannot be purged now; try again when it ends.",
            code="not_purgeable",
            params={"status": imp.status},
        )
    set_status(imp, ImportStatus.purged)
    imp.purged_at = imp.updated_at
    await record(
        db,
        action=AuditAction.import_purged,
        actor=actor,
        import_id=imp.id,
        details={
            "studies": [
                {"study_instance_uid": s.study_instance_uid, "medium_patient": medium_patient(s)}
                for s in imp.studies
            ]
        },
    )


async def move_to_temporary(db: AsyncSession, imp: Import, *, user_session: UserSession) -> None:
    """Send a worklist-mode import, still awaiting confirmation, to the temporary zone (the
    worklist has no order for its patient): it stays awaiting confirmation, to be confirmed as
    a temporary-zone import, and every referent of the temporary zone sees it. Needs the role
    ``temporary_zone``; moving one already there does nothing."""
    check_zone_role(user_session, "temporary")
    if imp.zone == "temporary" and imp.status == ImportStatus.awaiting_confirmation:
        return  # moved already (a double click, another tab)
    if not reconcile.worklist_mode(imp) or imp.status != ImportStatus.awaiting_confirmation:
        raise Conflict(
            "Only a worklist-mode import awaiting confirmation can be sent to the temporary "
            f"zone; this one is {imp.status} ({imp.zone}).",
            code="not_movable_to_temporary",
            params={"status": imp.status, "zone": imp.zone},
        )
    imp.zone = "temporary"
    for study in imp.studies:
        # no order any more: what an earlier attempt chose or compared does not follow it
        study.order = None
        study.order_pk = None
        study.identity = None
        study.compared_with = None
        study.patients = [{**e, "identity": None} for e in study.patients or []]
        study.forget_reach()  # foreseen for the main PACS, not the temporary one
    await record(
        db,
        action=AuditAction.import_moved_to_temporary,
        actor=actor_of(user_session),
        import_id=imp.id,
        details={
            "zone": imp.zone,
            "mode": "worklist",
            "studies": [s.study_instance_uid for s in imp.studies],
        },
    )


async def list_temporary(
    db: AsyncSession, *, user_session: UserSession, settings: Settings
) -> list[TemporaryItem]:
    """The temporary zone of the session's RIS client."""
    now = utcnow()
    rows = await repository.list_zone(
        db,
        "temporary",
        ris_client=user_session.ris_client,
        exclude=[ImportStatus.purged, ImportStatus.cancelled, ImportStatus.expired],
    )
    context = {"now": now, "review_days": settings.temporary_review_days}
    return [TemporaryItem.model_validate(imp, context=context) for imp in rows]


async def retry(
    db: AsyncSession, imp: Import, *, actor: Actor, settings: Settings, files_present: bool
) -> str:
    """Put a failed import back to work; return which job to run ("analyse" or "process")."""
    if imp.status != ImportStatus.failed:
        raise Conflict(
            f"Only a failed import can be retried; this one is {imp.status}.",
            code="not_retryable",
            params={"status": imp.status},
        )
    if not imp.retryable:
        raise Conflict(
            "The medium itself is the problem: retrying cannot help. Load it again or check it.",
            code="not_retryable",
            params={"reason": stored_code(imp.error_code)},
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
    previous = {
        "error": imp.error_code,
        "params": imp.error_params or {},
        "stages": [st.name for st in failed],
    }
    now = utcnow()
    for stage in failed:
        reset_stage(stage, attempts=settings.stage_attempts, message="Retry requested.", now=now)
    clear_error(imp)
    imp.finished_at = None
    set_status(imp, ImportStatus.processing if job == "process" else ImportStatus.queued)
    await record(
        db,
        action=AuditAction.import_retried,
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
        order = study.filed_under
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
            remember=False,  # filed when confirmed, by whom confirmed: a retry files nothing new
        )
        # a study confirmed before targets were frozen (an import older than the gate) gets
        # the target of the order it has just been compared with
        freeze_targets([(s, o) for s, o in pairs if s.target is None])
    except OrderChanged as changed:
        # an instance may be on the PACS without being recorded as sent (the association broke
        # after the PACS stored it): only an import whose store never began goes back
        started = any(
            st.name == StageName.store and st.started_at is not None
            for s in imp.studies
            for st in s.stages
        )
        if not started and await repository.count_sent(db, imp.id) == 0:
            await repository.unwrap_documents(db, imp)  # the user chooses them again
            for study in imp.studies:
                study.stages = []
                study.target = None
                study.selected = False
            imp.confirmed_at = None
            imp.confirmed_by = None
            imp.acknowledged_identity = False
            clear_error(imp)
            imp.finished_at = None
            set_status(imp, ImportStatus.awaiting_confirmation)
            await record(
                db,
                action=AuditAction.import_reopened,
                actor=actor,
                import_id=imp.id,
                **about(imp.order),
                details={"reason": changed.code},
            )
        else:
            imp.error_code = changed.code
            imp.error_message = (
                "The order's patient changed after part of this import was sent: a referent "
                "must check it before anything more is filed."
                if changed.code == "order_changed"
                else "A patient of this medium was filed before under another patient of the "
                "hospital, which the comparison shown did not say: a referent must check it "
                "before anything more is filed."
            )
        raise


# --- remembered identities (issue 16, point 1) --------------------------------------------------


def remembered_out(row: RememberedIdentity) -> RememberedOut:
    return RememberedOut(
        id=row.id,
        outside=OutsidePatientOut(
            issuer=row.outside_issuer,
            institution=row.outside_institution,
            id=row.outside_patient_id,
            name=row.outside_name,
            birth_date=row.outside_birth_date,
        ),
        local=LocalPatientOut(
            id=row.local_patient_id,
            issuer=row.local_issuer,
            name=row.local_name,
            birth_date=row.local_birth_date,
        ),
        filed_at=row.filed_at,
        filed_by=row.filed_by_name or row.filed_by,
        support_id=row.support_id,
    )


async def list_remembered(
    db: AsyncSession, *, user_session: UserSession, query: str = ""
) -> list[RememberedOut]:
    """The identities remembered for the session's RIS client, the last filed first (``query``:
    a Patient ID or a name, either side's)."""
    rows = await memory.search(db, user_session.ris_client, query)
    return [remembered_out(row) for row in rows]


async def forget_remembered(
    db: AsyncSession, mapping_id: str, *, user_session: UserSession
) -> None:
    """Remove one remembered identity of the session's RIS client (404 ``not_found`` when it has
    no such one), audited (``identity.forgotten``) with what it said."""
    row = await memory.get(db, user_session.ris_client, mapping_id)
    if row is None:
        raise NotFound("No such remembered identity.", code="not_found")
    said = remembered_out(row)
    if not await memory.forget(db, user_session.ris_client, mapping_id):
        raise NotFound("No such remembered identity.", code="not_found")  # removed meanwhile
    await record(
        db,
        action=AuditAction.identity_forgotten,
        actor=actor_of(user_session),
        patient_id=row.local_patient_id,
        details={
            "mapping": mapping_id,
            "outside": said.outside.model_dump(),
            "local": said.local.model_dump(),
            "filed_at": said.filed_at.isoformat(),
            "filed_by": said.filed_by,
            "support_id": said.support_id,
        },
    )
