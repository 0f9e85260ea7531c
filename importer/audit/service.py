"""Writing the audit trail. Called by services inside the transaction of the change it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.actions import AuditAction, audit_action
from importer.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: a user of the SPA, a RIS client, or the system itself. ``client``: the RIS
    client a user came from (RIS B's ``alice`` is not RIS A's), kept in the event's details."""

    id: str
    name: str = ""
    department: str = ""
    client: str = ""


SYSTEM = Actor(id="system", name="PACS Media Import")


class OrderRef(Protocol):
    """What an audit event names of an order (the audit trail imports no other domain)."""

    @property
    def accession_number(self) -> str: ...

    @property
    def patient_id(self) -> str: ...


def about(order: OrderRef | None) -> dict[str, str]:
    """The order and patient an event concerns, as ``record`` takes them (a patient launched
    for without an order: the patient alone, our key of them is no accession number)."""
    if order is None:
        return {"accession_number": "", "patient_id": ""}
    ordered = getattr(order, "kind", "order") != "patient"
    return {
        "accession_number": order.accession_number if ordered else "",
        "patient_id": order.patient_id,
    }


async def record(
    db: AsyncSession,
    *,
    action: AuditAction | str,
    actor: Actor,
    import_id: str | None = None,
    accession_number: str = "",
    patient_id: str = "",
    study_instance_uid: str = "",
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to the trail; ``action`` must be an :class:`AuditAction` (``ValueError``
    otherwise: nothing is written)."""
    event = AuditEvent(
        action=str(audit_action(action)),
        outcome=outcome,
        actor_id=actor.id,
        actor_name=actor.name,
        department=actor.department,
        import_id=import_id,
        accession_number=accession_number,
        patient_id=patient_id,
        study_instance_uid=study_instance_uid,
        details={**(details or {}), **({"ris_client": actor.client} if actor.client else {})},
    )
    db.add(event)
    await db.flush()
    return event
