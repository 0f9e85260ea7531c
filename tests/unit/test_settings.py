"""Settings refuse bad values at start-up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

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


@pytest.mark.parametrize(
    ("keys", "why"),
    [
        ("risa=sha256:abc", "64 hex digits"),  # a truncated hash would match no key, silently
        ("sha256:" + "g" * 64, "64 hex digits"),
        ("risa=the-key,risb=the-key", "already configured"),  # which client would it be?
        ("the-key,risb=sha256:" + hashlib.sha256(b"the-key").hexdigest(), "already configured"),
    ],
)
def test_a_ris_key_list_that_cannot_work_is_refused_at_start(keys: str, why: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(ris_api_keys=keys)  # as read from the environment
    assert why in str(refused.value)
    assert "the-key" not in str(refused.value)  # the message names the entry, not the key


def test_a_key_rotated_within_one_client_is_accepted() -> None:
    settings = Settings(ris_api_keys=SecretStr("risa=old,risa=new,plain,sha256:" + "a" * 64))
    assert len(settings.ris_key_list()) == 4


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"atna_syslog": "syslog://audit.example:514"}, "expected tls://"),
        ({"atna_syslog": "tls://:6514"}, "expected tls://"),
        ({"atna_syslog": "tls://audit.example:port"}, "port must be a number"),
        ({"atna_syslog": "tls://audit.example", "atna_ca_file": "/nonexistent/ca.pem"}, "no such"),
        ({"atna_key_file": __file__}, "needs IMPORTER_ATNA_CERT_FILE"),
    ],
)
def test_an_audit_repository_that_cannot_work_is_refused_at_start(
    overrides: dict[str, str], why: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**overrides)  # type: ignore[arg-type]
    assert why in str(refused.value)


def test_an_audit_repository_over_tls_is_accepted() -> None:
    settings = Settings(atna_syslog="tls://audit.example:6514", atna_ca_file=Path(__file__))
    assert settings.atna_syslog == "tls://audit.example:6514"
    assert Settings(atna_syslog="").atna_syslog is None


@pytest.mark.parametrize(
    "hosts",
    ["fe80::1", "ris.example:abc", "ris.example:99999", "https://ris.example", "ris.example/hook"],
)
def test_a_callback_host_that_would_never_match_is_refused_at_start(hosts: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(callback_hosts=hosts)  # as read from the environment
    assert "expected host or host:port" in str(refused.value)


def test_callback_hosts_as_written_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPORTER_CALLBACK_HOSTS", "[::1]:8443, ris.example ,10.0.0.5:443")
    assert Settings().callback_hosts == ["[::1]:8443", "ris.example", "10.0.0.5:443"]
    monkeypatch.setenv("IMPORTER_CALLBACK_HOSTS", '["ris.example", "[fd00::5]"]')
    assert Settings().callback_hosts == ["ris.example", "[fd00::5]"]
