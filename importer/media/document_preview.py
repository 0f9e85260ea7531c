"""Read a document of the disc (a PDF, a JPEG, a PNG) and render its first page as a PNG, in a
process of its own.

Run by :func:`importer.media.documents.read_document` as a script (``python -I
document_preview.py KIND SOURCE TARGET SIZE MEMORY MAX_PIXELS MAX_SIDE``), under limits of
memory and time: a document from a patient's disc is hostile input, and PDFium, libjpeg and
zlib are native code that may loop, crash or ask for gigabytes. It prints one line of JSON once
the PNG is written: ``{"pages": N}`` for a PDF, ``{"width": W, "height": H}`` for an image (as
shown: its EXIF orientation applied); ``{"too_large": true}`` for an image over ``MAX_PIXELS``
or with a side over ``MAX_SIDE`` (known from its header, before any pixel is decoded).
Anything else (an exit code, a signal, no line) means the document could not be read. It
imports Pillow and PDFium only, so that it starts quickly; :func:`flat_preview` is also what the
worker's wrapping lays transparency with (:mod:`importer.media.wrap`)."""

from __future__ import annotations

import json
import resource
import sys

from PIL import Image, ImageOps

_ROTATED = frozenset({5, 6, 7, 8})
"""EXIF orientations that swap width and height."""
_FORMATS = {"jpeg": "JPEG", "png": "PNG"}


def flat_preview(image: Image.Image) -> Image.Image:
    """An image as a preview shows it: transparency over white, in RGB or greyscale."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def _pdf(source: str, target: str, size: int) -> dict[str, object] | None:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(source)
    try:
        pages = len(pdf)
        if pages < 1:
            return None
        page = pdf[0]
        width, height = page.get_size()
        scale = size / max(width, height, 1.0)
        page.render(scale=scale).to_pil().save(target, format="PNG")
    finally:
        pdf.close()
    return {"pages": pages}


def _image(
    kind: str, source: str, target: str, size: int, max_pixels: int, max_side: int
) -> dict[str, object] | None:
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own bomb check, at our cap
    try:
        with Image.open(source, formats=[_FORMATS[kind]]) as image:
            width, height = image.size
            if width <= 0 or height <= 0:
                return None
            if width * height > max_pixels or max(width, height) > max_side:
                return {"too_large": True}
            if image.getexif().get(0x0112) in _ROTATED:
                width, height = height, width
            image.draft("RGB", (size, size))  # JPEG: decode at a smaller scale
            shown = ImageOps.exif_transpose(image)
            shown.thumbnail((size, size), Image.Resampling.LANCZOS)
            flat_preview(shown).save(target, format="PNG")
    except Image.DecompressionBombError:
        return {"too_large": True}
    return {"width": width, "height": height}


def main(argv: list[str]) -> int:
    kind, source, target = argv[1], argv[2], argv[3]
    size, memory, max_pixels, max_side = (int(a) for a in argv[4:8])
    # limited before any decoder is loaded: the parent runs threads, so it cannot limit us
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if kind == "pdf":
        found = _pdf(source, target, size)
    else:
        found = _image(kind, source, target, size, max_pixels, max_side)
    if found is None:
        return 2
    sys.stdout.write(json.dumps(found) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
