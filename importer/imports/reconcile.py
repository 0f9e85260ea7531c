"""Filing studies under a patient: the one identity gate every path goes through.

Confirm (order and worklist mode), promote and retry call :func:`pass_gate` for the studies they
are about to file; it applies :func:`importer.identity.gate.judge` to each study and the order it
goes to *as that order is now*, records the new comparison when the order changed, and refuses
what the first promise forbids. :func:`freeze_targets` then fixes what the store stage writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict

from sqlalchemy.ext.asyncio import AsyncSession

from importer.access.models import Order
from importer.access.repository import lock_orders
from importer.audit.service import Actor, record
from importer.coerce import CoercionTarget, target_of, validate_target
from importer.errors import Conflict, InvalidInput, OrderChanged
from importer.identity.gate import (
    Person,
    StudyCheck,
    Verdict,
    compare,
    distinct_patients,
    judge,
    needs_acknowledgement,
)
from importer.imports.models import Study


def study_order(study: Study) -> Order | None:
    """The order a study goes to: chosen per study in worklist mode, else the import's."""
    return study.order or study.import_.order


def order_person(order: Order) -> Person:
    return Person(
        name=order.patient_name,
        id=order.patient_id,
        issuer=order.patient_issuer,
        birth_date=order.patient_birth_date,
        sex=order.patient_sex,
    )


def medium_patients(study: Study) -> list[Person]:
    """Every distinct patient the analysis found in the study (the first one alone for an
    import analysed before this was recorded)."""
    found = [p for p in (Person.of(e.get("patient")) for e in study.patients or []) if p]
    first = Person(
        name=study.patient_name,
        id=study.patient_id,
        issuer=study.patient_issuer,
        birth_date=study.patient_birth_date,
        sex=study.patient_sex,
    )
    return distinct_patients([first, *found])


def record_comparison(study: Study, expected: Person) -> None:
    """Compare every patient of the study with ``expected`` and keep it as what is shown."""
    patients = medium_patients(study)
    reports = [compare(expected, p) for p in patients]
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
        ) from exc
    return target


async def pass_gate(
    db: AsyncSession,
    studies: Sequence[tuple[Study, Order]],
    *,
    acknowledged: bool,
    seen: Mapping[str, Person] | None = None,
    actor: Actor,
    import_id: str,
) -> Verdict:
    """Let ``studies`` be filed under their orders, or refuse (DESIGN §6):

    - ``order_changed`` / ``identity_not_compared`` (409, the new comparison kept): the order's
      patient is not the one the user saw compared (``seen`` — what the app showed, per study
      UID — or else the comparison recorded on the study);
    - ``study_conflict`` (409): the PACS holds a study under another patient;
    - ``identity_not_acknowledged`` (409): a patient of a study is not the order's patient and
      the user did not acknowledge it.
    """
    seen = seen or {}
    # the orders as committed now, locked until the end of the request: a RIS correction lands
    # before this comparison or after the targets are frozen, never in between
    await lock_orders(db, [order.id for _, order in studies])
    checks = []
    for study, order in studies:
        expected = order_person(order)
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
        )
        checks.append((check, expected))
    verdict = judge(checks)
    if verdict.changed:
        never = False
        for (check, expected), (study, order) in zip(checks, studies, strict=True):
            if check.uid not in verdict.changed:
                continue
            never = never or check.compared_with is None
            before = study.compared_with
            record_comparison(study, expected)
            await record(
                db,
                action="identity.compared",
                actor=actor,
                import_id=import_id,
                accession_number=order.accession_number,
                patient_id=order.patient_id,
                study_instance_uid=study.study_instance_uid,
                details={
                    "compared_with_before": before,
                    "compared_with": study.compared_with,
                    "identity": study.identity,
                    "reason": "not_compared" if check.compared_with is None else "order_changed",
                },
            )
        if never:
            raise OrderChanged(
                f"{len(verdict.changed)} study(ies) had not been compared with this order's "
                "patient: the comparison is now shown; check it and confirm again.",
                code="identity_not_compared",
            )
        raise OrderChanged(
            f"The order's patient changed since the comparison shown for "
            f"{len(verdict.changed)} study(ies): nothing was filed; the new comparison is shown, "
            "check it and confirm again.",
        )
    if verdict.conflicts:
        raise Conflict(
            "A selected study is already on the PACS under another patient: it cannot be "
            "imported until the PACS administrator resolves it.",
            code="study_conflict",
        )
    for (_, expected), (study, _) in zip(checks, studies, strict=True):
        record_comparison(study, expected)  # the comparison the filing rests on, as shown
    if verdict.mismatched and not acknowledged:
        raise NotAcknowledged(
            "A patient on the medium does not match the order's patient for "
            f"{len(verdict.mismatched)} study(ies): verify the identity and confirm with "
            "acknowledge_identity.",
        )
    return verdict


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


def acknowledgement_required(study: Study) -> bool:
    """Whether filing ``study`` as it was last compared needs the user's acknowledgement."""
    if study.compared_with is None:
        return False
    return needs_acknowledgement(
        [e.get("identity") for e in study.patients or []] or [study.identity]
    )
