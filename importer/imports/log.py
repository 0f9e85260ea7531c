"""An import's own log (the procedure's "Open" window): its audit events, each told with an
allow-list of its recorded details the app words in the user's language.

The trail records what an auditor needs (patients compared, study UIDs, file names); the log
shows none of it: only codes, counts, statuses and names of steps, typed (:class:`LogDetails`),
so that nothing else can slip through when a service records more.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal, TypeVar, cast, get_args

from pydantic import BaseModel, Field

from importer.access.policy import Zone
from importer.audit.actions import AuditAction, stage_of, stored_action
from importer.audit.models import AuditEvent
from importer.audit.service import SYSTEM
from importer.identity.report import Overall
from importer.imports.states import ImportStatus, StageName, StageStatus
from importer.messages import MessageCode, Params, clean_params, stored_code
from importer.pacs.rejection import UndoReason

E = TypeVar("E", bound=StrEnum)


class LogDetails(BaseModel):
    """What the app words one line of an import's log with (each key only where the event has
    it): codes, counts, statuses and names of steps; never patient data, study UIDs nor free
    text. Chosen from the event's recorded details by :func:`details`."""

    code: MessageCode | None = Field(
        None, description="The error, the stage's note or the reason the event records"
    )
    params: Params | None = Field(None, description="The parameters of ``code``, by name")
    stage: StageName | None = Field(None, description="The stage the event is about")
    status: StageStatus | None = Field(None, description="The stage's status after the event")
    from_status: ImportStatus | None = Field(
        None, description="The import's status before it was cancelled or expired"
    )
    study: int | None = Field(
        None, description="Which study of the import (1: the first as the import lists them)"
    )
    count: int | None = Field(
        None, description="How many studies the event is about (a retry: how many stages)"
    )
    total: int | None = Field(None, description="How many studies the import files in all")
    files: int | None = Field(None, description="Files found on the medium")
    dicom: int | None = Field(None, description="DICOM files found on the medium")
    skipped: int | None = Field(None, description="Files of the medium not taken")
    documents: int | None = Field(
        None,
        description="The medium's PDFs and images: found (analysed), or filed with the study "
        "(confirmed)",
    )
    series: int | None = None
    instances: int | None = None
    size: int | None = Field(None, description="Bytes declared (created) or received (uploaded)")
    zone: Zone | None = None
    mode: Literal["order", "patient", "worklist", "temporary"] | None = None
    identity: Overall | None = Field(
        None, description="The comparison of the medium's patient with the order's"
    )
    acknowledged: bool | None = Field(
        None, description="The user acknowledged a patient that does not match"
    )
    already_present: int | None = Field(None, description="Studies the PACS held already")
    after_s: int | None = Field(None, description="Seconds without progress before it expired")
    undo_reason: UndoReason | None = Field(None, description="Why a referent undid the import")


class ImportLogEntry(BaseModel):
    """One event of an import's log."""

    at: dt.datetime
    action: AuditAction
    outcome: Literal["success", "failure"]
    user: str = Field(description="Who did it, by the name the app shows (the system's own)")
    system: bool = Field(
        description="Done by the application itself (the pipeline, the expiry): the app names "
        "it in the user's language rather than by ``user``"
    )
    details: LogDetails


class ImportLog(BaseModel):
    """An import's own log, oldest first."""

    items: list[ImportLogEntry]


MODES = ("order", "patient", "worklist", "temporary")
OVERALLS: tuple[str, ...] = get_args(Overall)
# a reason recorded in words of its own, as the message code the app words
REASONS = {
    "not_compared": MessageCode.identity_not_compared,
    "filed_before_changed": MessageCode.identity_changed,
}
UNDO_ACTIONS = (
    AuditAction.import_undo_requested,
    AuditAction.import_undone,
    AuditAction.import_undo_failed,
)
UNDO_REASONS: tuple[str, ...] = get_args(UndoReason)
# the lists whose length is the event's count, the first one recorded
COUNTED = ("failed_studies", "studies", "stages")


def import_log(events: Sequence[AuditEvent], *, study_numbers: Mapping[str, int]) -> ImportLog:
    """The log of an import from its events (oldest first); ``study_numbers``: each study's
    number in the import by its UID (a UID is never shown, its number is)."""
    return ImportLog(items=[entry(e, study_numbers=study_numbers) for e in events])


def entry(event: AuditEvent, *, study_numbers: Mapping[str, int]) -> ImportLogEntry:
    action = stored_action(event.action)
    return ImportLogEntry(
        at=event.at,
        action=action,
        outcome="failure" if event.outcome == "failure" else "success",
        user=event.actor_name or event.actor_id,
        system=event.actor_id == SYSTEM.id,
        details=details(
            action, event.details or {}, study=study_numbers.get(event.study_instance_uid)
        ),
    )


def details(action: AuditAction, raw: Mapping[str, Any], *, study: int | None) -> LogDetails:
    """The allow-listed details of one event (``raw``: as recorded)."""
    code, params = _code(raw)
    return LogDetails(
        code=code,
        params=params if code is not None else None,
        stage=_stage(action, raw),
        status=_member(StageStatus, raw.get("status")) if stage_of(action) else None,
        from_status=_member(ImportStatus, raw.get("from_status")),
        study=study,
        count=_count(raw),
        total=_int(raw.get("studies")),
        files=_int(raw.get("files")),
        dicom=_int(raw.get("dicom")),
        skipped=_int(raw.get("skipped")),
        documents=_int(raw.get("documents")),
        series=_int(raw.get("series")),
        instances=_int(raw.get("instances", raw.get("taken_back"))),
        size=_int(raw.get("bytes", raw.get("size"))),
        zone=_member(Zone, raw.get("zone")),
        mode=raw["mode"] if raw.get("mode") in MODES else None,
        identity=_overall(raw.get("identity")),
        acknowledged=_bool(raw.get("acknowledged_identity")),
        already_present=_length(raw.get("already_present")),
        after_s=_int(raw.get("after_s")),
        undo_reason=raw["reason"]
        if action in UNDO_ACTIONS and raw.get("reason") in UNDO_REASONS
        else None,
    )


def _code(raw: Mapping[str, Any]) -> tuple[MessageCode | None, Params]:
    """The event's code: a note's or an error's (``code``, ``error``) or its reason."""
    for key in ("code", "error"):
        value = raw.get(key)
        if isinstance(value, str):
            params = raw.get("params")
            return stored_code(value), clean_params(params if isinstance(params, dict) else None)
    reason = raw.get("reason")
    if isinstance(reason, str):
        code = REASONS.get(reason) or _member(MessageCode, reason)
        if code is not None:
            return code, {}
    return None, {}


def _stage(action: AuditAction, raw: Mapping[str, Any]) -> StageName | None:
    """A stage's event is about that stage; a failed import about its first failed stage."""
    named = stage_of(action) or raw.get("stage")
    failed = raw.get("failed_studies")
    if named is None and isinstance(failed, list) and failed and isinstance(failed[0], dict):
        named = failed[0].get("stage")
    return _member(StageName, named)


def _count(raw: Mapping[str, Any]) -> int | None:
    for key in COUNTED:
        value = raw.get(key)
        if isinstance(value, list):
            return len(value)
    return None


def _overall(value: object) -> Overall | None:
    if isinstance(value, dict):
        value = value.get("overall")
    return cast(Overall, value) if value in OVERALLS else None


def _member(kind: type[E], value: object) -> E | None:
    if not isinstance(value, str):
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _length(value: object) -> int | None:
    return len(value) if isinstance(value, list) else None
