"""Preparing instances for the PACS: read from the spool, coerce in memory, never touch the file."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

from pydicom import Dataset, dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ImplicitVRLittleEndian

from importer.access.models import Order
from importer.coerce import CoercionTarget, coerce_dataset


def target_of(order: Order) -> CoercionTarget:
    return CoercionTarget(
        patient_name=order.patient_name,
        patient_id=order.patient_id,
        issuer_of_patient_id=order.patient_issuer,
        birth_date=order.patient_birth_date,
        sex=order.patient_sex,
        accession_number=order.accession_number,
        requested_procedure_id=order.requested_procedure_id,
        procedure_code=order.procedure_code,
        procedure_code_scheme=order.procedure_code_scheme or "LOCAL",
        procedure_description=order.procedure_description,
        scheduled_procedure_step_id=order.scheduled_procedure_step_id,
    )


def load_for_store(
    path: Path,
    *,
    target: CoercionTarget | None,
    modifying_system: str,
    now: datetime,
    add_other_patient_ids: bool,
) -> Dataset:
    """The dataset to send: the file as read, coerced to the order (``target``; ``None`` keeps
    the medium's identity, for the temporary zone), with proper file meta."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = dcmread(path, force=True)
        meta = getattr(ds, "file_meta", None) or FileMetaDataset()
        if "TransferSyntaxUID" not in meta:
            meta.TransferSyntaxUID = ImplicitVRLittleEndian
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        if "ImplementationClassUID" not in meta:
            meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds.file_meta = meta
        if target is None:
            return ds
        return coerce_dataset(
            ds,
            target,
            modifying_system=modifying_system,
            now=now,
            add_other_patient_ids=add_other_patient_ids,
        )
