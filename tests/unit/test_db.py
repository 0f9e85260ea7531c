"""``end_read``: a read-only transaction ended before a slow wait; a session with changes is not
committed behind the request's back."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.access.models import Order
from importer.db import end_read, make_engine, make_sessionmaker


async def test_end_read_commits_a_read_and_refuses_a_session_with_changes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with make_sessionmaker(engine)() as db:
            await db.connection()  # a transaction is open (on SQLite: the write lock)
            assert db.in_transaction()
            await end_read(db)
            assert not db.in_transaction()

            db.add(Order(ris_client="default", accession_number="A1"))
            with pytest.raises(RuntimeError, match="has changes"):
                await end_read(db)
    finally:
        await engine.dispose()
