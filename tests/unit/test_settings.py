"""Settings refuse bad values at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from importer.settings import DicomNode, Settings, parse_dimse_url


def test_parse_dimse_url() -> None:
    assert parse_dimse_url("dimse://ORTHANC@pacs.local:4242") == DicomNode(
        "ORTHANC", "pacs.local", 4242
    )


@pytest.mark.parametrize(
    "url",
    ["http://pacs:4242", "dimse://pacs:4242", "dimse://AE@pacs", "dimse://WAYTOOLONGAETITLE17@h:1"],
)
def test_bad_dimse_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_dimse_url(url)


def test_bad_pacs_url_stops_start_up() -> None:
    with pytest.raises(ValidationError, match="pacs_url"):
        Settings(pacs_url="ftp://pacs")


def test_embedded_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'importer.sqlite3'}"
    assert settings.effective_spool_dir == tmp_path / "spool"
    assert (
        Settings(data_dir=tmp_path, spool_dir=tmp_path / "x").effective_spool_dir == tmp_path / "x"
    )


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_RIS_API_KEYS", " k1, k2 ,")
    monkeypatch.setenv("IMPORTER_CALLING_AE", "IMPORTER")
    settings = Settings()
    assert settings.ris_key_list() == ["k1", "k2"]
    assert settings.calling_ae == "IMPORTER"
    assert "k1" not in repr(settings)  # secrets are not printed


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    missing = [name for name in Settings.model_fields if f"IMPORTER_{name.upper()}" not in doc]
    assert missing == []
