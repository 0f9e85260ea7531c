"""What the audit trail records: a closed set of actions.

Every event is one of :class:`AuditAction`; :func:`audit_action` refuses any other (a
programming error, like a :class:`~importer.messages.MessageCode` not listed). The app words an
import's log from the action (``GET /imports/{id}/log``), so a new action is added here first.
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """Every action the services, the pipeline and the worker record."""

    # --- orders, launches and sessions (RIS and browser)
    order_created = "order.created"
    order_updated = "order.updated"
    launch_created = "launch.created"
    session_opened = "session.opened"
    session_closed = "session.closed"
    # --- an import's life
    import_created = "import.created"
    upload_completed = "upload.completed"
    import_analysed = "import.analysed"
    identity_compared = "identity.compared"
    identity_recalled = "identity.recalled"
    identity_remembered = "identity.remembered"
    identity_forgotten = "identity.forgotten"
    import_confirmed = "import.confirmed"
    study_already_present = "study.already_present"
    import_reopened = "import.reopened"
    import_retried = "import.retried"
    import_promoted = "import.promoted"
    import_moved_to_temporary = "import.moved_to_temporary"
    import_completed = "import.completed"
    import_failed = "import.failed"
    import_cancelled = "import.cancelled"
    import_expired = "import.expired"
    import_purged = "import.purged"
    import_undo_requested = "import.undo_requested"
    import_undone = "import.undone"
    import_undo_failed = "import.undo_failed"
    study_merged = "study.merged"
    # --- a study's pipeline stages (``stage.<StageName>``)
    stage_verify = "stage.verify"
    stage_store = "stage.store"
    stage_commit = "stage.commit"
    stage_merge = "stage.merge"
    stage_notify = "stage.notify"
    stage_finish = "stage.finish"
    # --- read back only, never recorded
    unknown = "unknown"
    """An action an older version recorded and this one no longer lists (as the API shows it)."""


STAGE_PREFIX = "stage."


def audit_action(action: str) -> AuditAction:
    """``action`` as a member of the closed set; any other is a programming error."""
    try:
        member = AuditAction(action)
    except ValueError:
        member = AuditAction.unknown
    if member is AuditAction.unknown:
        raise ValueError(f"{action!r} is not an AuditAction: add it to importer/audit/actions.py")
    return member


def stored_action(action: str) -> AuditAction:
    """An action read back from the trail: one no longer listed is shown as ``unknown`` (the
    trail itself keeps what was recorded)."""
    try:
        return AuditAction(action)
    except ValueError:
        return AuditAction.unknown


def stage_of(action: AuditAction) -> str | None:
    """The stage a ``stage.<name>`` action is about (``None`` for any other action)."""
    if action.startswith(STAGE_PREFIX):
        return action.removeprefix(STAGE_PREFIX)
    return None
