"""The viewer's images of an import kept in the temporary zone, through the real api and worker:
one instance of a series as a PNG, in Instance Number order, for whoever may see the import."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from importer.media.thumbnail import VIEW_SIZE
from importer.settings import Settings
from tests.support.app import Journey, Launched, live_worker, make_zip, run_worker, sample

pytestmark = pytest.mark.integration

REFERENT = {"id": "ref-1", "name": "Imaging Referent", "roles": ["temporary_zone"]}
STUDY = generate_uid(entropy_srcs=["viewer", "study"])
SERIES = generate_uid(entropy_srcs=["viewer", "series"])
# Instance Number -> (rows, columns): the size of each image tells which one is shown
SHAPES = {2: (40, 80), 1: (1600, 800), 3: (30, 90)}


def _image(number: int, rows: int, columns: int) -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["viewer", str(number)])
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = SERIES
    ds.PatientName = "VIEWER^KEPT"
    ds.PatientID = "VIEW-1"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate = "20240102"
    ds.Modality = "OT"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    # noise: a ZIP of smooth images would compress past the archive's ratio limit
    noise = np.random.default_rng(number).integers(0, 256, rows * columns, dtype=np.uint8)
    ds.PixelData = noise.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


async def _kept(journey: Journey, settings: Settings) -> tuple[Launched, dict[str, Any]]:
    """A medium imported into the temporary zone (no temporary PACS: kept here only)."""
    session = await journey.start(worklist_mode=True, user=REFERENT)
    entries = [(f"IM{n}", _image(n, *shape)) for n, shape in SHAPES.items()]
    entries.append(("SR1", sample("reportsi.dcm").read_bytes()))
    archive = make_zip(entries)
    response = await journey.client.post(
        "/api/v1/imports", json={"zone": "temporary", "size": len(archive)}, headers=session.headers
    )
    assert response.status_code == 201, response.text
    created = response.json()
    await journey.upload(session, created["upload_url"], archive)
    await run_worker(settings)
    imported = await journey.get_import(session, created["id"])
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    confirmed = await journey.confirm(session, created["id"], uids, acknowledge=False)
    assert confirmed.status_code == 202, confirmed.text
    await run_worker(settings)
    kept = await journey.get_import(session, created["id"])
    assert kept["status"] == "completed"
    return session, kept


def _url(import_id: str, study: str, series: str, position: int | str) -> str:
    return f"/api/v1/imports/{import_id}/studies/{study}/series/{series}/instances/{position}/image"


async def test_each_instance_of_a_kept_series_is_shown_in_instance_number_order(
    journey: Journey, settings: Settings
) -> None:
    session, kept = await _kept(journey, settings)
    # the temporary zone's list gives the series the viewer needs
    listed = await journey.client.get("/api/v1/temporary", headers=session.headers)
    (item,) = listed.json()["items"]
    study = next(s for s in item["studies"] if s["study_instance_uid"] == STUDY)
    (series,) = study["series"]
    assert (series["series_instance_uid"], series["instance_count"]) == (SERIES, 3)
    assert series["thumbnail"] is True

    sizes = []
    async with live_worker(settings):
        for position in (1, 2, 3, 1):  # the last one from the cache
            response = await journey.client.get(
                _url(kept["id"], STUDY, SERIES, position), headers=session.headers
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "image/png"
            image = Image.open(io.BytesIO(response.content))
            assert image.format == "PNG"
            sizes.append(image.size)
    # number 1 (1600 × 800) at the viewer's size, then numbers 2 and 3 as they are
    assert sizes == [(VIEW_SIZE // 2, VIEW_SIZE), (80, 40), (90, 30), (VIEW_SIZE // 2, VIEW_SIZE)]


async def test_what_cannot_be_shown_is_a_clear_404(journey: Journey, settings: Settings) -> None:
    session, kept = await _kept(journey, settings)
    report = next(
        (s["study_instance_uid"], se["series_instance_uid"])
        for s in kept["studies"]
        for se in s["series"]
        if se["modality"] == "SR"
    )
    async with live_worker(settings):
        for study, series, position in [
            (STUDY, SERIES, 4),  # beyond the series
            (*report, 1),  # a report: no pixels
            (STUDY, "1.2.3.4.5", 1),  # no such series
            (report[0], SERIES, 1),  # a series of another study
        ]:
            response = await journey.client.get(
                _url(kept["id"], study, series, position), headers=session.headers
            )
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "image_unavailable"


async def test_only_whoever_may_see_the_import_sees_its_images(
    journey: Journey, settings: Settings
) -> None:
    session, kept = await _kept(journey, settings)
    other = await journey.start(
        worklist_mode=True, user={"id": "u-tech-9", "name": "Tech Nine", "roles": ["clinician"]}
    )
    async with live_worker(settings):
        response = await journey.client.get(
            _url(kept["id"], STUDY, SERIES, 1), headers=other.headers
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "import_not_found"
        # once purged, its images are gone with its files, the cached ones too
        shown = await journey.client.get(
            _url(kept["id"], STUDY, SERIES, 1), headers=session.headers
        )
        assert shown.status_code == 200
        purged = await journey.client.delete(
            f"/api/v1/imports/{kept['id']}", headers=session.headers
        )
        assert purged.status_code == 202, purged.text
        response = await journey.client.get(
            _url(kept["id"], STUDY, SERIES, 1), headers=session.headers
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "image_unavailable"


async def test_bad_parameters_are_refused(journey: Journey, settings: Settings) -> None:
    session, kept = await _kept(journey, settings)
    cases: list[tuple[str, str, int | str]] = [
        (STUDY, "1.2.3;rm", 1),
        ("abc", SERIES, 1),
        (STUDY, "1" * 65, 1),
        (STUDY, SERIES, 0),
        (STUDY, SERIES, "two"),
        (STUDY, SERIES, 100_001),
    ]
    for study, series, position in cases:
        response = await journey.client.get(
            _url(kept["id"], study, series, position), headers=session.headers
        )
        assert response.status_code == 422, (study, series, position, response.text)
        assert response.json()["error"]["code"] == "invalid_input"
