"""SPA sessions: exchange a launch token for a session; read the session's context; end it."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import AfterCommitDep, CurrentSession, RedisDep, SessionDep, SettingsDep
from api.errors import responses
from api.security import rate_limit
from importer.access import service
from importer.access.schemas import SessionContext, SessionCreate, SessionOut
from importer.events import announce_session_ended

router = APIRouter(tags=["session"])


@router.post(
    "/sessions",
    status_code=201,
    responses=responses(401, 422, 429),
    dependencies=[rate_limit("sessions", "rate_sessions_per_min")],
)
async def open_session(body: SessionCreate, db: SessionDep, settings: SettingsDep) -> SessionOut:
    """Exchange a launch token (once) for a session token and its context."""
    return await service.open_session(db, launch_token=body.launch_token, settings=settings)


@router.get("/session", responses=responses(401))
async def get_session(user_session: CurrentSession) -> SessionContext:
    """The user, roles and order of this session (the patient panel)."""
    return service.session_context(user_session)


@router.delete("/session", status_code=204, response_class=Response, responses=responses(401))
async def end_session(
    user_session: CurrentSession, db: SessionDep, redis: RedisDep, after: AfterCommitDep
) -> None:
    """End this session at once (the user leaves): its token is refused from now on, as an
    expired one (401 ``token_expired``), and its live event streams end with ``session_ended``.
    Audited (``session.closed``). Ending it again answers 401."""
    await service.end_session(db, user_session)
    after.call(announce_session_ended, redis, user_session.id)
