"""Delivery through the whole pipeline: storage commitment, a DICOMweb PACS, a PACS that
refuses compressed transfer syntaxes."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pytest
from pydicom import dcmread

from devstack import UNCOMPRESSED_TRANSFER_SYNTAXES, OrthancProcess, free_port
from importer.settings import Settings
from tests.support.app import Journey, Launched, make_zip, run_worker, sample

CALLING_AE = "IMPORTTEST"  # the integration settings' calling AE


@pytest.fixture(scope="module")
def commitment_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def committing_pacs(
    tmp_path_factory: pytest.TempPathFactory, commitment_port: int
) -> Iterator[OrthancProcess]:
    with OrthancProcess(
        tmp_path_factory.mktemp("orthanc-commit"),
        aet="COMMITTER",
        modalities={CALLING_AE: ("127.0.0.1", commitment_port)},
    ) as node:
        yield node


@pytest.fixture(scope="module")
def dicomweb_pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    with OrthancProcess(tmp_path_factory.mktemp("orthanc-web"), dicomweb=True) as node:
        yield node


@pytest.fixture(scope="module")
def plain_pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancProcess]:
    with OrthancProcess(
        tmp_path_factory.mktemp("orthanc-plain"),
        aet="PLAIN",
        accepted_transfer_syntaxes=UNCOMPRESSED_TRANSFER_SYNTAXES,
    ) as node:
        yield node


def stored_files(node: OrthancProcess) -> list[bytes]:
    with httpx.Client(base_url=node.http_url, timeout=30) as http:
        return [http.get(f"/instances/{i}/file").content for i in http.get("/instances").json()]


async def analysed(journey: Journey, settings: Settings, names: list[str]) -> tuple[Launched, dict]:  # type: ignore[type-arg]
    """Create, upload and analyse with these settings (the PACS asked is theirs)."""
    session = await journey.start()
    archive = make_zip([(f"IM{i}", sample(n).read_bytes()) for i, n in enumerate(names)])
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive)
    await run_worker(settings)
    return session, await journey.get_import(session, created["id"])


async def import_one(journey: Journey, settings: Settings, names: list[str]) -> dict:  # type: ignore[type-arg]
    session, imported = await analysed(journey, settings, names)
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, imported["id"], uids, acknowledge=True)).is_success
    await run_worker(settings)
    return await journey.get_import(session, imported["id"])


async def test_storage_commitment_confirms_every_instance(
    journey: Journey, settings: Settings, committing_pacs: OrthancProcess, commitment_port: int
) -> None:
    committing = settings.model_copy(
        update={
            "pacs_url": committing_pacs.dimse_url,
            "storage_commitment": True,
            "commitment_port": commitment_port,
            "commitment_host": "127.0.0.1",
        }
    )
    done = await import_one(journey, committing, ["CT_small.dcm", "MR_small.dcm"])
    assert done["status"] == "completed", done["error"]
    for study in done["studies"]:
        stage = next(s for s in study["stages"] if s["name"] == "commit")
        assert stage["status"] == "done"
        assert "committed" in stage["message"]


async def test_a_dicomweb_pacs_receives_the_import(
    journey: Journey, settings: Settings, dicomweb_pacs: OrthancProcess
) -> None:
    web = settings.model_copy(update={"pacs_url": dicomweb_pacs.dicomweb_url})
    done = await import_one(journey, web, ["CT_small.dcm"])
    assert done["status"] == "completed", done["error"]
    (stored,) = [dcmread(io.BytesIO(b)) for b in stored_files(dicomweb_pacs)]
    assert stored.PatientID == "HOSP-0042"
    # and the same study again is recognised on the DICOMweb PACS (QIDO-RS)
    _, again = await analysed(journey, web, ["CT_small.dcm"])
    assert again["studies"][0]["on_pacs"] is True


async def test_a_pacs_refusing_compression_gets_decompressed_images(
    journey: Journey, settings: Settings, plain_pacs: OrthancProcess
) -> None:
    plain = settings.model_copy(update={"pacs_url": plain_pacs.dimse_url})
    done = await import_one(journey, plain, ["JPEG2000.dcm", "MR_small_RLE.dcm"])
    assert done["status"] == "completed", done["error"]
    syntaxes = {
        str(dcmread(io.BytesIO(b)).file_meta.TransferSyntaxUID) for b in stored_files(plain_pacs)
    }
    assert syntaxes <= set(UNCOMPRESSED_TRANSFER_SYNTAXES)
