"""The audit trail as read by an auditor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, field_validator

from importer.audit.actions import AuditAction, stored_action


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    action: AuditAction = Field(
        description="What was done (``unknown``: an action this version no longer lists)"
    )
    outcome: str
    actor_id: str
    actor_name: str
    department: str
    import_id: str | None
    accession_number: str
    patient_id: str
    study_instance_uid: str
    details: dict[str, Any]
    seq: int | None
    hash: str | None

    @field_validator("action", mode="before")
    @classmethod
    def _known_action(cls, value: object) -> AuditAction:
        return stored_action(str(value))


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_after: int | None


class ChainOut(BaseModel):
    sealed: int
    unsealed: int
    broken_at: int | None


CSV_COLUMNS = [
    "id",
    "at",
    "action",
    "outcome",
    "actor_id",
    "actor_name",
    "department",
    "import_id",
    "accession_number",
    "patient_id",
    "study_instance_uid",
    "details",
    "seq",
    "hash",
]
