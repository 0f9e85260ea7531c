"""Transfer syntax choices and the little endian fallback (pure: no network)."""

from __future__ import annotations

import copy
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_fragmented_frames
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from importer.pacs.transcode import (
    NATIVE_SYNTAXES,
    Decision,
    Route,
    TranscodeError,
    decide,
    ensure_transfer_syntax,
    fallback_needed,
    is_native,
    proposed_syntaxes,
    to_little_endian,
)

EXPLICIT = str(ExplicitVRLittleEndian)
IMPLICIT = str(ImplicitVRLittleEndian)
DEFLATED = "1.2.840.10008.1.2.1.99"
BIG_ENDIAN = "1.2.840.10008.1.2.2"
J2K = "1.2.840.10008.1.2.4.91"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
RLE = "1.2.840.10008.1.2.5"
CT = "1.2.840.10008.5.1.4.1.1.2"
MR = "1.2.840.10008.5.1.4.1.1.4"


def _testdata(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"pydicom test file {name} is missing"
    return Path(path)


def _roundtrip(ds: Dataset) -> Dataset:
    """Encode as its file meta says, read back."""
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return dcmread(BytesIO(buffer.getvalue()))


@pytest.mark.parametrize(
    ("syntax", "native"),
    [
        (EXPLICIT, True),
        (IMPLICIT, True),
        (DEFLATED, True),
        ("", True),
        (BIG_ENDIAN, False),
        (J2K, False),
        (RLE, False),
        ("1.2.3.4", False),  # not a transfer syntax
    ],
)
def test_is_native(syntax: str, native: bool) -> None:
    assert is_native(syntax) is native


def test_the_original_syntax_is_proposed_alone() -> None:
    for syntax in (EXPLICIT, IMPLICIT, DEFLATED, BIG_ENDIAN, J2K, RLE):
        assert proposed_syntaxes(syntax) == [syntax]
    assert proposed_syntaxes("") == [EXPLICIT, IMPLICIT]


@pytest.mark.parametrize(
    ("syntaxes", "needed"),
    [
        ([J2K], True),
        ([EXPLICIT], True),  # a PACS may take implicit only
        ([IMPLICIT, J2K], True),
        ([EXPLICIT, IMPLICIT], False),
        ([EXPLICIT, IMPLICIT, J2K], False),
        ([""], False),
    ],
)
def test_fallback_context(syntaxes: list[str], needed: bool) -> None:
    assert fallback_needed(syntaxes) is needed


@pytest.mark.parametrize(
    ("accepted", "syntax", "expected"),
    [
        # the original, when accepted, always
        ([(CT, J2K), (CT, EXPLICIT)], J2K, Decision(Route.AS_IS, J2K)),
        ([(CT, IMPLICIT), (CT, EXPLICIT)], IMPLICIT, Decision(Route.AS_IS, IMPLICIT)),
        ([(CT, DEFLATED), (CT, EXPLICIT)], DEFLATED, Decision(Route.AS_IS, DEFLATED)),
        # refused compressed or big endian data: decoded, explicit preferred
        ([(CT, IMPLICIT), (CT, EXPLICIT)], J2K, Decision(Route.CONVERT, EXPLICIT)),
        ([(CT, IMPLICIT)], RLE, Decision(Route.CONVERT, IMPLICIT)),
        ([(CT, EXPLICIT)], BIG_ENDIAN, Decision(Route.CONVERT, EXPLICIT)),
        # refused native data: re-encoded by pynetdicom, no decoding
        ([(CT, EXPLICIT)], DEFLATED, Decision(Route.AS_IS, EXPLICIT)),
        ([(CT, IMPLICIT)], EXPLICIT, Decision(Route.AS_IS, IMPLICIT)),
        ([(CT, EXPLICIT)], "", Decision(Route.AS_IS, EXPLICIT)),
        # nothing for the SOP class, or compressed only
        ([(MR, EXPLICIT)], EXPLICIT, None),
        ([(CT, JPEG_BASELINE)], J2K, None),
        ([], EXPLICIT, None),
    ],
)
def test_decide(accepted: list[tuple[str, str]], syntax: str, expected: Decision | None) -> None:
    assert decide(accepted, CT, syntax) == expected


@pytest.mark.parametrize(
    "name",
    [
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "JPEG2000.dcm",
        "SC_rgb_jpeg_gdcm.dcm",
        "SC_rgb_jpeg_dcmtk.dcm",
        "SC_rgb_rle_16bit_2frame.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
    ],
)
def test_compressed_data_is_decoded_keeping_its_uid(name: str) -> None:
    ds = dcmread(_testdata(name))
    expected = ds.pixel_array
    uid = ds.SOPInstanceUID
    lossy = str(ds.file_meta.TransferSyntaxUID) in {J2K, JPEG_BASELINE}

    to_little_endian(ds)

    assert ds.file_meta.TransferSyntaxUID == EXPLICIT
    assert ds.SOPInstanceUID == uid
    back = _roundtrip(ds)
    assert np.array_equal(back.pixel_array, expected)
    if lossy:
        assert back.LossyImageCompression == "01"


@pytest.mark.parametrize(
    ("big", "little"),
    [
        ("MR_small_bigendian.dcm", "MR_small.dcm"),
        ("SC_rgb_small_odd_big_endian.dcm", "SC_rgb_small_odd.dcm"),
        ("liver_expb_1frame.dcm", "liver_1frame.dcm"),
    ],
)
def test_big_endian_data_is_byte_swapped(big: str, little: str) -> None:
    ds = dcmread(_testdata(big))
    reference = dcmread(_testdata(little))
    assert ds.file_meta.TransferSyntaxUID == BIG_ENDIAN

    to_little_endian(ds)
    back = _roundtrip(ds)

    assert back.file_meta.TransferSyntaxUID == EXPLICIT
    assert np.array_equal(back.pixel_array, reference.pixel_array)
    # numbers decoded when read are encoded again in the new byte order
    assert back.Rows == reference.Rows
    assert back.get("ImagePositionPatient") == reference.get("ImagePositionPatient")


def test_deflated_data_needs_no_decoding() -> None:
    ds = dcmread(_testdata("image_dfl.dcm"))
    pixels = ds.PixelData
    to_little_endian(ds)
    back = _roundtrip(ds)
    assert back.file_meta.TransferSyntaxUID == EXPLICIT
    assert back.PixelData == pixels


def _cut_j2k(fraction: float) -> Dataset:
    ds = dcmread(_testdata("JPEG2000.dcm"))
    frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
    ds.PixelData = encapsulate([frame[: int(len(frame) * fraction)]])
    return ds


@pytest.mark.parametrize("fraction", [0.01, 0.33])
def test_a_broken_codestream_raises_a_clear_error(fraction: float) -> None:
    ds = _cut_j2k(fraction)
    before = copy.deepcopy(ds.PixelData)
    with pytest.raises(TranscodeError) as raised:
        to_little_endian(ds)
    message = str(raised.value)
    assert "JPEG 2000" in message
    assert "could not be decoded" in message
    assert "\n" not in message
    assert ds.PixelData == before  # untouched: nothing half-converted goes out


def test_ensure_transfer_syntax() -> None:
    ds = dcmread(_testdata("MR_small_implicit.dcm"))
    del ds.file_meta.TransferSyntaxUID
    ensure_transfer_syntax(ds, "")
    assert ds.file_meta.TransferSyntaxUID == IMPLICIT
    built = Dataset()
    ensure_transfer_syntax(built, "")
    assert built.file_meta.TransferSyntaxUID == EXPLICIT
    ensure_transfer_syntax(built, J2K)  # set already: kept
    assert built.file_meta.TransferSyntaxUID == EXPLICIT
    other = Dataset()
    ensure_transfer_syntax(other, RLE)
    assert other.file_meta.TransferSyntaxUID == RLE
    assert set(NATIVE_SYNTAXES) == {EXPLICIT, IMPLICIT}
