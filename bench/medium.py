"""A generated medium: N CT-like instances (512 x 512, 16 bits, Explicit VR Little Endian,
about 525 kB each) of one study, with new UIDs, written as files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = UID("1.2.840.10008.5.1.4.1.1.2")
SIZE = 512


def _pixels(rng: np.random.Generator, index: int) -> bytes:
    """A smooth body-like disc plus noise in the low bits: compresses like a real CT
    (about 2:1 with deflate), unlike zeros or pure noise."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    radius = np.hypot(x - SIZE / 2, y - SIZE / 2)
    body = np.where(radius < 200 + (index % 7), 1000 + (radius * 2).astype(np.int32), 0)
    noise = rng.integers(0, 64, size=(SIZE, SIZE))
    return (body + noise).astype("<u2").tobytes()


def _dataset(sop_class: UID, study: str, series: str, number: int) -> Dataset:
    """A 512 x 512, 16-bit grayscale instance of the bench patient, without its pixel data."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.PatientName = "BENCH^PATIENT"
    ds.PatientID = "BENCH-0001"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20250101"
    ds.StudyTime = "120000"
    ds.AccessionNumber = "BENCH0001"
    ds.SeriesNumber = 1
    ds.InstanceNumber = number
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = SIZE
    ds.Columns = SIZE
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    return ds


def generate(dest: Path, count: int, *, seed: int = 1) -> list[Path]:
    """Write ``count`` instances under ``dest`` (``IM00001.dcm``...); return their paths."""
    dest.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    study, series = generate_uid(), generate_uid()
    paths = []
    for index in range(count):
        ds = _dataset(CT_IMAGE_STORAGE, study, series, index + 1)
        ds.Modality = "CT"
        ds.StudyDescription = "Generated benchmark study"
        ds.ImagePositionPatient = [0, 0, float(index)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 1.0
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.PixelData = _pixels(rng, index)
        path = dest / f"IM{index + 1:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


MULTIFRAME_SC = UID("1.2.840.10008.5.1.4.1.1.7.3")  # Multi-frame Grayscale Word SC


def generate_large(dest: Path, gigabytes: float) -> Path:
    """One multi-frame object of about ``gigabytes`` of pixel data (512 x 512 frames, 16 bits,
    eight distinct frames repeated), written without holding a second copy; its path."""
    dest.mkdir(parents=True, exist_ok=True)
    frame_bytes = SIZE * SIZE * 2
    frames = max(1, int(gigabytes * 1024**3) // frame_bytes)
    rng = np.random.default_rng(4)
    distinct = [_pixels(rng, i) for i in range(8)]
    ds = _dataset(MULTIFRAME_SC, generate_uid(), generate_uid(), 1)
    ds.Modality = "OT"
    ds.StudyDescription = "Generated large object"
    ds.NumberOfFrames = frames
    ds.PixelData = b""  # written below, frame by frame
    path = dest / "LARGE.dcm"
    ds.save_as(path, enforce_file_format=True)
    data = bytearray(path.read_bytes())
    if data[-12:] != b"\xe0\x7f\x10\x00OW\x00\x00\x00\x00\x00\x00":  # empty Pixel Data, last
        raise RuntimeError("the generated header does not end with an empty Pixel Data")
    data[-4:] = (frames * frame_bytes).to_bytes(4, "little")
    with path.open("wb") as out:
        out.write(data)
        for index in range(frames):
            out.write(distinct[index % len(distinct)])
    return path


def zip_medium(paths: list[Path], archive: Path, *, stored: bool = False) -> Path:
    """The files in one ZIP, deflated (level 1, the app's ``"zipLevel": 1`` for a slow link) or
    ``stored`` as they are (the app's default, ``"zipLevel": 0``)."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(archive, "w", method, compresslevel=None if stored else 1) as out:
        for path in paths:
            out.write(path, f"DICOM/{path.name}")
    return archive
