"""The decoder chain (issue 17): the order it tries decoders in, the 12-bit JPEG that pydicom's
plugins cannot decode, dcmtk's tools frame by frame with nothing of the patient's in their
files, and a frame no decoder can read."""

from __future__ import annotations

import copy
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLSLossless,
    RLELossless,
)

from importer.media import decoders
from importer.media.decoders import DecodeFailed, dcmtk
from importer.media.decoders.stream import StreamMismatch, check_frame, jpeg_geometry
from importer.pacs.transcode import TranscodeError, to_little_endian

needs_dcmtk = pytest.mark.skipif(
    shutil.which("dcmdjpeg") is None, reason="dcmtk is installed by make setup-tools"
)


def _testdata(name: str) -> Dataset:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"pydicom test file {name} is missing"
    return dcmread(path)


def _dcmdjpeg(name: str, tmp_path: Path) -> np.ndarray[Any, Any]:
    """The reference: dcmtk's dcmdjpeg on the whole file, read back by pydicom."""
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str)
    out = tmp_path / "reference.dcm"
    subprocess.run(["dcmdjpeg", path, str(out)], check=True, capture_output=True)
    return dcmread(out).pixel_array


def test_the_chain_tries_pydicoms_plugins_then_gdcm_then_ours() -> None:
    chain = decoders.chain(JPEGExtended12Bit)

    assert chain.index("pylibjpeg") < chain.index("gdcm") < chain.index("gdcm-12bit")
    if shutil.which("dcmdjpeg"):
        assert chain[-1] == "dcmtk"
    # ours only where they can decode: no 12-bit plugin for RLE, no dcmtk for JPEG 2000
    assert "gdcm-12bit" not in decoders.chain(RLELossless)
    assert "dcmtk" not in decoders.chain("1.2.840.10008.1.2.4.90")


@needs_dcmtk
def test_12_bit_jpeg_extended_that_pydicoms_plugins_refuse_is_decoded_by_gdcm(
    tmp_path: Path,
) -> None:
    ds = _testdata("JPEG-lossy.dcm")
    uid = ds.SOPInstanceUID
    with pytest.raises(Exception):  # noqa: B017 - pydicom's own plugins, whatever they raise
        copy.deepcopy(ds).decompress(decoding_plugin="pylibjpeg")

    how = decoders.decompress(ds)

    assert how == "gdcm-12bit"
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert ds.SOPInstanceUID == uid
    assert np.array_equal(ds.pixel_array, _dcmdjpeg("JPEG-lossy.dcm", tmp_path))


LOSSLESS_FOR_DCMTK = [
    "MR_small_RLE.dcm",  # RLE, 16 bits
    "SC_rgb_rle.dcm",  # RLE, RGB
    "SC_rgb_rle_16bit_2frame.dcm",  # RLE, RGB, 16 bits, 2 frames
    "rtdose_rle.dcm",  # RLE, 32 bits, 15 frames
    "MR_small_jpeg_ls_lossless.dcm",  # JPEG-LS lossless
    "SC_rgb_jpeg_gdcm.dcm",  # JPEG lossless SV1, RGB
]


@needs_dcmtk
@pytest.mark.parametrize("name", LOSSLESS_FOR_DCMTK)
def test_dcmtk_decodes_lossless_data_to_the_same_values_as_pydicom(name: str) -> None:
    ds = _testdata(name)
    expected = ds.pixel_array  # pydicom's own plugins
    frames = ds.get("NumberOfFrames", 1)

    ds.decompress(decoding_plugin="dcmtk", generate_instance_uid=False)

    assert np.array_equal(ds.pixel_array, expected), name
    assert ds.get("NumberOfFrames", 1) == frames


LOSSY_FOR_DCMTK = [
    "JPGExtended.dcm",  # JPEG Extended, 12 bits
    "SC_rgb_dcmtk_+eb+cy+np.dcm",  # JPEG Baseline, YBR_FULL_422
    "SC_rgb_jpeg_dcmtk.dcm",  # JPEG Baseline, YBR_FULL
    "examples_ybr_color.dcm",  # JPEG Baseline, YBR_FULL_422, 30 frames
]


@needs_dcmtk
@pytest.mark.parametrize("name", LOSSY_FOR_DCMTK)
def test_dcmtk_decodes_lossy_jpeg_as_pydicom_does_within_a_decoders_rounding(name: str) -> None:
    ds = _testdata(name)
    expected = ds.pixel_array.astype(np.int64)  # RGB for YBR: pydicom converts

    ds.decompress(decoding_plugin="dcmtk", generate_instance_uid=False)

    got = ds.pixel_array.astype(np.int64)
    assert got.shape == expected.shape
    # two JPEG libraries' inverse DCT and colour conversion may round differently, not more
    assert np.abs(got - expected).max() <= 3, name
    if ds.SamplesPerPixel == 3:
        assert ds.PhotometricInterpretation == "RGB"


@needs_dcmtk
def test_dcmtks_files_hold_the_frame_and_its_geometry_only_and_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = _testdata("MR_small_RLE.dcm")
    assert ds.PatientName
    seen: list[Dataset] = []
    run = subprocess.run

    def spy(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        seen.append(dcmread(args[-2]))
        return run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    ds.decompress(decoding_plugin="dcmtk", generate_instance_uid=False)

    assert len(seen) == 1
    frame = seen[0]
    allowed = {
        "SOPClassUID", "SOPInstanceUID", "Rows", "Columns", "SamplesPerPixel",
        "PhotometricInterpretation", "PlanarConfiguration", "BitsAllocated", "BitsStored",
        "HighBit", "PixelRepresentation", "NumberOfFrames", "PixelData",
    }  # fmt: skip
    assert set(frame.dir()) | {"PixelData"} <= allowed
    assert frame.SOPInstanceUID != ds.SOPInstanceUID
    assert list(tmp_path.iterdir()) == []  # the folder went with the frame


def _broken(syntax: str) -> Dataset:
    """An image of ``syntax`` whose only frame is not what it says."""
    ds = _testdata("MR_small_RLE.dcm" if syntax == RLELossless else "JPEG-lossy.dcm")
    ds.PixelData = encapsulate([b"\xff\xd8 this is not an image \xff\xd9"])
    ds.file_meta.TransferSyntaxUID = UID(syntax)
    return ds


@pytest.mark.parametrize("syntax", [JPEGExtended12Bit, JPEGBaseline8Bit, JPEGLSLossless])
def test_a_frame_that_is_no_image_is_refused_and_left_as_it_was(syntax: str) -> None:
    ds = _broken(syntax)
    before = ds.PixelData

    with pytest.raises(DecodeFailed):
        decoders.decompress(ds)

    assert ds.PixelData == before
    with pytest.raises(TranscodeError, match="could not be decoded"):
        to_little_endian(ds)


def _hanging_dcmdrle(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dcmdrle first on PATH that never ends, and the tools' timeout at half a second."""
    tool = folder / "dcmdrle"
    tool.write_text("#!/bin/sh\nexec sleep 30\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    monkeypatch.setattr(dcmtk, "TIMEOUT_S", 0.5)


@needs_dcmtk
def test_a_tool_that_hangs_fails_its_frame_at_its_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hanging_dcmdrle(tmp_path, monkeypatch)
    ds = _testdata("MR_small_RLE.dcm")
    started = time.monotonic()

    with pytest.raises(Exception, match="timed out"):
        ds.decompress(decoding_plugin="dcmtk", generate_instance_uid=False)

    assert time.monotonic() - started < 10


def _cut(name: str, keep: float) -> Dataset:
    """The test file with its one frame cut to ``keep`` of its length."""
    ds = _testdata(name)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([frame[: int(len(frame) * keep)]])
    return ds


@pytest.mark.parametrize("keep", [0.5, 0.95])
@pytest.mark.parametrize("name", ["MR_small_RLE.dcm", "SC_rgb_rle.dcm", "JPGExtended.dcm"])
def test_a_truncated_frame_is_decoded_by_no_decoder(name: str, keep: float) -> None:
    # pylibjpeg decodes a JPEG stream cut short into an image of whatever it had: such a frame
    # is given to no decoder; an RLE one whose header still fits, each decoder refuses
    ds = _cut(name, keep)

    with pytest.raises(DecodeFailed) as raised:
        decoders.decompress(ds)
    assert not raised.value.transient  # the file's, not the moment's: a retry cannot help


@needs_dcmtk
def test_dcmtk_does_not_pad_a_truncated_rle_segment() -> None:
    # the header still fits (each segment starts inside the frame); dcmdrle fills the rest
    # with padding, warns, and exits 0: the warning fails the frame
    ds = _cut("MR_small_RLE.dcm", 0.95)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    check_frame(frame, RLELossless, ds.Rows, ds.Columns, 1, 16)

    with pytest.raises(Exception, match="without a warning"):
        ds.decompress(decoding_plugin="dcmtk", generate_instance_uid=False)


@needs_dcmtk
def test_dcmtk_does_not_fill_an_image_larger_than_its_jpeg_stream() -> None:
    # dcmdjpeg fills the rows the stream lacks with black, silently
    ds = _testdata("JPGExtended.dcm")
    ds.Rows += 10

    with pytest.raises(Exception, match="disagrees"):
        ds.decompress(decoding_plugin="dcmtk", generate_instance_uid=False)


@needs_dcmtk
def test_an_rle_image_larger_than_its_stream_is_tried_by_every_decoder_and_refused() -> None:
    # pylibjpeg-rle panics on it (a BaseException): the chain goes on to the others
    ds = _testdata("MR_small_RLE.dcm")
    ds.Rows += 10

    with pytest.raises(DecodeFailed) as raised:
        decoders.decompress(ds)

    assert raised.value.tried == decoders.chain(RLELossless)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "SC_rgb_jpeg_dcmtk.dcm"])
def test_a_jpeg_image_larger_than_its_stream_is_given_to_no_decoder(name: str) -> None:
    ds = _testdata(name)
    ds.Rows += 10

    with pytest.raises(DecodeFailed, match="disagrees") as raised:
        decoders.decompress(ds)

    assert raised.value.tried == []


def test_the_frame_header_is_checked_against_the_image() -> None:
    frame = next(generate_frames(_testdata("JPGExtended.dcm").PixelData, number_of_frames=1))
    assert jpeg_geometry(frame) == (1024, 256, 1, 12)
    check_frame(frame, JPEGExtended12Bit, 1024, 256, 1, 16)
    for rows, columns, samples, bits in [(1025, 256, 1, 16), (1024, 255, 1, 16),
                                         (1024, 256, 3, 16), (1024, 256, 1, 8)]:  # fmt: skip
        with pytest.raises(StreamMismatch):
            check_frame(frame, JPEGExtended12Bit, rows, columns, samples, bits)
    with pytest.raises(StreamMismatch):
        jpeg_geometry(b"\xff\xd8\xff\xda\x00\x02")  # a scan before any frame header
    rle = next(generate_frames(_testdata("SC_rgb_rle.dcm").PixelData, number_of_frames=1))
    check_frame(rle, RLELossless, 100, 100, 3, 8)
    with pytest.raises(StreamMismatch):
        check_frame(rle, RLELossless, 100, 100, 1, 8)


def test_a_syntax_no_decoder_exists_for_is_refused_per_instance() -> None:
    ds = _testdata("MR_small_RLE.dcm")
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.100")  # MPEG2 video

    with pytest.raises(DecodeFailed) as raised:
        decoders.decompress(ds)
    assert raised.value.tried == []
    with pytest.raises(TranscodeError, match="could not be decoded"):
        to_little_endian(ds)


def test_a_private_transfer_syntax_is_refused_per_instance_as_one_no_decoder_reads() -> None:
    ds = _testdata("MR_small.dcm")
    ds.file_meta.TransferSyntaxUID = UID("1.2.840.113619.5.2")  # GE's private syntax

    with pytest.raises(TranscodeError, match="not one DICOM defines"):
        to_little_endian(ds)


def test_more_compressed_data_than_its_image_is_given_to_no_decoder() -> None:
    ds = _testdata("MR_small_RLE.dcm")
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate(
        [frame + b"\0" * decoders.max_stream_bytes(decoders.decoded_size(ds))]
    )

    with pytest.raises(DecodeFailed, match="larger than the image") as raised:
        decoders.decompress(ds)
    assert raised.value.tried == []


def test_an_image_too_large_once_decoded_is_not_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    ds = _testdata("MR_small_RLE.dcm")
    monkeypatch.setattr(decoders, "MAX_DECODED_BYTES", decoders.decoded_size(ds) - 1)

    with pytest.raises(DecodeFailed, match="over the limit") as raised:
        decoders.decompress(ds)

    assert raised.value.tried == []
    assert ds.file_meta.TransferSyntaxUID == RLELossless


def test_a_data_set_read_as_implicit_vr_under_explicit_meta_is_written_as_explicit() -> None:
    # pydicom reads this file's data set as implicit VR although its meta says JPEG Baseline
    # (explicit VR): its raw elements have no VR until converted
    ds = _testdata("SC_rgb_jpeg.dcm")

    to_little_endian(ds)

    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)  # the explicit VR writer: every element has a VR
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian


def test_big_endian_data_is_byte_swapped_not_decoded() -> None:
    ds = _testdata("MR_small_bigendian.dcm")
    expected = ds.pixel_array

    assert to_little_endian(ds) == "byte-swapped"
    assert np.array_equal(ds.pixel_array, expected)


def test_lossy_data_decoded_says_so_with_its_method() -> None:
    ds = _testdata("SC_rgb_jpeg_dcmtk.dcm")
    del ds.LossyImageCompression, ds.LossyImageCompressionMethod  # a writer that said nothing

    how = to_little_endian(ds)

    assert how in decoders.chain(JPEGBaseline8Bit)
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == "ISO_10918_1"


def test_a_conversion_is_recorded_in_the_object_with_what_it_changed_and_how() -> None:
    ds = _testdata("SC_rgb_jpeg_dcmtk.dcm")  # JPEG Baseline, YBR_FULL: decoded to RGB
    assert "OriginalAttributesSequence" not in ds

    how = to_little_endian(ds)

    (record,) = ds.OriginalAttributesSequence
    assert record.ModifiedAttributesSequence[0].PhotometricInterpretation == "YBR_FULL"
    assert ds.PhotometricInterpretation == "RGB"
    assert record.ModifyingSystem == f"PACS Media Import ({how})"
    assert record.ReasonForTheAttributeModification == "COERCE"
    assert record.AttributeModificationDateTime


def test_a_conversion_record_follows_the_coercions_and_names_the_system_it_is_given() -> None:
    ds = _testdata("MR_small_bigendian.dcm")
    earlier = Dataset()  # the disc's own record, or our coercion's
    earlier.ModifyingSystem = "ST MARY HOSPITAL IRWF"
    earlier.ReasonForTheAttributeModification = "COERCE"
    ds.OriginalAttributesSequence = [earlier]

    to_little_endian(ds, "HOSPITAL IMPORT")

    first, record = ds.OriginalAttributesSequence
    assert first.ModifyingSystem == "ST MARY HOSPITAL IRWF"
    assert record.ModifyingSystem == "HOSPITAL IMPORT (byte-swapped)"
    assert len(record.ModifiedAttributesSequence[0]) == 0  # only the encoding changed


@needs_dcmtk
def test_a_lossless_jpeg_with_a_point_transform_is_decoded_right(tmp_path: Path) -> None:
    # pylibjpeg decodes it into a blank image and says nothing: GDCM decodes it, first
    source = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(source, str)
    shifted = tmp_path / "shifted.dcm"
    subprocess.run(
        ["/usr/bin/dcmcjpeg", "+el", "+sv", "1", "+pt", "2", source, str(shifted)],
        check=True,
        capture_output=True,
    )
    original = dcmread(source).pixel_array.astype(np.int64)
    ds = dcmread(shifted)

    how = decoders.decompress(ds)

    assert how == "gdcm"
    assert np.array_equal(ds.pixel_array.astype(np.int64), (original >> 2) << 2)
    assert decoders.chain(JPEGLossless)[0] == "gdcm"


def test_a_stray_byte_after_the_end_of_image_is_no_cut() -> None:
    # dcmtk's own JPEG-LS writer leaves one after some frames
    ds = _testdata("JPGExtended.dcm")
    expected = ds.pixel_array
    frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    ds.PixelData = encapsulate([frame.rstrip(b"\xff") + b"\x67"])

    decoders.decompress(ds)

    assert np.array_equal(ds.pixel_array, expected)


def test_an_extended_offset_table_goes_with_the_encapsulation() -> None:
    ds = _testdata("MR_small_RLE.dcm")
    ds.ExtendedOffsetTable = (0).to_bytes(8, "little")
    ds.ExtendedOffsetTableLengths = len(ds.PixelData).to_bytes(8, "little")

    to_little_endian(ds)

    assert "ExtendedOffsetTable" not in ds
    assert "ExtendedOffsetTableLengths" not in ds
    previous = ds.OriginalAttributesSequence[-1].ModifiedAttributesSequence[0]
    assert "ExtendedOffsetTable" in previous


@needs_dcmtk
def test_a_decoding_tool_that_times_out_is_a_failure_of_the_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hanging_dcmdrle(tmp_path, monkeypatch)
    monkeypatch.setattr(decoders, "chain", lambda syntax: ["dcmtk"])  # the others would decode
    ds = _testdata("MR_small_RLE.dcm")

    with pytest.raises(DecodeFailed) as raised:
        decoders.decompress(ds)
    assert raised.value.transient
    with pytest.raises(TranscodeError) as refused:
        to_little_endian(ds)
    assert refused.value.transient
