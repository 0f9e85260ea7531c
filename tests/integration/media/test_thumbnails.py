"""The series thumbnail route, on the real app: a PNG for a series that has one, clear errors
otherwise, and only for whoever may see the import."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from importer.media import thumbnail_name
from importer.media.thumbnail import THUMBNAILS_DIR, thumbnail_path
from importer.settings import Settings
from tests.integration.media.helpers import analyse
from tests.integration.media.zoo import sample, zip_of
from tests.support.app import Journey, Launched

MEDIUM = {"CT/IM0001": "CT_small.dcm", "CT/SR0001": "reportsi.dcm", "MR/IM0001": "MR_small.dcm"}


@pytest.fixture
def journey_with_thumbnails(journey: Journey) -> Journey:
    return journey


def _series(imported: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Modality of each series: (study UID, series UID)."""
    return {
        se["modality"]: (study["study_instance_uid"], se["series_instance_uid"])
        for study in imported["studies"]
        for se in study["series"]
    }


async def _imported(journey: Journey, settings: Settings) -> tuple[Launched, dict[str, Any]]:
    session = await journey.start()
    archive = zip_of([(path, sample(name).read_bytes()) for path, name in MEDIUM.items()])
    imported = await analyse(journey, session, archive)
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    # the worker rendered one PNG per series that has pixels, and says which
    flags = {se["modality"]: se["thumbnail"] for st in imported["studies"] for se in st["series"]}
    assert flags == {"CT": True, "MR": True, "SR": False}
    return session, imported


def _url(imported: dict[str, Any], study: str, series: str) -> str:
    return f"/api/v1/imports/{imported['id']}/studies/{study}/series/{series}/thumbnail"


async def test_a_series_thumbnail_is_a_small_png_kept_in_the_browser_cache(
    journey_with_thumbnails: Journey, settings: Settings
) -> None:
    journey = journey_with_thumbnails
    session, imported = await _imported(journey, settings)
    for modality in ("CT", "MR"):
        study, series = _series(imported)[modality]
        response = await journey.client.get(_url(imported, study, series), headers=session.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/png"
        assert response.headers["cache-control"].startswith("private, max-age=")
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG"
        assert max(image.size) <= 128
    # on disk under a hash, never under the UID itself
    import_dir = settings.effective_spool_dir / "imports" / imported["id"]
    thumbs = import_dir / THUMBNAILS_DIR
    assert sorted(p.name for p in thumbs.iterdir()) == sorted(
        thumbnail_name(_series(imported)[m][1]) for m in ("CT", "MR")
    )
    assert thumbnail_path(import_dir, _series(imported)["CT"][1]).parent == thumbs


async def test_a_series_without_a_thumbnail_is_a_clear_404(
    journey_with_thumbnails: Journey, settings: Settings
) -> None:
    journey = journey_with_thumbnails
    session, imported = await _imported(journey, settings)
    series = _series(imported)
    assert series["CT"][0] != series["MR"][0]
    for study, series_uid in [
        series["SR"],  # a report: nothing to show
        (series["CT"][0], "1.2.3.4.5.6.7"),  # no such series
        ("1.2.3.4.5.6.7", series["CT"][1]),  # no such study
        (series["MR"][0], series["CT"][1]),  # a series of another study of the import
    ]:
        response = await journey.client.get(
            _url(imported, study, series_uid), headers=session.headers
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "thumbnail_unavailable"


async def test_uids_that_are_not_uids_are_refused(
    journey_with_thumbnails: Journey, settings: Settings
) -> None:
    journey = journey_with_thumbnails
    session, imported = await _imported(journey, settings)
    study, series = _series(imported)["CT"]
    for bad in ["abc", "1.2.3.", ".1.2", "1..2", "1.2.3;rm", "1" * 65, "1.2.3 4"]:
        for url in (_url(imported, bad, series), _url(imported, study, bad)):
            response = await journey.client.get(url, headers=session.headers)
            assert response.status_code == 422, (bad, response.text)
            assert response.json()["error"]["code"] == "invalid_input"
    # path tricks never reach the route: an encoded slash or dot segments are another path
    for bad in ["..", "1.2%2F..%2F3"]:
        response = await journey.client.get(_url(imported, study, bad), headers=session.headers)
        assert response.status_code == 404, (bad, response.text)
        assert response.headers["content-type"] == "application/json"


async def test_only_who_may_see_the_import_gets_its_thumbnails(
    journey_with_thumbnails: Journey, settings: Settings
) -> None:
    journey = journey_with_thumbnails
    _, imported = await _imported(journey, settings)
    url = _url(imported, *_series(imported)["CT"])

    anonymous = await journey.client.get(url)
    assert anonymous.status_code == 401
    other = await journey.start(accession="ACC0999")  # another order's session
    foreign = await journey.client.get(url, headers=other.headers)
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "import_not_found"
