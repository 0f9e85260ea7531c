"""What every DICOM object the importer writes itself shares (an IOCM rejection note, a
document of the medium wrapped as an image or an encapsulated PDF): its file meta information,
the patient and study modules from plain data, and the character set its texts need. Pure
apart from pydicom."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from pydicom import Dataset
from pydicom.dataset import FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

UTF8: Final = "ISO_IR 192"
"""Specific Character Set for Unicode in UTF-8, used when any text is not plain ASCII."""


@dataclass(frozen=True, slots=True)
class StudyFacts:
    """A study with its patient, as an object written into it repeats them."""

    study_instance_uid: str
    patient_name: str
    patient_id: str
    issuer: str
    birth_date: str
    sex: str
    accession_number: str
    study_date: str
    study_time: str
    study_id: str = ""
    study_description: str = ""


def file_meta(
    sop_class_uid: str, sop_instance_uid: str, transfer_syntax: UID = ExplicitVRLittleEndian
) -> FileMetaDataset:
    """File meta information of an object written by the importer."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def add_patient(ds: Dataset, study: StudyFacts) -> None:
    """Patient module: name, id (and its issuer when known), birth date, sex."""
    ds.PatientName = study.patient_name
    ds.PatientID = study.patient_id
    if study.issuer:
        ds.IssuerOfPatientID = study.issuer
    ds.PatientBirthDate = study.birth_date
    ds.PatientSex = study.sex


def add_study(ds: Dataset, study: StudyFacts) -> None:
    """General Study module, the values of the study as given (referring physician empty)."""
    ds.StudyInstanceUID = study.study_instance_uid
    ds.StudyDate = study.study_date
    ds.StudyTime = study.study_time
    ds.ReferringPhysicianName = ""
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession_number
    if study.study_description:
        ds.StudyDescription = study.study_description


def needs_unicode(texts: Iterable[str]) -> bool:
    """Whether any text goes beyond the default repertoire (ASCII)."""
    return not all(text.isascii() for text in texts)
