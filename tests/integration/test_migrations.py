"""The migrations are the schema: they match the models, and they go down and up again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from importer.db import make_engine
from tests.integration.conftest import ADMIN_URL, ROOT


def config_for(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


async def test_models_match_the_migrations(database_url: str) -> None:
    # raises when an autogenerate would find a difference between models and schema
    await asyncio.to_thread(command.check, config_for(database_url))


async def test_downgrade_to_base_and_upgrade_again(tmp_path: Path) -> None:
    name = f"importer_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    config = config_for(f"{base}/{name}")
    try:
        await asyncio.to_thread(command.upgrade, config, "head")
        await asyncio.to_thread(command.downgrade, config, "base")
        await asyncio.to_thread(command.upgrade, config, "head")
        await asyncio.to_thread(command.check, config)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    sqlite = config_for(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    await asyncio.to_thread(command.upgrade, sqlite, "head")
    await asyncio.to_thread(command.check, sqlite)


ROWS = [
    "INSERT INTO orders (id, accession_number, requested_procedure_id, order_id, procedure_code,"
    " procedure_code_scheme, scheduled_procedure_step_id, procedure_description, modality,"
    " patient_id, patient_issuer, patient_name, patient_birth_date, patient_sex, created_at,"
    " updated_at) VALUES ('o1', 'ACC1', '', '', '', '', '', '', '', 'P1', '', 'DOE^JOHN', '', '',"
    " :now, :now)",
    "INSERT INTO launch_tokens (id, token_hash, user_id, user_name, department, roles, order_pk,"
    " ris_client, expires_at, created_at) VALUES ('l1', 'h1', 'alice', 'Alice', '', '[]', 'o1',"
    " 'abcd1234', :now, :now)",
    "INSERT INTO sessions (id, token_hash, launch_id, user_id, user_name, department, roles,"
    " order_pk, expires_at, created_at) VALUES ('s1', 'h2', 'l1', 'alice', 'Alice', '', '[]',"
    " 'o1', :now, :now)",
]


async def _execute(url: str, statements: list[str]) -> list[list[Any]]:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            found = []
            for statement in statements:
                result = await conn.execute(text(statement), {"now": datetime.now(UTC)})
                found.append([tuple(row) for row in result] if result.returns_rows else [])
            return found
    finally:
        await engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
async def test_a_database_in_use_migrates_up_and_down(dialect: str, tmp_path: Path) -> None:
    """Orders that launches and sessions point at (every real database): SQLite rebuilds a
    table to alter it, which foreign keys refused while rows pointed at it."""
    name = f"importer_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_URL)
    base = ADMIN_URL.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    if dialect == "postgresql":
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{base}/{name}"
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'in-use.sqlite3'}"
    config = config_for(url)
    try:
        await asyncio.to_thread(command.upgrade, config, "0006")
        await _execute(url, ROWS)

        await asyncio.to_thread(command.upgrade, config, "head")
        orders, sessions, launches = await _execute(
            url,
            [
                "SELECT accession_number, ris_client, patient_name FROM orders",
                "SELECT order_pk, ris_client FROM sessions",
                "SELECT order_pk, ris_client FROM launch_tokens",
            ],
        )
        assert orders == [("ACC1", "default", "DOE^JOHN")]  # a single RIS keeps its orders
        assert sessions == [("o1", "default")]
        assert launches == [("o1", "default")]

        await asyncio.to_thread(command.downgrade, config, "0006")
        (orders,) = await _execute(url, ["SELECT accession_number, patient_name FROM orders"])
        assert orders == [("ACC1", "DOE^JOHN")]
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
