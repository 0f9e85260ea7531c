"""Patient names in every character set pydicom ships come back through the API exactly as
pydicom decodes them (ISO 8859 parts, UTF-8, GB18030, ISO 2022 with ideographic and phonetic
groups)."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pydicom
from pydicom.data import get_charset_files

from importer.settings import Settings
from tests.integration.media.helpers import analyse
from tests.integration.media.zoo import renewed, uids, zip_of
from tests.support.app import Journey

# pydicom ships these pairs under one SOP Instance UID: the second of each gets new UIDs
RENEWED = {"chrFrenMulti.dcm", "chrJapMultiExplicitIR6.dcm"}


def _charset_files() -> list[Path]:
    return sorted(Path(p) for p in get_charset_files("chr*.dcm"))


def _decoded_name(data: bytes) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(pydicom.dcmread(io.BytesIO(data), force=True).PatientName)


async def test_patient_names_come_back_decoded_exactly(
    journey: Journey, settings: Settings
) -> None:
    entries: list[tuple[str, bytes]] = []
    expected: dict[str, str] = {}  # study UID: name as pydicom decodes it
    unusable: dict[str, str] = {}
    for path in _charset_files():
        data = renewed(path.name, study=True) if path.name in RENEWED else path.read_bytes()
        shown = f"CHARSET/{path.stem.upper()}"
        entries.append((shown, data))
        if "SOPInstanceUID" in pydicom.dcmread(io.BytesIO(data), force=True):
            expected[uids(data)[1]] = _decoded_name(data)
        else:  # chrSQEncoding*.dcm: a sequence test without UIDs
            unusable[shown] = "missing_uid"
    assert len(expected) >= 15

    session = await journey.start()
    imported = await analyse(journey, session, zip_of(entries))
    assert imported["status"] == "awaiting_confirmation", imported["error"]
    assert {s["path"]: s["reason"] for s in imported["media"]["skipped"]} == unusable
    names = {s["study_instance_uid"]: s["patient"]["name"] for s in imported["studies"]}
    assert names == expected
    # the multi-script names really are multi-group, not flattened or mangled
    assert "Yamada^Tarou=山田^太郎=やまだ^たろう" in names.values()
    assert "Hong^Gildong=洪^吉洞=홍^길동" in names.values()
