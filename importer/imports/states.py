"""Import statuses, stage names and the transitions between them (DESIGN §4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from importer.db import utcnow
from importer.messages import MessageCode

if TYPE_CHECKING:
    from importer.imports.models import Import, Stage, Study


class ImportStatus(StrEnum):
    created = "created"
    queued = "queued"
    analyzing = "analyzing"
    awaiting_confirmation = "awaiting_confirmation"
    processing = "processing"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    expired = "expired"
    purged = "purged"


class StageName(StrEnum):
    verify = "verify"
    store = "store"
    commit = "commit"
    merge = "merge"
    notify = "notify"
    finish = "finish"


class StageStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    skipped = "skipped"
    failed = "failed"


class Badge(StrEnum):
    """The seed's colour of an import's status."""

    muted = "muted"
    warning = "warning"
    primary = "primary"
    success = "success"
    danger = "danger"


StudyOutcome = Literal["not_selected", "already_present", "waiting", "processing", "done", "failed"]
"""One study's own end (the others of its import may end otherwise)."""
UnsentReason = Literal["cannot_convert", "sop_class_not_accepted"]
"""Why an object cannot reach the PACS (each a message code; :mod:`importer.pipeline.pacs_fit`)."""

DocumentOutcome = Literal["not_selected", "waiting", "stored", "failed", "taken_back"]
"""Where a document of the medium stands: not filed with any study; waiting to be wrapped and
sent with its study; on the PACS; its study failed; taken back by an undo."""

UndoState = Literal["requested", "failed", "done"]
"""Where a referent's undo of an import stands (:mod:`importer.imports.undo`)."""


def undo_state(
    requested_at: datetime | None, undone_at: datetime | None, error_code: str | None
) -> UndoState | None:
    """Where an import's undo stands (``None``: never asked)."""
    if undone_at is not None:
        return "done"
    if requested_at is None:
        return None
    return "failed" if error_code is not None else "requested"


def undo_until(
    status: str,
    zone: str,
    files_kept_until: datetime | None,
    state: UndoState | None,
    now: datetime,
) -> datetime | None:
    """Until when an import may be undone, as far as the import itself says (the request also
    checks the settings and the other imports, :func:`importer.imports.undo.request_undo`);
    ``None``: it may not be. One whose undo failed may be asked again after the period: its
    files are kept until the undo is done."""
    if status != ImportStatus.completed or zone != "pacs":
        return None
    if state in ("requested", "done") or files_kept_until is None:
        return None
    if state != "failed" and files_kept_until <= now:
        return None
    return files_kept_until


STAGE_ORDER: tuple[StageName, ...] = tuple(StageName)
TERMINAL: frozenset[ImportStatus] = frozenset(
    {
        ImportStatus.completed,
        ImportStatus.failed,
        ImportStatus.cancelled,
        ImportStatus.expired,
        ImportStatus.purged,
    }
)
CANCELLABLE: frozenset[ImportStatus] = frozenset(
    {
        ImportStatus.created,
        ImportStatus.queued,
        ImportStatus.analyzing,
        ImportStatus.awaiting_confirmation,
    }
)

_BADGES: dict[ImportStatus, Badge] = {
    ImportStatus.created: Badge.muted,
    ImportStatus.queued: Badge.warning,
    ImportStatus.analyzing: Badge.primary,
    ImportStatus.awaiting_confirmation: Badge.primary,
    ImportStatus.processing: Badge.primary,
    ImportStatus.completed: Badge.success,
    ImportStatus.failed: Badge.danger,
    ImportStatus.cancelled: Badge.muted,
    ImportStatus.expired: Badge.muted,
    ImportStatus.purged: Badge.muted,
}


def badge(status: str, *, stage_statuses: list[str] | None = None) -> Badge:
    """The seed's badge colour: processing turns green once stages finish with no error so far."""
    state = ImportStatus(status)
    if state is ImportStatus.processing and stage_statuses:
        if StageStatus.failed in stage_statuses:
            return Badge.danger
        if any(s in (StageStatus.done, StageStatus.skipped) for s in stage_statuses):
            return Badge.success
    return _BADGES[state]


MEDIUM_ERRORS = frozenset(
    {
        MessageCode.archive_invalid,
        MessageCode.archive_unsafe,
        MessageCode.archive_too_large,
        MessageCode.no_dicom,
        MessageCode.verify_failed,
        MessageCode.file_changed,
        MessageCode.document_changed,
    }
)
"""Failures of the medium itself: the same files fail the same way, so a retry cannot help."""


def can_retry(
    status: str, error_code: str | None, params: Mapping[str, str | int] | None = None
) -> bool:
    """A failed import may be put back to work unless the medium itself is the problem (the
    one rule: the retry route refuses, and the app offers Retry, by it). When several studies
    failed (``studies_failed``), their ``reason`` is the first failure a retry may help, if any."""
    if status != ImportStatus.failed:
        return False
    if error_code == MessageCode.studies_failed:
        return (params or {}).get("reason") not in MEDIUM_ERRORS
    return error_code not in MEDIUM_ERRORS


# --- transitions ----------------------------------------------------------------------------


def clear_error(imp: Import) -> None:
    """The import's error forgotten (a retry, a reopened confirmation): code, English and params."""
    imp.error_code = None
    imp.error_message = None
    imp.error_params = None


def set_status(
    imp: Import,
    status: ImportStatus,
    *,
    error_code: str | None = None,
    message: str | None = None,
    params: Mapping[str, str | int] | None = None,
) -> None:
    """Move an import to ``status`` (finished when it ends; with its error, its code's params
    and the English message, when given). The RIS callback this change tells (confirmed,
    retried, finished…) is written in the same session, so committed with it."""
    previous = imp.status
    imp.status = status
    imp.updated_at = utcnow()
    if status in (ImportStatus.completed, ImportStatus.failed):
        imp.finished_at = imp.updated_at
    if error_code is not None:
        imp.error_code = error_code
        imp.error_message = message
        imp.error_params = dict(params or {})
    # imported here: the outbox's table refers to the imports table, whose model imports this
    from importer.imports.ris_outbox import on_status

    on_status(imp, previous)


def reset_stage(stage: Stage, *, attempts: int, message: str, now: datetime) -> None:
    """Give a stage back its attempts, to run again (its last note goes)."""
    stage.status = StageStatus.pending
    stage.attempts_left = attempts
    stage.message = message
    stage.code = None
    stage.params = None
    stage.started_at = None
    stage.finished_at = None
    stage.updated_at = now


def studies_to_run(imp: Import) -> Sequence[Study]:
    """The studies the processing job files: selected, and not on the PACS already."""
    return [s for s in imp.studies if s.selected and not s.on_pacs]
