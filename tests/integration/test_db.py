"""The engine keeps patient data out of logs and errors: a failing statement's text carries
its SQL, never its parameter values (issue 13, item 11)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from importer.db import make_engine

SECRET = "ROSSI^MARIO-19740101"


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return database_url
    return f"sqlite+aiosqlite:///{tmp_path / 'importer.sqlite3'}"


async def test_a_failing_statement_shows_no_parameter_values(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # as if someone turned SQL on
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TEMPORARY TABLE secret_probe (v VARCHAR(64) UNIQUE)"))
            insert = text("INSERT INTO secret_probe (v) VALUES (:v)")
            await conn.execute(insert, {"v": SECRET})
            with pytest.raises(IntegrityError) as raised:
                await conn.execute(insert, {"v": SECRET})
            await conn.rollback()
    finally:
        await engine.dispose()
    assert "INSERT INTO secret_probe" in str(raised.value)  # the SQL is still there
    assert SECRET not in str(raised.value)
    assert any("secret_probe" in r.getMessage() for r in caplog.records)  # SQL was logged
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.name
