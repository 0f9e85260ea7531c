"""Real services for the PACS adapter tests: one Orthanc and one wlmscpfs per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.services import OrthancProcess, WorklistProcess


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    with OrthancProcess(tmp_path_factory.mktemp("orthanc")) as process:
        yield process


@pytest.fixture(scope="session")
def worklist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorklistProcess]:
    with WorklistProcess(tmp_path_factory.mktemp("worklist")) as process:
        yield process
