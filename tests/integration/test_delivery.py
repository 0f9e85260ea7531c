"""Delivery through the whole pipeline: storage commitment, a DICOMweb PACS, a PACS that
refuses compressed transfer syntaxes; the RIS callback only where it may go, always signed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from pydicom import dcmread
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import UID, generate_uid
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack import UNCOMPRESSED_TRANSFER_SYNTAXES, OrthancProcess, free_port
from importer.settings import Settings
from tests.support.app import (
    RIS_KEY,
    Journey,
    Launched,
    make_zip,
    run_worker,
    running_api,
    sample,
    serving,
)

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
    # a PACS that takes every object as it is: known, and nothing to say
    assert [(s["to_convert"], s["unsent_count"]) for s in done["studies"]] == [(0, 0), (0, 0)]
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
    # STOW-RS negotiates nothing: what the PACS takes is not known before sending
    assert done["studies"][0]["to_convert"] is None
    (stored,) = [dcmread(io.BytesIO(b)) for b in stored_files(dicomweb_pacs)]
    assert stored.PatientID == "HOSP-0042"
    # and the same study again is recognised on the DICOMweb PACS (QIDO-RS)
    _, again = await analysed(journey, web, ["CT_small.dcm"])
    assert again["studies"][0]["on_pacs"] is True


async def test_a_pacs_refusing_compression_gets_decompressed_images(
    journey: Journey, settings: Settings, plain_pacs: OrthancProcess
) -> None:
    plain = settings.model_copy(update={"pacs_url": plain_pacs.dimse_url})
    # JPEG-lossy.dcm: a 12-bit JPEG that only GDCM and dcmtk decode (the decoder chain)
    names = ["JPEG2000.dcm", "MR_small_RLE.dcm", "JPEG-lossy.dcm"]
    session, analysed_ = await analysed(journey, plain, names)
    # known before confirming: each will be converted, none is left behind
    assert sum(s["to_convert"] for s in analysed_["studies"]) == len(names)
    assert all(s["unsent"] == [] for s in analysed_["studies"])
    uids = [s["study_instance_uid"] for s in analysed_["studies"]]
    assert (await journey.confirm(session, analysed_["id"], uids, acknowledge=True)).is_success
    await run_worker(plain)
    done = await journey.get_import(session, analysed_["id"])
    assert done["status"] == "completed", done["error"]
    stored = [dcmread(io.BytesIO(b)) for b in stored_files(plain_pacs)]
    assert len(stored) == len(names)
    assert {str(ds.file_meta.TransferSyntaxUID) for ds in stored} <= set(
        UNCOMPRESSED_TRANSFER_SYNTAXES
    )
    # each study's store says how many were converted, and how (the audit trail keeps it)
    stages = [next(s for s in study["stages"] if s["name"] == "store") for study in done["studies"]]
    assert sum(stage["params"]["converted"] for stage in stages) == len(names)
    assert any("gdcm-12bit 1" in stage["params"]["decoded_by"] for stage in stages)
    # and each object says who converted it, and how, after the coercion's record
    for ds in stored:
        coerced, converted = ds.OriginalAttributesSequence[-2:]
        assert coerced.ModifyingSystem == plain.modifying_system
        assert converted.ModifyingSystem.startswith(f"{plain.modifying_system} (")


def _fresh_bytes(name: str, *, cut: bool = False) -> bytes:
    """A test file of pydicom's with new UIDs (a study of its own the PACS has not seen);
    ``cut``: its one compressed frame cut to a third, which no decoder can read."""
    ds = dcmread(sample(name))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    if cut:
        frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
        ds.PixelData = encapsulate([frame[: len(frame) // 3]])
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


async def test_an_image_no_decoder_can_convert_is_kept_and_the_other_studies_are_stored(
    journey: Journey, settings: Settings, plain_pacs: OrthancProcess
) -> None:
    plain = settings.model_copy(update={"pacs_url": plain_pacs.dimse_url})
    medium = {
        "BROKEN": _fresh_bytes("JPEG2000.dcm", cut=True),  # JPEG 2000, cut: no decoder reads it
        "RLE": _fresh_bytes("MR_small_RLE.dcm"),  # decoded for this PACS
        "PLAIN": _fresh_bytes("CT_small.dcm"),  # sent as it is
    }
    uids = {name: str(dcmread(io.BytesIO(data)).SOPInstanceUID) for name, data in medium.items()}
    session = await journey.start()
    archive = make_zip(list(medium.items()))
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive)
    await run_worker(plain)
    imported = await journey.get_import(session, created["id"])
    studies = [s["study_instance_uid"] for s in imported["studies"]]
    assert len(studies) == 3
    # known before confirming: which will be converted, and which cannot be sent, by name
    foreseen = {s["series"][0]["series_instance_uid"]: s for s in imported["studies"]}
    by_name = {
        name: foreseen[str(dcmread(io.BytesIO(data)).SeriesInstanceUID)]
        for name, data in medium.items()
    }
    assert by_name["BROKEN"]["unsent"] == [
        {"path": "BROKEN", "reason": "cannot_convert", "syntax": "JPEG 2000"}
    ]
    assert (by_name["BROKEN"]["unsent_count"], by_name["BROKEN"]["to_convert"]) == (1, 0)
    assert (by_name["RLE"]["unsent_count"], by_name["RLE"]["to_convert"]) == (0, 1)
    assert (by_name["PLAIN"]["unsent_count"], by_name["PLAIN"]["to_convert"]) == (0, 0)
    assert (await journey.confirm(session, created["id"], studies, acknowledge=True)).is_success
    await run_worker(plain)

    done = await journey.get_import(session, created["id"])
    # the two others are on the PACS; the one that cannot be converted is not, and says why
    held = {str(dcmread(io.BytesIO(b)).SOPInstanceUID) for b in stored_files(plain_pacs)}
    assert uids["RLE"] in held
    assert uids["PLAIN"] in held
    assert uids["BROKEN"] not in held
    assert done["status"] == "failed"
    # one study of three failed: the import's error is that study's own, with the others' count
    assert done["error"]["code"] == "cannot_convert"
    assert done["error"]["params"]["failed"] == 1
    assert done["error"]["params"]["finished"] == 2
    stores = [next(st for st in s["stages"] if st["name"] == "store") for s in done["studies"]]
    failed = [st for st in stores if st["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["code"] == "cannot_convert"
    assert failed[0]["params"]["syntax"] == "JPEG 2000"
    # the study names the object the store could not send
    (left,) = [s for s in done["studies"] if s["unsent_count"]]
    assert left["unsent"] == [{"path": "BROKEN", "reason": "cannot_convert", "syntax": "JPEG 2000"}]
    # not retried by itself, but a person may retry once the PACS or a decoder allows it
    assert done["retryable"] is True
    # its files are kept on the spool
    kept = plain.effective_spool_dir / "imports" / created["id"]
    assert any(path.is_file() for path in kept.rglob("*"))


async def test_an_object_of_a_kind_the_pacs_takes_none_of_is_foreseen_and_named(
    journey: Journey, settings: Settings, pacs: OrthancProcess
) -> None:
    """Orthanc accepts no context for a private SOP class: foreseen before confirming, the other
    study stored, and the study's store fails as ``sop_class_not_accepted``, not retried by
    itself (the same files would fail the same way) but offered to a person."""
    odd = dcmread(io.BytesIO(_fresh_bytes("CT_small.dcm")))
    odd.SOPClassUID = odd.file_meta.MediaStorageSOPClassUID = UID("1.2.826.0.1.3680043.8.498.1")
    out = io.BytesIO()
    odd.save_as(out, enforce_file_format=True)
    session = await journey.start()
    archive = make_zip([("ODD", out.getvalue()), ("PLAIN", _fresh_bytes("MR_small.dcm"))])
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive)
    await run_worker(settings)
    imported = await journey.get_import(session, created["id"])
    by_count = {s["unsent_count"]: s for s in imported["studies"]}
    assert by_count[1]["unsent"] == [
        {"path": "ODD", "reason": "sop_class_not_accepted", "syntax": "1.2.840.10008.1.2.1"}
    ]
    assert by_count[0]["to_convert"] == 0
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, created["id"], uids, acknowledge=True)).is_success
    await run_worker(settings)
    done = await journey.get_import(session, created["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "sop_class_not_accepted"
    assert done["retryable"] is True
    (left,) = [s for s in done["studies"] if s["unsent_count"]]
    store = next(st for st in left["stages"] if st["name"] == "store")
    assert (store["code"], store["params"]["count"]) == ("sop_class_not_accepted", 1)
    assert store["attempts_left"] > 0  # not retried by itself
    assert left["unsent_found"] is True


async def test_what_the_store_finds_replaces_what_the_analysis_foresaw(
    journey: Journey, settings: Settings, plain_pacs: OrthancProcess
) -> None:
    """Foreseen unsendable by a PACS refusing compression; the PACS then takes it as it is (the
    store negotiates again): it is sent, and the study no longer lists it."""
    plain = settings.model_copy(update={"pacs_url": plain_pacs.dimse_url})
    session = await journey.start()
    archive = make_zip([("BROKEN", _fresh_bytes("JPEG2000.dcm", cut=True))])
    created = await journey.create_import(session, len(archive))
    await journey.upload(session, created["upload_url"], archive)
    await run_worker(plain)
    (study,) = (await journey.get_import(session, created["id"]))["studies"]
    assert study["unsent_count"] == 1
    uid = study["study_instance_uid"]
    assert (await journey.confirm(session, created["id"], [uid], acknowledge=True)).is_success
    await run_worker(settings)  # the PACS that takes JPEG 2000 as it is
    done = await journey.get_import(session, created["id"])
    assert done["status"] == "completed", done["error"]
    assert (done["studies"][0]["unsent"], done["studies"][0]["unsent_count"]) == ([], 0)


# --- the RIS callback ---------------------------------------------------------------------------

LAUNCH = {"user": {"id": "u-tech-1", "name": "Tech One"}}


@pytest.mark.parametrize(
    ("update", "callback", "code"),
    [
        ({"callback_secret": SecretStr("")}, "http://127.0.0.1:9/hook", "callback_unsigned"),
        ({}, "http://ris.example.org/hook", "callback_host_not_allowed"),
        ({}, "http://127.0.0.1.example.org/hook", "callback_host_not_allowed"),
        ({"callback_hosts": []}, "http://127.0.0.1:9/hook", "callback_host_not_allowed"),
        ({"callback_allow_http": False}, "http://127.0.0.1:9/hook", "callback_insecure"),
        ({}, "http://ris:secret@127.0.0.1:9/hook", "callback_userinfo"),
    ],
)
async def test_a_launch_whose_callback_may_not_be_called_is_refused(
    settings: Settings, update: dict[str, Any], callback: str, code: str
) -> None:
    """The RIS learns at launch, not after the study is stored, that its callback would not
    be sent: unsigned, to a host not allowed, in clear, or with credentials in the address."""
    configured = settings.model_copy(update=update)
    async with running_api(configured) as url, httpx.AsyncClient(base_url=url) as http:
        launched = await http.post(
            "/api/v1/launches",
            json={**LAUNCH, "callback_url": callback},
            headers={"Authorization": f"Bearer {RIS_KEY}"},
        )
        assert launched.status_code == 422, launched.text
        assert launched.json()["error"]["code"] == code
        assert "127.0.0.1" not in launched.json()["error"]["message"]
        # the same launch without the callback is fine
        plain = await http.post(
            "/api/v1/launches", json=LAUNCH, headers={"Authorization": f"Bearer {RIS_KEY}"}
        )
        assert plain.status_code == 201, plain.text


@pytest.mark.parametrize(
    ("update", "code"),
    [
        ({"callback_hosts": ["ris.example.org"]}, "callback_host_not_allowed"),
        ({"callback_allow_http": False}, "callback_insecure"),
        ({"callback_secret": SecretStr("")}, "callback_unsigned"),
    ],
)
async def test_a_callback_no_longer_allowed_is_not_posted(
    journey: Journey, settings: Settings, update: dict[str, Any], code: str
) -> None:
    """A callback stored at launch, when the configuration has changed since: the notify
    stage fails with its code, and the RIS receives nothing (and nothing unsigned)."""
    received: list[bytes] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.body())
        return JSONResponse({"ok": True})

    async with serving(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as hook_url:
        session = await journey.start(callback_url=f"{hook_url}/hook")
        imported = await journey.import_media(
            session, make_zip([("IMG1", sample("CT_small.dcm").read_bytes())])
        )
        uid = imported["studies"][0]["study_instance_uid"]
        assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
        await run_worker(settings.model_copy(update=update))
    done = await journey.get_import(session, imported["id"])
    assert received == []
    notify = next(s for s in done["studies"][0]["stages"] if s["name"] == "notify")
    assert notify["status"] == "failed"
    assert done["status"] == "failed"
    assert done["error"]["code"] == code
    assert "127.0.0.1" not in done["error"]["message"]
    store = next(s for s in done["studies"][0]["stages"] if s["name"] == "store")
    assert store["status"] == "done"  # the study is in the PACS either way
