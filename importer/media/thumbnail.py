"""Series thumbnails: one small PNG of a representative frame, rendered in the worker.

Pixel data is decoded by the decoder chain (:mod:`importer.media.decoders`: pydicom's plugins,
pylibjpeg's and Pillow, then GDCM, then dcmtk's tools); only the frame shown is decoded
(the middle one of a multi-frame object). Greyscale goes through the Modality LUT, then the
VOI LUT or window the file holds (the first one), else a min-max stretch; MONOCHROME1 is
inverted; YBR is converted to RGB and palette colour expanded. Rendering never raises: an
object without pixels (SR, PDF, RT plan), a codec no plugin decodes, a frame too large or any
broken file gives no thumbnail, and a missing thumbnail never blocks an import.

The same rendering, larger, shows one instance of a series in the temporary zone's viewer
(:func:`render_instance_view`, asked of the worker by the api): instances in Instance Number
order, each PNG cached next to the series' thumbnail, so that a re-analysis or a purge takes
them away with it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pydicom
from PIL import Image
from pydantic import BaseModel
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi_lut
from pydicom.pixels.utils import pixel_array
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

import importer.media.decoders  # noqa: F401 - adds the decoder chain's plugins to pydicom's
from importer.errors import NotFound
from importer.media.deflate import deflated_file_too_large

__all__ = [
    "MAX_FRAME_SAMPLES",
    "MAX_INFLATED_FILE_BYTES",
    "THUMBNAILS_DIR",
    "THUMBNAIL_SIZE",
    "VIEW_SIZE",
    "RenderedView",
    "image_unavailable",
    "instance_order",
    "render_instance_view",
    "render_series_thumbnails",
    "render_thumbnail",
    "thumbnail_name",
    "thumbnail_path",
    "view_path",
]

log = logging.getLogger(__name__)

THUMBNAILS_DIR: Final = "thumbs"
"""Folder of an import's spool folder that holds its series thumbnails."""
THUMBNAIL_SIZE: Final = 128
"""Largest side of a thumbnail, in pixels (the aspect ratio is kept)."""
VIEW_SIZE: Final = 1024
"""Largest side of an image the viewer shows, in pixels (bounds the worker's work per image)."""
MAX_FRAME_SAMPLES: Final = 64 * 1024 * 1024
"""Frames with more samples (rows × columns × samples per pixel) get no thumbnail."""
MAX_INFLATED_FILE_BYTES: Final = 256 * 1024 * 1024
"""Deflated files are inflated whole to decode; those inflating to more get no thumbnail."""
_ATTEMPTS_PER_SERIES: Final = 3
_UINT8_MAX: Final = 255.0


def thumbnail_name(series_uid: str) -> str:
    """File name of a series' thumbnail: the SHA-1 of its UID (never the UID itself)."""
    digest = hashlib.sha1(series_uid.encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{digest}.png"


def thumbnail_path(import_dir: Path, series_uid: str) -> Path:
    """Where a series' thumbnail lives: ``<import dir>/thumbs/<sha1 of the UID>.png``."""
    return import_dir / THUMBNAILS_DIR / thumbnail_name(series_uid)


def view_path(import_dir: Path, series_uid: str, position: int) -> Path:
    """Where the viewer's image of a series' ``position``-th instance (1-based, Instance Number
    order) is cached: ``<import dir>/thumbs/<sha1 of the UID>/<position>.png``."""
    return _view_dir(import_dir, series_uid) / f"{position}.png"


def _view_dir(import_dir: Path, series_uid: str) -> Path:
    return import_dir / THUMBNAILS_DIR / thumbnail_name(series_uid).removesuffix(".png")


def render_thumbnail(path: Path, *, size: int = THUMBNAIL_SIZE) -> bytes | None:
    """A PNG of at most ``size`` × ``size`` pixels of the object's representative frame, or
    None when it has no pixels or they cannot be decoded. Never raises."""
    try:
        image = _render(path, size)  # pydicom's warnings: silenced once (importer.logs)
        if image is None:
            return None
        out = io.BytesIO()
        # small thumbnails are kept squeezed; a viewer's image is wanted quickly
        image.save(out, format="PNG", optimize=size <= THUMBNAIL_SIZE)
        return out.getvalue()
    except Exception as exc:  # any decoder on any input: no thumbnail, never a failure
        log.debug("no thumbnail: %s", type(exc).__name__)
        return None


def render_series_thumbnails(series: Mapping[str, Sequence[Path]], out_dir: Path) -> dict[str, str]:
    """Render one thumbnail per series into ``out_dir`` and return ``{series_uid: file name}``.

    The middle instance of each series (in the order given) is tried first, then its
    neighbours, up to three instances; series without a renderable instance are left out.
    Files are written atomically, one at a time. Never raises.
    """
    done: dict[str, str] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("thumbnail folder not writable: %s", type(exc).__name__)
        return done
    for series_uid, paths in series.items():
        for path in _candidates(paths)[:_ATTEMPTS_PER_SERIES]:
            png = render_thumbnail(path)
            if png is None:
                continue
            name = thumbnail_name(series_uid)
            if _write_atomically(out_dir / name, png):
                done[series_uid] = name
            break
    return done


class RenderedView(BaseModel):
    """The worker's answer: the image of instance ``position`` of ``count`` is in the cache
    (:func:`view_path`)."""

    position: int
    count: int


def image_unavailable() -> NotFound:
    """The viewer's one refusal: no such instance, no pixels, or pixels that cannot be shown."""
    return NotFound("This image cannot be shown.", code="image_unavailable")


def render_instance_view(
    import_dir: Path, series_uid: str, paths: Sequence[str], position: int
) -> RenderedView:
    """Render the ``position``-th instance (1-based, Instance Number order) of the series whose
    files are ``paths`` (relative to ``import_dir``) into its cache file, at most
    :data:`VIEW_SIZE` pixels a side; a cached one is kept. Raises ``image_unavailable`` when
    there is no such instance or it cannot be shown. Synchronous: the worker runs it."""
    if not 1 <= position <= len(paths):
        raise image_unavailable()
    folder = _view_dir(import_dir, series_uid)
    target = folder / f"{position}.png"
    if not target.is_file():
        ordered = _cached_order(folder, import_dir, paths)
        source = (import_dir / ordered[position - 1]).resolve()
        if not source.is_relative_to(import_dir.resolve()):
            raise image_unavailable()  # never a path outside the import's folder
        png = render_thumbnail(source, size=VIEW_SIZE)
        if png is None or not _write_atomically(target, png):
            raise image_unavailable()
    return RenderedView(position=position, count=len(paths))


def instance_order(paths: Sequence[Path]) -> list[int]:
    """Indexes of ``paths`` in Instance Number order; files without a number (or unreadable)
    after those with one, each group in the order given. Never raises."""
    numbers = [_instance_number(p) for p in paths]
    return sorted(
        range(len(paths)),
        key=lambda i: (numbers[i] is None, numbers[i] or 0, i),
    )


def _instance_number(path: Path) -> int | None:
    try:
        if deflated_file_too_large(path, MAX_INFLATED_FILE_BYTES):
            return None
        header = pydicom.dcmread(
            path, stop_before_pixels=True, force=True, specific_tags=["InstanceNumber"]
        )
        value = header.get("InstanceNumber")
        return None if value is None or value == "" else int(value)
    except Exception:  # any broken header: the file goes last
        return None


_ORDER_FILE: Final = "order.json"


def _cached_order(folder: Path, import_dir: Path, paths: Sequence[str]) -> list[str]:
    """``paths`` in Instance Number order, read once per series (every header of the series)
    and kept in ``folder``; a kept order for other files is read again."""
    cache = folder / _ORDER_FILE
    try:
        kept = json.loads(cache.read_text("utf-8"))
        if isinstance(kept, list) and sorted(kept) == sorted(paths):
            return [str(p) for p in kept]
    except (OSError, ValueError):
        pass
    ordered = [paths[i] for i in instance_order([import_dir / p for p in paths])]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("viewer folder not writable: %s", type(exc).__name__)
        raise image_unavailable() from exc
    _write_atomically(cache, json.dumps(ordered).encode("utf-8"))
    return ordered


def _candidates(paths: Sequence[Path]) -> list[Path]:
    """The middle path first, then outwards: middle, middle+1, middle-1, ..."""
    middle = len(paths) // 2
    order: list[Path] = []
    for offset in range(2 * len(paths)):  # both sides, until each is past its end
        index = middle + (offset + 1) // 2 if offset % 2 else middle - offset // 2
        if 0 <= index < len(paths):
            order.append(paths[index])
    return order


def _write_atomically(target: Path, data: bytes) -> bool:
    # a name of its own: two viewers of one series may write the same file at once
    partial = target.with_name(f"{target.name}.{uuid.uuid4().hex}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, target)
    except OSError as exc:
        log.warning("thumbnail not written: %s", type(exc).__name__)
        partial.unlink(missing_ok=True)
        return False
    return True


def _render(path: Path, size: int) -> Image.Image | None:
    if deflated_file_too_large(path, MAX_INFLATED_FILE_BYTES):
        return None  # checked first: pydicom inflates a deflated dataset whole, even its header
    header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    rows, columns = int(header.get("Rows") or 0), int(header.get("Columns") or 0)
    samples = int(header.get("SamplesPerPixel") or 1)
    if rows <= 0 or columns <= 0 or rows * columns * samples > MAX_FRAME_SAMPLES:
        return None
    frames = _frames(header)
    index = frames // 2
    transfer_syntax = _transfer_syntax(header)
    if transfer_syntax == DeflatedExplicitVRLittleEndian:
        whole = pydicom.dcmread(path, force=True)
        array = pixel_array(whole, index=index)
    else:
        array = pixel_array(path, index=index, transfer_syntax_uid=transfer_syntax)
    step = max(1, max(rows, columns) // (size * 4))  # decimate before any float arithmetic
    array = array[::step, ::step]
    pixels = _to_uint8(array, header)
    if pixels is None:
        return None
    image = Image.fromarray(pixels)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return image


def _frames(header: Dataset) -> int:
    try:
        return max(1, int(header.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def _transfer_syntax(header: Dataset) -> UID:
    meta_ts = header.file_meta.get("TransferSyntaxUID") if header.file_meta else None
    if meta_ts:
        return UID(str(meta_ts).strip("\x00 "))
    implicit, little = header.original_encoding
    if implicit is not False:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little is not False else ExplicitVRBigEndian


def _to_uint8(array: np.ndarray[Any, Any], header: Dataset) -> np.ndarray[Any, Any] | None:
    """Display values (0-255): greyscale windowed, colour scaled to 8 bits."""
    photometric = str(header.get("PhotometricInterpretation") or "").strip().upper()
    if array.ndim == 2 and photometric == "PALETTE COLOR":
        array = apply_color_lut(array, header)
        return _scale(array, float(np.iinfo(array.dtype).max))
    if array.ndim == 3 and array.shape[-1] == 3:
        bits = int(header.get("BitsStored") or 8)
        return _scale(array, float(2 ** min(bits, 32) - 1))
    if array.ndim != 2:
        return None
    return _greyscale(array, header, invert=photometric == "MONOCHROME1")


def _scale(array: np.ndarray[Any, Any], maximum: float) -> np.ndarray[Any, Any]:
    if array.dtype == np.uint8:
        return array
    factor = _UINT8_MAX / max(maximum, 1.0)
    scaled: np.ndarray[Any, Any] = np.clip(array.astype(np.float32) * factor, 0, _UINT8_MAX)
    return scaled.astype(np.uint8)


def _greyscale(
    array: np.ndarray[Any, Any], header: Dataset, *, invert: bool
) -> np.ndarray[Any, Any]:
    values = np.nan_to_num(np.asarray(apply_modality_lut(array, header), dtype=np.float64))
    windowed = values
    has_lut = "VOILUTSequence" in header
    if has_lut or ("WindowCenter" in header and "WindowWidth" in header):
        # a VOI LUT is indexed by stored values: it needs integers, a window takes floats
        voi_input = np.rint(values).astype(np.int64) if has_lut else values
        try:
            windowed = np.nan_to_num(
                np.asarray(apply_voi_lut(voi_input, header, index=0), dtype=np.float64)
            )
        except Exception:  # a broken VOI LUT or window: fall back to min-max
            windowed = values
        if float(windowed.max()) <= float(windowed.min()):
            windowed = values  # a window outside the data would show a blank square
    low, high = float(windowed.min()), float(windowed.max())
    if high > low:
        scaled = (windowed - low) * (_UINT8_MAX / (high - low))
    else:
        scaled = np.zeros_like(windowed)
    if invert:
        scaled = _UINT8_MAX - scaled
    return np.clip(np.rint(scaled), 0, _UINT8_MAX).astype(np.uint8)
