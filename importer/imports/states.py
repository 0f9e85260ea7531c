"""Import statuses, stage names and the transitions between them (DESIGN §4)."""

from __future__ import annotations

from enum import StrEnum


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

_BADGES: dict[ImportStatus, str] = {
    ImportStatus.created: "muted",
    ImportStatus.queued: "warning",
    ImportStatus.analyzing: "primary",
    ImportStatus.awaiting_confirmation: "primary",
    ImportStatus.processing: "primary",
    ImportStatus.completed: "success",
    ImportStatus.failed: "danger",
    ImportStatus.cancelled: "muted",
    ImportStatus.expired: "muted",
    ImportStatus.purged: "muted",
}


def badge(status: str, *, stage_statuses: list[str] | None = None) -> str:
    """The seed's badge colour: processing turns green once stages finish with no error so far."""
    state = ImportStatus(status)
    if state is ImportStatus.processing and stage_statuses:
        if StageStatus.failed in stage_statuses:
            return "danger"
        if any(s in (StageStatus.done, StageStatus.skipped) for s in stage_statuses):
            return "success"
    return _BADGES[state]
