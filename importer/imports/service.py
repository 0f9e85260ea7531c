"""The rules of an import's life: create, upload, confirm, cancel, expire, and how it is shown."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import Order, UserSession
from importer.access.service import actor_of, order_out, upsert_order_from_worklist
from importer.audit.service import Actor, about, record
from importer.coerce import validate_target
from importer.db import utcnow
from importer.errors import Conflict, Forbidden, InvalidInput, NotFound
from importer.identity import compare_patients
from importer.imports import repository
from importer.imports.models import Import, Stage, Study
from importer.imports.schemas import (
    ConfirmIn,
    ErrorInfo,
    IdentityOut,
    ImportCreate,
    ImportOut,
    ImportSummary,
    MediaOut,
    PatientFound,
    SeriesOut,
    SkippedOut,
    StagePublic,
    StudyOut,
    TemporaryItem,
    TemporaryStudy,
    UploadInfo,
)
from importer.imports.states import (
    CANCELLABLE,
    STAGE_ORDER,
    TERMINAL,
    ImportStatus,
    StageStatus,
    badge,
)
from importer.pipeline.store import target_of
from importer.settings import Settings

_SUPPORT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_support_id() -> str:
    """A short id a user can read to the help desk over the phone."""
    return "MI-" + "".join(secrets.choice(_SUPPORT_ALPHABET) for _ in range(8))


ZONE_ROLES = {"pacs": "clinician", "temporary": "temporary_zone"}


def require_role(user_session: UserSession, role: str) -> None:
    if role not in user_session.roles:
        raise Forbidden(f"This needs the role {role}.", code="role_required")


def require_zone_role(imp: Import, user_session: UserSession) -> None:
    """Working on an import needs the role of its zone."""
    require_role(user_session, ZONE_ROLES[imp.zone])


async def create_import(
    db: AsyncSession, *, user_session: UserSession, data: ImportCreate, settings: Settings
) -> Import:
    require_role(user_session, ZONE_ROLES[data.zone])
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


def can_see(imp: Import, user_session: UserSession) -> bool:
    if imp.zone == "temporary" and "temporary_zone" in user_session.roles:
        return True  # the temporary zone is reviewed by every referent
    if user_session.order_pk is not None:
        return imp.order_pk == user_session.order_pk
    return imp.created_by == user_session.user_id


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


def _error(imp: Import) -> ErrorInfo | None:
    if imp.error_code is None:
        return None
    return ErrorInfo(code=imp.error_code, message=imp.error_message or "")


def _badge(imp: Import) -> str:
    return badge(imp.status, stage_statuses=[s.status for st in imp.studies for s in st.stages])


def summary(imp: Import) -> ImportSummary:
    return ImportSummary(
        id=imp.id,
        support_id=imp.support_id,
        status=imp.status,
        badge=_badge(imp),
        zone=imp.zone,
        accession_number=imp.order.accession_number if imp.order else None,
        created_at=imp.created_at,
        updated_at=imp.updated_at,
        created_by=imp.created_by,
        created_by_name=imp.created_by_name,
        study_instance_uids=[s.study_instance_uid for s in imp.studies],
        descriptions=[s.description for s in imp.studies],
        error=_error(imp),
    )


def _study_out(study: Study) -> StudyOut:
    return StudyOut(
        study_instance_uid=study.study_instance_uid,
        description=study.description,
        date=study.date,
        time=study.time,
        accession_number=study.accession_number,
        institution=study.institution,
        modalities=list(study.modalities),
        series_count=study.series_count,
        instance_count=study.instance_count,
        patient=PatientFound(
            name=study.patient_name,
            id=study.patient_id,
            issuer=study.patient_issuer,
            birth_date=study.patient_birth_date,
            sex=study.patient_sex,
        ),
        identity=IdentityOut.model_validate(study.identity) if study.identity else None,
        on_pacs=study.on_pacs,
        pacs_conflict=study.pacs_conflict,
        instances_on_pacs=study.instances_on_pacs,
        warnings=list(study.warnings),
        order=_study_order(study),
        selected=study.selected,
        series=[
            SeriesOut(
                series_instance_uid=se.series_instance_uid,
                modality=se.modality,
                number=se.number,
                description=se.description,
                instance_count=se.instance_count,
                thumbnail=se.thumbnail is not None,
            )
            for se in study.series
        ],
        stages=[
            StagePublic(
                name=s.name,
                status=s.status,
                attempts_left=s.attempts_left,
                message=s.message,
                updated_at=s.updated_at,
            )
            for s in study.stages
        ],
    )


def study_order(study: Study) -> Order | None:
    """The order a study goes to: chosen per study in worklist mode, else the import's."""
    return study.order or study.import_.order


def _study_order(study: Study) -> str | None:
    order = study_order(study)
    return order.accession_number if order else None


def to_public(imp: Import) -> ImportOut:
    return ImportOut(
        id=imp.id,
        support_id=imp.support_id,
        status=imp.status,
        badge=_badge(imp),
        zone=imp.zone,
        order=order_out(imp.order) if imp.order else None,
        created_at=imp.created_at,
        updated_at=imp.updated_at,
        created_by=imp.created_by,
        created_by_name=imp.created_by_name,
        error=_error(imp),
        upload=UploadInfo(size=imp.upload_size, received=imp.upload_received),
        media=MediaOut(
            files=imp.media_files,
            dicom=imp.media_dicom,
            non_dicom=imp.media_non_dicom,
            unreadable=imp.media_unreadable,
            dicomdir=imp.media_dicomdir,
            skipped=[SkippedOut.model_validate(s) for s in imp.media_skipped],
        ),
        studies=[_study_out(s) for s in imp.studies],
    )


def set_status(
    imp: Import, status: ImportStatus, *, error_code: str | None = None, message: str | None = None
) -> None:
    imp.status = status
    imp.updated_at = utcnow()
    if status in (ImportStatus.completed, ImportStatus.failed):
        imp.finished_at = imp.updated_at
    if error_code is not None:
        imp.error_code = error_code
        imp.error_message = message


def check_upload_offset(imp: Import, offset: int) -> None:
    if imp.status != ImportStatus.created:
        raise Conflict("This upload is complete or closed.", code="upload_closed")
    if offset != imp.upload_received:
        raise Conflict(
            f"Upload-Offset {offset} does not match the {imp.upload_received} bytes received.",
            code="offset_mismatch",
        )


async def record_upload(db: AsyncSession, imp: Import, *, received: int) -> bool:
    """Persist the new offset; on the last byte queue the import. True when it completed."""
    imp.upload_received = received
    imp.updated_at = utcnow()
    if received < imp.upload_size:
        return False
    set_status(imp, ImportStatus.queued)
    await record(
        db,
        action="upload.completed",
        actor=Actor(id=imp.created_by, name=imp.created_by_name, department=imp.department),
        import_id=imp.id,
        **about(imp.order),
        details={"bytes": received, "filename": imp.upload_filename},
    )
    return True


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
    db: AsyncSession, imp: Import, *, data: ConfirmIn, items: Mapping[str, Mapping[str, str] | None]
) -> None:
    """Worklist mode: file each selected study under the order the user chose, as the worklist
    (not the browser) describes it, and compare identities again against that order."""
    chosen = data.order_for_study or {}
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    for uid in data.studies:
        item = items.get(chosen[uid])
        if item is None:
            raise Conflict(
                f"The worklist has no single order with accession number {chosen[uid]}.",
                code="order_not_in_worklist",
            )
        order = await upsert_order_from_worklist(db, item)
        try:
            validate_target(target_of(order))
        except InvalidInput as exc:
            raise Conflict(
                f"The worklist order {order.accession_number} cannot be used: {exc.message}.",
                code="order_invalid",
            ) from exc
        study = by_uid[uid]
        study.order = order
        study.order_pk = order.id
        study.identity = compare_patients(
            {
                "name": order.patient_name,
                "birth_date": order.patient_birth_date,
                "sex": order.patient_sex,
                "id": order.patient_id,
            },
            {
                "name": study.patient_name,
                "birth_date": study.patient_birth_date,
                "sex": study.patient_sex,
                "id": study.patient_id,
            },
        ).to_dict()
        if study.pacs_patient_id is not None:
            study.pacs_conflict = study.pacs_patient_id != order.patient_id
    await db.flush()


async def confirm(
    db: AsyncSession, imp: Import, *, data: ConfirmIn, user_session: UserSession, settings: Settings
) -> None:
    check_confirmable(imp, data)
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    wanted = list(dict.fromkeys(data.studies))
    conflicts = [uid for uid in wanted if by_uid[uid].pacs_conflict]
    if conflicts:
        raise Conflict(
            "A selected study is already on the PACS under another patient: it cannot be "
            "imported until the PACS administrator resolves it.",
            code="study_conflict",
        )
    already = [uid for uid in wanted if by_uid[uid].on_pacs]
    if already:
        raise Conflict(
            "A selected study is already on the PACS and was removed from the import.",
            code="study_on_pacs",
        )
    selected = [by_uid[uid] for uid in wanted]
    # the temporary zone keeps the medium's identity as it is: nothing to compare yet
    compared = selected if imp.zone == "pacs" else []
    mismatched = [s for s in compared if not s.identity or s.identity.get("overall") == "mismatch"]
    if mismatched and not data.acknowledge_identity:
        raise Conflict(
            "The patient on the medium does not match the order's patient for "
            f"{len(mismatched)} selected study(ies): verify the identity and confirm with "
            "acknowledge_identity.",
            code="identity_not_acknowledged",
        )
    now = utcnow()
    for study in imp.studies:
        study.selected = study in selected
        if study.selected and not study.stages:
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
    imp.acknowledged_identity = data.acknowledge_identity
    imp.confirmed_by = user_session.user_id
    imp.confirmed_at = now
    set_status(imp, ImportStatus.processing)
    for study in selected:
        order = study_order(study)
        await record(
            db,
            action="import.confirmed",
            actor=actor_of(user_session),
            import_id=imp.id,
            accession_number=order.accession_number if order else "",
            patient_id=order.patient_id if order else "",
            study_instance_uid=study.study_instance_uid,
            details={
                "identity": study.identity,
                "acknowledged_identity": data.acknowledge_identity,
                "medium_patient": _medium_patient(study),
                "worklist_mode": imp.order is None,
                "institution": study.institution,
                "description": study.description,
                "series": study.series_count,
                "instances": study.instance_count,
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
    user_session: UserSession,
    settings: Settings,
) -> None:
    """File a temporary-zone import under an order: identity compared, then reconciled and
    stored to the main PACS exactly as an order import."""
    if imp.zone != "temporary" or imp.status != ImportStatus.completed:
        raise Conflict(
            "Only an import kept in the temporary zone can be promoted.", code="not_promotable"
        )
    try:
        validate_target(target_of(order))
    except InvalidInput as exc:
        raise Conflict(
            f"The order {order.accession_number} cannot be used: {exc.message}.",
            code="order_invalid",
        ) from exc
    studies = [s for s in imp.studies if s.selected]
    expected = {
        "name": order.patient_name,
        "birth_date": order.patient_birth_date,
        "sex": order.patient_sex,
        "id": order.patient_id,
    }
    for study in studies:
        study.identity = compare_patients(expected, _medium_patient(study)).to_dict()
        if study.pacs_patient_id is not None and study.pacs_patient_id != order.patient_id:
            raise Conflict(
                "A study is already on the PACS under another patient: it cannot be promoted "
                "until the PACS administrator resolves it.",
                code="study_conflict",
            )
    mismatched = [s for s in studies if s.identity and s.identity["overall"] == "mismatch"]
    if mismatched and not acknowledge_identity:
        raise Conflict(
            f"The patient on the medium does not match the order's patient for {len(mismatched)} "
            "study(ies): verify the identity and promote with acknowledge_identity.",
            code="identity_not_acknowledged",
        )
    now = utcnow()
    for study in studies:
        for stage in study.stages:
            stage.status = StageStatus.pending
            stage.attempts_left = settings.stage_attempts
            stage.message = ""
            stage.started_at = None
            stage.finished_at = None
            stage.updated_at = now
    await repository.reset_sent(db, imp.id)
    imp.zone = "pacs"
    imp.order = order
    imp.order_pk = order.id
    imp.promoted_at = now
    imp.acknowledged_identity = acknowledge_identity
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
    items = []
    for imp in rows:
        age = (now - imp.created_at).days
        items.append(
            TemporaryItem(
                id=imp.id,
                support_id=imp.support_id,
                status=imp.status,
                badge=_badge(imp),
                created_at=imp.created_at,
                created_by=imp.created_by,
                created_by_name=imp.created_by_name,
                age_days=age,
                past_review=age >= settings.temporary_review_days,
                size=imp.upload_size,
                studies=[
                    TemporaryStudy(
                        study_instance_uid=s.study_instance_uid,
                        description=s.description,
                        date=s.date,
                        modalities=list(s.modalities),
                        series_count=s.series_count,
                        instance_count=s.instance_count,
                        patient=PatientFound(
                            name=s.patient_name,
                            id=s.patient_id,
                            issuer=s.patient_issuer,
                            birth_date=s.patient_birth_date,
                            sex=s.patient_sex,
                        ),
                    )
                    for s in imp.studies
                ],
            )
        )
    return items


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
    failed = [st for s in imp.studies for st in s.stages if st.status == StageStatus.failed]
    previous = {"error": imp.error_code, "stages": [st.name for st in failed]}
    now = utcnow()
    for stage in failed:
        stage.status = StageStatus.pending
        stage.attempts_left = settings.stage_attempts
        stage.message = "Retry requested."
        stage.finished_at = None
        stage.updated_at = now
    job = "process" if imp.confirmed_at is not None else "analyse"
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


def studies_to_run(imp: Import) -> Sequence[Study]:
    return [s for s in imp.studies if s.selected and not s.on_pacs]
