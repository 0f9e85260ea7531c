"""The documents of a disc (PDF, JPEG, PNG): found by content among the files that are not DICOM,
previewed, refused with their reason when damaged or too large, and wrapped as valid DICOM objects
(checked with dicom3tools' dciodvfy) that keep what the user saw: the PDF's bytes whole, an
image's pixels as shown (its EXIF orientation applied)."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pydicom import dcmread

from importer.composite import StudyFacts
from importer.media import documents
from importer.media.archive import SkippedFile, UnpackedFile, document_kind
from importer.media.documents import (
    MAX_DOCUMENTS,
    FoundDocument,
    find_documents,
    preview_name,
)
from importer.media.wrap import (
    ENCAPSULATED_PDF_STORAGE,
    SECONDARY_CAPTURE_STORAGE,
    DocumentUnreadable,
    title_of,
    wrap_document,
)
from importer.messages import MessageCode

STUDY = StudyFacts(
    study_instance_uid="1.2.826.0.1.3680043.8.498.1",
    patient_name="Dupont^Jean",
    patient_id="EXT-1",
    issuer="",
    birth_date="19700101",
    sex="M",
    accession_number="EXT-ACC",
    study_date="20240101",
    study_time="101010",
    study_description="TDM thoracique",
)


def page(size: tuple[int, int] = (300, 400)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle((0, 0, 20, 10), fill="red")  # marks the top left corner
    return image


def pdf() -> bytes:
    out = io.BytesIO()
    page().save(out, format="PDF")
    return out.getvalue()


def jpeg(orientation: int | None = None) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    page().save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` pixels, with no pixels behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def found_on(
    tmp_path: Path, files: dict[str, bytes], budget_s: float | None = None
) -> tuple[list[FoundDocument], list[SkippedFile]]:
    unpacked = []
    for name, data in files.items():
        path = tmp_path / "files" / name.replace("/", "_")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        unpacked.append(UnpackedFile(name, path, len(data)))
    skipped = [SkippedFile(name, MessageCode.not_dicom, "Not a DICOM file.") for name in files]
    return find_documents(unpacked, skipped, tmp_path / "thumbs", budget_s=budget_s)


def dciodvfy_errors(path: Path) -> list[str]:
    if shutil.which("dciodvfy") is None:
        pytest.skip("dicom3tools' dciodvfy is installed by make setup")
    done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, check=False)
    return [line for line in done.stderr.splitlines() if line.startswith("Error")]


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00", "png"),
        (b"GIF89a", None),
        (b"PDF-1.7", None),
        (b"", None),
    ],
)
def test_a_document_is_known_by_its_content(head: bytes, kind: str | None) -> None:
    assert document_kind(head) == kind


def test_documents_are_found_previewed_and_taken_off_the_skipped_list(tmp_path: Path) -> None:
    found, rest = found_on(
        tmp_path,
        {
            "REPORT/report.pdf": pdf(),
            "PHOTOS/photo.jpg": jpeg(),
            "README.TXT": b"Insert the disc.\n",
        },
    )
    assert [(d.display_path, d.kind, d.pages) for d in found] == [
        ("REPORT/report.pdf", "pdf", 1),
        ("PHOTOS/photo.jpg", "jpeg", None),
    ]
    assert (found[1].width, found[1].height) == (300, 400)
    assert [s.path for s in rest] == ["README.TXT"]
    for doc in found:
        assert doc.preview == preview_name(doc.display_path)
        assert "report" not in doc.preview  # never the name
        assert "photo" not in doc.preview
        with Image.open(tmp_path / "thumbs" / doc.preview) as preview:
            assert preview.format == "PNG"
            assert max(preview.size) <= 1024


def test_a_damaged_or_oversized_document_keeps_its_reason(tmp_path: Path) -> None:
    found, rest = found_on(
        tmp_path,
        {
            "bad.pdf": b"%PDF-1.4\nnothing else",
            "cut.jpg": jpeg()[:200],
            "huge.png": png_claiming(100_000, 100_000),
        },
    )
    assert found == []
    reasons = {s.path: (s.reason, s.params.get("kind")) for s in rest}
    assert reasons == {
        "bad.pdf": (MessageCode.document_unreadable, "PDF"),
        "cut.jpg": (MessageCode.document_unreadable, "JPEG"),
        "huge.png": (MessageCode.document_too_large, "PNG"),
    }
    assert not list((tmp_path / "thumbs").glob("*.png"))


@pytest.mark.parametrize(("name", "make"), [("slow.pdf", pdf), ("slow.jpg", jpeg)])
def test_a_document_that_takes_too_long_is_unreadable_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, make: Callable[[], bytes]
) -> None:
    """Every document is read in a process of its own, stopped at its time limit: the document
    is refused, the worker goes on."""
    monkeypatch.setattr(documents, "PREVIEW_TIMEOUT_S", 0.001)
    found, rest = found_on(tmp_path, {name: make()})
    assert found == []
    assert [s.reason for s in rest] == [MessageCode.document_unreadable]
    assert not list((tmp_path / "thumbs").glob("*"))


def test_a_pdf_over_its_memory_limit_is_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "PREVIEW_MEMORY_BYTES", 32 * 1024 * 1024)
    found, rest = found_on(tmp_path, {"big.pdf": pdf()})
    assert found == []
    assert [s.reason for s in rest] == [MessageCode.document_unreadable]


def test_an_image_with_a_side_dicom_cannot_hold_is_too_large(tmp_path: Path) -> None:
    """Rows and Columns are 16-bit: a 70000 × 4 strip (a few hundred bytes) is refused at once,
    never offered and then failed at the store."""
    out = io.BytesIO()
    Image.new("1", (70_000, 4)).save(out, format="PNG")
    found, rest = found_on(tmp_path, {"strip.png": out.getvalue()})
    assert found == []
    assert [s.reason for s in rest] == [MessageCode.document_too_large]
    with pytest.raises(DocumentUnreadable):
        wrap_document(out.getvalue(), "png", "strip.png", STUDY, series_number=9001)


def test_the_documents_budget_leaves_the_rest_skipped_as_not_dicom(tmp_path: Path) -> None:
    found, rest = found_on(tmp_path, {"a.pdf": pdf()}, budget_s=0)
    assert found == []
    assert [s.reason for s in rest] == [MessageCode.not_dicom]


def test_documents_past_the_cap_stay_skipped_as_not_dicom(tmp_path: Path) -> None:
    tiny = io.BytesIO()
    Image.new("L", (4, 4)).save(tiny, format="PNG")
    files = {f"scan{i:03}.png": tiny.getvalue() for i in range(MAX_DOCUMENTS + 2)}
    found, rest = found_on(tmp_path, files)
    assert len(found) == MAX_DOCUMENTS
    assert [s.reason for s in rest] == [MessageCode.not_dicom] * 2


def test_a_pdf_is_wrapped_whole_as_a_valid_encapsulated_pdf(tmp_path: Path) -> None:
    data = pdf() + b"\n"  # an odd length: padded with one NUL, its true length given
    if len(data) % 2 == 0:
        data += b"\n"
    wrapped = wrap_document(data, "pdf", "CD/RAPPORT/Compte rendu é.pdf", STUDY, series_number=9001)
    path = tmp_path / "pdf.dcm"
    wrapped.dataset.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    ds = dcmread(path)
    assert ds.SOPClassUID == ENCAPSULATED_PDF_STORAGE
    assert ds.StudyInstanceUID == STUDY.study_instance_uid
    assert ds.SeriesInstanceUID != STUDY.study_instance_uid
    assert ds.SeriesDescription == ds.DocumentTitle == "Compte rendu é.pdf"
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert ds.EncapsulatedDocumentLength == len(data)
    assert bytes(ds.EncapsulatedDocument) == data + b"\x00"
    assert (ds.Modality, ds.SeriesNumber, ds.PatientID) == ("DOC", 9001, "EXT-1")


def test_an_image_is_wrapped_as_a_valid_secondary_capture_as_shown(tmp_path: Path) -> None:
    # EXIF orientation 6: the camera was turned; the picture is shown turned back
    wrapped = wrap_document(jpeg(orientation=6), "jpeg", "photo.jpg", STUDY, series_number=9002)
    path = tmp_path / "sc.dcm"
    wrapped.dataset.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    ds = dcmread(path)
    assert ds.SOPClassUID == SECONDARY_CAPTURE_STORAGE
    assert (ds.Rows, ds.Columns, ds.PhotometricInterpretation) == (300, 400, "RGB")
    assert ds.LossyImageCompression == "01"
    pixels = ds.pixel_array
    # the red mark of the top left corner is now at the top right
    red, green, blue = (int(v) for v in pixels[2, 395])
    assert red > 200
    assert max(green, blue) < 60
    assert min(int(v) for v in pixels[2, 2]) > 200  # the top left is the page's white


def test_a_16_bit_png_keeps_its_16_bits(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("I;16", (8, 4), 40_000).save(out, format="PNG")
    ds = wrap_document(out.getvalue(), "png", "scan.png", STUDY, series_number=9003).dataset
    assert (ds.BitsAllocated, ds.PhotometricInterpretation) == (16, "MONOCHROME2")
    assert "LossyImageCompression" not in ds
    assert int(ds.pixel_array[0, 0]) == 40_000


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"not a pdf", "pdf"),
        (b"\xff\xd8\xff\xe0garbage", "jpeg"),
        (png_claiming(9_000, 9_000), "png"),
    ],
)
def test_what_is_not_the_document_it_was_is_refused(data: bytes, kind: str) -> None:
    with pytest.raises(DocumentUnreadable):
        wrap_document(data, kind, "x", STUDY, series_number=9001)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("CD/REPORT/a.pdf", "a.pdf"),
        ("a\\b\\c.pdf", "c.pdf"),
        ("bad\x01name.pdf", "bad name.pdf"),
        ("dir/", "dir"),
        ("", "document"),
    ],
)
def test_the_title_is_the_file_name_fit_for_a_dicom_text(path: str, title: str) -> None:
    assert title_of(path) == title
