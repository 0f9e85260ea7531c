"""Pydantic schemas of imports (API in and out), shaped as DESIGN §5 says."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from importer.access.schemas import OrderOut, PatientOut
from importer.validation import InputModel

Uid = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9.]+$")]


class ImportCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    zone: Literal["pacs", "temporary"] = "pacs"
    size: int = Field(gt=0, description="Size of the archive (ZIP) in bytes")
    filename: Annotated[str, StringConstraints(max_length=255)] = ""


class ImportCreated(BaseModel):
    id: str
    status: str
    upload_url: str


class ErrorInfo(BaseModel):
    code: str
    message: str


class UploadInfo(BaseModel):
    size: int
    received: int


class SkippedOut(BaseModel):
    path: str
    reason: str
    message: str


class MediaOut(BaseModel):
    files: int
    dicom: int
    non_dicom: int
    unreadable: int
    dicomdir: bool
    skipped: list[SkippedOut]


class StagePublic(BaseModel):
    name: str
    status: str
    attempts_left: int
    message: str
    updated_at: dt.datetime


class PatientFound(BaseModel):
    name: str
    id: str
    issuer: str
    birth_date: str
    sex: str


class IdentityOut(BaseModel):
    overall: str
    fields: dict[str, str]
    reasons: list[str]


class PatientCompared(BaseModel):
    """One distinct patient found in a study, compared with the order's patient."""

    patient: PatientFound
    identity: IdentityOut | None


StudyOutcome = Literal["not_selected", "already_present", "waiting", "processing", "done", "failed"]


class SeriesOut(BaseModel):
    series_instance_uid: str
    modality: str
    number: int | None
    description: str
    instance_count: int
    thumbnail: bool = Field(description="A thumbnail can be fetched for this series")


class StudyOut(BaseModel):
    study_instance_uid: str
    description: str
    date: str
    time: str
    accession_number: str
    institution: str
    modalities: list[str]
    series_count: int
    instance_count: int
    patient: PatientFound
    identity: IdentityOut | None
    patients: list[PatientCompared] = Field(
        description="Every distinct patient found in this study (the first is ``patient``), "
        "each compared with the order's patient: a study may hide a second patient"
    )
    compared_with: PatientOut | None = Field(
        description="The order's patient the comparison was made with: confirming files the "
        "study under this patient only (409 order_changed when the order changed since)"
    )
    acknowledgement_required: bool = Field(
        description="A patient of this study is not the order's patient (not match or "
        "format_different): confirming needs acknowledge_identity"
    )
    outcome: StudyOutcome = Field(
        description="This study's own end: already_present (on the PACS, ignored, never sent "
        "again), done, failed; waiting or processing while the import runs"
    )
    on_pacs: bool = Field(
        description="The PACS holds this study already: removed from the import, never sent again"
    )
    pacs_conflict: bool = Field(
        description="The PACS holds this Study Instance UID under another patient: it cannot be "
        "imported until the PACS administrator resolves it"
    )
    instances_on_pacs: int | None = Field(
        description="How many of this study's instances the PACS holds (null: none, the study "
        "is not there); when some are missing only those are sent"
    )
    warnings: list[str] = Field(description="Stable codes of what the analysis noticed")
    order: str | None = Field(
        description="Accession number of the order this study goes to (worklist mode: chosen "
        "per study)"
    )
    selected: bool
    series: list[SeriesOut]
    stages: list[StagePublic]


class ImportOut(BaseModel):
    id: str
    support_id: str
    status: str
    badge: str
    zone: str
    order: OrderOut | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    created_by_name: str
    error: ErrorInfo | None
    upload: UploadInfo
    media: MediaOut
    studies: list[StudyOut]


class ImportSummary(BaseModel):
    """One row of "previous imports with log"."""

    id: str
    support_id: str
    status: str
    badge: str
    zone: str
    accession_number: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    created_by_name: str
    study_instance_uids: list[str]
    descriptions: list[str]
    error: ErrorInfo | None


class ImportList(BaseModel):
    items: list[ImportSummary]


class PatientSeen(InputModel):
    """A patient as the user saw it on the screen (compared, never written anywhere)."""

    name: Annotated[str, StringConstraints(max_length=324)] = ""
    id: Annotated[str, StringConstraints(max_length=64)] = ""
    issuer: Annotated[str, StringConstraints(max_length=64)] = ""
    birth_date: Annotated[str, StringConstraints(max_length=8)] = ""
    sex: Annotated[str, StringConstraints(max_length=16)] = ""


class ConfirmIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    studies: list[Uid] = Field(min_length=1, description="Study Instance UIDs to import")
    acknowledge_identity: bool = Field(
        False, description="Required when a selected study's identity is a mismatch"
    )
    order_for_study: dict[Uid, str] | None = Field(
        None, description="Worklist mode: accession number of the order chosen for each study"
    )
    seen_patients: dict[Uid, PatientSeen] | None = Field(
        None,
        description="The order's patient the user saw compared, per study (worklist mode: the "
        "chosen candidate's patient). Only checked, never stored as an order: when the order's "
        "patient is another one now, the answer is 409 order_changed",
    )


class Accepted(BaseModel):
    id: str
    status: str


class WorklistProcedure(BaseModel):
    code: str
    description: str


class WorklistPatient(BaseModel):
    name: str
    id: str
    issuer: str
    birth_date: str
    sex: str


class WorklistCandidate(BaseModel):
    """An order of the worklist, with how its patient compares to the identity searched."""

    accession_number: str
    requested_procedure_id: str
    procedure: WorklistProcedure
    modality: str
    scheduled_date: str
    scheduled_time: str
    patient: WorklistPatient
    identity: IdentityOut
    score: float = Field(description="Similarity to the identity searched, 0 to 100")
    step: str = Field(description="The search step that found it (relaxation of the French seed)")


class WorklistResult(BaseModel):
    items: list[WorklistCandidate]


class PromoteIn(InputModel):
    """File a temporary-zone import under an order named by its accession number: found in the
    worklist (or, without a worklist, an order the RIS sent). A session never supplies an
    order's content."""

    model_config = ConfigDict(extra="forbid")

    accession_number: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    acknowledge_identity: bool = False
    seen_patient: PatientSeen | None = Field(
        None,
        description="The order's patient the user saw compared (the worklist candidate's). "
        "When the order's patient is another one now: 409 order_changed",
    )


class TemporaryStudy(BaseModel):
    study_instance_uid: str
    description: str
    date: str
    modalities: list[str]
    series_count: int
    instance_count: int
    patient: PatientFound


class TemporaryItem(BaseModel):
    """One import waiting in the temporary zone for review."""

    id: str
    support_id: str
    status: str
    badge: str
    created_at: dt.datetime
    created_by: str
    created_by_name: str
    age_days: int
    past_review: bool = Field(description="Older than IMPORTER_TEMPORARY_REVIEW_DAYS")
    size: int
    studies: list[TemporaryStudy]


class TemporaryList(BaseModel):
    items: list[TemporaryItem]
