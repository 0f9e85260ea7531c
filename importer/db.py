"""Database plumbing: declarative base, engine and session factories.

Engines and sessionmakers are made by the caller (app lifespan, worker start-up), never at import
time. One ``AsyncSession`` per request or job, committed at the edge; services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An engine that never shows a statement's parameter values (patient data) in its logs
    or in the text of the errors it raises; the SQL itself is still shown."""
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    """The embedded default is used by an api and a worker process at once: WAL, a busy
    timeout, and every transaction begun IMMEDIATE, so that two processes never both hold a
    read lock they then try to upgrade (SQLite answers that at once with "database is locked",
    without waiting)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    dialect = engine.sync_engine.dialect
    terminate = dialect.do_terminate

    def _terminate(dbapi_connection: Any) -> None:
        close_behind_last_statement(dbapi_connection)
        terminate(dbapi_connection)

    dialect.do_terminate = _terminate  # type: ignore[method-assign]


def close_behind_last_statement(dbapi_connection: Any) -> None:
    """End an invalidated SQLite connection in its own thread, right after the statement it may
    still be running: its transaction rolled back (the write lock released at once), the
    connection closed and the thread stopped, so SQLAlchemy's own close finds nothing left to do.

    A unit of work cancelled between two statements (a client leaving an event stream, a job's
    timeout) makes SQLAlchemy invalidate the connection; aiosqlite 0.22's close then races with
    its stop, neither closes the ``sqlite3`` connection, and ``BEGIN IMMEDIATE``'s lock stays
    until the garbage collector finds it (every request and job meanwhile waits its 30 s and
    fails), while a task waits for ever on the stopped thread. This reaches into aiosqlite's
    ``Connection`` (``_connection``, ``_tx``): its range is pinned in pyproject.toml and
    tests/unit/test_db_cancel.py guards it."""
    aio = getattr(dbapi_connection, "_connection", None)  # the aiosqlite.Connection
    raw = getattr(aio, "_connection", None)  # the sqlite3.Connection its thread owns
    queue = getattr(aio, "_tx", None)
    if aio is None or raw is None or queue is None:
        return

    def end() -> None:
        try:
            raw.rollback()
        finally:
            raw.close()

    queue.put_nowait((None, end))  # in order: after the statement running now
    aio.stop()  # then the thread ends
    aio._connection = None  # and aiosqlite's close returns at once


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def end_read(db: AsyncSession) -> None:
    """End a transaction that has only read, before waiting on something slow (the worker, the
    worklist): on SQLite every transaction holds the write lock every other request waits for.
    Refuses a session with changes: those are the request's, committed at its end."""
    if db.new or db.dirty or db.deleted:
        raise RuntimeError("end_read: the session has changes; only a read may end early")
    await db.commit()


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
