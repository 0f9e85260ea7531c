"""Pydantic schemas of imports (API in and out), shaped as DESIGN §5 says."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, get_args

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from importer.access.policy import Zone
from importer.access.schemas import AccessionNumber, OrderOut, PatientOut
from importer.identity.schemas import IdentityOut, LocalPatientOut
from importer.imports.states import (
    Badge,
    DocumentOutcome,
    ImportStatus,
    StageName,
    StageStatus,
    StudyOutcome,
    UndoState,
    UnsentReason,
)
from importer.media.archive import DocumentKind
from importer.media.documents import MAX_DOCUMENTS
from importer.messages import MessageCode, Params, ParamsField, clean_params, stored_code
from importer.pacs.rejection import UndoReason
from importer.validation import InputModel
from importer.worklist.query import MAX_WORKLIST_ORDERS

Uid = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9.]+$")]


class ImportCreate(InputModel):
    model_config = ConfigDict(extra="forbid")

    zone: Zone = Zone.pacs
    size: int = Field(gt=0, description="Size of the archive (ZIP) in bytes")
    filename: Annotated[str, StringConstraints(max_length=255)] = ""


class Row(BaseModel):
    """An API view read from a database row (or a value of the domain) by attribute."""

    model_config = ConfigDict(from_attributes=True)


class ImportCreated(BaseModel):
    id: str
    status: ImportStatus
    upload_url: str


class ErrorInfo(Row):
    """What went wrong, as the app words it: ``code`` with ``params`` (``message`` is English,
    for integrators and logs)."""

    code: MessageCode
    params: ParamsField
    message: str


class UploadInfo(Row):
    size: int
    received: int


class SkippedOut(Row):
    path: str
    reason: MessageCode = Field(description="Why the file was not taken, as a message code")
    params: ParamsField
    message: str

    @field_validator("reason", mode="before")
    @classmethod
    def _known_reason(cls, value: object) -> MessageCode:
        # a reason an older version stored and no longer lists is shown as unreadable
        return stored_code(str(value), fallback=MessageCode.unreadable)


class MediaOut(Row):
    files: int
    dicom: int
    non_dicom: int
    unreadable: int
    dicomdir: bool
    skipped: list[SkippedOut]


class StagePublic(Row):
    name: StageName
    status: StageStatus
    attempts_left: int
    code: MessageCode | None = Field(
        description="What the stage did, or why it failed or was not needed, as a message code "
        "(null: nothing to say yet, or a note written before codes)"
    )
    params: ParamsField
    message: str

    @field_validator("code", mode="before")
    @classmethod
    def _known_code(cls, value: object) -> MessageCode | None:
        return None if value is None else stored_code(str(value))

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: object) -> Params:
        return clean_params(value if isinstance(value, dict) else None)

    updated_at: dt.datetime


class PatientFound(Row):
    name: str
    id: str
    issuer: str
    birth_date: str
    sex: str


class PatientCompared(Row):
    """One distinct patient found in a study, compared with the order's patient."""

    patient: PatientFound
    identity: IdentityOut | None


class SeriesOut(Row):
    series_instance_uid: str
    modality: str
    number: int | None
    description: str
    instance_count: int
    thumbnail: bool = Field(
        validation_alias="has_thumbnail", description="A thumbnail can be fetched for this series"
    )


class UnsentOut(Row):
    """An object of the study that cannot reach the PACS."""

    path: str = Field(description="Its file on the medium")
    reason: UnsentReason = Field(
        description="cannot_convert: the PACS does not accept its transfer syntax and no "
        "decoder can convert it; sop_class_not_accepted: the PACS accepts no object of its kind"
    )
    syntax: str = Field(
        description="Its transfer syntax's family (JPEG, JPEG-LS, JPEG 2000, RLE, MPEG-4...; "
        "the UID for another), the same in every language"
    )

    @field_validator("reason", mode="before")
    @classmethod
    def _known_reason(cls, value: object) -> str:
        # a reason another version stored and this one does not list: said as the most general
        return str(value) if value in get_args(UnsentReason) else "cannot_convert"


class StudyOut(Row):
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
        validation_alias="compared_patients",
        description="Every distinct patient found in this study (the first is ``patient``), "
        "each compared with the order's patient: a study may hide a second patient",
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
    to_convert: int | None = Field(
        description="How many of its instances the PACS does not accept in their own transfer "
        "syntax: they are converted (decompressed) before they are sent, and the conversion is "
        "recorded in each. null: not known before sending (a DICOMweb PACS, or the PACS could "
        "not be asked)"
    )
    unsent: list[UnsentOut] = Field(
        description="Its objects that cannot reach the PACS (the first 50), foreseen by the "
        "analysis, then as the store found them: confirming sends the others, and the study is "
        "not completed without them"
    )
    unsent_count: int = Field(description="How many of its objects cannot reach the PACS")
    unsent_found: bool = Field(
        description="``unsent`` is what the store found when it sent the study (false: what the "
        "analysis foresaw, before anything was sent)"
    )
    order: str | None = Field(
        validation_alias="order_accession",
        description="Accession number of the order this study goes to (worklist mode: chosen "
        "per study)",
    )
    selected: bool
    series: list[SeriesOut]
    stages: list[StagePublic]


class DocumentOut(Row):
    """A document of the medium that is not DICOM (a PDF, a JPEG, a PNG): filed with a study
    when the confirmation says so (``documents``), wrapped as an object of that study."""

    id: str
    path: str = Field(validation_alias="display_path", description="Its file on the medium")
    kind: DocumentKind = Field(
        description="pdf: filed as an Encapsulated PDF; jpeg, png: as a Secondary Capture image"
    )
    size: int = Field(description="Its size in bytes")
    pages: int | None = Field(description="A PDF's page count (null for an image)")
    width: int | None = Field(description="An image's width in pixels, as shown")
    height: int | None = Field(description="An image's height in pixels, as shown")
    preview: bool = Field(
        validation_alias="has_preview",
        description="A preview (its first page, at most 1024 pixels a side) can be fetched",
    )
    pacs_accepts: bool | None = Field(
        description="Whether the PACS the import goes to takes the object it becomes (an "
        "Encapsulated PDF, a Secondary Capture image), asked during the analysis as for the "
        "medium's objects. false: filing it would fail its study (sop_class_not_accepted); "
        "null: not known (DICOMweb, the PACS did not answer)"
    )
    study_instance_uid: str | None = Field(
        description="The study it is filed with (null: not filed)"
    )
    outcome: DocumentOutcome = Field(
        description="not_selected: not filed; waiting: to be wrapped and sent with its study; "
        "stored: on the PACS; failed: its study failed; taken_back: by an undo"
    )


class UndoOut(Row):
    """A referent's undo of the import (``POST /imports/{id}/undo``) and where it stands."""

    state: UndoState = Field(
        description="requested: the PACS is being asked; failed: it could not take everything "
        "back (``error``; ask again); done: the PACS holds none of the instances the import "
        "stored, and the import is in the temporary zone"
    )
    reason: UndoReason
    requested_at: dt.datetime
    requested_by_name: str
    accession_number: str | None = Field(description="The order the import was undone from")
    done_at: dt.datetime | None
    taken_back: int = Field(description="Instances the PACS took back")
    error: ErrorInfo | None


class ImportOut(Row):
    id: str
    support_id: str
    status: ImportStatus
    badge: Badge
    zone: Zone
    order: OrderOut | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    created_by_name: str
    error: ErrorInfo | None
    retryable: bool = Field(
        description="A retry can help: failed, and not because of the medium itself "
        "(`POST /imports/{id}/retry` refuses the others with 409 `not_retryable`)"
    )
    upload: UploadInfo
    media: MediaOut
    studies: list[StudyOut]
    documents: list[DocumentOut] = Field(
        description="The medium's PDFs and images, offered at confirmation (at most 100)"
    )
    undo_until: dt.datetime | None = Field(
        description="Until when a referent may undo this import (``POST /imports/{id}/undo``); "
        "null: it cannot be (not completed on the PACS, undone, or its period is over)"
    )
    undo: UndoOut | None


class ImportSummary(Row):
    """One row of "previous imports with log"."""

    id: str
    support_id: str
    status: ImportStatus
    badge: Badge
    zone: Zone
    accession_number: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    created_by: str
    created_by_name: str
    study_instance_uids: list[str]
    descriptions: list[str]
    error: ErrorInfo | None
    undo: UndoOut | None


class ImportList(BaseModel):
    items: list[ImportSummary]


class PatientSeen(InputModel):
    """A patient as the user saw it on the screen (compared, never written anywhere)."""

    name: Annotated[str, StringConstraints(max_length=324)] = ""
    id: Annotated[str, StringConstraints(max_length=64)] = ""
    issuer: Annotated[str, StringConstraints(max_length=64)] = ""
    birth_date: Annotated[str, StringConstraints(max_length=8)] = ""
    sex: Annotated[str, StringConstraints(max_length=16)] = ""


class LocalSeen(InputModel):
    """A patient of the hospital the user was shown a medium's patient was filed under before."""

    id: Annotated[str, StringConstraints(max_length=64)] = ""
    issuer: Annotated[str, StringConstraints(max_length=64)] = ""


DocumentId = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[0-9a-f-]+$")]

SEEN_FILED_MAX = 200
"""Local patients a request may say were shown, at most."""


class ConfirmIn(InputModel):
    model_config = ConfigDict(extra="forbid")

    studies: list[Uid] = Field(min_length=1, description="Study Instance UIDs to import")
    acknowledge_identity: bool = Field(
        False, description="Required when a selected study's identity is a mismatch"
    )
    order_for_study: dict[Uid, AccessionNumber] | None = Field(
        None,
        max_length=MAX_WORKLIST_ORDERS,
        description="Worklist mode: accession number of the order chosen for each selected "
        "study (keys: selected studies only); a study the PACS holds wholly needs none (it is "
        "recorded as already present, never sent)",
    )
    seen_patients: dict[Uid, PatientSeen] | None = Field(
        None,
        description="The order's patient the user saw compared, per study (worklist mode: the "
        "chosen candidate's patient). Only checked, never stored as an order: when the order's "
        "patient is another one now, the answer is 409 order_changed",
    )
    seen_filed_before: (
        dict[Uid, Annotated[list[LocalSeen], Field(max_length=SEEN_FILED_MAX)]] | None
    ) = Field(
        None,
        description="Per study, the patients of the hospital OTHER than the order's that the "
        "comparison shown said a patient of the medium was filed under before (every "
        "``filed_before`` entry with ``same: false``; an empty list when none was shown). Only "
        "narrows: when what is remembered now names one the user was not shown, the answer is "
        "409 identity_changed with the new comparison",
    )
    documents: dict[DocumentId, Uid] | None = Field(
        None,
        max_length=MAX_DOCUMENTS,
        description="Documents of the medium to file (``ImportOut.documents``' ids), each with "
        "the Study Instance UID of a selected study: wrapped as an object of that study (an "
        "Encapsulated PDF, a Secondary Capture image) with the order's patient and accession "
        "number, new UIDs, and the file's name as its series description. The others are not "
        "filed. A study the PACS holds already is sent for them (only the new objects)",
    )


class Accepted(BaseModel):
    id: str
    status: ImportStatus


class PromoteIn(InputModel):
    """File a temporary-zone import under an order named by its accession number: found in the
    worklist (or, without a worklist, an order the RIS sent). A session never supplies an
    order's content."""

    model_config = ConfigDict(extra="forbid")

    accession_number: Annotated[str, StringConstraints(min_length=1, max_length=16)] | None = Field(
        None, description="The order (not with ``patient_launch``)"
    )
    patient_launch: bool = Field(
        False,
        description="File it under the patient this session was launched for, without an "
        "order (``POST /launches`` with ``patient``); not with ``accession_number``",
    )
    acknowledge_identity: bool = False
    seen_patient: PatientSeen | None = Field(
        None,
        description="The order's patient the user saw compared (the worklist candidate's). "
        "When the order's patient is another one now: 409 order_changed",
    )
    seen_filed_before: list[LocalSeen] | None = Field(
        None,
        max_length=SEEN_FILED_MAX,
        description="The patients of the hospital OTHER than the order's that the comparison "
        "shown said a patient of the medium was filed under before (``filed_before`` entries "
        "with ``same: false``; empty when none). Only narrows: 409 identity_changed otherwise",
    )

    @model_validator(mode="after")
    def _one_target(self) -> PromoteIn:
        if (self.accession_number is None) == (not self.patient_launch):
            raise ValueError("name an order (accession_number) or the patient_launch, one")
        return self


class UndoIn(InputModel):
    """Why a referent takes the import back (IHE IOCM's reasons)."""

    model_config = ConfigDict(extra="forbid")

    reason: UndoReason = Field(
        description="patient_safety: filed under the wrong patient; wrong_worklist_entry: the "
        "right patient, the wrong order"
    )


class TemporaryStudy(Row):
    study_instance_uid: str
    description: str
    date: str
    modalities: list[str]
    series_count: int
    instance_count: int
    patient: PatientFound
    series: list[SeriesOut] = Field(description="Its series, for their thumbnails and images")


class TemporaryItem(Row):
    """One import waiting in the temporary zone for review."""

    # read with a context {"now", "review_days"}: the age is the row's creation time seen now

    id: str
    support_id: str
    status: ImportStatus
    badge: Badge
    created_at: dt.datetime
    created_by: str
    created_by_name: str
    # both read the row's creation time (an alias choice, so that mypy's pydantic plugin does
    # not take it for a second ``created_at`` argument)
    age_days: int = Field(validation_alias=AliasChoices("created_at"))
    past_review: bool = Field(
        validation_alias=AliasChoices("created_at"),
        description="Older than IMPORTER_TEMPORARY_REVIEW_DAYS",
    )
    size: int = Field(validation_alias="upload_size")
    studies: list[TemporaryStudy]
    undo: UndoOut | None = Field(
        description="Set when the import came here undone from an order (filed there wrongly)"
    )

    @field_validator("age_days", mode="before")
    @classmethod
    def _age_days(cls, created_at: dt.datetime, info: ValidationInfo) -> int:
        now: dt.datetime = (info.context or {})["now"]
        return (now - created_at).days

    @field_validator("past_review", mode="before")
    @classmethod
    def _past_review(cls, created_at: dt.datetime, info: ValidationInfo) -> bool:
        context = info.context or {}
        return bool((context["now"] - created_at).days >= context["review_days"])


class TemporaryList(BaseModel):
    items: list[TemporaryItem]


class OutsidePatientOut(BaseModel):
    """A patient as a medium named them, recognised from one medium to the next."""

    issuer: str = Field(description="The Patient ID's issuer, as the medium wrote it")
    institution: str = Field(
        description="The institution that wrote the study, as the medium wrote it: what names "
        "the Patient ID's authority when the medium gives no issuer"
    )
    id: str
    name: str
    birth_date: str


class RememberedOut(BaseModel):
    """A medium's patient filed under a local patient: the next medium of the same outside
    patient is compared with it (a mismatch when its order's patient is another)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    outside: OutsidePatientOut
    local: LocalPatientOut
    filed_at: dt.datetime
    filed_by: str = Field(description="Who filed it last (the user's name)")
    support_id: str = Field(description="The import that filed it last")


class RememberedList(BaseModel):
    items: list[RememberedOut]
