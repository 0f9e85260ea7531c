"""Integration harness: real PostgreSQL (a fresh database with real migrations), real Redis, a
real Orthanc started on free loopback ports, the API served by uvicorn, a burst arq worker."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from alembic import command
from alembic.config import Config
from pydantic import SecretStr
from sqlalchemy import text

from devstack import OrthancProcess, WorklistProcess, ensure_redis
from importer.db import make_engine
from importer.models import Base
from importer.settings import Settings
from tests.support.app import CALLBACK_SECRET, RIS_KEY, Journey, running_api

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("IMPORTER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("IMPORTER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A database of its own for this run, migrated with Alembic, dropped at the end."""
    name = f"importer_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = ADMIN_URL.rpartition("/")
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    await asyncio.to_thread(command.upgrade, config, "head")
    yield url
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    started = ensure_redis(REDIS_URL)
    if started is None:
        yield REDIS_URL
        return
    with started:
        yield started.url


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    with OrthancProcess(tmp_path_factory.mktemp("orthanc")) as server:
        yield server


@pytest.fixture(scope="session")
def worklist_scp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorklistProcess]:
    """The demo RIS worklist: dcmtk's wlmscpfs with the orders of the worklist-mode tests."""
    scp = WorklistProcess(tmp_path_factory.mktemp("worklist"), aet="RISWL")
    for accession, name, patient_id, birth, sex, modality in WORKLIST_ORDERS:
        scp.add_item(
            patient_name=name,
            patient_id=patient_id,
            issuer_of_patient_id="HOSPITAL",
            patient_birth_date=birth,
            patient_sex=sex,
            accession_number=accession,
            requested_procedure_id=f"RP-{accession}",
            requested_procedure_description=f"{modality} external import",
            modality=modality,
        )
    with scp:
        yield scp


WORKLIST_ORDERS = [
    ("WL-CT-1", "COMPRESSEDSAMPLES^CT1", "LOCAL-CT1", "19600101", "O", "CT"),
    ("WL-MR-1", "COMPRESSEDSAMPLES^MR1", "LOCAL-MR1", "19700202", "F", "MR"),
    ("WL-XR-9", "BIANCHI^LUCA", "LOCAL-LB", "19800303", "M", "CR"),
]


@pytest.fixture
def pacs(orthanc: OrthancProcess) -> OrthancProcess:
    """The demo PACS, emptied before the test."""
    with httpx.Client(base_url=orthanc.http_url, timeout=30) as client:
        for patient in client.get("/patients").json():
            client.delete(f"/patients/{patient}").raise_for_status()
    return orthanc


@pytest.fixture
async def settings(
    database_url: str, redis_url: str, pacs: OrthancProcess, tmp_path: Path
) -> AsyncIterator[Settings]:
    yield Settings(
        database_url=database_url,
        redis_url=redis_url,
        queue_name=f"importer:test:{uuid.uuid4().hex}",
        spool_dir=tmp_path / "spool",
        data_dir=tmp_path,
        pacs_url=pacs.dimse_url,
        calling_ae="IMPORTTEST",
        ris_api_keys=SecretStr(RIS_KEY),
        # callbacks as the demo allows them: signed, to a hook served on loopback over http
        callback_secret=SecretStr(CALLBACK_SECRET),
        callback_hosts=["127.0.0.1"],
        callback_allow_http=True,
        public_url="http://importer.test",
        stage_attempts=2,
    )
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    await engine.dispose()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_api(settings) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as http,
    ):
        yield http


@pytest.fixture
def journey(client: httpx.AsyncClient, settings: Settings) -> Journey:
    return Journey(client, settings)
