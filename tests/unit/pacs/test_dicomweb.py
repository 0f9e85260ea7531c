"""DICOMweb adapter parts that need no server: URLs and STOW-RS responses."""

from __future__ import annotations

import pytest

from importer.pacs import DicomWebPacs, PacsError, dicomweb_base_url, make_pacs_client
from importer.pacs.dicomweb import parse_stow_response


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("dicomweb://pacs:8042/dicom-web", "http://pacs:8042/dicom-web"),
        ("dicomweb://pacs:8042/dicom-web/", "http://pacs:8042/dicom-web"),
        ("dicomwebs://pacs/wado", "https://pacs/wado"),
        ("http://127.0.0.1:8042/dicom-web", "http://127.0.0.1:8042/dicom-web"),
        ("https://pacs.example/rs", "https://pacs.example/rs"),
    ],
)
def test_dicomweb_urls(url: str, base: str) -> None:
    assert dicomweb_base_url(url) == base
    client = make_pacs_client(url, calling_ae="TEST", timeout=5)
    assert isinstance(client, DicomWebPacs)
    assert client.base_url == base


def test_a_dicomweb_url_without_a_host_is_refused() -> None:
    with pytest.raises(PacsError) as raised:
        dicomweb_base_url("dicomweb://")
    assert raised.value.code == "pacs_invalid_url"


def _ref(uid: str, **extra: object) -> dict[str, object]:
    item: dict[str, object] = {
        "00081150": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
        "00081155": {"vr": "UI", "Value": [uid]},
    }
    for tag, value in extra.items():
        item[tag] = {"vr": "US", "Value": [value]}
    return item


def test_parse_stow_response() -> None:
    body = {
        "00081190": {"vr": "UR", "Value": ["http://pacs/studies/1"]},
        "00081199": {
            "vr": "SQ",
            "Value": [_ref("1.1"), _ref("1.2", **{"00081196": 0xB000})],
        },
        "00081198": {"vr": "SQ", "Value": [_ref("1.3", **{"00081197": 0xA700}), _ref("1.4")]},
    }
    assert parse_stow_response(body) == {
        "1.1": (0x0000, True, False),
        "1.2": (0xB000, True, True),
        "1.3": (0xA700, False, False),
        "1.4": (0x0110, False, False),
    }
    assert parse_stow_response([body]) == parse_stow_response(body)
    assert parse_stow_response("nonsense") == {}
    assert parse_stow_response({}) == {}


def test_dicomweb_has_no_storage_commitment() -> None:
    with pytest.raises(PacsError) as raised:
        DicomWebPacs("http://127.0.0.1:1/dicom-web").commit([], timeout=1)
    assert raised.value.code == "pacs_unsupported"


def test_dicomweb_base_url_must_be_http() -> None:
    with pytest.raises(ValueError):
        DicomWebPacs("ftp://pacs")
