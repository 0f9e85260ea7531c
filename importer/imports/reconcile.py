"""Filing studies under a patient: the one identity gate every path goes through.

Confirm (order and worklist mode), promote and retry call :func:`pass_gate` for the studies they
are about to file; it applies :func:`importer.identity.gate.judge` to each study and the order it
goes to *as that order is now*, records the new comparison when the order changed, and refuses
what the first promise forbids. :func:`freeze_targets` then fixes what the store stage writes.

The two ways a user files an import are here, one call each: :func:`confirm` (order and
worklist mode) and :func:`promote` (a temporary-zone import under an order). In worklist mode
the order is the worklist's, asked through an :data:`AskWorklist` the caller provides (the api
asks the worker, which alone speaks DICOM); never what the browser says an order is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import Order, UserSession
from importer.access.policy import check_zone_role
from importer.access.repository import get_order_by_accession, lock_orders
from importer.access.service import actor_of, upsert_order_from_worklist
from importer.audit.actions import AuditAction
from importer.audit.service import SYSTEM, Actor, about, record
from importer.coerce import CoercionTarget, target_of, validate_target
from importer.db import end_read, utcnow
from importer.errors import Conflict, InvalidInput, OrderChanged
from importer.identity import memory as memory_rule
from importer.identity.gate import (
    Person,
    StudyCheck,
    Verdict,
    compare,
    distinct_patients,
    judge,
)
from importer.identity.memory import FiledBefore, OutsideKey, seen_in
from importer.imports import memory, repository, undo
from importer.imports.models import Import, Stage, Study
from importer.imports.schemas import ConfirmIn, PromoteIn
from importer.imports.states import (
    STAGE_ORDER,
    ImportStatus,
    StageStatus,
    reset_stage,
    set_status,
)
from importer.settings import Settings
from importer.worklist.query import WorklistItem

AskWorklist = Callable[[list[str]], Awaitable[Mapping[str, WorklistItem | None]]]
"""Worklist mode: the worklist's order for each accession number asked (``None`` when it holds
no single one). Raises the worklist's domain errors."""


def medium_patients(study: Study) -> list[Person]:
    """Every distinct patient the analysis found in the study (the first one alone for an
    import analysed before this was recorded)."""
    found = [p for p in (Person.of(e.get("patient")) for e in study.patients or []) if p]
    return distinct_patients([study.patient, *found])


def record_comparison(
    study: Study,
    expected: Person,
    filed: Mapping[tuple[str, ...], Sequence[FiledBefore]] | None = None,
) -> None:
    """Compare every patient of the study with ``expected`` (with the local patients each was
    filed under before, ``filed``, by :meth:`Person.key`) and keep it as what is shown."""
    patients = medium_patients(study)
    reports = [compare(expected, p, (filed or {}).get(p.key(), ())) for p in patients]
    study.identity = reports[0]
    study.patients = [
        {"patient": p.to_dict(), "identity": r} for p, r in zip(patients, reports, strict=True)
    ]
    study.compared_with = expected.to_dict()


def usable_target(order: Order) -> CoercionTarget:
    """The order as it will be written into the images, refused before anything is sent when
    it cannot be (``order_invalid``)."""
    target = target_of(order)
    try:
        validate_target(target)
    except InvalidInput as exc:
        raise Conflict(
            f"The order {order.accession_number} cannot be used: {exc.message}.",
            code="order_invalid",
            params={"reason": exc.code},
        ) from exc
    return target


async def pass_gate(
    db: AsyncSession,
    studies: Sequence[tuple[Study, Order]],
    *,
    acknowledged: bool,
    seen: Mapping[str, Person] | None = None,
    seen_filed: Mapping[str, Iterable[tuple[str, str]]] | None = None,
    actor: Actor,
    import_id: str,
    remember: bool = True,
) -> Verdict:
    """Let ``studies`` be filed under their orders, or refuse (DESIGN §6):

    - ``order_changed`` / ``identity_not_compared`` (409, the new comparison kept): the order's
      patient is not the one the user saw compared (``seen`` — what the app showed, per study
      UID — or else the comparison recorded on the study);
    - ``identity_changed`` (409, the new comparison kept): what is remembered now says a patient
      of the medium was filed under another patient of the hospital, which the comparison the
      user saw did not (``seen_filed`` — the (Patient ID, issuer) the app showed, per study UID
      — and the comparison recorded on the study, both); a study of this same request filing
      the same outside patient under another patient counts as such a filing;
    - ``study_conflict`` (409): the PACS holds a study under another patient;
    - ``identity_not_acknowledged`` (409): a patient of a study is not the order's patient and
      the user did not acknowledge it.
    """
    seen = seen or {}
    # the orders as committed now, locked until the end of the request: a RIS correction lands
    # before this comparison or after the targets are frozen, never in between
    await lock_orders(db, [order.id for _, order in studies])
    # the outside patients too: a filing of one of them elsewhere lands before this reads what
    # is remembered, or after this filing is remembered, never in between
    keys = {
        study.id: {p.key(): memory.key_of(p, study.institution) for p in medium_patients(study)}
        for study, _ in studies
    }
    outside = [k for by_person in keys.values() for k in by_person.values() if k is not None]
    await memory.lock(db, actor.client, outside)
    # this import's own filings (a retry, a comparison made again) say nothing new of it
    remembered = await memory.recall(db, actor.client, outside, besides=import_id)
    filed = {study.id: memory.filed_by_key(keys[study.id], remembered) for study, _ in studies}
    _add_this_request(filed, studies, keys, actor)
    checks = []
    for study, order in studies:
        expected = order.patient
        # what the app says it showed can only narrow: both it and the comparison recorded on
        # the study must be of the order's patient as it is now
        shown = [
            p for p in (seen.get(study.study_instance_uid), Person.of(study.compared_with)) if p
        ]
        differing = [p for p in shown if p.key() != expected.key()]
        check = StudyCheck(
            uid=study.study_instance_uid,
            patients=medium_patients(study),
            compared_with=next(iter(differing or shown), None),
            pacs_patient_id=study.pacs_patient_id,
            filed_before=filed[study.id],
            seen_filed_before=_seen_filed(study, (seen_filed or {}).get(study.study_instance_uid)),
        )
        checks.append((check, expected))
    verdict = judge(checks)
    checked = [(c, s, o) for (c, _), (s, o) in zip(checks, studies, strict=True)]
    if verdict.changed:
        never = any(c.compared_with is None for c, _, _ in checked if c.uid in verdict.changed)
        await _compare_again(
            db,
            checked,
            verdict.changed,
            filed,
            lambda check: "not_compared" if check.compared_with is None else "order_changed",
            actor=actor,
            import_id=import_id,
        )
        if never:
            raise OrderChanged(
                f"{len(verdict.changed)} study(ies) had not been compared with this order's "
                "patient: the comparison is now shown; check it and confirm again.",
                code="identity_not_compared",
                params={"count": len(verdict.changed)},
            )
        raise OrderChanged(
            f"The order's patient changed since the comparison shown for "
            f"{len(verdict.changed)} study(ies): nothing was filed; the new comparison is shown, "
            "check it and confirm again.",
            params={"count": len(verdict.changed)},
        )
    if verdict.history_changed:
        await _compare_again(
            db,
            checked,
            verdict.history_changed,
            filed,
            lambda _check: "filed_before_changed",
            actor=actor,
            import_id=import_id,
        )
        raise OrderChanged(
            "A patient of the medium was filed under another patient of the hospital since the "
            f"comparison shown for {len(verdict.history_changed)} study(ies): nothing was filed; "
            "the new comparison is shown, check it and confirm again.",
            code="identity_changed",
            params={"count": len(verdict.history_changed)},
        )
    if verdict.conflicts:
        raise Conflict(
            "A selected study is already on the PACS under another patient: it cannot be "
            "imported until the PACS administrator resolves it.",
            code="study_conflict",
            params={"count": len(verdict.conflicts)},
        )
    for (_, expected), (study, _) in zip(checks, studies, strict=True):
        # the comparison the filing rests on, as shown
        record_comparison(study, expected, filed[study.id])
    if verdict.mismatched and not acknowledged:
        raise NotAcknowledged(
            "A patient on the medium does not match the order's patient for "
            f"{len(verdict.mismatched)} study(ies): verify the identity and confirm with "
            "acknowledge_identity.",
            params={"count": len(verdict.mismatched)},
        )
    if remember:  # every patient of each study, filed under its order's patient
        await _remember(db, studies, keys, actor, import_id)
    return verdict


def _seen_filed(study: Study, shown: Iterable[tuple[str, str]] | None) -> memory_rule.Seen:
    """The filings under other patients the user saw for ``study``: those its recorded
    comparison says, patient by patient, and, when the app says what it showed (``shown``),
    only those it showed too (it can only narrow)."""
    recorded = [(p.key(), e.get("identity")) for p, e in _compared_patients(study)]
    seen = seen_in(recorded or [(study.patient.key(), study.identity)])
    if shown is None:
        return seen
    app = set(shown)
    return frozenset(s for s in seen if (s[1], s[2]) in app)


def _compared_patients(study: Study) -> list[tuple[Person, dict[str, Any]]]:
    return [(p, e) for e in study.patients or [] if (p := Person.of(e.get("patient"))) is not None]


def _add_this_request(
    filed: dict[str, dict[tuple[str, ...], list[FiledBefore]]],
    studies: Sequence[tuple[Study, Order]],
    keys: Mapping[str, Mapping[tuple[str, ...], OutsideKey | None]],
    actor: Actor,
) -> None:
    """The filings the other studies of this request are about to make, added to what each
    study's patients were filed under: one outside patient filed under two patients of the
    hospital by one confirmation (a worklist medium whose studies went to two namesakes'
    orders) is shown as such before anything is filed."""
    now = utcnow().isoformat()
    for study, own in studies:
        for other, order in studies:
            local = order.patient
            if other is study or (local.id, local.issuer) == (own.patient_id, own.patient_issuer):
                continue
            entry = FiledBefore(
                local.id, local.issuer, local.name, local.birth_date, now, actor.name
            )
            theirs = {k for k in keys[other.id].values() if k is not None}
            for person, key in keys[study.id].items():
                if key is None or key not in theirs:
                    continue
                known = filed[study.id].setdefault(person, [])
                if all((f.patient_id, f.issuer) != (local.id, local.issuer) for f in known):
                    known.append(entry)


async def _compare_again(
    db: AsyncSession,
    checked: Sequence[tuple[StudyCheck, Study, Order]],
    uids: Sequence[str],
    filed: Mapping[str, Mapping[tuple[str, ...], Sequence[FiledBefore]]],
    reason: Callable[[StudyCheck], str],
    *,
    actor: Actor,
    import_id: str,
) -> None:
    """The studies ``uids`` compared again with their orders' patients as they are now, with
    what is remembered now, and recorded for the user to see before anything is filed; each
    audited (``identity.compared``, with ``reason``)."""
    for check, study, order in checked:
        if check.uid not in uids:
            continue
        before = study.compared_with
        record_comparison(study, order.patient, filed[study.id])
        await record(
            db,
            action=AuditAction.identity_compared,
            actor=actor,
            import_id=import_id,
            **about(order),
            study_instance_uid=study.study_instance_uid,
            details={
                "compared_with_before": before,
                "compared_with": study.compared_with,
                "identity": study.identity,
                "reason": reason(check),
            },
        )


async def _remember(
    db: AsyncSession,
    studies: Sequence[tuple[Study, Order]],
    keys: Mapping[str, Mapping[tuple[str, ...], OutsideKey | None]],
    actor: Actor,
    import_id: str,
) -> None:
    """Every patient of each filed study, remembered as filed under its order's patient, each
    write audited (``identity.remembered``)."""
    imp = await db.get(Import, import_id)
    filings: list[memory.Filing] = []
    where: dict[memory.Filing, tuple[Order, Study]] = {}
    for study, order in studies:
        for person in medium_patients(study):
            key = keys[study.id].get(person.key())
            if key is not None:
                filing = memory.Filing(key, person, order.patient, study.institution)
                filings.append(filing)
                where.setdefault(filing, (order, study))
    if not filings:
        return
    written = await memory.remember(
        db,
        actor.client,
        filings,
        at=utcnow(),
        by=actor.id,
        by_name=actor.name,
        import_id=import_id,
        support_id=imp.support_id if imp is not None else "",
    )
    for mapping_id, filing in written:
        order, study = where[filing]
        await record(
            db,
            action=AuditAction.identity_remembered,
            actor=actor,
            import_id=import_id,
            **about(order),
            study_instance_uid=study.study_instance_uid,
            details={
                "mapping": mapping_id,
                "outside_patient_id": filing.key.patient_id,
                "authority": filing.key.authority,
            },
        )


class NotAcknowledged(Conflict):
    """A patient of a study is not the order's patient and the user did not acknowledge it; the
    comparison is kept, so that the app shows exactly what needs the acknowledgement."""

    code = "identity_not_acknowledged"
    keep_changes = True


def freeze_targets(studies: Sequence[tuple[Study, Order]]) -> None:
    """What the store stage writes into each study's images, fixed now: exactly the patient
    and order that passed the gate, whatever the order row becomes later."""
    for study, order in studies:
        study.target = asdict(usable_target(order))


# --------------------------------------------------------------------------- confirm, promote


def check_confirmable(imp: Import, data: ConfirmIn) -> None:
    """What can be refused before anything is looked up."""
    if imp.status != ImportStatus.awaiting_confirmation:
        raise Conflict(
            f"Only an import awaiting confirmation can be confirmed; this one is {imp.status}.",
            code="not_awaiting_confirmation",
            params={"status": imp.status},
        )
    if data.order_for_study and (imp.order is not None or imp.zone == "temporary"):
        raise InvalidInput(
            "order_for_study is for worklist mode; this import has its order already or "
            "goes to the temporary zone.",
            code="invalid_input",
            params={"fields": "order_for_study"},
        )
    uids = {s.study_instance_uid for s in imp.studies}
    unknown = [uid for uid in data.studies if uid not in uids]
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} selected study UID(s) are not in this import.",
            code="unknown_study",
            params={"count": len(unknown)},
        )
    check_documents(imp, data)
    chosen = data.order_for_study or {}
    if set(chosen) - set(data.studies):
        raise InvalidInput(
            "order_for_study names a study that is not selected.",
            code="invalid_input",
            params={"fields": "order_for_study"},
        )
    if worklist_mode(imp):
        # a study the PACS holds wholly needs no order: it is recorded as already present,
        # never sent, filed under no one (nothing to compare, so no identity gate)
        by_uid = {s.study_instance_uid: s for s in imp.studies}
        # a study given documents has something to send: it needs its order
        with_documents = set((data.documents or {}).values())
        missing = {
            u
            for u in data.studies
            if u not in chosen and (u in with_documents or not wholly_on_pacs(by_uid[u]))
        }
        if missing:
            raise InvalidInput(
                "Worklist mode: choose an order for each selected study (order_for_study).",
                code="order_required",
                params={"count": len(missing)},
            )


def check_documents(imp: Import, data: ConfirmIn) -> None:
    """Each document named is one of the import's, filed with a selected study."""
    chosen = data.documents or {}
    known = {d.id for d in imp.documents}
    unknown = [d for d in chosen if d not in known]
    if unknown:
        raise InvalidInput(
            f"{len(unknown)} document id(s) are not documents of this import.",
            code="unknown_document",
            params={"count": len(unknown)},
        )
    selected = set(data.studies)
    elsewhere = [uid for uid in chosen.values() if uid not in selected]
    if elsewhere:
        raise InvalidInput(
            f"{len(elsewhere)} document(s) go with a study that is not selected.",
            code="document_study_not_selected",
            params={"count": len(elsewhere)},
        )


def attach_documents(imp: Import, data: ConfirmIn) -> dict[str, int]:
    """File each document named with its study (the others with none) and return how many
    each study got, by Study Instance UID. A study the PACS holds wholly is no longer so: the
    objects its documents become are not there, and only they are sent."""
    chosen = data.documents or {}
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    counts: dict[str, int] = {}
    for doc in imp.documents:
        if doc.instance_id is not None:
            continue  # wrapped already (sent with its study): it stays where it was filed
        study = by_uid.get(chosen.get(doc.id, ""))
        doc.study = study
        if study is not None:
            counts[study.study_instance_uid] = counts.get(study.study_instance_uid, 0) + 1
            if study.on_pacs and not study.pacs_conflict:
                study.on_pacs = False
    return counts


def worklist_mode(imp: Import) -> bool:
    """A launch without an order: each study's order is chosen in the worklist."""
    return imp.order is None and imp.zone == "pacs"


def wholly_on_pacs(study: Study) -> bool:
    """The PACS holds every instance of the study, under the patient it was analysed against
    (never a ``pacs_conflict``): nothing of it would be sent. In worklist mode such a study may
    end the import without an order; one only partly there still needs its order and the
    identity gate. (The app mirrors this rule: ``whollyOnPacs`` in ``domain/identity.ts``.)"""
    return (
        study.on_pacs
        and not study.pacs_conflict
        and study.instances_on_pacs is not None
        and study.instances_on_pacs == study.instance_count
    )


async def confirm(
    db: AsyncSession,
    import_id: str,
    *,
    data: ConfirmIn,
    user_session: UserSession,
    settings: Settings,
    worklist: AskWorklist,
) -> Import:
    """Confirm the selected studies of an import this session sees (:func:`file_studies`).

    Worklist mode: the worklist is asked for the orders chosen before anything is locked;
    then each study goes to its order as the worklist describes it
    (:func:`assign_worklist_orders`)."""
    imp = await repository.get_for_session(db, import_id, user_session)
    check_zone_role(user_session, imp.zone)
    check_confirmable(imp, data)
    if worklist_mode(imp):
        asked_at = utcnow()
        await end_read(db)  # no transaction held while the worklist answers
        wanted = sorted(set((data.order_for_study or {}).values()))
        items = await worklist(wanted) if wanted else {}
        imp = await repository.get_for_session(db, import_id, user_session, lock=True)
        check_confirmable(imp, data)
        await assign_worklist_orders(
            db,
            imp,
            data=data,
            items=items,
            ris_client=user_session.ris_client,
            actor=actor_of(user_session),
            asked_at=asked_at,
        )
    else:
        imp = await repository.get_for_session(db, import_id, user_session, lock=True)
    await file_studies(db, imp, data=data, user_session=user_session, settings=settings)
    return imp


async def assign_worklist_orders(
    db: AsyncSession,
    imp: Import,
    *,
    data: ConfirmIn,
    items: Mapping[str, WorklistItem | None],
    ris_client: str,
    actor: Actor,
    asked_at: datetime,
) -> None:
    """Worklist mode: each selected study goes to the order the user chose, as the worklist
    (not the browser) describes it; the identity gate of :func:`file_studies` then compares."""
    chosen = data.order_for_study or {}
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    for uid in data.studies:
        if uid not in chosen:
            # wholly on the PACS, ended without an order (check_confirmable): filed under no
            # one, whatever an earlier attempt chose
            by_uid[uid].order = None
            by_uid[uid].order_pk = None
            continue
        item = items.get(chosen[uid])
        if item is None:
            raise Conflict(
                f"The worklist has no single order with accession number {chosen[uid]}.",
                code="order_not_in_worklist",
            )
        order = await upsert_order_from_worklist(
            db, item, ris_client=ris_client, actor=actor, asked_at=asked_at
        )
        usable_target(order)
        study = by_uid[uid]
        study.order = order
        study.order_pk = order.id
    await db.flush()


def already_present(study: Study, order: Order) -> bool:
    """The PACS holds every instance of the study, under the order's patient: nothing to send."""
    return wholly_on_pacs(study) and study.pacs_patient_id == order.patient_id


async def file_studies(
    db: AsyncSession, imp: Import, *, data: ConfirmIn, user_session: UserSession, settings: Settings
) -> None:
    """File the selected studies: each through the identity gate against its order as it is
    now, its coercion target frozen. A study the PACS holds already is ignored (never sent
    again); when every selected study is, the import is complete at once."""
    check_confirmable(imp, data)
    actor = actor_of(user_session)
    by_uid = {s.study_instance_uid: s for s in imp.studies}
    selected = [by_uid[uid] for uid in dict.fromkeys(data.studies)]
    # a study given documents has something to send, wholly on the PACS or not
    with_documents = set((data.documents or {}).values())
    present: list[Study] = []
    gated: list[tuple[Study, Order]] = []
    for study in selected:
        order = study.filed_under
        sends = study.study_instance_uid in with_documents
        if imp.zone == "temporary":
            if study.on_pacs and not sends:
                present.append(study)
            continue  # kept as the medium names it: nothing to compare yet
        if order is None:
            # worklist mode without an order: only a study wholly on the PACS (check_confirmable)
            present.append(study)
            continue
        if already_present(study, order) and not sends:
            present.append(study)
        else:
            gated.append((study, order))
    seen = {uid: Person(**p.model_dump()) for uid, p in (data.seen_patients or {}).items()}
    shown = {
        uid: [(p.id, p.issuer) for p in locals_]
        for uid, locals_ in (data.seen_filed_before or {}).items()
    }
    verdict = await pass_gate(
        db,
        gated,
        acknowledged=data.acknowledge_identity,
        seen=seen,
        seen_filed=shown if data.seen_filed_before is not None else None,
        actor=actor,
        import_id=imp.id,
    )
    freeze_targets(gated)
    documents = attach_documents(imp, data)  # past the gate: a refusal leaves nothing filed
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
        order = study.filed_under
        await record(
            db,
            action=AuditAction.study_already_present
            if study in present
            else AuditAction.import_confirmed,
            actor=actor,
            import_id=imp.id,
            **about(order),
            study_instance_uid=study.study_instance_uid,
            details={
                "identity": study.identity,
                "patients": len(study.patients or []) or 1,
                "compared_with": study.compared_with,
                "acknowledged_identity": data.acknowledge_identity,
                "medium_patient": medium_patient(study),
                "worklist_mode": worklist_mode(imp),
                "institution": study.institution,
                "description": study.description,
                "series": study.series_count,
                "instances": study.instance_count,
                "documents": documents.get(study.study_instance_uid, 0),
            },
        )
    if not to_file:
        set_status(imp, ImportStatus.completed)
        await record(
            db,
            action=AuditAction.import_completed,
            actor=SYSTEM,
            import_id=imp.id,
            **about(imp.order),
            details={
                "already_present": [s.study_instance_uid for s in present],
                "studies": [],
            },
        )
    await db.flush()


def medium_patient(study: Study) -> dict[str, str | None]:
    """The (first) patient the medium names for ``study``, as the audit trail records it."""
    return {
        "name": study.patient_name,
        "id": study.patient_id,
        "birth_date": study.patient_birth_date,
        "sex": study.patient_sex,
    }


async def promote(
    db: AsyncSession,
    import_id: str,
    *,
    data: PromoteIn,
    user_session: UserSession,
    settings: Settings,
    worklist: AskWorklist,
) -> Import:
    """File a temporary-zone import under the order ``data`` names (:func:`order_named`), or
    under the patient the session was launched for without an order (``patient_launch``):
    through the identity gate, then reconciled and stored to the main PACS exactly as an
    order import."""
    if data.patient_launch:
        order = await launched_patient(db, user_session)
    else:
        assert data.accession_number is not None  # PromoteIn: one or the other
        order = await order_named(
            db,
            data.accession_number,
            ris_client=user_session.ris_client,
            actor=actor_of(user_session),
            settings=settings,
            worklist=worklist,
        )
    imp = await repository.get_for_session(db, import_id, user_session, lock=True)
    if imp.zone != "temporary" or imp.status != ImportStatus.completed:
        raise Conflict(
            "Only an import kept in the temporary zone can be promoted.",
            code="not_promotable",
            params={"status": imp.status, "zone": imp.zone},
        )
    usable_target(order)
    studies = [s for s in imp.studies if s.selected]
    if data.patient_launch and data.seen_patient is None:
        # "compare with my patient": never files, whatever was compared before (the app asks
        # it before it shows the comparison; filing needs the patient the user saw)
        for study in studies:
            study.compared_with = None
    pairs = [(s, order) for s in studies]
    seen = data.seen_patient
    shown = Person(**seen.model_dump()) if seen is not None else None
    locals_shown = (
        [(p.id, p.issuer) for p in data.seen_filed_before]
        if data.seen_filed_before is not None
        else None
    )
    verdict = await pass_gate(
        db,
        pairs,
        acknowledged=data.acknowledge_identity,
        seen={s.study_instance_uid: shown for s in studies} if shown else None,
        seen_filed={s.study_instance_uid: locals_shown for s in studies}
        if locals_shown is not None
        else None,
        actor=actor_of(user_session),
        import_id=imp.id,
    )
    freeze_targets(pairs)
    now = utcnow()
    for study in studies:
        study.forget_reach()  # what the temporary PACS took says nothing of the main one
        for stage in study.stages:
            reset_stage(stage, attempts=settings.stage_attempts, message="", now=now)
    await repository.reset_sent(db, imp.id)
    undo.refiled(imp)
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
            action=AuditAction.import_promoted,
            actor=actor_of(user_session),
            import_id=imp.id,
            **about(order),
            study_instance_uid=study.study_instance_uid,
            details={
                "identity": study.identity,
                "acknowledged_identity": data.acknowledge_identity,
                "medium_patient": medium_patient(study),
                "series": study.series_count,
                "instances": study.instance_count,
            },
        )
    return imp


async def launched_patient(db: AsyncSession, user_session: UserSession) -> Order:
    """The patient the session was launched for without an order (an order of kind
    ``patient``), locked as an order is; ``order_not_found`` for a session launched otherwise."""
    order = user_session.order
    if order is None or order.kind != "patient":
        raise Conflict(
            "This session was not opened for a patient without an order.",
            code="order_not_found",
        )
    locked = await get_order_by_accession(
        db, user_session.ris_client, order.accession_number, lock=True
    )
    assert locked is not None  # a session's order is never deleted
    return locked


async def order_named(
    db: AsyncSession,
    accession_number: str,
    *,
    ris_client: str,
    actor: Actor,
    settings: Settings,
    worklist: AskWorklist,
) -> Order:
    """The order a session names by its accession number: the worklist's, or, where no worklist
    is configured, one the session's RIS client (``ris_client``) sent already. Never what the
    browser says an order is, never another RIS client's order."""
    if not settings.worklist_url:
        known = await get_order_by_accession(db, ris_client, accession_number, lock=True)
        if known is None or known.kind != "order":  # a patient's own key is not an order
            raise Conflict(
                f"No order with accession number {accession_number} was sent by the RIS.",
                code="order_not_found",
            )
        return known
    asked_at = utcnow()
    await end_read(db)  # no transaction held while the worklist answers
    item = (await worklist([accession_number])).get(accession_number)
    if item is None:
        raise Conflict(
            f"The worklist has no single order with accession number {accession_number}.",
            code="order_not_in_worklist",
        )
    return await upsert_order_from_worklist(
        db, item, ris_client=ris_client, actor=actor, asked_at=asked_at
    )
