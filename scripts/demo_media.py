"""Demo media: folders laid out like patients' CDs, made from the DICOM files pydicom ships
(never downloaded), with the patient, study and UIDs wanted. Used by ``make run`` (demo CDs
for the demo order) and by the browser tests.

``python -m scripts.demo_media DIR`` writes two demo media under DIR."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, ImageDraw
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


@dataclass(frozen=True)
class Patient:
    name: str
    birth_date: str
    sex: str
    id: str = "EXT-12345"


def _sample(name: str) -> Dataset:
    path = get_testdata_file(name, download=False)
    if path is None:
        raise FileNotFoundError(name)
    return pydicom.dcmread(str(path))


def _study(patient: Patient, *, description: str, date: str, accession: str) -> list[Dataset]:
    """One study of two series (a CT and an MR image each), all new UIDs."""
    study_uid = generate_uid()
    out: list[Dataset] = []
    for number, (sample, series_description) in enumerate(
        (("CT_small.dcm", "AXIAL 5mm"), ("MR_small.dcm", "T1 SAG")), start=1
    ):
        ds = _sample(sample)
        series_uid = generate_uid()
        for instance in range(1, 3):
            dup = copy.deepcopy(ds)
            dup.PatientName = patient.name
            dup.PatientBirthDate = patient.birth_date
            dup.PatientSex = patient.sex
            dup.PatientID = patient.id
            dup.StudyInstanceUID = study_uid
            dup.SeriesInstanceUID = series_uid
            dup.SOPInstanceUID = generate_uid()
            dup.file_meta.MediaStorageSOPInstanceUID = dup.SOPInstanceUID
            dup.StudyDescription = description
            dup.SeriesDescription = series_description
            dup.SeriesNumber = number
            dup.InstanceNumber = instance
            dup.StudyDate = date
            dup.StudyTime = "091454"
            dup.AccessionNumber = accession
            dup.InstitutionName = "Ospedale Esterno"
            out.append(dup)
    return out


def write_cd(
    folder: Path,
    patient: Patient,
    *,
    description: str,
    date: str = "20240601",
    accession: str = "EXT0001",
    report: bool = False,
) -> Path:
    """A CD: DICOMDIR at the root, PS3.10 layout, and the viewer files CDs carry; with
    ``report``, the outside hospital's report as a PDF the DICOMDIR does not list (a document
    the user may file with the study)."""
    folder.mkdir(parents=True, exist_ok=True)
    fs = FileSet()
    for ds in _study(patient, description=description, date=date, accession=accession):
        fs.add(ds)
    fs.write(folder)
    (folder / "AUTORUN.INF").write_text("[autorun]\nopen=VIEWER\\viewer.exe\n")
    (folder / "VIEWER").mkdir(exist_ok=True)
    (folder / "VIEWER" / "viewer.exe").write_bytes(random.Random(1).randbytes(4096))
    if report:
        (folder / "REPORT").mkdir(exist_ok=True)
        _report_page(patient, description, date).save(folder / "REPORT" / "REFERTO.PDF", "PDF")
    return folder


def _report_page(patient: Patient, description: str, date: str) -> Image.Image:
    """One A4 page at 100 dpi: an outside report, as a scanned PDF would hold it."""
    page = Image.new("L", (827, 1169), 255)
    draw = ImageDraw.Draw(page)
    lines = [
        "Ospedale Esterno - Radiologia",
        "",
        f"Paziente: {patient.name.replace('^', ' ')}   Nato il: {patient.birth_date}",
        f"Esame: {description}   Data: {date}",
        "",
        "Referto: nessuna alterazione di rilievo.",
    ]
    for row, line in enumerate(lines):
        draw.text((60, 80 + 28 * row), line, fill=0)
    return page


def write_folder(
    folder: Path,
    patient: Patient,
    *,
    description: str,
    date: str = "20240601",
    accession: str = "EXT0002",
) -> Path:
    """A plain folder of DICOM files (a USB stick without DICOMDIR)."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, ds in enumerate(
        _study(patient, description=description, date=date, accession=accession), start=1
    ):
        ds.save_as(folder / f"IMG{index:04d}.dcm", enforce_file_format=True)
    return folder


def write_bench(folder: Path, *, megabytes: int = 250, seed: int = 7) -> Path:
    """A ~`megabytes` MB medium of 512×512 16-bit CT images (512 KiB of pixels each) with a
    smooth anatomy-like pattern and noise, so it compresses about like real CT."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    template = _sample("CT_small.dcm")
    study_uid = generate_uid()
    series_uid = generate_uid()
    y, x = np.mgrid[-256:256, -256:256]
    body = ((x**2 / 200**2 + y**2 / 150**2) < 1).astype(np.int32)
    count = max(1, megabytes * 1_000_000 // (512 * 512 * 2 + 2000))
    for index in range(count):
        noise = rng.normal(0, 12, size=(512, 512)).astype(np.int32)
        pixels = (body * (1040 + 40 * np.sin((x + index) / 25.0)) + noise).clip(0, 4095)
        ds = copy.deepcopy(template)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PatientName = "BENCH^MEDIUM"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = index + 1
        ds.Rows = 512
        ds.Columns = 512
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 0
        ds.PixelData = pixels.astype(np.uint16).tobytes()
        ds.save_as(folder / f"IM{index:05d}", enforce_file_format=True)
    return folder


def main(argv: list[str] | None = None) -> int:
    import sys

    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else "var/demo-media")
    write_cd(
        root / "CD-ROSSI-MARIO",
        Patient(name="ROSSI^MARIO", birth_date="19740101", sex="M"),
        description="TC TORACE",
        accession="EXT0001",
        report=True,
    )
    write_folder(
        root / "USB-ROSSI-MARIA",
        Patient(name="ROSSI^MARIA", birth_date="19740101", sex="F"),
        description="RM ENCEFALO",
        accession="EXT0002",
    )
    print(root.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
