"""Reading an unpacked medium: DICOM detected by content, headers only, one pass.

Every file of the medium ends up either as a :class:`ScannedInstance` or as a
:class:`SkippedFile` with a stable reason; nothing is dropped silently. Messages and warnings
never hold patient data (no names, no values, no file names).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import math
import os
import re
import threading
import warnings
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import BrokenExecutor, Executor, Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from importer.logs import pydicom_warnings
from importer.media import raw
from importer.media.archive import (
    HEAD_BYTES,
    ArchiveLimits,
    SkippedFile,
    UnpackedFile,
    UnpackResult,
    looks_like_dicom,
    not_dicom,
    reason,
)
from importer.media.deflate import (
    MAX_INFLATED_DATASET_BYTES,
    deflated_dataset_too_large,
    inflated_dataset,
    meta_info,
)
from importer.media.dicomdir import MEDIA_STORAGE_DIRECTORY, missing_files, referenced_file_ids
from importer.media.documents import FoundDocument
from importer.media.stamp import file_stamp
from importer.messages import MessageCode, Params

log = logging.getLogger(__name__)

__all__ = [
    "NON_DICOM_REASONS",
    "UNREADABLE_REASONS",
    "MediaReport",
    "Outcome",
    "PatientData",
    "ScannedInstance",
    "SeriesData",
    "StudyData",
    "native_pixel_bytes",
    "outcome_from_json",
    "outcome_to_json",
    "read_files",
    "read_media",
    "scan_file",
]

NON_DICOM_REASONS: Final = frozenset(
    {
        MessageCode.not_dicom,
        MessageCode.junk,
        MessageCode.empty,
        MessageCode.nested_archive,
        MessageCode.document_unreadable,
        MessageCode.document_too_large,
    }
)
"""Skip reasons counted as ``non_dicom``."""
UNREADABLE_REASONS: Final = frozenset(
    {
        MessageCode.unreadable,
        MessageCode.truncated,
        MessageCode.missing_uid,
        MessageCode.invalid_uid,
        MessageCode.header_too_large,
        MessageCode.encrypted,
        MessageCode.unsupported_compression,
    }
)
"""Skip reasons counted as ``unreadable``."""

_DEFER: Final = 64 * 1024
_IN_FILE: Final = re.compile(r"\s+in file\s+\S+")
_SEE_ALSO: Final = re.compile(r"\s*Please see <[^>]*>.*$", re.DOTALL)
_DATE: Final = re.compile(r"[0-9]{8}")
_OLD_DATE: Final = re.compile(r"([0-9]{4})[.\-/]([0-9]{2})[.\-/]([0-9]{2})")
_UID: Final = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_UID_MAX: Final = 64
_CONFORMANT_UID: Final = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_REQUIRED_UIDS: Final = (
    ("SOPClassUID", "SOP Class UID"),
    ("SOPInstanceUID", "SOP Instance UID"),
    ("StudyInstanceUID", "Study Instance UID"),
    ("SeriesInstanceUID", "Series Instance UID"),
)


@dataclass(frozen=True, slots=True)
class PatientData:
    """Patient attributes as found in the file ("" when absent); ``name`` keeps ^ and = groups."""

    name: str
    id: str
    issuer: str
    birth_date: str
    sex: str


@dataclass(frozen=True, slots=True)
class StudyData:
    """Study attributes as found in the file ("" when absent)."""

    study_instance_uid: str
    description: str
    date: str
    time: str
    accession_number: str
    institution: str
    referring_physician: str


@dataclass(frozen=True, slots=True)
class SeriesData:
    """Series attributes as found in the file."""

    series_instance_uid: str
    modality: str
    number: int | None
    description: str


@dataclass(frozen=True, slots=True)
class ScannedInstance:
    """A DICOM instance found on the medium, read from its header only."""

    display_path: str
    path: Path
    size: int
    stamp: str
    """The file as the analysis read it (:func:`file_stamp`): the verify stage refuses it once
    the stamp changed, and the store sends it only with this stamp."""
    read_again: bool
    """This read cannot vouch for the whole file: a deflated data set, whose pixel data the
    analysis does not reach, or a file with elements after its pixel data. The verify stage
    reads it again completely (its stamp still unchanged)."""
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    has_file_meta: bool
    patient: PatientData
    study: StudyData
    series: SeriesData
    warnings: tuple[str, ...]


@dataclass(slots=True)
class MediaReport:
    """What a medium held: instances to import and every other file with its reason."""

    instances: list[ScannedInstance]
    skipped: list[SkippedFile]
    dicomdir: bool
    files: int
    documents: list[FoundDocument] = dataclasses.field(default_factory=list)
    """PDFs and images the user may file with a study (:mod:`importer.media.documents`)."""

    @property
    def dicom(self) -> int:
        """Instances found."""
        return len(self.instances)

    @property
    def non_dicom(self) -> int:
        """Files that are not DICOM (reasons in :data:`NON_DICOM_REASONS`)."""
        return sum(1 for s in self.skipped if s.reason in NON_DICOM_REASONS)

    @property
    def unreadable(self) -> int:
        """Files that could not be used (reasons in :data:`UNREADABLE_REASONS`)."""
        return sum(1 for s in self.skipped if s.reason in UNREADABLE_REASONS)


@dataclass(frozen=True, slots=True)
class _Dicomdir:
    display_path: str
    refs: tuple[tuple[str, ...], ...]


_Outcome = ScannedInstance | SkippedFile | _Dicomdir
Outcome = _Outcome
"""What reading one file gave (:func:`read_files`), for :func:`read_media`'s ``known``."""


def read_media(
    unpacked: UnpackResult,
    limits: ArchiveLimits | None = None,
    *,
    pool: Executor | None = None,
    ended: threading.Event | None = None,
    known: Mapping[Path, Outcome] | None = None,
) -> MediaReport:
    """Classify every unpacked file, read DICOMDIRs as indexes and report each file; a header
    over the budgets of ``limits`` (the defaults when None) is skipped, never parsed. With a
    ``pool`` of processes, the headers are read there, :data:`SCAN_CHUNK` files at a time (the
    parse is bound to one core by the GIL), and reported in the medium's order all the same;
    :class:`ReadingStopped` is raised once ``ended`` is set while the pool reads. ``known``: the
    outcomes of files read already, by path (read while the upload arrived, by
    :func:`read_files`), reported as if read now."""
    limits = limits or ArchiveLimits()
    skipped = list(unpacked.skipped)
    files = len(unpacked.files) + sum(
        1 for s in unpacked.skipped if s.reason != MessageCode.missing_file
    )
    candidates: list[ScannedInstance] = []
    dicomdirs: list[_Dicomdir] = []
    for file, outcome in _with_known(unpacked.files, limits, pool, ended, known or {}):
        if isinstance(outcome, ScannedInstance):
            candidates.append(outcome)
        elif isinstance(outcome, _Dicomdir):
            dicomdirs.append(outcome)
            skipped.append(_dicomdir_read(file))
        else:
            skipped.append(outcome)
    instances, duplicates = _deduplicate(candidates)
    skipped.extend(duplicates)
    present = [f.display_path for f in unpacked.files]
    present += [s.path for s in unpacked.skipped if s.reason != MessageCode.missing_file]
    skipped.extend(missing_files([(d.display_path, d.refs) for d in dicomdirs], present))
    return MediaReport(instances=instances, skipped=skipped, dicomdir=bool(dicomdirs), files=files)


SCAN_CHUNK: Final = 32
"""Files whose headers one task of the pool reads: enough that sending them there and their
outcomes back costs little, few enough that the pool's processes share the medium evenly."""
SCAN_AHEAD: Final = 4
"""Tasks given to the pool ahead of the one whose outcomes are reported next: enough for a few
processes, few enough that a stop is not long in coming (files are taken as tasks are sent)."""
_WAIT_S: Final = 0.25
"""How often the wait for the pool looks whether the reading was stopped."""


class ReadingStopped(Exception):
    """The reading was stopped (``ended`` set) while it waited for the pool."""


def _outcome(file: UnpackedFile, limits: ArchiveLimits) -> _Outcome:
    return _header_over_budget(file, limits) or _scan(file)


def scan_chunk(files: list[UnpackedFile], limits: ArchiveLimits) -> list[_Outcome]:
    """The outcomes of ``files``, read in a process of the pool."""
    return [_outcome(file, limits) for file in files]


def _outcomes(
    files: Iterable[UnpackedFile],
    limits: ArchiveLimits,
    pool: Executor | None,
    ended: threading.Event | None,
) -> Iterator[tuple[UnpackedFile, _Outcome]]:
    """Each file with its outcome, in the medium's order: read here, or by ``pool``'s processes
    (:func:`scan_chunk`), up to :data:`SCAN_AHEAD` tasks ahead. A pool that breaks (a process
    killed) leaves the rest to be read here. Files are taken from ``files`` as they are sent,
    so that whatever stops its iteration (a lost lease) stops the reading, as ``ended`` does
    while a task is awaited; what was sent and not yet reported is cancelled then."""
    if pool is None:
        for file in files:
            yield file, _outcome(file, limits)
        return
    remaining = iter(files)
    pending: deque[tuple[list[UnpackedFile], Future[list[_Outcome]] | None]] = deque()
    broken = False
    try:
        while True:
            while not broken and len(pending) < SCAN_AHEAD:
                chunk = list(itertools.islice(remaining, SCAN_CHUNK))
                if not chunk:
                    break
                try:
                    pending.append((chunk, pool.submit(scan_chunk, chunk, limits)))
                except (BrokenExecutor, RuntimeError):  # broken, or shut down
                    log.warning("the processes reading headers are gone; reading them here")
                    broken = True
                    pending.append((chunk, None))
            if not pending:
                chunk = list(itertools.islice(remaining, SCAN_CHUNK))
                if not chunk:
                    return
                pending.append((chunk, None))
            chunk, future = pending.popleft()
            outcomes: list[_Outcome] | None = None
            if future is not None:
                try:
                    outcomes = _result(future, ended)
                except BrokenExecutor:
                    log.warning("the processes reading headers stopped; reading them here")
                    broken = True
            if outcomes is None:
                outcomes = scan_chunk(chunk, limits)
            yield from zip(chunk, outcomes, strict=True)
    finally:
        for _, future in pending:
            if future is not None:
                future.cancel()


def outcome_to_json(outcome: Outcome) -> dict[str, Any]:
    """An outcome as JSON (the read-ahead's journal: never pickle, which would run code)."""
    if isinstance(outcome, ScannedInstance):
        fields = dataclasses.asdict(outcome)
        return {**fields, "kind": "instance", "path": str(outcome.path)}
    if isinstance(outcome, _Dicomdir):
        return {"kind": "dicomdir", "display_path": outcome.display_path, "refs": outcome.refs}
    return {
        "kind": "skipped",
        "path": outcome.path,
        "reason": str(outcome.reason),
        "message": outcome.message,
        "params": dict(outcome.params),
    }


def outcome_from_json(data: dict[str, Any]) -> Outcome:
    """:func:`outcome_to_json` read back; ``KeyError``, ``TypeError`` or ``ValueError`` when it
    is not one."""
    fields = {k: v for k, v in data.items() if k != "kind"}
    if data["kind"] == "instance":
        return ScannedInstance(
            **{
                **fields,
                "path": Path(fields["path"]),
                "patient": PatientData(**fields["patient"]),
                "study": StudyData(**fields["study"]),
                "series": SeriesData(**fields["series"]),
                "warnings": tuple(fields["warnings"]),
            }
        )
    if data["kind"] == "dicomdir":
        refs = tuple(tuple(str(part) for part in ref) for ref in fields["refs"])
        return _Dicomdir(str(fields["display_path"]), refs)
    if data["kind"] == "skipped":
        return SkippedFile(
            str(fields["path"]),
            MessageCode(fields["reason"]),
            str(fields["message"]),
            dict(fields["params"]),
        )
    raise ValueError("not an outcome")


def read_files(
    files: Iterable[UnpackedFile], limits: ArchiveLimits, pool: Executor | None = None
) -> Iterator[tuple[UnpackedFile, Outcome]]:
    """Each file with what reading it gives, in order (in ``pool``'s processes, when given),
    to be handed to :func:`read_media` later as ``known``."""
    return _outcomes(files, limits, pool, None)


def _with_known(
    files: Iterable[UnpackedFile],
    limits: ArchiveLimits,
    pool: Executor | None,
    ended: threading.Event | None,
    known: Mapping[Path, _Outcome],
) -> Iterator[tuple[UnpackedFile, _Outcome]]:
    """:func:`_outcomes` of the files not in ``known``, the others' from ``known`` (as read of
    this file: its name on the medium and its path), all in the medium's order."""
    if not known:
        yield from _outcomes(files, limits, pool, ended)
        return
    order: deque[tuple[UnpackedFile, _Outcome | None]] = deque()

    def unknown() -> Iterator[UnpackedFile]:
        for file in files:
            outcome = known.get(file.path)
            order.append((file, None if outcome is None else _as_read(outcome, file)))
            if outcome is None:
                yield file

    for file, outcome in _outcomes(unknown(), limits, pool, ended):
        while (head := order.popleft())[1] is not None:
            yield head[0], head[1]
        yield file, outcome
    for file, read in order:
        assert read is not None  # every file not known was read above
        yield file, read


def _as_read(outcome: _Outcome, file: UnpackedFile) -> _Outcome:
    """``outcome`` as reading ``file`` would give it."""
    if isinstance(outcome, ScannedInstance):
        return dataclasses.replace(outcome, display_path=file.display_path, path=file.path)
    if isinstance(outcome, _Dicomdir):
        return dataclasses.replace(outcome, display_path=file.display_path)
    return dataclasses.replace(outcome, path=file.display_path)


def _result(future: Future[list[_Outcome]], ended: threading.Event | None) -> list[_Outcome]:
    """The task's outcomes, once it is done; :class:`ReadingStopped` once ``ended`` is set."""
    while True:
        try:
            return future.result(timeout=_WAIT_S)
        except FutureTimeout:
            if ended is not None and ended.is_set():
                raise ReadingStopped from None


def scan_file(
    file: UnpackedFile, limits: ArchiveLimits | None = None
) -> ScannedInstance | SkippedFile:
    """Classify one file by content (a DICOMDIR is reported as skipped)."""
    outcome = _outcome(file, limits or ArchiveLimits())
    if isinstance(outcome, _Dicomdir):
        return _dicomdir_read(file)
    return outcome


def _dicomdir_read(file: UnpackedFile) -> SkippedFile:
    return SkippedFile(
        file.display_path, MessageCode.dicomdir, "DICOMDIR index read; not an image."
    )


def _skip(
    file: UnpackedFile, code: MessageCode, message: str, params: Params | None = None
) -> SkippedFile:
    return SkippedFile(file.display_path, code, message, dict(params or {}))


def _unreadable(file: UnpackedFile, message: str, exc: Exception) -> SkippedFile:
    """A header pydicom could not read or decode: skipped in our words; what it raised goes
    to the log, by its type only (its text may quote a value: patient data)."""
    log.info("a file of the medium is skipped: %s (%s)", message, type(exc).__name__)
    return _skip(file, MessageCode.unreadable, message)


def _header_over_budget(file: UnpackedFile, limits: ArchiveLimits) -> SkippedFile | None:
    """A file that looks like DICOM but whose header is over the budgets, skipped before
    pydicom reads it (see :func:`_header_too_large`)."""
    with file.path.open("rb") as fp:
        head = fp.read(HEAD_BYTES)
        if not looks_like_dicom(head):
            return None
        too_large = _header_too_large(fp, limits, directory=file.path.parent)
    if too_large is None:
        return None
    message, params = too_large
    return _skip(file, MessageCode.header_too_large, message, params)


def _scan(file: UnpackedFile) -> _Outcome:
    with file.path.open("rb") as fp:
        head = fp.read(HEAD_BYTES)
        fp.seek(0)
        part10 = head[128:132] == b"DICM"
        if not looks_like_dicom(head):  # what the archive skips before writing it
            return _skip(file, *not_dicom(head))
        status = os.fstat(fp.fileno())  # before the read: a later change shows in the stamp
        size, stamp = status.st_size, file_stamp(status)
        if deflated_dataset_too_large(fp):
            return _skip(
                file,
                MessageCode.unreadable,
                "The deflated dataset inflates to more than "
                f"{MAX_INFLATED_DATASET_BYTES} bytes; not read.",
                {"max_bytes": MAX_INFLATED_DATASET_BYTES},
            )
        fp.seek(0)
        with pydicom_warnings() as caught:  # this thread's only; the process's filters untouched
            try:
                ds = pydicom.dcmread(fp, defer_size=_DEFER, stop_before_pixels=True, force=True)
            except Exception as exc:  # pydicom raises many types on bad input
                return _unreadable(file, "The DICOM header could not be read.", exc)
            try:
                return _interpret(file, fp, ds, part10, size, stamp, caught)
            except Exception as exc:  # lazy decoding may raise anything on hostile input
                return _unreadable(file, "The DICOM header could not be decoded.", exc)


def _interpret(
    file: UnpackedFile,
    fp: BinaryIO,
    ds: pydicom.FileDataset,
    part10: bool,
    size: int,
    stamp: str,
    caught: list[warnings.WarningMessage],
) -> _Outcome:
    meta_ts = _uid(ds.file_meta, "TransferSyntaxUID")
    implicit, little = ds.original_encoding
    read_as = _read_as(ds)
    cut = _truncation(ds, size) or _eof_warning(caught)
    if cut is not None:
        return _skip(file, MessageCode.truncated, cut)
    # the stamp lets verify trust this read: not for a deflated data set nor for a file with
    # elements after its pixel data, which this read did not reach (verify reads those again)
    trusted = False
    if meta_ts != DeflatedExplicitVRLittleEndian:
        pixels_at = fp.tell()
        problem = _pixel_data_problem(
            fp, pixels_at, size, implicit is not False, little is not False, ds, meta_ts
        )
        if problem is not None:
            return _skip(file, *problem)
        # what follows is walked as pydicom read the rest: in the same encoding, and only the
        # pixel data and its padding, as pydicom reads and writes them (prepare's own rule)
        trusted = read_as == {(implicit is not False, little is not False)} and raw.verbatim_tail(
            fp,
            pixels_at,
            implicit=implicit is not False,
            little=little is not False,
            after=int(max(ds.keys(), default=0)),
        )

    if _uid(ds.file_meta, "MediaStorageSOPClassUID") == MEDIA_STORAGE_DIRECTORY or (
        0x00041220 in ds
    ):
        return _Dicomdir(file.display_path, tuple(referenced_file_ids(ds)))

    uids: dict[str, str] = {}
    notes: list[str] = []
    for keyword, label in _REQUIRED_UIDS:
        value = _uid(ds, keyword)
        if not value:
            if not part10 and not uids and len(ds) == 0:
                return _skip(file, MessageCode.not_dicom, "Not a DICOM file.")
            return _skip(
                file,
                MessageCode.missing_uid,
                f"DICOM file without a {label}; it cannot be imported.",
            )
        if not _UID.fullmatch(value):
            return _skip(
                file,
                MessageCode.missing_uid,
                f"DICOM file whose {label} is not a valid UID; not imported.",
            )
        if len(value) > _UID_MAX or not _CONFORMANT_UID.fullmatch(value):
            notes.append(f"The {label} does not conform to DICOM UID rules.")
        uids[keyword] = value

    if meta_ts and (len(meta_ts) > _UID_MAX or not _UID.fullmatch(meta_ts)):
        return _skip(
            file,
            MessageCode.invalid_uid,
            "The file meta's Transfer Syntax UID is not a valid UID (digits and dots, at most "
            f"{_UID_MAX} characters); the file cannot be sent as it is.",
            {"max_length": _UID_MAX},
        )
    if meta_ts:
        ts = meta_ts
    else:
        ts = _encoding_uid(implicit is not False, little is not False)
        if part10:
            notes.append(f"The file meta lacks a Transfer Syntax UID; {ts.name} assumed.")

    patient = PatientData(
        name=_text(ds, "PatientName", notes),
        id=_text(ds, "PatientID", notes),
        issuer=_text(ds, "IssuerOfPatientID", notes),
        birth_date=_date(ds, "PatientBirthDate", notes),
        sex=_text(ds, "PatientSex", notes),
    )
    study = StudyData(
        study_instance_uid=uids["StudyInstanceUID"],
        description=_text(ds, "StudyDescription", notes),
        date=_date(ds, "StudyDate", notes),
        time=_text(ds, "StudyTime", notes),
        accession_number=_text(ds, "AccessionNumber", notes),
        institution=_text(ds, "InstitutionName", notes),
        referring_physician=_text(ds, "ReferringPhysicianName", notes),
    )
    series = SeriesData(
        series_instance_uid=uids["SeriesInstanceUID"],
        modality=_text(ds, "Modality", notes),
        number=_integer(ds, "SeriesNumber", notes),
        description=_text(ds, "SeriesDescription", notes),
    )
    notes.extend(_describe_warnings(caught, ds))
    return ScannedInstance(
        display_path=file.display_path,
        path=file.path,
        size=size,
        stamp=stamp,
        read_again=not trusted,
        sop_class_uid=uids["SOPClassUID"],
        sop_instance_uid=uids["SOPInstanceUID"],
        transfer_syntax_uid=str(ts),
        has_file_meta=part10 and bool(meta_ts),
        patient=patient,
        study=study,
        series=series,
        warnings=tuple(dict.fromkeys(notes)),
    )


_BULK_VRS: Final = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW"})
"""Values pydicom keeps on disk when large (one element, whatever their size)."""


def _header_too_large(
    fp: BinaryIO, limits: ArchiveLimits, *, directory: Path | None = None
) -> tuple[str, Params] | None:
    """Walk the data set up to its pixel data without pydicom, and say why it is over the
    header budgets (pydicom spends about 35 bytes of memory per byte of a header of tiny
    elements). A deflated data set is walked inflated (into a temporary file in ``directory``:
    pydicom would inflate it whole into memory); a file meta that cannot be walked is walked as
    part of the data set. None when within the budgets, or when the walk cannot tell: a data set
    that is not well formed, or a deflated one over the deflate guard's bound (pydicom, the
    guard, then the truncation checks, report them). The reason is the English message with
    its params (the budget passed)."""
    meta = meta_info(fp)
    if meta is None:  # no meta a reader can walk: from the start, meta elements and all
        start = 132 if raw.read_at(fp, 128, 4) == b"DICM" else 0
        return _walk_over_budget(fp, start, "", limits)
    start, transfer_syntax = meta
    if transfer_syntax != DeflatedExplicitVRLittleEndian:
        return _walk_over_budget(fp, start, transfer_syntax, limits)
    with inflated_dataset(
        fp, start, limit=MAX_INFLATED_DATASET_BYTES, directory=directory
    ) as dataset:
        if dataset is None:
            return None
        return _walk_over_budget(dataset, 0, ExplicitVRLittleEndian, limits)


def _walk_over_budget(
    fp: BinaryIO, start: int, transfer_syntax: str, limits: ArchiveLimits
) -> tuple[str, Params] | None:
    """:func:`_header_too_large` of the data set at ``start`` in ``transfer_syntax`` (guessed
    from its first element when "")."""
    first = raw.read_at(fp, start, raw.SHORT_HEADER)
    if len(first) < raw.SHORT_HEADER:
        return None
    if transfer_syntax:
        implicit = transfer_syntax == ImplicitVRLittleEndian
        little = transfer_syntax != ExplicitVRBigEndian
    else:  # no file meta, or no Transfer Syntax UID in it: as the data set starts
        implicit = not first[4:6].isalpha()
        little = first[1] == 0
    try:
        counted = raw.header_size(
            fp,
            start,
            implicit=implicit,
            little=little,
            max_elements=limits.max_header_elements,
            max_bytes=limits.max_header_bytes,
            bulk=_is_bulk,
        )
    except raw.RawError:
        return None
    if counted.elements > limits.max_header_elements:
        return (
            f"The DICOM header holds more than {limits.max_header_elements} elements; not read.",
            {"max_elements": limits.max_header_elements},
        )
    if counted.bytes > limits.max_header_bytes:
        return (
            f"The DICOM header is larger than {limits.max_header_bytes} bytes; not read.",
            {"max_bytes": limits.max_header_bytes},
        )
    return None


def _is_bulk(header: raw.Header) -> bool:
    """A value pydicom leaves on disk (over the defer size, in a bulk VR): it costs no memory
    however large, so its bytes do not count against the header budget."""
    if header.length <= _DEFER:
        return False
    if header.vr is not None:
        return header.vr in _BULK_VRS
    try:
        vr = dictionary_VR(header.tag)
    except KeyError:  # a private or unknown tag in implicit VR: counted
        return False
    return any(v.encode("ascii") in _BULK_VRS for v in vr.split(" or "))


def _why(exc: BaseException | Warning | str) -> str:
    text = _IN_FILE.sub("", str(exc))
    return reason(_SEE_ALSO.sub("", text).strip())


def _uid(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    if value is None:
        return ""
    return str(value).replace("\x00", "").strip()


def _encoding_uid(implicit: bool, little: bool) -> pydicom.uid.UID:
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _text(ds: Dataset, keyword: str, notes: list[str]) -> str:
    """A text attribute as str ("" when absent); undecodable bytes read as Latin-1."""
    try:
        value = ds.get(keyword)
        if value is None:
            return ""
        text = "\\".join(str(v) for v in value) if isinstance(value, MultiValue) else str(value)
    except Exception:  # decoding is lazy and may raise on hostile bytes
        notes.append(f"{keyword} could not be decoded; read as Latin-1.")
        text = _raw_latin1(ds, keyword)
    return text.replace("\x00", "").strip()


def _date(ds: Dataset, keyword: str, notes: list[str]) -> str:
    """A DA attribute as ``YYYYMMDD``; the ACR-NEMA form ``YYYY.MM.DD`` (and ``-`` or ``/``
    separators) is read as such; anything else is ignored ("")."""
    text = _text(ds, keyword, notes)
    if not text or _DATE.fullmatch(text):
        return text
    old = _OLD_DATE.fullmatch(text)
    if old:
        notes.append(f"{keyword} is written in an old format; read as YYYYMMDD.")
        return "".join(old.groups())
    notes.append(f"{keyword} is not a valid date; ignored.")
    return ""


def _raw_latin1(ds: Dataset, keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    elem: object = ds.get_item(tag, keep_deferred=True) if tag is not None and tag in ds else None
    if isinstance(elem, RawDataElement) and elem.value is not None:
        return elem.value.decode("latin-1")
    return ""


def _integer(ds: Dataset, keyword: str, notes: list[str]) -> int | None:
    text = _text(ds, keyword, notes)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return int(float(text))
    except (ValueError, OverflowError):
        notes.append(f"{keyword} is not a number; ignored.")
        return None


def _truncation(ds: pydicom.FileDataset, size: int) -> str | None:
    """Top-level elements whose value runs past the end of the file."""
    for dataset in (ds.file_meta, ds):
        for tag in list(dataset.keys()):
            elem: object = dataset.get_item(tag, keep_deferred=True)
            if not isinstance(elem, RawDataElement) or elem.length == raw.UNDEFINED_LENGTH:
                continue
            short = elem.value is not None and len(elem.value) < elem.length
            beyond = elem.value is None and elem.value_tell + elem.length > size
            if short or beyond:
                return f"The file is truncated (it ends inside element {tag})."
    return None


def _eof_warning(caught: Iterable[warnings.WarningMessage]) -> str | None:
    for w in caught:
        text = str(w.message)
        if "End of file" in text or "EOF" in text:
            return "The file is truncated (it ends inside a sequence)."
    return None


NATIVE_SYNTAXES: Final = frozenset(
    {ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian}
)
"""The transfer syntaxes whose pixel data is as many bytes as its rows, columns, frames,
samples and bits say (the deflated one inflates first: its pixel data is checked when read)."""


_IMAGE_PIXEL: Final = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "SamplesPerPixel",
    "PhotometricInterpretation",
)


def _whole(value: object) -> int:
    """A count as written, whatever the VR (US, IS, DS, text); ``ValueError`` when it is not a
    whole number (never arithmetic on text: pydicom keeps an invalid IS as a string)."""
    if isinstance(value, int):
        return value
    number = float(value if isinstance(value, float) else str(value).strip())
    if not math.isfinite(number) or not number.is_integer():
        raise ValueError("not a whole number")
    return int(number)


def native_pixel_bytes(ds: Dataset, transfer_syntax: str) -> int | None:
    """How many bytes native pixel data of ``ds`` must hold, by pydicom's rule
    (``pydicom.pixels.utils.get_expected_length``: bits, frames, YBR_FULL_422's subsampling;
    a test keeps the two in step), computed on numbers checked first, so that a hostile value
    costs nothing; None where its syntax compresses it or an attribute it needs is missing. A
    file without a transfer syntax (no file meta) is native. Raises ``ValueError`` when a
    value is not a whole number."""
    if transfer_syntax and transfer_syntax not in NATIVE_SYNTAXES:
        return None
    if any(ds.get(keyword) is None for keyword in _IMAGE_PIXEL):
        return None
    frames = _whole(ds.get("NumberOfFrames") or 1) or 1
    bits = _whole(ds.BitsAllocated)
    length = _whole(ds.Rows) * _whole(ds.Columns) * _whole(ds.SamplesPerPixel) * frames
    length = length // 8 + (length % 8 > 0) if bits == 1 else length * (bits // 8)
    if str(ds.PhotometricInterpretation).strip() == "YBR_FULL_422":
        length = length // 3 * 2
    return length


def _read_as(ds: Dataset) -> set[tuple[bool, bool]]:
    """The encodings (implicit VR, little endian) pydicom read the top-level elements with, as
    read (before any is converted): one, unless it switched on the way."""
    found: set[tuple[bool, bool]] = set()
    for tag in list(ds.keys()):
        elem = ds.get_item(tag, keep_deferred=True)
        if isinstance(elem, RawDataElement):
            found.add((bool(elem.is_implicit_VR), bool(elem.is_little_endian)))
    return found


def _pixel_data_problem(
    fp: BinaryIO,
    pos: int,
    size: int,
    implicit: bool,
    little: bool,
    ds: Dataset,
    transfer_syntax: str,
) -> tuple[MessageCode, str] | None:
    """Check that the pixel data element, where reading stopped, fits in the file and, native,
    holds every pixel the header announces: the problem's code and message, if any."""
    try:
        if raw.read_tag(fp, pos, little=little) not in raw.PIXEL_TAGS:
            return None
        header = raw.read_header(fp, pos, implicit=implicit, little=little)
    except raw.Truncated:
        return MessageCode.truncated, "The file is truncated (it ends inside pixel data)."
    if not header.undefined:
        if header.end > size:
            return MessageCode.truncated, "The file is truncated (pixel data ends early)."
        if header.tag == raw.PIXEL_DATA:
            expected = native_pixel_bytes(ds, transfer_syntax)
            if expected is not None and header.length < expected:
                return (
                    MessageCode.truncated,
                    f"The file is truncated (its pixel data holds {header.length} of "
                    f"{expected} bytes).",
                )
        return None
    try:
        for _ in raw.fragments(fp, header.value_offset, little=little):
            pass
    except raw.Truncated:
        return MessageCode.truncated, "The file is truncated (compressed pixel data ends early)."
    except raw.Malformed:
        return MessageCode.unreadable, "The compressed pixel data is malformed."
    return None


def _describe_warnings(caught: Iterable[warnings.WarningMessage], ds: Dataset) -> list[str]:
    """Our own wording for what pydicom tolerated; quoted values are masked."""
    out: list[str] = []
    for w in caught:
        text = str(w.message)
        if "Specific Character Set" in text or "encoding" in text.lower():
            if "Failed to decode" in text:
                out.append(
                    "Some text is not valid in the declared character set; "
                    "replacement characters were used."
                )
            else:
                out.append(
                    f"Specific Character Set {_charset(ds)} is invalid or unsupported; "
                    "text decoded as ISO_IR 6 / Latin-1."
                )
        else:
            out.append(f"Header problem tolerated: {_why(w.message)}")
    return out


def _charset(ds: Dataset) -> str:
    try:
        value = ds.get("SpecificCharacterSet")
    except Exception:  # an unparseable charset value is reported as unknown
        return "(unreadable)"
    if value is None:
        return "(absent)"
    text = "\\".join(str(v) for v in value) if isinstance(value, MultiValue) else str(value)
    return repr(text[:64])


def _deduplicate(
    candidates: list[ScannedInstance],
) -> tuple[list[ScannedInstance], list[SkippedFile]]:
    """Drop byte-identical copies of an instance; flag same-UID files that differ."""
    kept: list[ScannedInstance] = []
    skipped: list[SkippedFile] = []
    by_uid: dict[str, list[int]] = {}
    digests: dict[Path, bytes] = {}
    for inst in candidates:
        group = by_uid.setdefault(inst.sop_instance_uid, [])
        if any(_identical(kept[i], inst, digests) for i in group):
            skipped.append(
                SkippedFile(
                    inst.display_path,
                    MessageCode.duplicate_instance,
                    "Identical copy of another file on the medium; imported once.",
                )
            )
            continue
        group.append(len(kept))
        kept.append(inst)
    note = "Another file on the medium has the same SOP Instance UID but different content."
    for group in by_uid.values():
        if len(group) > 1:
            for i in group:
                kept[i] = dataclasses.replace(kept[i], warnings=(*kept[i].warnings, note))
    return kept, skipped


def _identical(a: ScannedInstance, b: ScannedInstance, digests: dict[Path, bytes]) -> bool:
    return a.size == b.size and _digest(a.path, digests) == _digest(b.path, digests)


def _digest(path: Path, cache: dict[Path, bytes]) -> bytes:
    if path not in cache:
        h = hashlib.sha256()
        with path.open("rb") as fp:
            while chunk := fp.read(1024 * 1024):
                h.update(chunk)
        cache[path] = h.digest()
    return cache[path]
