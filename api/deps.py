"""Named dependencies: the database session, settings, Redis, and who is calling."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from arq.connections import ArqRedis
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from importer.access.models import UserSession
from importer.access.policy import RisClient, check_roles
from importer.access.service import TokenError, authenticate
from importer.db import transaction
from importer.errors import ImporterError, Unauthorized
from importer.events import publish
from importer.security import identify_ris
from importer.settings import Settings
from importer.spool import Spool
from worker.enqueue import enqueue

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False, description="RIS API key or SPA session token")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return factory


class AfterCommit:
    """Jobs to enqueue and events to publish once the request's transaction is committed."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, str]] = []
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.calls: list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]] = []

    def call(self, function: Callable[..., Awaitable[Any]], *args: Any) -> None:
        self.calls.append((function, args))

    def enqueue(self, function: str, import_id: str) -> None:
        self.jobs.append((function, import_id))

    def publish(self, import_id: str, kind: str, **fields: Any) -> None:
        self.events.append((import_id, kind, fields))

    async def run(self, redis: ArqRedis, settings: Settings) -> None:
        for function_, args in self.calls:
            await function_(*args)
        for function, import_id in self.jobs:
            try:
                await enqueue(redis, function, import_id, queue_name=settings.queue_name)
            except (RedisError, OSError):
                # The import is safe in the database; the reconciler enqueues it again.
                log.warning("job not enqueued", extra={"import_id": import_id, "job": function})
        for import_id, kind, fields in self.events:
            await publish(redis, import_id, kind, **fields)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed here at the edge (before the response is sent);
    rolled back on any error. Jobs and events of the request go out after the commit."""
    after = AfterCommit()
    request.state.after_commit = after
    async with get_sessionmaker(request)() as session:
        try:
            yield session
            await session.commit()
        except ImporterError as exc:
            if not exc.keep_changes:
                await session.rollback()
                raise
            await session.commit()  # a refusal that records what it found
            await after.run(get_redis(request), get_settings(request))
            raise
        except BaseException:
            await session.rollback()
            raise
    await after.run(get_redis(request), get_settings(request))


def get_redis(request: Request) -> ArqRedis:
    redis: ArqRedis = request.app.state.redis
    return redis


def get_spool(request: Request) -> Spool:
    spool: Spool = request.app.state.spool
    return spool


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
RedisDep = Annotated[ArqRedis, Depends(get_redis)]
SpoolDep = Annotated[Spool, Depends(get_spool)]
SessionMakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def current_ris(credentials: Credentials, settings: SettingsDep) -> RisClient:
    if credentials is None:
        raise Unauthorized(
            "A RIS API key is required (Authorization: Bearer).", code="api_key_missing"
        )
    client = identify_ris(credentials.credentials, settings.ris_key_list())
    if client is None:
        raise Unauthorized("This RIS API key is not accepted.", code="api_key_invalid")
    return RisClient(name=client)  # the client its key names: its orders, users and imports


async def current_session(credentials: Credentials, db: SessionDep) -> UserSession:
    if credentials is None:
        raise TokenError(
            "A session token is required (Authorization: Bearer).", code="token_missing"
        )
    return await authenticate(db, credentials.credentials)


def get_after_commit(request: Request, _: SessionDep) -> AfterCommit:
    after: AfterCommit = request.state.after_commit
    return after


AfterCommitDep = Annotated[AfterCommit, Depends(get_after_commit)]


async def current_session_short(credentials: Credentials, factory: SessionMakerDep) -> UserSession:
    """The session, checked in a transaction of its own that ends at once: for routes that
    hold no database transaction while they work (a tus PATCH streams for minutes)."""
    if credentials is None:
        raise TokenError(
            "A session token is required (Authorization: Bearer).", code="token_missing"
        )
    async with transaction(factory) as db:
        return await authenticate(db, credentials.credentials)


CurrentSessionShort = Annotated[UserSession, Depends(current_session_short)]
RisDep = Annotated[RisClient, Depends(current_ris)]
CurrentSession = Annotated[UserSession, Depends(current_session)]


def require_role(*roles: str) -> Any:
    """A dependency refusing a session without one of ``roles`` (403 ``role_required``)."""

    async def check(user_session: CurrentSession) -> None:
        check_roles(user_session, roles)

    return Depends(check)
