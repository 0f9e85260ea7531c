"""`make demo-import` (scripts.demo_import --yes) against the real api and worker: it confirms
the studies whose patient matches the order, and never acknowledges a different patient on its
own (issue 14, point 14)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
import pydicom
import pytest

from importer.settings import Settings
from scripts import demo_import
from scripts.run import DEMO_ORDER
from tests.support.app import RIS_KEY, live_worker, running_api, sample


def medium(folder: Path, patients: dict[str, tuple[str, str]]) -> Path:
    """A CD: one CT study per file name, each of its own patient (name, birth date)."""
    folder.mkdir()
    for index, (name, (patient, born)) in enumerate(patients.items(), start=1):
        ds = pydicom.dcmread(sample("CT_small.dcm"))
        ds.PatientName, ds.PatientBirthDate, ds.PatientSex = patient, born, "M"
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.8.498.{index}"
        ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.8.498.{index}.1"
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{index}.1.1"
        ds.StudyDescription = name
        ds.save_as(folder / name)
    return folder


async def run_demo_import(url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    args = ["demo_import", str(folder), "--url", url, "--ris-key", RIS_KEY, "--yes"]
    monkeypatch.setattr(sys, "argv", args)
    return await asyncio.to_thread(demo_import.main)


async def statuses(url: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url) as http:
        listed = await http.get(
            f"/api/v1/orders/{DEMO_ORDER['accession_number']}/imports",
            headers={"Authorization": f"Bearer {RIS_KEY}"},
        )
        return {item["id"]: item["status"] for item in listed.json()["items"]}


async def test_yes_never_acknowledges_a_different_patient(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cd = medium(tmp_path / "cd", {"OTHER": ("BIANCHI^LUCA", "19800303")})
    async with running_api(settings) as url, live_worker(settings):
        code = await run_demo_import(url, cd, monkeypatch)
        assert code == 1
        assert list((await statuses(url)).values()) == ["awaiting_confirmation"]
    printed = capsys.readouterr().out
    assert "not confirmed: OTHER" in printed
    assert "nothing confirmed" in printed


async def test_yes_confirms_the_matching_studies_only(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    patient = DEMO_ORDER["patient"]
    assert isinstance(patient, dict)
    cd = medium(
        tmp_path / "cd",
        {
            "SAME": (patient["name"], patient["birth_date"]),
            "OTHER": ("BIANCHI^LUCA", "19800303"),
        },
    )
    async with running_api(settings) as url, live_worker(settings):
        code = await run_demo_import(url, cd, monkeypatch)
        assert code == 0
        assert list((await statuses(url)).values()) == ["completed"]
    printed = capsys.readouterr().out
    assert "confirm: HTTP 202" in printed
    assert "not confirmed: OTHER" in printed


async def test_the_sample_medium_is_the_demo_patient_s(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make demo-import` without a folder, as `make run` suggests: it completes."""
    async with running_api(settings) as url, live_worker(settings):
        args = ["demo_import", "--url", url, "--ris-key", RIS_KEY, "--yes"]
        monkeypatch.setattr(sys, "argv", args)
        assert await asyncio.to_thread(demo_import.main) == 0
        assert list((await statuses(url)).values()) == ["completed"]
