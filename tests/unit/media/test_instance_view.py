"""The viewer's images: one instance of a series at the viewer's size, in Instance Number order,
cached next to the series' thumbnail; anything that cannot be shown is ``image_unavailable``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from importer.errors import NotFound
from importer.media.thumbnail import (
    THUMBNAIL_SIZE,
    VIEW_SIZE,
    instance_order,
    render_instance_view,
    render_thumbnail,
    view_path,
)
from tests.unit.media.helpers import rewrite, sample

SERIES = "1.2.826.0.1.3680043.8.498.1"


def _image(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _secondary_capture(path: Path, pixels: np.ndarray, number: int | None) -> Path:
    """A native 8-bit MONOCHROME2 image holding ``pixels``, with ``number`` as its Instance
    Number (none when None)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = SERIES
    ds.Modality = "OT"
    if number is not None:
        ds.InstanceNumber = number
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _bar(column: int) -> np.ndarray:
    """A black 16 × 16 image with one white column: which one tells the instances apart."""
    pixels = np.zeros((16, 16), dtype=np.uint8)
    pixels[:, column] = 255
    return pixels


def _white_column(png: bytes) -> int:
    array = np.asarray(_image(png))
    return int(np.argmax(array.max(axis=0)))


def _series(import_dir: Path, numbers: list[int | None]) -> list[str]:
    """One file per number, in that order (the file's white column is its place in the list);
    their paths relative to ``import_dir``, as the instances keep them."""
    paths = []
    for index, number in enumerate(numbers):
        name = f"media/f/IM{index:04d}"
        _secondary_capture(import_dir / name, _bar(index), number)
        paths.append(name)
    return paths


def _shown(import_dir: Path, paths: list[str], position: int) -> int:
    """Which file (its index in ``paths``) the viewer shows at ``position``."""
    view = render_instance_view(import_dir, SERIES, paths, position)
    assert (view.position, view.count) == (position, len(paths))
    return _white_column(view_path(import_dir, SERIES, position).read_bytes())


def test_instances_are_shown_in_instance_number_order(tmp_path: Path) -> None:
    paths = _series(tmp_path, [3, 1, None, 2, 10])
    # by number (3 < 10 as numbers, not as text); the file without one last
    assert [_shown(tmp_path, paths, n) for n in range(1, 6)] == [1, 3, 0, 4, 2]


def test_instance_order_never_raises_on_broken_or_missing_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.write_bytes(b"not dicom at all")
    good = _secondary_capture(tmp_path / "good", _bar(0), 7)
    assert instance_order([tmp_path / "missing", broken, good]) == [2, 0, 1]


def test_an_image_is_rendered_at_the_viewer_size_keeping_its_aspect_ratio(tmp_path: Path) -> None:
    pixels = np.tile(np.arange(800, dtype=np.uint32) % 256, (1600, 1)).astype(np.uint8)
    _secondary_capture(tmp_path / "media/f/BIG", pixels, 1)
    render_instance_view(tmp_path, SERIES, ["media/f/BIG"], 1)
    image = _image(view_path(tmp_path, SERIES, 1).read_bytes())
    assert image.format == "PNG"
    assert image.size == (VIEW_SIZE // 2, VIEW_SIZE)


def test_the_viewer_size_is_larger_than_a_thumbnail() -> None:
    # the same rendering as the thumbnail's, only its size differs
    big = _image(render_thumbnail(sample("JPEG2000.dcm"), size=VIEW_SIZE) or b"")
    small = _image(render_thumbnail(sample("JPEG2000.dcm")) or b"")
    assert big.size == (256, 1024)
    assert max(small.size) == THUMBNAIL_SIZE


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (sample("reportsi.dcm").read_bytes(), "an SR: no pixels"),
        (sample("rtplan.dcm").read_bytes(), "an RT plan: no pixels"),
        (b"\x00" * 300, "not DICOM"),
        (rewrite("CT_small.dcm", Rows=60000, Columns=60000), "a frame too large to decode"),
    ],
)
def test_an_instance_that_cannot_be_shown_is_unavailable(
    tmp_path: Path, content: bytes, what: str
) -> None:
    (tmp_path / "media/f").mkdir(parents=True)
    (tmp_path / "media/f/IM0001").write_bytes(content)
    with pytest.raises(NotFound) as caught:
        render_instance_view(tmp_path, SERIES, ["media/f/IM0001"], 1)
    assert caught.value.code == "image_unavailable", what
    assert not view_path(tmp_path, SERIES, 1).exists()


@pytest.mark.parametrize("position", [0, 4, -1])
def test_a_position_outside_the_series_is_unavailable(tmp_path: Path, position: int) -> None:
    paths = _series(tmp_path, [1, 2, 3])
    with pytest.raises(NotFound) as caught:
        render_instance_view(tmp_path, SERIES, paths, position)
    assert caught.value.code == "image_unavailable"


def test_a_file_gone_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        render_instance_view(tmp_path, SERIES, ["media/f/IM0001"], 1)


def test_a_path_leading_out_of_the_import_is_never_read(tmp_path: Path) -> None:
    outside = _secondary_capture(tmp_path / "elsewhere/IM", _bar(0), 1)
    import_dir = tmp_path / "import"
    import_dir.mkdir()
    with pytest.raises(NotFound):
        render_instance_view(import_dir, SERIES, [f"../elsewhere/{outside.name}"], 1)


def test_images_are_cached_next_to_the_thumbnail_under_a_hash(tmp_path: Path) -> None:
    paths = _series(tmp_path, [2, 1])
    assert _shown(tmp_path, paths, 1) == 1
    cached = view_path(tmp_path, SERIES, 1)
    assert cached.parent.parent == tmp_path / "thumbs"
    assert SERIES not in str(cached.relative_to(tmp_path))
    # read from the cache: the files are not decoded again
    for name in paths:
        (tmp_path / name).write_bytes(b"gone")
    assert _shown(tmp_path, paths, 1) == 1
    assert json.loads((cached.parent / "order.json").read_text()) == [paths[1], paths[0]]


def test_a_kept_order_for_other_files_is_made_again(tmp_path: Path) -> None:
    paths = _series(tmp_path, [2, 1, 3])
    assert _shown(tmp_path, paths[:2], 1) == 1
    view_path(tmp_path, SERIES, 1).unlink()
    assert [_shown(tmp_path, paths, n) for n in (1, 2, 3)] == [1, 0, 2]
