"""A document of the disc wrapped as a DICOM object of a study (IHE IRWF's digitised hardcopy).

A PDF becomes an Encapsulated PDF (PS3.3 A.45.1), its bytes kept whole; a JPEG or PNG becomes a
Secondary Capture Image (PS3.3 A.8.1), its pixels decoded once with Pillow (its EXIF orientation
applied, transparency laid over white) and kept native, so that no second lossy compression is
ever made (a JPEG's pixels say they were lossy compressed once: Lossy Image Compression "01").
Each object has new SOP Instance and Series Instance UIDs, joins the study it is filed with (its
Study Instance UID and study attributes, the medium's patient: the store coerces them to the
order's like every object of the study), and names its source file in its Series Description
(and a PDF's Document Title). Pure apart from the new UIDs and, when ``now`` is not given, the
clock."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from PIL import Image, ImageOps
from pydicom import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from importer.composite import UTF8, StudyFacts, add_patient, add_study, file_meta, needs_unicode
from importer.media.archive import DocumentKind
from importer.media.document_preview import flat_preview
from importer.media.documents import MAX_IMAGE_PIXELS, MAX_SIDE

ENCAPSULATED_PDF_STORAGE: Final = UID("1.2.840.10008.5.1.4.1.1.104.1")
SECONDARY_CAPTURE_STORAGE: Final = UID("1.2.840.10008.5.1.4.1.1.7")
SERIES_NUMBER_BASE: Final = 9000
"""Series Number of the first wrapped document (the next 9001...): after the acquired series."""
PRODUCT: Final = "PACS Media Import"
LO_MAX: Final = 64
ST_MAX: Final = 1024
_NOT_IN_TEXT: Final = re.compile(r"[\x00-\x1f\x7f\\]")


class DocumentUnreadable(ValueError):
    """The document cannot be wrapped: not the PDF or image it was, or over the caps."""


@dataclass(frozen=True, slots=True)
class Wrapped:
    dataset: Dataset
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str


def sop_class_of(kind: DocumentKind) -> UID:
    """The SOP class of the object a document becomes."""
    return ENCAPSULATED_PDF_STORAGE if kind == "pdf" else SECONDARY_CAPTURE_STORAGE


def title_of(display_path: str) -> str:
    """The source file's name as the object names it: its last path part, without control
    characters or backslashes (a DICOM text's separator)."""
    name = display_path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return _NOT_IN_TEXT.sub(" ", name).strip() or "document"


def wrap_document(
    data: bytes,
    kind: DocumentKind,
    display_path: str,
    study: StudyFacts,
    *,
    series_number: int,
    now: datetime | None = None,
) -> Wrapped:
    """``data`` (the document's bytes) as a new object of ``study``. Raises
    :class:`DocumentUnreadable` when it is not the document its kind says, whatever failed."""
    try:
        return _wrap(data, kind, display_path, study, series_number=series_number, now=now)
    except DocumentUnreadable:
        raise
    except Exception as exc:  # any decoder, any value: the document's, never the worker's
        raise DocumentUnreadable(type(exc).__name__) from None


def _wrap(
    data: bytes,
    kind: DocumentKind,
    display_path: str,
    study: StudyFacts,
    *,
    series_number: int,
    now: datetime | None = None,
) -> Wrapped:
    when = now if now is not None else datetime.now()
    title = title_of(display_path)
    pdf = kind == "pdf"
    sop_class = sop_class_of(kind)
    # new each time, never derived from the document: filed again by another import, the same
    # report is another object, so that undoing one filing never takes back the other's
    sop_instance_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = file_meta(sop_class, sop_instance_uid)
    texts = (
        study.patient_name,
        study.patient_id,
        study.issuer,
        study.accession_number,
        study.study_description,
        title,
    )
    if needs_unicode(texts):
        ds.SpecificCharacterSet = UTF8
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_instance_uid
    add_patient(ds, study)
    add_study(ds, study)
    # the series of its own (General or Encapsulated Document Series)
    ds.Modality = "DOC" if pdf else "OT"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series_number
    ds.SeriesDescription = title[:LO_MAX]
    # General Equipment, SC Equipment: converted here, from a workstation's file or a scan
    ds.Manufacturer = ""
    ds.ConversionType = "WSD" if pdf else "SI"
    ds.SecondaryCaptureDeviceManufacturer = PRODUCT
    ds.InstanceNumber = 1
    ds.ContentDate = when.strftime("%Y%m%d")
    ds.ContentTime = when.strftime("%H%M%S")
    ds.BurnedInAnnotation = "YES"  # a report or a scanned page names its patient
    if pdf:
        _encapsulate_pdf(ds, data, title)
    else:
        _add_pixels(ds, data, kind)
        ds.PatientOrientation = ""
        ds.Laterality = ""  # 2C: a page or a photo says nothing of a paired body part
        ds.DateOfSecondaryCapture = ds.ContentDate
        ds.TimeOfSecondaryCapture = ds.ContentTime
    return Wrapped(
        dataset=ds,
        sop_class_uid=sop_class,
        sop_instance_uid=sop_instance_uid,
        series_instance_uid=ds.SeriesInstanceUID,
        transfer_syntax_uid=ExplicitVRLittleEndian,
    )


def _encapsulate_pdf(ds: Dataset, data: bytes, title: str) -> None:
    """Encapsulated Document module: the PDF's bytes whole, padded to an even length with one
    NUL as PS3.3 C.24.2.1 says, their true length given."""
    if not data.startswith(b"%PDF-"):
        raise DocumentUnreadable("not a PDF")
    ds.AcquisitionDateTime = ""
    ds.DocumentTitle = title[:ST_MAX]
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = data + b"\x00" * (len(data) % 2)
    ds.EncapsulatedDocumentLength = len(data)


def _add_pixels(ds: Dataset, data: bytes, kind: DocumentKind) -> None:
    """Image Pixel module: the image's pixels as shown, native (greyscale 8 or 16 bits, or
    RGB), taken from Pillow's buffer in one copy (a 40-megapixel photo is 120 MB of RGB)."""
    image = _shown(data, kind)
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        if image.mode == "I":  # 32-bit greyscale: kept within 16 bits
            image = image.point(lambda v: min(max(v, 0), 65535)).convert("I;16")
        photometric, bits, pixels = "MONOCHROME2", 16, image.tobytes("raw", "I;16")
    else:
        flat = flat_preview(image.convert("L") if image.mode == "1" else image)
        if flat.mode != "L":
            flat = flat.convert("RGB")
        photometric = "RGB" if flat.mode == "RGB" else "MONOCHROME2"
        bits, pixels = 8, flat.tobytes()
        image = flat
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    ds.PhotometricInterpretation = photometric
    if photometric == "RGB":
        ds.PlanarConfiguration = 0  # Pillow's RGB buffer: R, G, B of each pixel in turn
    ds.Rows = image.height
    ds.Columns = image.width
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    ds.PixelData = pixels
    if kind == "jpeg":  # decoded from a lossy JPEG: said, never hidden
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_10918_1"


def _shown(data: bytes, kind: DocumentKind) -> Image.Image:
    """The image as it is shown (its EXIF orientation applied), decoded whole."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG" if kind == "jpeg" else "PNG"]) as image:
            width, height = image.size
            too_many = width * height > MAX_IMAGE_PIXELS or max(width, height) > MAX_SIDE
            if width <= 0 or height <= 0 or too_many:
                raise DocumentUnreadable("no pixels, or too many")
            if image.getexif().get(0x0112, 1) == 1:
                image.load()  # as shown already: no second copy of its pixels
                return image
            shown = ImageOps.exif_transpose(image)
            shown.load()
            return shown
    except DocumentUnreadable:
        raise
    except Exception as exc:  # any decoder on any input, Pillow's bomb check included
        raise DocumentUnreadable(type(exc).__name__) from None
