"""The import aggregate: one upload (one medium) and its studies, series, instances, stages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from importer.access.models import Order
from importer.db import Base, UTCDateTime, new_id, utcnow
from importer.identity.gate import Person, needs_acknowledgement
from importer.imports.states import (
    Badge,
    DocumentOutcome,
    StageStatus,
    StudyOutcome,
    UndoState,
    can_retry,
    undo_state,
    undo_until,
)
from importer.imports.states import badge as badge_of
from importer.messages import clean_params, stored_code


class Import(Base):
    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    support_id: Mapped[str] = mapped_column(String(16), unique=True)
    zone: Mapped[str] = mapped_column(String(16), default="pacs")
    status: Mapped[str] = mapped_column(String(32), default="created", index=True)
    order_pk: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True, index=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_by_name: Mapped[str] = mapped_column(String(200), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # upload
    upload_size: Mapped[int] = mapped_column(BigInteger)
    upload_received: Mapped[int] = mapped_column(BigInteger, default=0)
    upload_filename: Mapped[str] = mapped_column(String(255), default="")
    # media summary (filled by the analysis)
    media_files: Mapped[int] = mapped_column(Integer, default=0)
    media_dicom: Mapped[int] = mapped_column(Integer, default=0)
    media_non_dicom: Mapped[int] = mapped_column(Integer, default=0)
    media_unreadable: Mapped[int] = mapped_column(Integer, default=0)
    media_dicomdir: Mapped[bool] = mapped_column(Boolean, default=False)
    media_skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # confirmation
    acknowledged_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # temporary zone: when the import was promoted to an order, or purged
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # undo (importer.imports.undo): until when a completed import's files are kept so that it
    # may be undone (None: not kept, or no longer); the referent's request, and its end
    files_kept_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undo_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    undo_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undo_requested_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    undo_requested_by_name: Mapped[str] = mapped_column(String(200), default="")
    undo_accession: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The accession number of the order the import was undone from."""
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undo_rejected: Mapped[int] = mapped_column(Integer, default=0)
    """How many of its instances the PACS took back."""
    undo_error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    undo_error_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # one job at a time: the job holding the import, until when (renewed by its heartbeat)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    order: Mapped[Order | None] = relationship(lazy="joined")
    studies: Mapped[list[Study]] = relationship(
        back_populates="import_",
        cascade="all, delete-orphan",
        order_by="Study.position",
        lazy="selectin",
    )
    documents: Mapped[list[Document]] = relationship(
        cascade="all, delete-orphan",
        order_by="Document.position",
        lazy="selectin",
    )

    # --- how the import is shown (the API's schemas read these) -------------------------------

    @property
    def badge(self) -> Badge:
        # an undo shows: being taken back, taken back, or half taken back (a person must act)
        undo = {"requested": Badge.warning, "done": Badge.muted, "failed": Badge.danger}
        if self.undo_state is not None:
            return undo[self.undo_state]
        return badge_of(
            self.status, stage_statuses=[s.status for st in self.studies for s in st.stages]
        )

    @property
    def retryable(self) -> bool:
        return can_retry(self.status, self.error_code, self.error_params)

    @property
    def error(self) -> dict[str, Any] | None:
        if self.error_code is None:
            return None
        return {
            "code": stored_code(self.error_code),
            "params": clean_params(self.error_params),
            "message": self.error_message or "",
        }

    @property
    def upload(self) -> dict[str, int]:
        return {"size": self.upload_size, "received": self.upload_received}

    @property
    def media(self) -> dict[str, Any]:
        return {
            "files": self.media_files,
            "dicom": self.media_dicom,
            "non_dicom": self.media_non_dicom,
            "unreadable": self.media_unreadable,
            "dicomdir": self.media_dicomdir,
            "skipped": self.media_skipped,
        }

    @property
    def undo_state(self) -> UndoState | None:
        return undo_state(self.undo_requested_at, self.undone_at, self.undo_error_code)

    @property
    def undo_until(self) -> datetime | None:
        return undo_until(self.status, self.zone, self.files_kept_until, self.undo_state, utcnow())

    @property
    def undo(self) -> dict[str, Any] | None:
        state = self.undo_state
        if state is None or self.undo_requested_at is None:
            return None
        error = None
        if self.undo_error_code is not None:
            error = {
                "code": stored_code(self.undo_error_code),
                "params": clean_params(self.undo_error_params),
                "message": "",
            }
        return {
            "state": state,
            "reason": self.undo_reason,
            "requested_at": self.undo_requested_at,
            "requested_by_name": self.undo_requested_by_name,
            "accession_number": self.undo_accession,
            "done_at": self.undone_at,
            "taken_back": self.undo_rejected,
            "error": error,
        }

    @property
    def accession_number(self) -> str | None:
        """Its order's (none for an import launched for a patient without an order)."""
        if self.order is None or self.order.kind == "patient":
            return None
        return self.order.accession_number

    @property
    def study_instance_uids(self) -> list[str]:
        return [s.study_instance_uid for s in self.studies]

    @property
    def descriptions(self) -> list[str]:
        return [s.description for s in self.studies]


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (
        Index("uq_studies_import_uid", "import_id", "study_instance_uid", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    study_instance_uid: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200), default="")
    date: Mapped[str] = mapped_column(String(8), default="")
    time: Mapped[str] = mapped_column(String(16), default="")
    accession_number: Mapped[str] = mapped_column(String(64), default="")
    institution: Mapped[str] = mapped_column(String(200), default="")
    modalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    patient_name: Mapped[str] = mapped_column(String(324), default="")
    patient_id: Mapped[str] = mapped_column(String(64), default="")
    patient_issuer: Mapped[str] = mapped_column(String(64), default="")
    patient_birth_date: Mapped[str] = mapped_column(String(8), default="")
    patient_sex: Mapped[str] = mapped_column(String(16), default="")
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # the order's patient (a Person) that ``identity`` was compared with: what the user saw
    compared_with: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # every distinct patient on the medium for this study, each with its comparison:
    # [{"patient": Person, "identity": IdentityReport | None}], the first being the one above
    patients: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # the coercion target frozen at confirmation (or promotion): the store writes exactly this
    target: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    on_pacs: Mapped[bool] = mapped_column(Boolean, default=False)
    pacs_patient_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # instances of this study the PACS holds already (None: the PACS does not hold the study)
    instances_on_pacs: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # the PACS holds this study under another patient: it cannot be imported as it is
    pacs_conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    # stable codes of what the analysis noticed (e.g. patients that differ inside the study)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    # how its objects reach the PACS (importer.pipeline.pacs_fit): how many are converted first
    # (null: not known), and those that cannot reach it, foreseen then as the store found them
    to_convert: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unsent: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list, server_default="[]")
    unsent_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unsent_found: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # worklist mode: the order chosen for this study (else the import's order)
    order_pk: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    selected: Mapped[bool] = mapped_column(Boolean, default=False)
    series_count: Mapped[int] = mapped_column(Integer, default=0)
    instance_count: Mapped[int] = mapped_column(Integer, default=0)

    import_: Mapped[Import] = relationship(back_populates="studies")
    order: Mapped[Order | None] = relationship(lazy="joined")
    stages: Mapped[list[Stage]] = relationship(
        back_populates="study",
        cascade="all, delete-orphan",
        order_by="Stage.position",
        lazy="selectin",
    )
    series: Mapped[list[Series]] = relationship(
        back_populates="study",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="[Series.number, Series.series_instance_uid]",
    )

    def forget_reach(self) -> None:
        """What the analysis foresaw of the PACS's reach forgotten: the study goes to another
        PACS now (moved to the temporary zone, promoted from it), not known before sending."""
        self.to_convert = None
        self.unsent = []
        self.unsent_count = 0
        self.unsent_found = False

    @property
    def patient(self) -> Person:
        """The (first) patient the medium names for this study."""
        return Person(
            name=self.patient_name,
            id=self.patient_id,
            issuer=self.patient_issuer,
            birth_date=self.patient_birth_date,
            sex=self.patient_sex,
        )

    @property
    def compared_patients(self) -> list[dict[str, Any]]:
        """Every distinct patient of the study with its comparison, as recorded."""
        return [
            {"patient": Person.of(e.get("patient")) or Person(), "identity": e.get("identity")}
            for e in self.patients or []
        ]

    @property
    def filed_under(self) -> Order | None:
        """The order this study goes to: chosen per study in worklist mode, else the import's."""
        return self.order or self.import_.order

    @property
    def order_accession(self) -> str | None:
        """Its order's accession number (none for a patient launched for without an order)."""
        order = self.filed_under
        return order.accession_number if order and order.kind != "patient" else None

    @property
    def outcome(self) -> StudyOutcome:
        """This study's own end, from its stages: the others of the import may end otherwise."""
        if not self.selected:
            return "not_selected"
        if not self.stages:
            return "already_present" if self.on_pacs else "waiting"
        statuses = {s.status for s in self.stages}
        if StageStatus.failed in statuses:
            return "failed"
        if statuses <= {StageStatus.done, StageStatus.skipped}:
            return "done"
        if statuses == {StageStatus.pending}:
            return "waiting"
        return "processing"

    @property
    def acknowledgement_required(self) -> bool:
        """Whether filing the study as it was last compared needs the user's acknowledgement."""
        if self.compared_with is None:
            return False
        return needs_acknowledgement(
            [e.get("identity") for e in self.patients or []] or [self.identity]
        )


class Series(Base):
    __tablename__ = "series"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_instance_uid: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str] = mapped_column(String(16), default="")
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    instance_count: Mapped[int] = mapped_column(Integer, default=0)
    thumbnail: Mapped[str | None] = mapped_column(String(64), nullable=True)

    study: Mapped[Study] = relationship(back_populates="series")

    @property
    def has_thumbnail(self) -> bool:
        return self.thumbnail is not None


class Instance(Base):
    """One SOP instance found on the medium: where it lies in the spool and whether it was sent."""

    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), index=True)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[str] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    # indexed: an undo asks which other imports hold the instances it would take back
    sop_instance_uid: Mapped[str] = mapped_column(String(64), index=True)
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    transfer_syntax_uid: Mapped[str] = mapped_column(String(64))
    has_file_meta: Mapped[bool] = mapped_column(Boolean, default=True)
    path: Mapped[str] = mapped_column(Text)  # relative to the import's spool directory
    display_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    # the file as the analysis read it (importer.media.stamp): verify refuses it once changed,
    # the store sends it only unchanged; None (analysed before stamps): verify reads it again
    # completely and stamps it then
    file_stamp: Mapped[str | None] = mapped_column(String(96), nullable=True)
    # the analysis's read cannot vouch for the whole file (deflated, elements after the pixel
    # data): verify reads it again completely, its stamp unchanged
    read_again: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sent_state: Mapped[str] = mapped_column(String(16), default="pending")
    # pending|sent|failed|on_pacs (there before the import)|rejected (taken back by an undo)
    dimse_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Document(Base):
    """A document of the medium that is not DICOM (a PDF report, a photo or a scanned page as
    JPEG or PNG, :mod:`importer.media.documents`): offered at confirmation, filed with the study
    the user chose by wrapping it as an object of that study (:mod:`importer.media.wrap`) when
    the study is processed; from then on it is one of the study's instances."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    import_id: Mapped[str] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(8))  # pdf | jpeg | png
    path: Mapped[str] = mapped_column(Text)  # relative to the import's spool directory
    display_path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    # the file as the analysis read it: what is wrapped is that file, or nothing
    file_stamp: Mapped[str] = mapped_column(String(96))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    preview: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # whether the PACS the import goes to takes the object it becomes (None: not known)
    pacs_accepts: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # the study it is filed with (chosen at confirmation; None: not filed), and the instance it
    # became once wrapped
    study_id: Mapped[str | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), nullable=True
    )
    instance_id: Mapped[str | None] = mapped_column(
        ForeignKey("instances.id", ondelete="SET NULL"), nullable=True
    )

    study: Mapped[Study | None] = relationship(lazy="joined")
    instance: Mapped[Instance | None] = relationship(lazy="joined")

    @property
    def has_preview(self) -> bool:
        return self.preview is not None

    @property
    def study_instance_uid(self) -> str | None:
        return self.study.study_instance_uid if self.study is not None else None

    @property
    def outcome(self) -> DocumentOutcome:
        """Not filed; waiting to be wrapped and sent; on the PACS; or its study failed."""
        if self.study is None:
            return "not_selected"
        if self.instance is not None and self.instance.sent_state == "sent":
            return "stored"
        if self.instance is not None and self.instance.sent_state == "rejected":
            return "taken_back"
        return "failed" if self.study.outcome == "failed" else "waiting"


class Stage(Base):
    __tablename__ = "stages"
    __table_args__ = (Index("uq_stages_study_name", "study_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    study_id: Mapped[str] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts_left: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")  # English, for logs and integrators
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a MessageCode
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    study: Mapped[Study] = relationship(back_populates="stages")


class RememberedIdentity(Base):
    """A medium's patient (its outside key, :mod:`importer.identity.memory`) filed under a
    local patient: written when a user files a study (the identity gate), read when the next
    medium of the same outside patient is compared. One row per outside patient and local
    patient, the last filing's time and user kept."""

    __tablename__ = "remembered_identities"
    __table_args__ = (
        Index(
            "ux_remembered_identity",
            "ris_client",
            "outside_hash",
            "local_patient_id",
            "local_issuer",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ris_client: Mapped[str] = mapped_column(String(64))
    outside_hash: Mapped[str] = mapped_column(String(64))
    """sha256 of the outside key: how a medium's patient is looked up."""
    authority: Mapped[str] = mapped_column(String(300), default="")
    outside_patient_id: Mapped[str] = mapped_column(String(64))
    outside_issuer: Mapped[str] = mapped_column(String(64), default="")
    outside_institution: Mapped[str] = mapped_column(String(200), default="")
    """The issuer and the institution as the medium wrote them (the authority is folded)."""
    outside_name: Mapped[str] = mapped_column(String(324), default="")
    outside_birth_date: Mapped[str] = mapped_column(String(8), default="")
    local_patient_id: Mapped[str] = mapped_column(String(64))
    local_issuer: Mapped[str] = mapped_column(String(64), default="")
    local_name: Mapped[str] = mapped_column(String(324), default="")
    local_birth_date: Mapped[str] = mapped_column(String(8), default="")
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    filed_by: Mapped[str] = mapped_column(String(64), default="")
    filed_by_name: Mapped[str] = mapped_column(String(200), default="")
    import_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    """The import that filed it last (no foreign key: the mapping outlives the import)."""
    support_id: Mapped[str] = mapped_column(String(16), default="")
