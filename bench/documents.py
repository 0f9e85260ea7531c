"""What the disc's documents cost (issue 16, point 3): reading and previewing a PDF and a photo
during the analysis, and wrapping them as DICOM objects in the verify stage, in time and in the
worker's memory. ``python -m bench.documents``: builds a 10-page scanned PDF and a 12-megapixel
JPEG (noise: they compress as badly as real scans), then measures each step in a fresh process
of its own (peak RSS is per process)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

RUNS = 3


def make_media(folder: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    photo = folder / "photo.jpg"
    Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(photo, quality=90)
    pages = [Image.fromarray(rng.integers(0, 255, (1754, 1240), dtype=np.uint8)) for _ in range(10)]
    pdf = folder / "ten-pages.pdf"
    pages[0].save(pdf, save_all=True, append_images=pages[1:])
    return {"pdf": pdf, "jpeg": photo}


def measure(step: str, kind: str, path: Path, folder: Path) -> dict[str, float]:
    """One step in this process: seconds, and the peak RSS it added (MB)."""
    from importer.composite import StudyFacts
    from importer.media.archive import UnpackedFile
    from importer.media.documents import read_document
    from importer.media.wrap import wrap_document

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if step == "read":
        read_document(UnpackedFile(path.name, path, path.stat().st_size), folder / "previews")
    else:
        study = StudyFacts("1.2.3", "DOE^JANE", "P1", "", "", "", "", "", "")
        wrapped = wrap_document(path.read_bytes(), kind, path.name, study, series_number=9001)  # type: ignore[arg-type]
        wrapped.dataset.save_as(folder / f"{kind}.dcm", enforce_file_format=True)
    seconds = time.perf_counter() - start
    added = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the reading process
    return {"s": round(seconds, 3), "mb": round(added, 1), "child_mb": round(child, 1)}


def main() -> None:
    if len(sys.argv) == 5:  # a child: one measure
        _, step, kind, path, folder = sys.argv
        print(json.dumps(measure(step, kind, Path(path), Path(folder))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        media = make_media(folder)
        for kind, path in media.items():
            size = path.stat().st_size / 1024 / 1024
            for step in ("read", "wrap"):
                runs = [
                    json.loads(
                        subprocess.run(  # noqa: S603 - this module, no shell
                            [sys.executable, "-m", "bench.documents", step, kind, str(path), tmp],
                            capture_output=True,
                            text=True,
                            check=True,
                        ).stdout
                    )
                    for _ in range(RUNS)
                ]
                seconds = sorted(r["s"] for r in runs)
                peak = max(r["mb"] for r in runs)
                child = max(r["child_mb"] for r in runs)
                print(
                    f"{kind} ({size:.1f} MB) {step}: {seconds[len(seconds) // 2]} s "
                    f"({seconds[0]}–{seconds[-1]}), peak RSS added {peak} MB"
                    + (f", its reading process {child} MB" if child else "")
                )


if __name__ == "__main__":
    main()
