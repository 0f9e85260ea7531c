"""A patient medium built from the DICOM files pydicom ships, plus junk and broken files, with
what the importer must make of every single file."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.uid import generate_uid

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
AUTORUN = b"[autorun]\r\nopen=VIEWER\\VIEWER.EXE\r\nicon=VIEWER\\CD.ICO\r\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(400)
README = b"This disc holds DICOM images. Start VIEWER\\VIEWER.EXE to see them.\r\n"
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)


def sample(name: str) -> Path:
    """A file pydicom ships (test_files or charset_files); never downloaded."""
    found = get_testdata_file(name, download=False)
    if found is not None:
        return Path(str(found))
    charset = get_charset_files(name)
    if not charset:
        raise FileNotFoundError(name)
    return Path(charset[0])


def dicomdir_root() -> Path:
    """pydicom's ``dicomdirtests`` folder: a DICOMDIR and the files it lists."""
    return sample("DICOMDIR").parent


def _write(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the test files keep their small defects
        ds.save_as(buf)
    return buf.getvalue()


def renewed(name: str, *, study: bool = False) -> bytes:
    """A test file whose SOP Instance UID (and, with ``study``, Study and Series Instance
    UIDs) are new, written back in its own encoding: pydicom ships several different objects
    under one UID, which a PACS must never receive as one."""
    ds = pydicom.dcmread(sample(name), force=True)
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["zoo", name, "sop"])
    if study:
        ds.StudyInstanceUID = generate_uid(entropy_srcs=["zoo", name, "study"])
        ds.SeriesInstanceUID = generate_uid(entropy_srcs=["zoo", name, "series"])
    if "MediaStorageSOPInstanceUID" in ds.file_meta:
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return _write(ds)


def without_preamble(name: str) -> bytes:
    """A test file's dataset alone (no preamble, no file meta), implicit VR LE, new UIDs."""
    ds = pydicom.dcmread(sample(name))
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["zoo", name, "bare"])
    ds.preamble = None
    ds.file_meta = FileMetaDataset()
    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    return buf.getvalue()


def without(name: str, keyword: str) -> bytes:
    ds = pydicom.dcmread(sample(name))
    delattr(ds, keyword)
    return _write(ds)


def uids(data: bytes) -> tuple[str, str]:
    """(SOP Instance UID, Study Instance UID) of DICOM bytes."""
    ds = pydicom.dcmread(io.BytesIO(data), force=True, stop_before_pixels=True)
    return str(ds.SOPInstanceUID), str(ds.StudyInstanceUID)


def zip_of(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buf.getvalue()


@dataclass
class Medium:
    """The archive's entries and what each must become: an instance (by SOP Instance UID,
    in its study) or a skip reason. ``missing`` are the DICOMDIR references left out."""

    entries: list[tuple[str, bytes]] = field(default_factory=list)
    instances: dict[str, tuple[str, str]] = field(default_factory=dict)  # path: (sop, study)
    skipped: dict[str, str] = field(default_factory=dict)  # path: reason
    missing: dict[str, str] = field(default_factory=dict)  # path: "missing_file"

    def instance(self, path: str, data: bytes) -> None:
        self.entries.append((path, data))
        self.instances[path] = uids(data)

    def skip(self, path: str, data: bytes, reason: str) -> None:
        self.entries.append((path, data))
        self.skipped[path] = reason

    def archive(self) -> bytes:
        return zip_of(self.entries)

    @property
    def files(self) -> int:
        """Files the medium holds, as the importer counts them (a nested ZIP counts as the
        files it holds)."""
        return len(self.instances) + len(self.skipped)

    def by_study(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, study in self.instances.values():
            counts[study] = counts.get(study, 0) + 1
        return counts


# Every transfer syntax family, non-image objects and their original UIDs where unique
AS_IS = [
    ("CDROM/CT/CT0001", "CT_small.dcm"),  # explicit VR little endian
    ("CDROM/MR/MR0001", "MR_small.dcm"),  # explicit VR little endian, window
    ("CDROM/US/US0001", "ExplVR_BigEnd.dcm"),  # explicit VR big endian, RGB
    ("CDROM/SC/DEFLATED", "image_dfl.dcm"),  # deflated explicit VR little endian
    ("CDROM/SC/JPEGBASE", "SC_rgb_jpeg_dcmtk.dcm"),  # JPEG baseline
    ("CDROM/SC/JPEGEXT", "JPGExtended.dcm"),  # JPEG extended (12-bit)
    ("CDROM/SC/JPEGLL", "SC_rgb_jpeg_gdcm.dcm"),  # JPEG lossless, SV1
    ("CDROM/SC/JPEG2000", "JPEG2000.dcm"),  # JPEG 2000
    ("CDROM/US/MULTIFRM", "examples_ybr_color.dcm"),  # JPEG baseline, 30 frames
    ("CDROM/SR/SR0001", "reportsi.dcm"),  # basic text SR
    ("CDROM/SR/SR0002", "test-SR.dcm"),  # comprehensive SR, deep nesting
    ("CDROM/RT/RTPLAN", "rtplan.dcm"),  # implicit VR little endian
    ("CDROM/RT/RTSTRUCT", "rtstruct.dcm"),  # file meta without transfer syntax
    ("CDROM/RT/RTDOSE", "rtdose.dcm"),  # implicit VR, 15 frames
    ("CDROM/ECG/ECG0001", "waveform_ecg.dcm"),  # waveform
    ("CDROM/RT/IONPLAN", "ExplVR_LitEndNoMeta.dcm"),  # explicit VR LE, no preamble, no meta
    ("CDROM/CHARSET/GREEK", "chrGreek.dcm"),  # ISO_IR 126
    ("CDROM/CHARSET/X1", "chrX1.dcm"),  # ISO_IR 192
    ("CDROM/CHARSET/H31", "chrH31.dcm"),  # ISO 2022 IR 87, three groups
    ("CDROM/CHARSET/KOREAN", "chrKoreanMulti.dcm"),  # ISO 2022 IR 149
    ("CDROM/CHARSET/JAPMULTI", "chrJapMultiExplicitIR6.dcm"),  # declared IR 6, holds ISO 2022
    (".SERIES 2/IM0001", "chrGerm.dcm"),  # a dot-folder named from a series is no junk
    ("CT2 tête/IM0001", "SC_rgb_small_odd_jpeg.dcm"),  # non-ASCII folder name
]

# Variants of a file above: same SOP Instance UID, other content -> new UIDs here
RENEWED = [
    ("CDROM/MR/IMPLICIT", "MR_small_implicit.dcm"),  # implicit VR little endian
    ("CDROM/MR/BIGEND", "MR_small_bigendian.dcm"),  # explicit VR big endian
    ("CDROM/MR/RLE", "MR_small_RLE.dcm"),  # RLE lossless
    ("CDROM/MR/JPEGLS", "MR_small_jpeg_ls_lossless.dcm"),  # JPEG-LS lossless
    ("CDROM/MR/J2KLL", "MR_small_jp2klossless.dcm"),  # JPEG 2000 lossless
    ("CDROM/SC/RLE", "SC_rgb_rle.dcm"),  # RLE lossless, RGB
    ("CDROM/SC/JPEGLOSSY", "JPEG-lossy.dcm"),  # JPEG extended, malformed stream (sent as is)
]


def media_zoo() -> Medium:
    medium = Medium()
    for path, name in AS_IS:
        medium.instance(path, sample(name).read_bytes())
    for path, name in RENEWED:
        medium.instance(path, renewed(name))
    medium.instance("NOMETA/IM0001", without_preamble("CT_small.dcm"))

    # a DICOMDIR set, names as real CDs spell them, one referenced file missing
    root = dicomdir_root()
    gone = "98892003/MR2/6605"
    medium.skip("PATIENTCD/DICOMDIR", (root / "DICOMDIR").read_bytes(), "dicomdir")
    for file in sorted(p for p in root.glob("[0-9]*/**/*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        if rel == gone:
            continue
        shown = rel
        if rel.startswith("77654033/CR1/"):
            shown = rel.replace("CR1", "cr1") + ";1"  # lower case, ISO 9660 version
        elif rel.startswith("77654033/CR2/"):
            shown = rel + ".dcm"  # an extension added on export
        medium.instance(f"PATIENTCD/{shown}", file.read_bytes())
    medium.missing[f"PATIENTCD/{gone}"] = "missing_file"

    # a copy of an instance, byte for byte
    medium.skip("BACKUP/CT0001", sample("CT_small.dcm").read_bytes(), "duplicate_instance")

    # what viewers and operating systems leave on a disc
    medium.skip("AUTORUN.INF", AUTORUN, "not_dicom")
    medium.skip("README.TXT", README, "not_dicom")
    medium.skip("VIEWER/VIEWER.EXE", EXE, "not_dicom")
    # a PDF and a JPEG in name and first bytes only: offered as documents of the disc, unreadable
    medium.skip("VIEWER/MANUAL.PDF", PDF, "document_unreadable")
    medium.skip("PHOTOS/KEY.JPG", JPEG, "document_unreadable")
    medium.skip("__MACOSX/CDROM/CT/._CT0001", APPLEDOUBLE, "junk")
    medium.skip("CDROM/CT/._CT0001", APPLEDOUBLE, "junk")
    medium.skip(".DS_Store", b"\x00\x00\x00\x01Bud1" + bytes(64), "junk")
    medium.skip("CDROM/Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "junk")

    # broken files
    ct = sample("CT_small.dcm").read_bytes()
    medium.skip("BROKEN/TRUNC", ct[: len(ct) // 2], "truncated")
    medium.skip("BROKEN/MRTRUNC", sample("MR_truncated.dcm").read_bytes(), "truncated")
    medium.skip("BROKEN/PLANTRUNC", sample("rtplan_truncated.dcm").read_bytes(), "truncated")
    medium.skip("BROKEN/NOSOPUID", without("CT_small.dcm", "SOPInstanceUID"), "missing_uid")
    medium.skip("BROKEN/NOSTUDY", sample("JPEGLSNearLossless_08.dcm").read_bytes(), "missing_uid")
    medium.skip("BROKEN/IM0001", b"PATIENT CD - please bring it back\r\n" * 4, "not_dicom")
    medium.skip("BROKEN/EMPTY", b"", "empty")

    # an export ZIP on the disc (unpacked, one level only)
    deeper = zip_of([("IM0001", sample("CT_small.dcm").read_bytes())])
    inner = zip_of(
        [
            ("IM0001", sample("SC_rgb_small_odd.dcm").read_bytes()),
            ("IM0002", sample("examples_palette.dcm").read_bytes()),
            ("NOTES.TXT", README),
            ("deeper.zip", deeper),
        ]
    )
    medium.entries.append(("EXPORT/export.zip", inner))
    medium.instances["EXPORT/export.zip/IM0001"] = uids(sample("SC_rgb_small_odd.dcm").read_bytes())
    medium.instances["EXPORT/export.zip/IM0002"] = uids(sample("examples_palette.dcm").read_bytes())
    medium.skipped["EXPORT/export.zip/NOTES.TXT"] = "not_dicom"
    medium.skipped["EXPORT/export.zip/deeper.zip"] = "nested_archive"
    return medium
