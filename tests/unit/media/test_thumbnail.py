"""Series thumbnails: every codec family pydicom ships renders; anything else gives None."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from importer.media import render_series_thumbnails, render_thumbnail, thumbnail_name
from tests.unit.media.helpers import FAKE_PDF, README, rewrite, sample, sample_bytes, without_meta

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# file, what it exercises, expected PIL mode
RENDERED = [
    ("CT_small.dcm", "explicit VR LE, rescale slope/intercept", "L"),
    ("MR_small.dcm", "explicit VR LE, window center/width", "L"),
    ("MR_small_implicit.dcm", "implicit VR LE", "L"),
    ("MR_small_bigendian.dcm", "explicit VR big endian", "L"),
    ("ExplVR_BigEnd.dcm", "explicit VR big endian, RGB", "RGB"),
    ("image_dfl.dcm", "deflated explicit VR LE", "L"),
    ("JPGExtended.dcm", "JPEG extended 12-bit", "L"),
    # its JPEG stream is malformed ("Invalid SOS parameters for sequential JPEG"): pydicom's
    # plugins refuse it, GDCM decodes it (the decoder chain) as JPGExtended.dcm, its repaired copy
    ("JPEG-lossy.dcm", "JPEG extended 12-bit, malformed, decoded by GDCM", "L"),
    ("SC_rgb_jpeg_dcmtk.dcm", "JPEG baseline, YBR_FULL", "RGB"),
    ("examples_ybr_color.dcm", "JPEG baseline YBR_FULL_422, 30 frames", "RGB"),
    ("JPEGLSNearLossless_08.dcm", "JPEG-LS near-lossless", "L"),
    ("MR_small_jpeg_ls_lossless.dcm", "JPEG-LS lossless", "L"),
    ("JPEG2000.dcm", "JPEG 2000", "L"),
    ("MR_small_jp2klossless.dcm", "JPEG 2000 lossless", "L"),
    ("MR_small_RLE.dcm", "RLE lossless", "L"),
    ("SC_rgb_rle.dcm", "RLE lossless, RGB", "RGB"),
    ("SC_rgb_rle_16bit_2frame.dcm", "RLE lossless, RGB 16-bit, 2 frames", "RGB"),
    ("SC_ybr_full_422_uncompressed.dcm", "native YBR_FULL_422", "RGB"),
    ("examples_palette.dcm", "palette colour", "RGB"),
    ("rtdose.dcm", "RT dose, 15 frames of 32-bit", "L"),
]

NOT_RENDERED = [
    ("rtplan.dcm", "RT plan: no pixels"),
    ("rtstruct.dcm", "RT structure set: no pixels"),
    ("reportsi.dcm", "SR: no pixels"),
    ("test-SR.dcm", "SR: no pixels"),
    ("waveform_ecg.dcm", "waveform: no pixels"),
    ("MR_truncated.dcm", "pixel data cut short"),
    ("SC_rgb_jpeg.dcm", "broken basic offset table"),
]


def _image(png: bytes | None) -> Image.Image:
    assert png is not None
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _blank(image: Image.Image) -> bool:
    """One value everywhere, in every band."""
    return all(band.getextrema()[0] == band.getextrema()[1] for band in image.split())


def _pixels(png: bytes | None) -> np.ndarray:
    return np.asarray(_image(png), dtype=np.int16)


def _write(tmp_path: Path, data: bytes, name: str = "IM0001") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _save(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def _multiframe(tmp_path: Path, frames: list[np.ndarray]) -> Path:
    """A native 8-bit MONOCHROME2 multi-frame secondary capture holding ``frames``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.2"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns = frames[0].shape
    ds.NumberOfFrames = len(frames)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = np.stack(frames).astype(np.uint8).tobytes()
    return _save(ds, tmp_path / "multiframe.dcm")


GRADIENT = np.tile(np.arange(64, dtype=np.uint8) * 4, (32, 1))
UNIFORM = np.zeros((32, 64), dtype=np.uint8)


@pytest.mark.parametrize(("name", "what", "mode"), RENDERED, ids=[r[0] for r in RENDERED])
def test_every_codec_family_renders_a_small_png_that_is_not_blank(
    name: str, what: str, mode: str
) -> None:
    image = _image(render_thumbnail(sample(name)))
    assert image.mode == mode, what
    assert max(image.size) <= 128
    assert min(image.size) >= 1
    assert not _blank(image), what


def test_a_file_without_preamble_or_file_meta_renders(tmp_path: Path) -> None:
    path = _write(tmp_path, without_meta("CT_small.dcm"))
    assert not _blank(_image(render_thumbnail(path)))


@pytest.mark.parametrize(("name", "what"), NOT_RENDERED, ids=[r[0] for r in NOT_RENDERED])
def test_objects_without_decodable_pixels_give_none(name: str, what: str) -> None:
    assert render_thumbnail(sample(name)) is None, what


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (sample_bytes("CT_small.dcm")[:20_000], "truncated inside pixel data"),
        (sample_bytes("JPEG2000.dcm")[:3_000], "truncated inside compressed pixel data"),
        (sample_bytes("CT_small.dcm")[:600], "truncated inside the header"),
        (README, "text named like an image"),
        (b"", "empty file"),
        (b"\x00" * 4096, "zeros"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_broken_files_give_none(tmp_path: Path, data: bytes, what: str) -> None:
    assert render_thumbnail(_write(tmp_path, data)) is None, what


def test_a_missing_file_gives_none(tmp_path: Path) -> None:
    assert render_thumbnail(tmp_path / "gone") is None


def test_an_encapsulated_pdf_gives_none(tmp_path: Path) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DOC"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = FAKE_PDF + b"\x00" * (len(FAKE_PDF) % 2)
    assert render_thumbnail(_save(ds, tmp_path / "pdf.dcm")) is None


def test_a_huge_frame_gives_none_without_being_decoded(tmp_path: Path) -> None:
    # the header promises 60000 x 60000 pixels (7 GB as 16-bit); nothing is allocated
    path = _write(tmp_path, rewrite("CT_small.dcm", Rows=60000, Columns=60000))
    assert render_thumbnail(path) is None


def test_size_bounds_the_longest_side_and_keeps_the_aspect_ratio() -> None:
    image = _image(render_thumbnail(sample("JPEG2000.dcm"), size=32))  # 1024 rows x 256 columns
    assert image.size == (8, 32)


def test_small_images_are_not_enlarged() -> None:
    assert _image(render_thumbnail(sample("MR_small.dcm"))).size == (64, 64)


def test_monochrome1_is_shown_inverted(tmp_path: Path) -> None:
    normal = _pixels(render_thumbnail(sample("CT_small.dcm")))
    path = _write(tmp_path, rewrite("CT_small.dcm", PhotometricInterpretation="MONOCHROME1"))
    inverted = _pixels(render_thumbnail(path))
    assert np.abs(normal + inverted - 255).max() <= 1


def test_the_window_in_the_file_is_applied(tmp_path: Path) -> None:
    # MR_small holds values 127..2145; a narrow window saturates most of the image
    plain = _pixels(render_thumbnail(_write(tmp_path, _without_window("MR_small.dcm"), "a")))
    narrow = rewrite("MR_small.dcm", WindowCenter=600, WindowWidth=100)
    windowed = _pixels(render_thumbnail(_write(tmp_path, narrow, "b")))

    def saturated(p: np.ndarray) -> float:
        return float(np.mean((p == 0) | (p == 255)))

    assert saturated(windowed) > saturated(plain) + 0.3
    assert not np.array_equal(plain, windowed)


def test_the_voi_lut_in_the_file_is_applied(tmp_path: Path) -> None:
    # a VOI LUT that is a step: MR_small's values under 1000 black, the others white
    ds = pydicom.dcmread(sample("MR_small.dcm"))
    del ds.WindowCenter, ds.WindowWidth
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.add_new(0x00283006, "US", [0 if v < 1000 else 65535 for v in range(4096)])
    ds.VOILUTSequence = [item]
    pixels = _pixels(render_thumbnail(_save(ds, tmp_path / "voi.dcm")))
    assert set(np.unique(pixels).tolist()) == {0, 255}


def test_a_window_outside_the_data_falls_back_to_min_max(tmp_path: Path) -> None:
    far = rewrite("MR_small.dcm", WindowCenter=1_000_000, WindowWidth=10)
    assert not _blank(_image(render_thumbnail(_write(tmp_path, far))))


def test_the_middle_frame_of_a_multiframe_object_is_shown(tmp_path: Path) -> None:
    middle_has_content = _multiframe(tmp_path, [UNIFORM, GRADIENT, UNIFORM])
    assert not _blank(_image(render_thumbnail(middle_has_content)))
    middle_is_blank = _multiframe(tmp_path, [GRADIENT, UNIFORM, GRADIENT])
    assert _blank(_image(render_thumbnail(middle_is_blank)))


def test_thumbnail_names_are_stable_hashes_that_never_hold_the_uid() -> None:
    uid = "1.2.826.0.1.3680043.8.498.1"
    name = thumbnail_name(uid)
    assert re.fullmatch(r"[0-9a-f]{40}\.png", name)
    assert name == thumbnail_name(uid)
    assert name != thumbnail_name(uid + "0")
    assert uid not in name


def test_one_thumbnail_per_series_from_its_middle_instance(tmp_path: Path) -> None:
    out = tmp_path / "thumbs"
    series = {
        "1.1": [sample("MR_small.dcm"), sample("CT_small.dcm"), sample("MR_small.dcm")],
        # the middle one has no pixels: its neighbour is used
        "1.2": [sample("reportsi.dcm"), sample("rtplan.dcm"), sample("SC_rgb_rle.dcm")],
        "1.3": [sample("reportsi.dcm")],  # nothing to show
        "1.4": [],
        # two instances, the middle (second) one with no pixels: the first is used
        "1.5": [sample("CT_small.dcm"), sample("reportsi.dcm")],
    }
    written = render_series_thumbnails(series, out)
    assert written == {name: thumbnail_name(name) for name in ("1.1", "1.2", "1.5")}
    assert sorted(p.name for p in out.iterdir()) == sorted(written.values())
    assert (out / written["1.1"]).read_bytes() == render_thumbnail(sample("CT_small.dcm"))
    assert (out / written["1.2"]).read_bytes() == render_thumbnail(sample("SC_rgb_rle.dcm"))


def test_series_thumbnails_never_raise_when_the_folder_cannot_be_made(tmp_path: Path) -> None:
    blocker = tmp_path / "thumbs"
    blocker.write_bytes(b"a file where the folder should be")
    assert render_series_thumbnails({"1.1": [sample("CT_small.dcm")]}, blocker) == {}


def _without_window(name: str) -> bytes:
    ds = pydicom.dcmread(sample(name))
    for keyword in ("WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.save_as(buf)
    return buf.getvalue()
