"""Study Root C-FIND on an open association: which studies, and which instances of a study,
the PACS holds."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from pydicom import Dataset
from pydicom.uid import UID
from pynetdicom.association import Association

from importer.dimse import FIND_PENDING, STATUS_SUCCESS
from importer.pacs.base import PacsError, StudyOnPacs

__all__ = ["STUDY_ROOT_FIND", "find", "find_instances", "find_studies", "queryable"]

logger = logging.getLogger(__name__)

STUDY_ROOT_FIND = UID("1.2.840.10008.5.1.4.1.2.2.1")
"""Study Root Query/Retrieve Information Model - FIND."""


def queryable(uids: Sequence[str]) -> list[str]:
    """``uids`` without duplicates, empty ones and ones holding matching characters (which
    would match other studies: never ask for them)."""
    unique = [uid for uid in dict.fromkeys(uids) if uid]
    found = [uid for uid in unique if not any(ch in uid for ch in "*?\\")]
    if len(found) != len(unique):
        logger.debug("skipping %d UIDs with wildcard characters", len(unique) - len(found))
    return found


def find(assoc: Association, query: Dataset) -> Iterator[Dataset]:
    """The identifiers a Study Root C-FIND matches; :class:`PacsError` on failure."""
    for status, identifier in assoc.send_c_find(query, STUDY_ROOT_FIND):
        if "Status" not in status:
            raise PacsError(PacsError.TIMEOUT, "the PACS stopped answering a C-FIND")
        code = int(status.Status)
        if code in FIND_PENDING:
            if identifier is not None:
                yield identifier
        elif code == STATUS_SUCCESS:
            return
        else:
            raise PacsError(
                PacsError.FAILED,
                f"the PACS failed a C-FIND with 0x{code:04X}",
                params={"status": f"0x{code:04X}"},
            )


def find_studies(assoc: Association, uids: Sequence[str]) -> dict[str, StudyOnPacs]:
    """The studies among ``uids`` (:func:`queryable` ones) the PACS holds, one C-FIND each."""
    found: dict[str, StudyOnPacs] = {}
    for uid in uids:
        study = _find_study(assoc, uid)
        if study is not None:
            found[uid] = study
    return found


def _find_study(assoc: Association, uid: str) -> StudyOnPacs | None:
    query = Dataset()
    query.QueryRetrieveLevel = "STUDY"
    query.StudyInstanceUID = uid
    query.PatientID = ""
    query.NumberOfStudyRelatedInstances = ""
    logger.debug("C-FIND study %s", uid)
    match: StudyOnPacs | None = None
    for identifier in find(assoc, query):
        if match is None:
            match = StudyOnPacs(
                study_instance_uid=uid,
                patient_id=str(identifier.get("PatientID", "") or ""),
                instance_count=_int_or_none(identifier.get("NumberOfStudyRelatedInstances")),
            )
    return match


def find_instances(assoc: Association, study_uid: str) -> set[str]:
    """The SOP Instance UIDs the PACS holds for ``study_uid`` (a :func:`queryable` one): a
    SERIES-level C-FIND for the study's series, then an IMAGE-level one per series
    (hierarchical, Study Root)."""
    series_query = Dataset()
    series_query.QueryRetrieveLevel = "SERIES"
    series_query.StudyInstanceUID = study_uid
    series_query.SeriesInstanceUID = ""
    series = {str(match.get("SeriesInstanceUID", "") or "") for match in find(assoc, series_query)}
    instances: set[str] = set()
    for series_uid in sorted(queryable(list(series))):
        image_query = Dataset()
        image_query.QueryRetrieveLevel = "IMAGE"
        image_query.StudyInstanceUID = study_uid
        image_query.SeriesInstanceUID = series_uid
        image_query.SOPInstanceUID = ""
        instances.update(
            str(match.get("SOPInstanceUID", "") or "") for match in find(assoc, image_query)
        )
    instances.discard("")
    logger.info(
        "C-FIND: the PACS holds %d instances in %d series of the study",
        len(instances),
        len(series),
    )
    return instances


def _int_or_none(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
