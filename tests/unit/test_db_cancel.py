"""A unit of work cancelled between two statements never leaves SQLite locked.

The embedded default (SQLite) is shared by the api and the worker, and every transaction takes
the write lock (``BEGIN IMMEDIATE``). A browser that leaves an event stream cancels the stream's
snapshot mid-transaction (anyio's cancel scope, level-triggered); a job's timeout cancels the job
(asyncio's ``Task.cancel``). Before ``close_behind_last_statement``, aiosqlite 0.22 left such a
connection open with its transaction until the garbage collector found it: every request and job
then waited its 30 s and failed ("database is locked"), and a task waited for ever on the stopped
connection thread, so the process hung when it stopped. Each test cancels a unit of work at many
points and then asks for the write lock from another connection, as another process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiosqlite
import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from importer.db import make_engine, make_sessionmaker, transaction

CANCELLATIONS = 150
LOCK_WAIT_S = 2.0
"""How long another process would wait for the lock here; a leaked lock is held for ever."""
CHILD_TIMEOUT_S = 60
ROOT = Path(__file__).resolve().parents[2]


def _write_lock_is_free(path: Path) -> bool:
    other = sqlite3.connect(path, timeout=LOCK_WAIT_S, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


async def _setup(path: Path) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    factory = make_sessionmaker(engine)
    async with transaction(factory) as db:
        await db.execute(text("CREATE TABLE t (x INTEGER)"))
        await db.execute(text("INSERT INTO t VALUES (1)"))
    return engine, factory


async def _unit_of_work(factory: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(factory) as db:
        for i in range(20):
            await db.execute(text("SELECT x FROM t"))
            await db.execute(text("UPDATE t SET x = :x"), {"x": i})


def _delay(i: int) -> float:
    """Spread the cancellations over the unit of work: before, between and during statements."""
    return (i % 40) * 0.0001


async def _after_all(engine: AsyncEngine, path: Path) -> None:
    assert _write_lock_is_free(path), "a cancelled unit of work still holds SQLite's write lock"
    async with transaction(make_sessionmaker(engine)) as db:  # the engine still works
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    await engine.dispose()
    await asyncio.sleep(0.05)
    waiting = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not waiting, f"tasks left waiting on a closed connection: {waiting}"


async def _cancelled_by_anyio(path: Path) -> None:
    """anyio's cancellation, as sse-starlette cancels a stream whose client went away."""
    engine, factory = await _setup(path)
    for i in range(CANCELLATIONS):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_unit_of_work, factory)
            await anyio.sleep(_delay(i))
            tg.cancel_scope.cancel()
        assert _write_lock_is_free(path), f"the write lock is held after cancellation {i}"
    await _after_all(engine, path)


async def _cancelled_by_asyncio(path: Path) -> None:
    """asyncio's cancellation, as arq cancels a job past its timeout."""
    engine, factory = await _setup(path)
    for i in range(CANCELLATIONS):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_unit_of_work(factory), timeout=_delay(i) + 0.0001)
        assert _write_lock_is_free(path), f"the write lock is held after cancellation {i}"
    await _after_all(engine, path)


SCENARIOS = {"anyio": _cancelled_by_anyio, "asyncio": _cancelled_by_asyncio}


@pytest.mark.parametrize("how", sorted(SCENARIOS))
def test_a_cancelled_unit_of_work_leaves_sqlite_unlocked_and_the_process_free_to_stop(
    how: str, tmp_path: Path
) -> None:
    """Each scenario runs in a process of its own, which must end: a task left waiting on a
    stopped connection thread would keep its event loop from closing."""
    child = subprocess.run(
        [sys.executable, "-m", __name__, how, str(tmp_path / "db.sqlite")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    assert child.stdout.strip() == "done"


def test_aiosqlite_still_has_what_the_cleanup_reaches_into() -> None:
    """``close_behind_last_statement`` queues on ``Connection._tx`` and clears
    ``Connection._connection``; an aiosqlite without them needs the cleanup rewritten (the
    range is pinned in pyproject.toml)."""
    conn = aiosqlite.Connection(lambda: sqlite3.connect(":memory:"), iter_chunk_size=64)
    assert hasattr(conn, "_tx")
    assert hasattr(conn._tx, "put_nowait")
    assert hasattr(conn, "_connection")
    assert callable(conn.stop)


if __name__ == "__main__":
    asyncio.run(SCENARIOS[sys.argv[1]](Path(sys.argv[2])))
    print("done")
