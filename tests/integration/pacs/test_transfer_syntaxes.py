"""Transfer syntax negotiation against real Orthancs: a PACS that accepts compressed data gets
it unchanged; one that refuses it gets it decompressed (or byte-swapped, or inflated) as little
endian, with the same pixel values and the same SOP Instance UID."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pydicom.data
import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.errors import InvalidDicomError
from pydicom.pixels.decoders.base import get_decoder
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from devstack import OrthancProcess
from importer.media import decoders
from importer.pacs import STATUS_DECODE_FAILED, DimsePacs, StoreItem, StoreOutcome
from importer.pacs.transcode import LOSSY_SYNTAXES
from importer.settings import parse_dimse_url
from tests.integration.pacs.conftest import CALLING_AE
from tests.support.orthanc import orthanc_instance_file, orthanc_instance_id

pytestmark = pytest.mark.integration

LITTLE_ENDIAN = {str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian)}
# pydicom's test files: (file, transfer syntax, lossless)
COMPRESSED = [
    ("MR_small_RLE.dcm", "1.2.840.10008.1.2.5", True),  # RLE Lossless
    ("SC_rgb_rle.dcm", "1.2.840.10008.1.2.5", True),  # RLE, RGB
    ("MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90", True),  # JPEG 2000 lossless
    ("JPEG2000.dcm", "1.2.840.10008.1.2.4.91", False),  # JPEG 2000
    ("SC_rgb_jpeg_gdcm.dcm", "1.2.840.10008.1.2.4.70", True),  # JPEG Lossless SV1
    ("SC_rgb_jpeg_dcmtk.dcm", "1.2.840.10008.1.2.4.50", False),  # JPEG Baseline, YBR
    ("MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80", True),  # JPEG-LS lossless
]
UNCOMPRESSED_OTHERS = [
    ("MR_small_bigendian.dcm", "1.2.840.10008.1.2.2"),  # Explicit VR Big Endian
    ("image_dfl.dcm", "1.2.840.10008.1.2.1.99"),  # Deflated Explicit VR Little Endian
]


def _testdata(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"pydicom test file {name} is missing"
    return Path(path)


def _fresh(name: str) -> Dataset:
    """The test file with new UIDs (so that every test stores new instances)."""
    ds = dcmread(_testdata(name))
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _item(key: str, ds: Dataset) -> StoreItem:
    """An item whose loader returns a fresh copy each time (as reading the file would)."""

    def load() -> Dataset:
        return copy.deepcopy(ds)

    return StoreItem(
        key=key,
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
        load=load,
    )


def _pacs(orthanc: OrthancProcess, parallel: int = 2) -> DimsePacs:
    return DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=20, parallel=parallel
    )


def _store(orthanc: OrthancProcess, items: list[StoreItem]) -> dict[str, StoreOutcome]:
    return {outcome.key: outcome for outcome in _pacs(orthanc).store(items)}


def _stored(orthanc: OrthancProcess, ds: Dataset) -> Dataset:
    return dcmread(BytesIO(orthanc_instance_file(orthanc.http_url, str(ds.SOPInstanceUID))))


def test_a_pacs_that_accepts_compressed_data_receives_it_unchanged(
    orthanc: OrthancProcess,
) -> None:
    datasets = {name: _fresh(name) for name, _, _ in COMPRESSED}
    for name, _ in UNCOMPRESSED_OTHERS:
        datasets[name] = _fresh(name)

    outcomes = _store(orthanc, [_item(name, ds) for name, ds in datasets.items()])

    for name, ds in datasets.items():
        outcome = outcomes[name]
        original_syntax = str(ds.file_meta.TransferSyntaxUID)
        assert outcome.ok, outcome
        assert outcome.transfer_syntax == original_syntax
        assert "uncompressed" not in outcome.message
        stored = _stored(orthanc, ds)
        assert stored.file_meta.TransferSyntaxUID == original_syntax, name
        assert stored.PixelData == ds.PixelData, name
        assert stored.SOPInstanceUID == ds.SOPInstanceUID


@pytest.mark.parametrize(("name", "syntax", "lossless"), COMPRESSED)
def test_a_pacs_that_refuses_compressed_data_receives_it_decompressed(
    uncompressed_orthanc: OrthancProcess, name: str, syntax: str, lossless: bool
) -> None:
    ds = _fresh(name)
    assert ds.file_meta.TransferSyntaxUID == syntax
    expected = ds.pixel_array  # pydicom's decoding of the original

    outcome = _store(uncompressed_orthanc, [_item(name, ds)])[name]

    assert outcome.ok, outcome
    assert outcome.transfer_syntax in LITTLE_ENDIAN
    assert "sent uncompressed: the PACS refused" in outcome.message
    stored = _stored(uncompressed_orthanc, ds)
    assert stored.file_meta.TransferSyntaxUID in LITTLE_ENDIAN
    assert stored.SOPInstanceUID == ds.SOPInstanceUID  # never a new UID
    assert np.array_equal(stored.pixel_array, expected)
    if not lossless:
        assert stored.LossyImageCompression == "01"


INVALID_TEST_FILES = {
    # pydicom's own test of a broken codestream (a sequence delimiter inside it): no decoder
    # reads it, and none should
    "JPEG2000-embedded-sequence-delimiter.dcm",
}


def _compressed_test_files() -> list[str]:
    """Every image of pydicom's test files in a compressed syntax (those pydicom ships, none
    downloaded), but the invalid ones."""
    names = []
    for path in sorted((Path(pydicom.data.__file__).parent / "test_files").glob("*.dcm")):
        try:
            ds = dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:  # no file meta: not in a compressed syntax
            continue
        syntax = UID(str(ds.file_meta.get("TransferSyntaxUID", "")))
        image = "SOPClassUID" in ds and "Rows" in ds  # not a bare data set (UN_sequence.dcm)
        compressed = syntax.is_transfer_syntax and syntax.is_compressed
        if image and compressed and path.name not in INVALID_TEST_FILES:
            names.append(path.name)
    return names


def _reference_pixels(name: str, tmp_path: Path) -> np.ndarray[Any, Any]:
    """The original's pixels as decoded outside the store: by pydicom's own plugins, else
    (a 12-bit JPEG they refuse) by dcmtk's dcmdjpeg on the whole file."""
    ds = dcmread(_testdata(name))
    decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    for plugin in ("pylibjpeg", "pydicom", "pillow"):
        try:
            return decoder.as_array(ds, decoding_plugin=plugin)[0]
        except Exception:
            continue
    out = tmp_path / f"{name}.decoded"
    subprocess.run(
        ["/usr/bin/dcmdjpeg", str(_testdata(name)), str(out)], check=True, capture_output=True
    )
    return dcmread(out).pixel_array


def test_every_compressed_image_of_pydicoms_test_files_reaches_a_pacs_that_takes_none(
    uncompressed_orthanc: OrthancProcess, tmp_path: Path
) -> None:
    names = _compressed_test_files()
    assert len(names) >= 35  # every family: JPEG, JPEG-LS, JPEG 2000, RLE
    assert "JPEG-lossy.dcm" in names  # the 12-bit JPEG pydicom's plugins cannot decode
    datasets = {name: _fresh(name) for name in names}

    outcomes = _store(uncompressed_orthanc, [_item(name, ds) for name, ds in datasets.items()])

    assert [name for name in names if not outcomes[name].ok] == []
    for name, ds in datasets.items():
        outcome = outcomes[name]
        assert outcome.transfer_syntax in LITTLE_ENDIAN, name
        assert outcome.converted in decoders.chain(str(ds.file_meta.TransferSyntaxUID)), name
        stored = _stored(uncompressed_orthanc, ds)
        assert stored.SOPInstanceUID == ds.SOPInstanceUID
        expected = _reference_pixels(name, tmp_path)
        got = stored.pixel_array
        if name == "JPEG-lossy.dcm":  # GDCM against dcmdjpeg: the same values
            assert outcome.converted == "gdcm-12bit"
        assert np.array_equal(got, expected), name
        # which decoder converted it stays with the object
        record = stored.OriginalAttributesSequence[-1]
        assert record.ModifyingSystem.endswith(f"({outcome.converted})"), name
        if str(ds.file_meta.TransferSyntaxUID) in LOSSY_SYNTAXES:
            assert stored.LossyImageCompression == "01", name


@pytest.mark.parametrize(("name", "syntax"), UNCOMPRESSED_OTHERS)
def test_big_endian_and_deflated_data_go_as_little_endian_when_refused(
    uncompressed_orthanc: OrthancProcess, name: str, syntax: str
) -> None:
    ds = _fresh(name)
    assert ds.file_meta.TransferSyntaxUID == syntax
    expected = ds.pixel_array

    outcome = _store(uncompressed_orthanc, [_item(name, ds)])[name]

    assert outcome.ok, outcome
    stored = _stored(uncompressed_orthanc, ds)
    assert stored.file_meta.TransferSyntaxUID in LITTLE_ENDIAN
    assert np.array_equal(stored.pixel_array, expected)
    assert stored.PatientName == ds.PatientName


def _broken_j2k() -> Dataset:
    """JPEG2000.dcm with its codestream cut to a third: no decoder can read it."""
    ds = _fresh("JPEG2000.dcm")
    frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
    ds.PixelData = encapsulate([frame[: len(frame) // 3]])
    return ds


def test_a_broken_image_is_not_forwarded_when_it_would_need_decoding(
    uncompressed_orthanc: OrthancProcess,
) -> None:
    broken = _broken_j2k()
    good = _fresh("MR_small_RLE.dcm")

    outcomes = _store(uncompressed_orthanc, [_item("broken", broken), _item("good", good)])

    assert outcomes["broken"].status == STATUS_DECODE_FAILED
    assert not outcomes["broken"].ok
    assert "could not be decoded" in outcomes["broken"].message
    assert "JPEG 2000" in outcomes["broken"].message
    assert orthanc_instance_id(uncompressed_orthanc.http_url, str(broken.SOPInstanceUID)) is None
    assert outcomes["good"].ok


def test_pixel_data_is_not_decoded_when_the_original_syntax_is_accepted(
    orthanc: OrthancProcess,
) -> None:
    # The broken codestream cannot be decoded: it going through proves nothing decoded it.
    broken = _broken_j2k()
    assert broken.file_meta.TransferSyntaxUID == JPEG2000

    outcome = _store(orthanc, [_item("broken", broken)])["broken"]

    assert outcome.ok, outcome
    assert _stored(orthanc, broken).PixelData == broken.PixelData


def test_mixed_syntaxes_of_one_sop_class_each_take_their_own_route(
    uncompressed_orthanc: OrthancProcess, orthanc: OrthancProcess
) -> None:
    # MR Image Storage in RLE, JPEG 2000 lossless, JPEG-LS, big endian and explicit LE at once.
    names = [
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_bigendian.dcm",
        "MR_small.dcm",
    ]
    for server in (uncompressed_orthanc, orthanc):
        datasets = {name: _fresh(name) for name in names}
        outcomes = _store(server, [_item(n, ds) for n, ds in datasets.items()])
        for name, ds in datasets.items():
            assert outcomes[name].ok, outcomes[name]
            stored = _stored(server, ds)
            assert np.array_equal(stored.pixel_array, ds.pixel_array), name
            if server is orthanc:
                assert stored.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
            else:
                assert stored.file_meta.TransferSyntaxUID in LITTLE_ENDIAN


# Keep the helper typed for the parametrised loaders above.
_Loader = Callable[[], Dataset]
