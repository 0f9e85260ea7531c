"""SPA routes on imports: create, list, read, read its log, follow live, confirm, cancel,
retry, promote, send to the temporary zone, purge, undo."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.deps import (
    AfterCommitDep,
    CurrentSession,
    RedisDep,
    SessionDep,
    SessionMakerDep,
    SettingsDep,
    SpoolDep,
    require_role,
)
from api.errors import responses
from api.routers.worklist import WorklistDep
from api.security import stream_slot
from importer.access.policy import check_zone_role
from importer.access.service import actor_of, session_expiry
from importer.db import transaction, utcnow
from importer.events import SESSION_ENDED, subscribe
from importer.imports import reconcile, service, undo
from importer.imports.log import ImportLog
from importer.imports.schemas import (
    Accepted,
    ConfirmIn,
    ImportCreate,
    ImportCreated,
    ImportList,
    ImportOut,
    PromoteIn,
    UndoIn,
)
from importer.imports.states import TERMINAL, ImportStatus
from importer.jobs import ANALYSE, PROCESS, UNDO
from importer.messages import MessageCode

router = APIRouter(prefix="/imports", tags=["imports"])

HEARTBEAT_S = 15
STREAM_CHECK_S = 10
"""How often a live stream refreshes its slot and reads its session again from the database."""


@router.get("", responses=responses(401))
async def list_imports(user_session: CurrentSession, db: SessionDep) -> ImportList:
    """Earlier imports of this session's order ("previous imports with log")."""
    return ImportList(items=await service.list_for_session(db, user_session))


@router.post("", status_code=201, responses=responses(401, 403, 409, 422))
async def create_import(
    body: ImportCreate,
    user_session: CurrentSession,
    db: SessionDep,
    settings: SettingsDep,
    after: AfterCommitDep,
) -> ImportCreated:
    """Create an import for this session's order; upload the archive to ``upload_url`` (tus)."""
    imp = await service.create_import(db, user_session=user_session, data=body, settings=settings)
    after.publish(imp.id, "status", status=imp.status)
    return ImportCreated(id=imp.id, status=imp.status, upload_url=f"/api/v1/uploads/{imp.id}")


@router.get("/{import_id}", responses=responses(401, 404))
async def get_import(import_id: str, user_session: CurrentSession, db: SessionDep) -> ImportOut:
    """The whole import: media report, studies with identity and stages."""
    return service.to_public(await service.get_for_session(db, import_id, user_session))


@router.get("/{import_id}/log", responses=responses(401, 404), response_model_exclude_none=True)
async def get_import_log(import_id: str, user_session: CurrentSession, db: SessionDep) -> ImportLog:
    """The import's own log, oldest first: each event's ``action``, who did it (``user``: a
    name) and ``details`` the app words the line with (a message ``code`` with its ``params``,
    the ``stage``, a ``count`` of studies...: only the keys the event has). Never patient data
    nor study UIDs: a study is named by its number in the import (``study``)."""
    imp = await service.get_for_session(db, import_id, user_session)
    return await service.log_of(db, imp)


@router.post(
    "/{import_id}/confirm", status_code=202, responses=responses(401, 404, 409, 422, 502, 503)
)
async def confirm_import(
    import_id: str,
    body: ConfirmIn,
    user_session: CurrentSession,
    db: SessionDep,
    settings: SettingsDep,
    worklist: WorklistDep,
    spool: SpoolDep,
    after: AfterCommitDep,
) -> Accepted:
    """Confirm the selected studies. Each passes the identity gate against its order as it is
    now: ``order_changed`` (409) when the order's patient is not the one compared (the new
    comparison is then shown), ``identity_not_acknowledged`` when a patient of a study does not
    match and ``acknowledge_identity`` is false, ``study_conflict`` when the PACS holds a study
    under another patient. A study on the PACS already is ignored; when all are, the import is
    complete at once. Worklist mode: ``order_for_study`` gives each study's order and
    ``seen_patients`` the candidate patient the user saw; a study the PACS holds wholly needs
    no order (recorded as already present, filed under no one)."""
    imp = await reconcile.confirm(
        db,
        import_id,
        data=body,
        user_session=user_session,
        settings=settings,
        worklist=worklist,
    )
    if imp.status == ImportStatus.completed:
        # every selected study is on the PACS already: nothing to send
        if settings.retain_spool != "all":
            after.call(asyncio.to_thread, spool.delete, imp.id)
    else:
        after.enqueue(PROCESS, imp.id)
    after.publish(imp.id, "status", status=imp.status)
    return Accepted(id=imp.id, status=imp.status)


@router.post("/{import_id}/cancel", status_code=202, responses=responses(401, 404, 409))
async def cancel_import(
    import_id: str,
    user_session: CurrentSession,
    db: SessionDep,
    spool: SpoolDep,
    after: AfterCommitDep,
) -> Accepted:
    """Cancel the import; its files are deleted from the spool."""
    imp = await service.get_for_session(db, import_id, user_session, lock=True)
    check_zone_role(user_session, imp.zone)
    await service.cancel(db, imp, actor=actor_of(user_session))
    after.call(asyncio.to_thread, spool.delete, imp.id)
    after.publish(imp.id, "status", status=imp.status)
    return Accepted(id=imp.id, status=imp.status)


@router.post("/{import_id}/retry", status_code=202, responses=responses(401, 404, 409))
async def retry_import(
    import_id: str,
    user_session: CurrentSession,
    db: SessionDep,
    spool: SpoolDep,
    settings: SettingsDep,
    after: AfterCommitDep,
) -> Accepted:
    """Retry a failed import: its failed stages get their attempts back (or the analysis runs
    again when the PACS was out of reach). Not for a broken medium."""
    imp = await service.get_for_session(db, import_id, user_session, lock=True)
    check_zone_role(user_session, imp.zone)
    present = await asyncio.to_thread(spool.upload_path(imp.id).exists)
    job = await service.retry(
        db, imp, actor=actor_of(user_session), settings=settings, files_present=present
    )
    after.enqueue(PROCESS if job == "process" else ANALYSE, imp.id)
    after.publish(imp.id, "status", status=imp.status)
    return Accepted(id=imp.id, status=imp.status)


@router.post(
    "/{import_id}/promote",
    status_code=202,
    responses=responses(401, 403, 404, 409, 422, 502, 503),
    dependencies=[require_role("temporary_zone")],
)
async def promote_import(
    import_id: str,
    body: PromoteIn,
    user_session: CurrentSession,
    db: SessionDep,
    settings: SettingsDep,
    worklist: WorklistDep,
    after: AfterCommitDep,
) -> Accepted:
    """File a temporary-zone import under the order named by ``accession_number``, as the RIS's
    worklist describes it (without a worklist: as the RIS sent it). Passes the identity gate as
    a confirmation does; then reconciled and stored to the main PACS as an order import is."""
    imp = await reconcile.promote(
        db,
        import_id,
        data=body,
        user_session=user_session,
        settings=settings,
        worklist=worklist,
    )
    after.enqueue(PROCESS, imp.id)
    after.publish(imp.id, "status", status=imp.status)
    return Accepted(id=imp.id, status=imp.status)


@router.post(
    "/{import_id}/undo",
    status_code=202,
    responses=responses(401, 403, 404, 409, 422),
    dependencies=[require_role("temporary_zone")],
)
async def undo_import(
    import_id: str,
    body: UndoIn,
    user_session: CurrentSession,
    db: SessionDep,
    settings: SettingsDep,
    after: AfterCommitDep,
) -> Accepted:
    """A referent takes back a completed import filed under the wrong patient or order, within
    ``IMPORTER_UNDO_HOURS`` of its completion: the PACS is asked to take back exactly the
    instances it stored (``IMPORTER_REJECT_URL``), never one that was there before. Follow
    ``undo`` on the import: once ``done``, it is in the temporary zone with its files, to be
    promoted to the right order (``POST /imports/{id}/promote``) or purged; the RIS is told
    (``import.undone``). 409: ``undo_not_configured``, ``not_undoable`` (``params``:
    ``status``, ``zone``, ``undone``), ``undo_period_over`` (``hours``), ``undo_in_progress``,
    ``undo_used_later`` (``count``, ``support_id``: another import counts some of these
    images as its own; undo or end it first). One that failed may be asked again."""
    imp = await service.get_for_session(db, import_id, user_session, lock=True)
    await undo.request_undo(
        db,
        imp,
        reason=body.reason,
        actor=actor_of(user_session),
        settings=settings,
        now=utcnow(),
    )
    after.enqueue(UNDO, imp.id)
    after.publish(imp.id, "status", status=imp.status)
    return Accepted(id=imp.id, status=imp.status)


@router.post(
    "/{import_id}/temporary",
    status_code=202,
    responses=responses(401, 403, 404, 409),
    dependencies=[require_role("temporary_zone")],
)
async def move_import_to_temporary(
    import_id: str,
    user_session: CurrentSession,
    db: SessionDep,
    after: AfterCommitDep,
) -> Accepted:
    """Worklist mode, when the worklist has no order for the patient: send this import, still
    awaiting confirmation, to the temporary zone without loading the medium again. It stays
    ``awaiting_confirmation`` and is confirmed as a temporary-zone import; every referent of the
    temporary zone sees it. ``not_movable_to_temporary`` (409, ``params``: ``status``, ``zone``)
    for an import with an order or no longer awaiting confirmation; moving one already there
    does nothing."""
    imp = await service.get_for_session(db, import_id, user_session, lock=True)
    await service.move_to_temporary(db, imp, user_session=user_session)
    after.publish(imp.id, "status", status=imp.status, zone=imp.zone)
    return Accepted(id=imp.id, status=imp.status)


@router.delete(
    "/{import_id}",
    status_code=202,
    responses=responses(401, 403, 404, 409),
    dependencies=[require_role("temporary_zone")],
)
async def purge_import(
    import_id: str,
    user_session: CurrentSession,
    db: SessionDep,
    spool: SpoolDep,
    after: AfterCommitDep,
) -> Accepted:
    """Purge a temporary-zone import: our copy of its files is deleted (audited). A copy on the
    temporary PACS node is deleted there."""
    imp = await service.get_for_session(db, import_id, user_session, lock=True)
    await service.purge(db, imp, actor=actor_of(user_session))
    after.call(asyncio.to_thread, spool.delete, imp.id)
    after.publish(imp.id, "status", status=imp.status)
    return Accepted(id=imp.id, status=imp.status)


@router.get(
    "/{import_id}/events",
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"},
        **responses(401, 404, 429),
    },
    response_class=EventSourceResponse,
)
async def import_events(
    import_id: str,
    request: Request,
    user_session: CurrentSession,
    db: SessionDep,
    redis: RedisDep,
    factory: SessionMakerDep,
    settings: SettingsDep,
) -> EventSourceResponse:
    """Live changes: a ``snapshot`` event (the whole import) on connect, then one event per
    change (``status``, ``stage``, ``progress``, ``upload``), heartbeat comments in between; a
    last ``snapshot`` when the import is over. When the session ends (it expires, or
    ``DELETE /session``) the stream ends within seconds with a ``session_ended`` event (``reason``:
    ``expired`` or ``ended``; ``code``: ``token_expired``): open the import again from the RIS,
    do not reconnect. At most ``IMPORTER_MAX_STREAMS_PER_SESSION`` streams per session are open
    at once (429 ``too_many_streams``, ``params``: ``limit``); a stream that ends frees its
    place."""
    await service.get_for_session(db, import_id, user_session)  # 404 before streaming
    slot = await stream_slot(redis, settings, user_session.id)  # 429 before streaming
    session_id, expires_at = user_session.id, user_session.expires_at

    async def snapshot() -> dict[str, Any]:
        async with transaction(factory) as session:
            imp = await service.get_for_session(session, import_id, user_session)
            return service.to_public(imp).model_dump(mode="json")

    async def session_over(checked: bool) -> str | None:
        """Why the session is over (``expired``, ``ended``), or ``None`` while it runs; with
        ``checked``, as the database says (an end whose announcement was lost)."""
        nonlocal expires_at
        if checked:
            async with transaction(factory) as session:
                now_ends = await session_expiry(session, session_id)
            if now_ends is None or now_ends < expires_at:
                return "ended"
            expires_at = now_ends
        return "expired" if expires_at <= utcnow() else None

    def ended(reason: str) -> ServerSentEvent:
        message = "This session has ended. Open the import again from the RIS."
        # worded by the app as the refusal its token now meets (401 token_expired)
        data = {
            "reason": reason,
            "code": MessageCode.token_expired,
            "params": {},
            "message": message,
        }
        return ServerSentEvent(data=json.dumps(data), event=SESSION_ENDED)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        try:
            async with subscribe(redis, import_id, session_id=session_id) as subscription:
                current = await snapshot()
                yield ServerSentEvent(data=json.dumps(current), event="snapshot")
                next_check = 0.0  # at once: an end announced before we listened
                while current["status"] not in TERMINAL:
                    if await request.is_disconnected():
                        return
                    checked = time.monotonic() >= next_check
                    if checked:
                        next_check = time.monotonic() + STREAM_CHECK_S
                        await slot.refresh()
                    reason = await session_over(checked)
                    if reason is not None:
                        yield ended(reason)
                        return
                    event = await subscription.next(wait_s=1.0)
                    if event is None:
                        continue
                    if event.get("type") == SESSION_ENDED:
                        yield ended("ended")
                        return
                    yield ServerSentEvent(data=json.dumps(event), event=str(event.get("type")))
                    if event.get("type") == "status":
                        current["status"] = str(event.get("status"))
                final = await snapshot()
                yield ServerSentEvent(data=json.dumps(final), event="snapshot")
        finally:
            await slot.release()

    return EventSourceResponse(stream(), ping=HEARTBEAT_S)
