"""Real services for the PACS adapter tests: Orthancs (a default one, one that refuses
compressed transfer syntaxes, one with the DICOMweb plugin, one that knows our storage
commitment SCP) and one wlmscpfs, each started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack import (
    UNCOMPRESSED_TRANSFER_SYNTAXES,
    OrthancProcess,
    WorklistProcess,
    free_port,
)

CALLING_AE = "PYTEST"


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    with OrthancProcess(tmp_path_factory.mktemp("orthanc")) as process:
        yield process


@pytest.fixture(scope="session")
def uncompressed_orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    """A PACS that accepts Implicit and Explicit VR Little Endian only."""
    with OrthancProcess(
        tmp_path_factory.mktemp("orthanc-uncompressed"),
        aet="UNCOMPRESSED",
        accepted_transfer_syntaxes=UNCOMPRESSED_TRANSFER_SYNTAXES,
    ) as process:
        yield process


@pytest.fixture(scope="session")
def dicomweb_orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    with OrthancProcess(tmp_path_factory.mktemp("orthanc-dicomweb"), dicomweb=True) as process:
        yield process


@pytest.fixture(scope="session")
def commitment_port() -> int:
    """Where our storage commitment SCP listens (as ``CALLING_AE``) for Orthanc's reports."""
    return free_port()


@pytest.fixture(scope="session")
def committing_orthanc(
    tmp_path_factory: pytest.TempPathFactory, commitment_port: int
) -> Iterator[OrthancProcess]:
    """An Orthanc that knows our AE (it sends storage commitment reports on an association of
    its own)."""
    with OrthancProcess(
        tmp_path_factory.mktemp("orthanc-commitment"),
        aet="COMMITTER",
        modalities={CALLING_AE: ("127.0.0.1", commitment_port)},
    ) as process:
        yield process


@pytest.fixture(scope="session")
def worklist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorklistProcess]:
    with WorklistProcess(tmp_path_factory.mktemp("worklist")) as process:
        yield process
