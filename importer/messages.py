"""Every message the app may show, as a stable code with parameters.

The server never words a screen: an API error, an import's error, a stage's note and a skipped
file each carry a :class:`MessageCode` and ``params`` (counts, a DIMSE status, a stage's name:
never patient data), and the app renders them from its catalogs in the user's language
(``frontend/src/i18n/messages``). The English ``message`` next to them is for integrators and
logs. A code not listed here is a programming error: :func:`message_code` refuses it, and the
catalogs' test fails when a code listed here has no Italian, French or English text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

Params = dict[str, str | int]
"""A message's parameters: counts, statuses, names of steps; never patient data. Two names are
worded by the app too: ``reason`` holds another :class:`MessageCode` (the cause inside a
message) and ``stage`` a :class:`~importer.imports.states.StageName`."""

ParamsField = Annotated[
    Params, Field(default_factory=dict, description="The message's parameters, by name")
]


class MessageCode(StrEnum):
    """A closed set: each has a text in every language of the app."""

    # --- the API's refusals: requests, access and sessions
    bad_request = "bad_request"
    invalid_input = "invalid_input"
    unauthorized = "unauthorized"
    forbidden = "forbidden"
    not_found = "not_found"
    method_not_allowed = "method_not_allowed"
    conflict = "conflict"
    gone = "gone"
    http_error = "http_error"
    unsupported_media_type = "unsupported_media_type"
    tus_version = "tus_version"
    internal_error = "internal_error"
    service_unavailable = "service_unavailable"
    worker_unavailable = "worker_unavailable"
    rate_limited = "rate_limited"
    too_many_streams = "too_many_streams"
    api_key_missing = "api_key_missing"
    api_key_invalid = "api_key_invalid"
    token_missing = "token_missing"
    token_invalid = "token_invalid"
    token_expired = "token_expired"
    token_used = "token_used"
    role_required = "role_required"
    callback_invalid = "callback_invalid"
    callback_insecure = "callback_insecure"
    callback_userinfo = "callback_userinfo"
    callback_unsigned = "callback_unsigned"
    callback_host_not_allowed = "callback_host_not_allowed"
    # --- imports: uploads, confirmation, promotion, retries
    import_not_found = "import_not_found"
    upload_too_large = "upload_too_large"
    upload_busy = "upload_busy"
    upload_closed = "upload_closed"
    upload_not_owned = "upload_not_owned"
    offset_mismatch = "offset_mismatch"
    too_many_uploads = "too_many_uploads"
    not_awaiting_confirmation = "not_awaiting_confirmation"
    not_cancellable = "not_cancellable"
    not_promotable = "not_promotable"
    not_purgeable = "not_purgeable"
    not_movable_to_temporary = "not_movable_to_temporary"
    not_retryable = "not_retryable"
    not_undoable = "not_undoable"
    undo_not_configured = "undo_not_configured"
    undo_period_over = "undo_period_over"
    undo_in_progress = "undo_in_progress"
    undo_used_later = "undo_used_later"
    undo_nothing_stored = "undo_nothing_stored"
    files_gone = "files_gone"
    unknown_study = "unknown_study"
    unknown_document = "unknown_document"
    document_study_not_selected = "document_study_not_selected"
    study_conflict = "study_conflict"
    order_required = "order_required"
    order_invalid = "order_invalid"
    order_not_found = "order_not_found"
    order_not_in_worklist = "order_not_in_worklist"
    identity_changed = "identity_changed"
    order_changed = "order_changed"
    identity_not_compared = "identity_not_compared"
    identity_not_acknowledged = "identity_not_acknowledged"
    thumbnail_unavailable = "thumbnail_unavailable"
    image_unavailable = "image_unavailable"
    empty_query = "empty_query"
    too_many_orders = "too_many_orders"
    # --- the worklist
    worklist_failed = "worklist_failed"
    worklist_unreachable = "worklist_unreachable"
    worklist_not_configured = "worklist_not_configured"
    # --- the medium (an import's error, or a file skipped by the analysis)
    archive_invalid = "archive_invalid"
    archive_unsafe = "archive_unsafe"
    archive_too_large = "archive_too_large"
    spool_full = "spool_full"
    no_dicom = "no_dicom"
    invalid_uid = "invalid_uid"
    dicomdir = "dicomdir"
    empty = "empty"
    junk = "junk"
    not_dicom = "not_dicom"
    unreadable = "unreadable"
    truncated = "truncated"
    header_too_large = "header_too_large"
    nested_archive = "nested_archive"
    missing_file = "missing_file"
    missing_uid = "missing_uid"
    encrypted = "encrypted"
    unsupported_compression = "unsupported_compression"
    duplicate_instance = "duplicate_instance"
    document_unreadable = "document_unreadable"
    document_too_large = "document_too_large"
    # --- the PACS, the RIS, the stages
    failed = "failed"
    expired = "expired"
    pacs_error = "pacs_error"
    pacs_unreachable = "pacs_unreachable"
    pacs_rejected = "pacs_rejected"
    pacs_timeout = "pacs_timeout"
    pacs_aborted = "pacs_aborted"
    pacs_failed = "pacs_failed"
    pacs_unsupported = "pacs_unsupported"
    pacs_no_context = "pacs_no_context"
    pacs_invalid_url = "pacs_invalid_url"
    pacs_query_failed = "pacs_query_failed"
    store_failed = "store_failed"
    cannot_convert = "cannot_convert"
    sop_class_not_accepted = "sop_class_not_accepted"
    instances_missing = "instances_missing"
    invalid_target = "invalid_target"
    target_missing = "target_missing"
    commit_incomplete = "commit_incomplete"
    verify_failed = "verify_failed"
    spool_unreadable = "spool_unreadable"
    file_changed = "file_changed"
    document_changed = "document_changed"
    merge_failed = "merge_failed"
    ris_unreachable = "ris_unreachable"
    ris_rejected = "ris_rejected"
    studies_failed = "studies_failed"
    # --- a stage's note: what it did, or why it was not needed
    instances_verified = "instances_verified"
    documents_wrapped = "documents_wrapped"
    instances_stored = "instances_stored"
    instances_already_on_pacs = "instances_already_on_pacs"
    commit_not_configured = "commit_not_configured"
    commit_not_offered = "commit_not_offered"
    commit_not_for_temporary = "commit_not_for_temporary"
    instances_committed = "instances_committed"
    merge_not_configured = "merge_not_configured"
    merge_not_for_temporary = "merge_not_for_temporary"
    merge_refused = "merge_refused"
    merged = "merged"
    notify_no_callback = "notify_no_callback"
    notify_on_promotion = "notify_on_promotion"
    ris_notified = "ris_notified"
    ris_notify_queued = "ris_notify_queued"
    study_imported = "study_imported"
    study_kept_temporary = "study_kept_temporary"
    no_temporary_pacs = "no_temporary_pacs"


@dataclass(frozen=True)
class Note:
    """What a step has to say: a code with its params, and the English for logs."""

    code: MessageCode
    message: str
    params: Params = field(default_factory=dict)


def message_code(code: str) -> MessageCode:
    """``code`` as a member of the closed set; a code not listed is a programming error."""
    try:
        return MessageCode(code)
    except ValueError:
        raise ValueError(f"{code!r} is not a MessageCode: add it to importer/messages.py") from None


def stored_code(code: str | None, fallback: MessageCode = MessageCode.failed) -> MessageCode:
    """A code read back from the database: one an older version wrote and no longer lists is
    shown as ``fallback`` (its English message is kept next to it)."""
    if code is None:
        return fallback
    try:
        return MessageCode(code)
    except ValueError:
        return fallback


def clean_params(params: dict[str, Any] | None) -> Params:
    """Parameters fit for the API: strings and integers only, anything else dropped."""
    out: Params = {}
    for key, value in (params or {}).items():
        if isinstance(value, bool):
            out[key] = int(value)
        elif isinstance(value, int | str):
            out[key] = value
    return out
