"""Fault tests: real processes (a worker killed, our own Redis, Orthanc, PostgreSQL and a small
tmpfs spool) failing under a running import. Reuses the integration harness's session database
and Redis (each test its own queue name); every server a test breaks is its own."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import CountingOrthanc
from tests.integration.conftest import database_url, redis_url

__all__ = ["database_url", "redis_url"]

# pynetdicom 3.0.4 leaves the socket of a refused connection for the garbage collector: a PACS
# that is down makes it warn when collected (collected in each test's teardown, below).
_SOCKET_WARNING = (
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "faults: kills or fills a real service under an import")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults" in str(item.path):
            item.add_marker(pytest.mark.faults)
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.filterwarnings(_SOCKET_WARNING))


@pytest.fixture(autouse=True)
def _collect_sockets() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture
def own_orthanc(tmp_path: Path) -> Iterator[CountingOrthanc]:
    """An Orthanc of this test alone, on fixed free ports (it can be killed and started again),
    counting the copies of each instance it receives."""
    server = CountingOrthanc(tmp_path / "orthanc")
    server.start()
    try:
        yield server
    finally:
        server.kill()  # its storage is thrown away with tmp_path: no need to wait for it
