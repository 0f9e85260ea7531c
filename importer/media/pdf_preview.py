"""Render the first page of a PDF as a PNG, in a process of its own.

Run by :func:`importer.media.documents.probe_pdf` as a script (``python -I pdf_preview.py
SOURCE TARGET SIZE MEMORY``), under limits of memory and time: a PDF from a patient's disc is
hostile input, and PDFium is native code. It prints one line of JSON, ``{"pages": N}``, once
the PNG is written; anything else (an exit code, a signal, no line) means the PDF could not be
read. It imports PDFium and Pillow only, so that it starts quickly."""

from __future__ import annotations

import json
import resource
import sys


def main(argv: list[str]) -> int:
    source, target, size, memory = argv[1], argv[2], int(argv[3]), int(argv[4])
    # limited before PDFium is loaded: the parent runs threads, so it cannot limit us itself
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    pdf = pdfium.PdfDocument(source)
    try:
        pages = len(pdf)
        if pages < 1:
            return 2
        page = pdf[0]
        width, height = page.get_size()
        scale = size / max(width, height, 1.0)
        image = page.render(scale=scale).to_pil()
        image.save(target, format="PNG")
    finally:
        pdf.close()
    sys.stdout.write(json.dumps({"pages": pages}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
