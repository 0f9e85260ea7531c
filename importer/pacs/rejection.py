"""IHE IOCM rejection notes: a Key Object Selection (KOS) Document that rejects instances.

To take back instances we stored on a PACS, IHE Imaging Object Change Management (IOCM, Rad TF-3
RAD-66 "Rejection Note Stored") sends the PACS a KOS Document (PS3.3 A.35.4) in the same study
whose document title, the root container's Concept Name, is the reason for the rejection (CID
7010 Key Object Selection Document Title), and which references every rejected instance twice:
in the Current Requested Procedure Evidence Sequence (study > series > instance) and as one
content item each (TID 2010 "Key Object Selection", PS3.16). A PACS that supports IOCM then
hides or deletes those instances.

:func:`rejection_note` builds that document from plain data (the study as it was stored and the
instances to reject); sending it is the caller's business. It is pure apart from the new UIDs
and, when ``now`` is not given, the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from pydicom import Dataset
from pydicom.uid import UID, generate_uid

from importer.composite import (
    UTF8,
    StudyFacts,
    add_patient,
    add_study,
    file_meta,
    needs_unicode,
)

KEY_OBJECT_SELECTION_STORAGE = UID("1.2.840.10008.5.1.4.1.1.88.59")
"""Key Object Selection Document Storage SOP Class."""
DCMR_UID = UID("1.2.840.10008.8.1.1")
"""The DICOM Content Mapping Resource (PS3.16), where TID 2010 is defined."""
KOS_TEMPLATE = "2010"
"""TID 2010 Key Object Selection: the template of the document's content tree."""
SERIES_NUMBER = 9999
"""Series Number of the note's own series: high, so that viewers list it after the study's
acquired series."""
INSTANCE_NUMBER = 1
"""Instance Number of the note: the only instance of its series."""
NoteStudy = StudyFacts
"""The study the rejected instances belong to, with the patient and study attributes as they
were stored on the PACS (the coerced values), which the note repeats."""

UndoReason = Literal["patient_safety", "wrong_worklist_entry"]
"""Why instances are rejected, as the undo feature names it."""


@dataclass(frozen=True, slots=True)
class Code:
    """A coded concept: code value, coding scheme designator and code meaning."""

    value: str
    scheme: str
    meaning: str


REASONS: Mapping[str, Code] = MappingProxyType(
    {
        "patient_safety": Code("113037", "DCM", "Rejected for Patient Safety Reasons"),
        "wrong_worklist_entry": Code("113038", "DCM", "Incorrect Modality Worklist Entry"),
    }
)
"""The document title of a rejection note for each reason (CID 7010, IHE IOCM)."""


@dataclass(frozen=True, slots=True)
class RejectedInstance:
    """One stored instance to reject."""

    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str


def rejection_note(
    study: NoteStudy,
    instances: Sequence[RejectedInstance],
    reason: UndoReason,
    *,
    manufacturer: str = "PACS Media Import",
    now: datetime | None = None,
) -> Dataset:
    """The IOCM rejection note that rejects ``instances`` of ``study`` for ``reason``: a new
    KOS instance, in a new series of the same study, with its file meta information (Explicit
    VR Little Endian), ready to be written or sent.

    ``now`` is the document's content date and time (local time; default: the clock).
    Raises ValueError when there is no instance, when a UID is empty, or when one SOP
    Instance UID is given twice with different class or series.
    """
    refs = _checked(study, instances)
    code = REASONS[reason]
    when = now if now is not None else datetime.now()
    sop_instance_uid = generate_uid()

    ds = Dataset()
    ds.file_meta = file_meta(KEY_OBJECT_SELECTION_STORAGE, sop_instance_uid)
    if needs_unicode(_texts(study, manufacturer, code)):
        ds.SpecificCharacterSet = UTF8
    ds.SOPClassUID = KEY_OBJECT_SELECTION_STORAGE
    ds.SOPInstanceUID = sop_instance_uid
    add_patient(ds, study)
    add_study(ds, study)
    # Key Object Document Series
    ds.Modality = "KO"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = SERIES_NUMBER
    ds.ReferencedPerformedProcedureStepSequence = []
    # General Equipment
    ds.Manufacturer = manufacturer
    # Key Object Document
    ds.InstanceNumber = INSTANCE_NUMBER
    ds.ContentDate = when.strftime("%Y%m%d")
    ds.ContentTime = when.strftime("%H%M%S")
    ds.CurrentRequestedProcedureEvidenceSequence = [_evidence(study.study_instance_uid, refs)]
    # SR Document Content: the root container of TID 2010
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code_item(code)]
    ds.ContinuityOfContent = "SEPARATE"
    ds.ContentTemplateSequence = [_template_item()]
    ds.ContentSequence = [_content_item(ref) for ref in _in_series_order(refs)]
    return ds


def _content_value_type(sop_class_uid: str) -> Literal["IMAGE", "WAVEFORM", "COMPOSITE"]:
    """The SR value type that references an instance of ``sop_class_uid`` (PS3.3 C.17.3.2.1):
    IMAGE for an image storage SOP class, WAVEFORM for a waveform one, COMPOSITE for the rest
    (encapsulated documents, SR, presentation states, private or unknown classes...).

    Decided on the class's name in pydicom's UID dictionary, which is generated from the
    standard's registry (PS3.6 Table A-1): every image storage class is named "... Image
    Storage[ - For Presentation|Processing]" and every waveform one "... Waveform Storage".
    """
    name = UID(sop_class_uid).name
    if "Image Storage" in name:
        return "IMAGE"
    if "Waveform Storage" in name:
        return "WAVEFORM"
    return "COMPOSITE"


def _checked(study: NoteStudy, instances: Sequence[RejectedInstance]) -> list[RejectedInstance]:
    """The instances to reference, first-seen order, repeats removed; ValueError on bad input.

    Messages name no UID or patient value: they reach logs.
    """
    if not study.study_instance_uid.strip():
        raise ValueError("the study has no Study Instance UID")
    if not instances:
        raise ValueError("a rejection note needs at least one instance")
    seen: dict[str, RejectedInstance] = {}
    for index, instance in enumerate(instances):
        if not all(
            uid.strip()
            for uid in (
                instance.sop_class_uid,
                instance.sop_instance_uid,
                instance.series_instance_uid,
            )
        ):
            raise ValueError(f"instance {index} has an empty UID")
        earlier = seen.setdefault(instance.sop_instance_uid, instance)
        if earlier != instance:
            raise ValueError(
                f"instance {index} repeats an earlier SOP Instance UID with another class or series"
            )
    return list(seen.values())


def _texts(study: NoteStudy, manufacturer: str, code: Code) -> tuple[str, ...]:
    """Every text value the note carries (what decides its character set)."""
    return (
        study.patient_name,
        study.patient_id,
        study.issuer,
        study.accession_number,
        study.study_id,
        manufacturer,
        code.value,
        code.scheme,
        code.meaning,
    )


def _code_item(code: Code) -> Dataset:
    """A code sequence item (Code Sequence Macro, basic coded entry)."""
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme
    item.CodeMeaning = code.meaning
    return item


def _template_item() -> Dataset:
    """The Content Template Sequence item naming TID 2010 in DCMR."""
    item = Dataset()
    item.MappingResource = "DCMR"
    item.MappingResourceUID = DCMR_UID
    item.TemplateIdentifier = KOS_TEMPLATE
    return item


def _sop_item(ref: RejectedInstance) -> Dataset:
    """A Referenced SOP Sequence item: class and instance."""
    item = Dataset()
    item.ReferencedSOPClassUID = ref.sop_class_uid
    item.ReferencedSOPInstanceUID = ref.sop_instance_uid
    return item


def _by_series(refs: Sequence[RejectedInstance]) -> dict[str, list[RejectedInstance]]:
    """The instances grouped by Series Instance UID, series in first-seen order."""
    groups: dict[str, list[RejectedInstance]] = {}
    for ref in refs:
        groups.setdefault(ref.series_instance_uid, []).append(ref)
    return groups


def _in_series_order(refs: Sequence[RejectedInstance]) -> list[RejectedInstance]:
    """The instances in the order the evidence lists them: series by series."""
    return [ref for group in _by_series(refs).values() for ref in group]


def _evidence(study_instance_uid: str, refs: Sequence[RejectedInstance]) -> Dataset:
    """The Current Requested Procedure Evidence Sequence item (Hierarchical SOP Instance
    Reference Macro): the study, one item per series, one item per instance."""
    series_items = []
    for series_uid, group in _by_series(refs).items():
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = [_sop_item(ref) for ref in group]
        series_items.append(series)
    study = Dataset()
    study.StudyInstanceUID = study_instance_uid
    study.ReferencedSeriesSequence = series_items
    return study


def _content_item(ref: RejectedInstance) -> Dataset:
    """One TID 2010 content item: the root CONTAINS a reference to the instance."""
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = _content_value_type(ref.sop_class_uid)
    item.ReferencedSOPSequence = [_sop_item(ref)]
    return item
