"""The migrations are the schema: they match the models, and they go down and up again."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from alembic.config import Config

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
