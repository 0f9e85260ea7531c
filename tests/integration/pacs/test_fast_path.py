"""The fast path (``StoreItem.encoded``: header coerced alone, pixel data sent from the file's
bytes, our own P-DATA writer) against real Orthancs: what the PACS stores is what the slow
path stores, and the slow path still serves what the fast one cannot send as it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from devstack import OrthancProcess
from importer.coerce import CoercionTarget
from importer.pacs import DimsePacs, StoreItem, StoreOutcome
from importer.pacs.base import EncodedInstance
from importer.pipeline.prepare import IN_MEMORY_BYTES, encode_for_store, load_for_store
from importer.settings import parse_dimse_url
from tests.integration.pacs.conftest import CALLING_AE
from tests.support.orthanc import orthanc_instance_file

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TARGET = CoercionTarget(
    patient_name="ROSSI^MARIO",
    patient_id="HOSP-0042",
    issuer_of_patient_id="HOSPITAL",
    birth_date="19740101",
    sex="M",
    accession_number="ACC-FAST",
)
FILES = {
    "CT_small.dcm": "1.2.840.10008.1.2.1",
    "rtplan.dcm": "1.2.840.10008.1.2",
    "MR_small_bigendian.dcm": "1.2.840.10008.1.2.2",
    "MR_small_RLE.dcm": "1.2.840.10008.1.2.5",
    "JPEG2000.dcm": "1.2.840.10008.1.2.4.91",
    "image_dfl.dcm": "1.2.840.10008.1.2.1.99",
}
SENT_AS_IS = {"CT_small.dcm", "rtplan.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm",
              "JPEG2000.dcm"}  # fmt: skip


def _copy(tmp_path: Path, name: str) -> Path:
    """The test file with new UIDs, written to the spool."""
    source = get_testdata_file(name, download=False)
    assert isinstance(source, str)
    ds = dcmread(source)
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / name
    ds.save_as(path)
    return path


def _item(
    path: Path, calls: dict[str, list[str]], in_memory_bytes: int = IN_MEMORY_BYTES
) -> StoreItem:
    header = dcmread(path, stop_before_pixels=True)
    how = {"target": TARGET, "modifying_system": "test", "now": NOW}

    def load() -> Dataset:
        calls["load"].append(path.name)
        return load_for_store(path, add_other_patient_ids=True, **how)  # type: ignore[arg-type]

    def encoded() -> EncodedInstance | None:
        calls["encoded"].append(path.name)
        return encode_for_store(
            path, target=TARGET, modifying_system="test", now=NOW, add_other_patient_ids=True,
            in_memory_bytes=in_memory_bytes,
        )  # fmt: skip

    return StoreItem(
        key=path.name,
        sop_class_uid=str(header.SOPClassUID),
        sop_instance_uid=str(header.SOPInstanceUID),
        transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
        load=load,
        encoded=encoded,
    )


def _store(orthanc: OrthancProcess, items: list[StoreItem]) -> dict[str, StoreOutcome]:
    pacs = DimsePacs(parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=20)
    return {outcome.key: outcome for outcome in pacs.store(items)}


def _stored(orthanc: OrthancProcess, path: Path) -> Dataset:
    uid = str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    return dcmread(BytesIO(orthanc_instance_file(orthanc.http_url, uid)))


Store = Callable[[OrthancProcess, list[StoreItem]], dict[str, StoreOutcome]]


@pytest.mark.parametrize(
    "in_memory_bytes", [IN_MEMORY_BYTES, 0], ids=["pixels-in-memory", "pixels-read-while-sent"]
)
def test_the_pacs_stores_what_the_slow_path_would_send(
    orthanc: OrthancProcess, tmp_path: Path, in_memory_bytes: int
) -> None:
    paths = [_copy(tmp_path, name) for name in FILES]
    before = {path: path.read_bytes() for path in paths}
    calls: dict[str, list[str]] = {"load": [], "encoded": []}

    outcomes = _store(orthanc, [_item(path, calls, in_memory_bytes) for path in paths])

    assert sorted(calls["encoded"]) == sorted(FILES)
    assert sorted(calls["load"]) == ["image_dfl.dcm"]  # deflated: the slow path
    for path in paths:
        outcome = outcomes[path.name]
        assert outcome.ok, outcome
        assert outcome.transfer_syntax == FILES[path.name]
        expected = load_for_store(
            path, target=TARGET, modifying_system="test", now=NOW, add_other_patient_ids=True
        )
        stored = _stored(orthanc, path)
        assert stored.PatientID == "HOSP-0042"
        assert stored.file_meta.TransferSyntaxUID == FILES[path.name]
        # every element as the slow path sends it (Orthanc may write sequence lengths its way)
        assert stored.to_json_dict() == expected.to_json_dict(), path.name
        assert path.read_bytes() == before[path]  # the spool is never modified


def test_a_pacs_that_refuses_the_original_syntax_gets_it_from_the_slow_path(
    uncompressed_orthanc: OrthancProcess, tmp_path: Path
) -> None:
    paths = [_copy(tmp_path, name) for name in ("CT_small.dcm", "MR_small_RLE.dcm")]
    calls: dict[str, list[str]] = {"load": [], "encoded": []}

    outcomes = _store(uncompressed_orthanc, [_item(path, calls) for path in paths])

    assert calls["load"] == ["MR_small_RLE.dcm"]  # decompressed: only the slow path can
    assert outcomes["CT_small.dcm"].ok
    rle = outcomes["MR_small_RLE.dcm"]
    assert rle.ok, rle
    assert "sent uncompressed" in rle.message
    assert _stored(uncompressed_orthanc, paths[1]).PatientID == "HOSP-0042"


def test_a_large_object_is_sent_from_its_file_block_by_block(
    orthanc: OrthancProcess, tmp_path: Path
) -> None:
    """Pixel data over the in-memory bound (here 10 MB, several 4 MB blocks, Orthanc's 16 kB
    PDUs) is read from the file while it is sent: the PACS holds every byte of it."""
    source = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(source, str)
    ds = dcmread(source)
    frame = ds.PixelData
    frames = 10 * 1024 * 1024 // len(frame) + 1
    ds.NumberOfFrames = frames
    ds.PixelData = b"".join(bytes([i % 251]) + frame[1:] for i in range(frames))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / "large.dcm"
    ds.save_as(path)
    calls: dict[str, list[str]] = {"load": [], "encoded": []}
    prepared = encode_for_store(
        path, target=TARGET, modifying_system="test", now=NOW, add_other_patient_ids=True,
        in_memory_bytes=1024 * 1024,
    )  # fmt: skip
    assert prepared is not None
    assert prepared.rest is not None, "the pixel data stays on disk"
    assert len(prepared.data) < 64 * 1024

    outcomes = _store(orthanc, [_item(path, calls, 1024 * 1024)])

    assert outcomes["large.dcm"].ok, outcomes["large.dcm"]
    assert calls == {"load": [], "encoded": ["large.dcm"]}
    stored = _stored(orthanc, path)
    assert stored.PatientID == "HOSP-0042"
    assert stored.PixelData == ds.PixelData
