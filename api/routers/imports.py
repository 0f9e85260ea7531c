"""SPA routes on imports: create, list, read, follow live, confirm, cancel."""

from __future__ import annotations

import asyncio
import json
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
from api.routers.worklist import raise_for
from importer.access.service import actor_of, upsert_order, upsert_order_from_worklist
from importer.db import transaction
from importer.errors import Conflict, InvalidInput
from importer.events import subscribe
from importer.imports import service
from importer.imports.schemas import (
    Accepted,
    ConfirmIn,
    ImportCreate,
    ImportCreated,
    ImportList,
    ImportOut,
    PromoteIn,
)
from importer.imports.states import TERMINAL
from worker.enqueue import ANALYSE, PROCESS
from worker.rpc import WORKLIST_ORDERS, call

router = APIRouter(prefix="/imports", tags=["imports"])

HEARTBEAT_S = 15


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


@router.post(
    "/{import_id}/confirm", status_code=202, responses=responses(401, 404, 409, 422, 502, 503)
)
async def confirm_import(
    import_id: str,
    body: ConfirmIn,
    user_session: CurrentSession,
    db: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    after: AfterCommitDep,
) -> Accepted:
    """Confirm the selected studies; a mismatched identity needs ``acknowledge_identity``.
    Worklist mode: ``order_for_study`` gives the accession number of each study's order."""
    imp = await service.get_for_session(db, import_id, user_session)
    service.require_zone_role(imp, user_session)
    service.check_confirmable(imp, body)
    if imp.order is None and imp.zone == "pacs":
        # ask the worklist (through the worker) before locking anything
        answer = await call(
            redis,
            WORKLIST_ORDERS,
            sorted(set((body.order_for_study or {}).values())),
            queue_name=settings.queue_name,
            wait_s=settings.worklist_wait_s,
        )
        raise_for(answer)
        imp = await service.get_for_session(db, import_id, user_session, lock=True)
        service.check_confirmable(imp, body)
        await service.assign_worklist_orders(db, imp, data=body, items=answer["items"])
    else:
        imp = await service.get_for_session(db, import_id, user_session, lock=True)
    await service.confirm(db, imp, data=body, user_session=user_session, settings=settings)
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
    service.require_zone_role(imp, user_session)
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
    service.require_zone_role(imp, user_session)
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
    redis: RedisDep,
    after: AfterCommitDep,
) -> Accepted:
    """File a temporary-zone import under an order (given, or found in the worklist by its
    accession number): reconciled and stored to the main PACS as an order import is."""
    if (body.order is None) == (body.accession_number is None):
        raise InvalidInput("Give either order or accession_number.", code="invalid_input")
    if body.accession_number is not None:
        answer = await call(
            redis,
            WORKLIST_ORDERS,
            [body.accession_number],
            queue_name=settings.queue_name,
            wait_s=settings.worklist_wait_s,
        )
        raise_for(answer)
        item = answer["items"].get(body.accession_number)
        if item is None:
            raise Conflict(
                f"The worklist has no single order with accession number {body.accession_number}.",
                code="order_not_in_worklist",
            )
        order = await upsert_order_from_worklist(db, item)
    else:
        assert body.order is not None
        order = await upsert_order(db, body.order)
    imp = await service.get_for_session(db, import_id, user_session, lock=True)
    await service.promote(
        db,
        imp,
        order=order,
        acknowledge_identity=body.acknowledge_identity,
        user_session=user_session,
        settings=settings,
    )
    after.enqueue(PROCESS, imp.id)
    after.publish(imp.id, "status", status=imp.status)
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
        **responses(401, 404),
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
) -> EventSourceResponse:
    """Live changes: a ``snapshot`` event (the whole import) on connect, then one event per
    change (``status``, ``stage``, ``progress``, ``upload``), heartbeat comments in between."""
    await service.get_for_session(db, import_id, user_session)  # 404 before streaming

    async def snapshot() -> dict[str, Any]:
        async with transaction(factory) as session:
            imp = await service.get_for_session(session, import_id, user_session)
            return service.to_public(imp).model_dump(mode="json")

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async with subscribe(redis, import_id) as subscription:
            current = await snapshot()
            yield ServerSentEvent(data=json.dumps(current), event="snapshot")
            while current["status"] not in TERMINAL:
                if await request.is_disconnected():
                    return
                event = await subscription.next(wait_s=1.0)
                if event is None:
                    continue
                yield ServerSentEvent(data=json.dumps(event), event=str(event.get("type")))
                if event.get("type") == "status":
                    current["status"] = str(event.get("status"))
            final = await snapshot()
            yield ServerSentEvent(data=json.dumps(final), event="snapshot")

    return EventSourceResponse(stream(), ping=HEARTBEAT_S)
