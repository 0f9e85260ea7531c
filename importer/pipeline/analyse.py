"""The analysis job: unpack, read every file, index studies, compare identities, ask the PACS
which studies it holds already, then wait for the user's confirmation."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import logging
import shutil
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.service import SYSTEM, about, record
from importer.db import Base, new_id, transaction
from importer.identity.gate import Person, compare, distinct_patients
from importer.identity.memory import FiledBefore
from importer.imports import memory, repository
from importer.imports.models import Document, Import, Instance, Series, Study
from importer.imports.states import ImportStatus, set_status
from importer.media import (
    ArchiveError,
    ArchiveLimits,
    MediaReport,
    ScannedInstance,
    SkippedFile,
    patient_conflicts,
    read_media,
    render_series_thumbnails,
    unpack_zip,
)
from importer.media.ahead import Memo, read_ahead, take_over
from importer.media.archive import FILES_DIR, DocumentKind, UnpackedFile
from importer.media.documents import find_documents
from importer.media.scan import ReadingStopped
from importer.media.thumbnail import THUMBNAILS_DIR
from importer.messages import MessageCode, Params
from importer.pacs import PacsClient, PacsError, StudyOnPacs
from importer.pipeline import pacs_fit
from importer.pipeline.context import LeaseLost, PipelineContext, RetryLater
from importer.pipeline.failures import fail_import
from importer.pipeline.pacs_fit import Verdict
from importer.settings import Settings

PACS_RETRY_S = 10.0

log = logging.getLogger(__name__)


def fit(model: type[Base], values: dict[str, Any]) -> dict[str, Any]:
    """Cut text to its column's width: hostile media carry values longer than DICOM allows."""
    columns = model.__table__.columns
    out = dict(values)
    for key, value in values.items():
        length = getattr(columns[key].type, "length", None) if key in columns else None
        if isinstance(value, str) and length is not None and len(value) > length:
            out[key] = value[:length]
    return out


UID_MAX = 64


def oversized_uids(report: MediaReport) -> MediaReport:
    """An object whose UIDs are longer than DICOM allows cannot be stored faithfully (the PACS
    would refuse or cut them): it is reported as skipped, never silently changed."""
    kept: list[ScannedInstance] = []
    for inst in report.instances:
        uids = (
            inst.sop_instance_uid,
            inst.study.study_instance_uid,
            inst.series.series_instance_uid,
            inst.sop_class_uid,
        )
        if any(len(uid) > UID_MAX for uid in uids):
            report.skipped.append(
                SkippedFile(
                    path=inst.display_path,
                    reason=MessageCode.invalid_uid,
                    message=f"Its UIDs are longer than the {UID_MAX} characters DICOM allows; a "
                    "PACS would refuse or alter them.",
                    params={"max_length": UID_MAX},
                )
            )
        else:
            kept.append(inst)
    report.instances = kept
    return report


def limits_of(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(
        max_entries=settings.max_entries,
        max_unpacked_bytes=settings.max_unpacked_bytes,
        max_entry_bytes=settings.max_entry_bytes,
        max_compression_ratio=settings.max_compression_ratio,
        max_header_bytes=settings.max_header_bytes,
        max_header_elements=settings.max_header_elements,
        spool_free_margin_bytes=settings.spool_free_margin_bytes,
    )


class _Stoppable(list[UnpackedFile]):
    """The unpacked files, handed to the reader one at a time: the iteration stops with
    :class:`LeaseLost` between two files once ``ended`` is set (the job lost its import)."""

    def __init__(self, files: Iterable[UnpackedFile], ended: threading.Event) -> None:
        super().__init__(files)
        self._ended = ended

    def __iter__(self) -> Iterator[UnpackedFile]:
        for file in super().__iter__():
            if self._ended.is_set():
                raise LeaseLost
            yield file


def read_archive(
    archive: Path,
    attempt_dir: Path,
    limits: ArchiveLimits,
    ended: threading.Event,
    pool: Executor | None = None,
    ahead: Path | None = None,
) -> MediaReport:
    """Unpack into this attempt's own folder (from scratch: a job may run twice) and read
    every file (its header in ``pool``'s processes, when given), stopping once ``ended`` is set
    (between two files, or two of the pool's tasks). What was read while the upload arrived
    (the ``ahead`` folder, :mod:`importer.media.ahead`) is taken over and used wherever the
    archive's central directory agrees. Nothing of the attempt is left when it fails."""
    try:
        shutil.rmtree(attempt_dir, ignore_errors=True)
        attempt_dir.mkdir(parents=True)
        taken = take_over(ahead, attempt_dir / FILES_DIR, limits) if ahead is not None else None
        unpacked = unpack_zip(
            archive, attempt_dir, limits, read=taken.entries if taken is not None else None
        )
        if ended.is_set():
            raise LeaseLost
        unpacked.files = _Stoppable(unpacked.files, ended)
        known = taken.outcomes if taken is not None else None
        try:
            report = read_media(unpacked, limits, pool=pool, ended=ended, known=known)
        except ReadingStopped:
            raise LeaseLost from None
        report.documents, report.skipped = find_documents(
            unpacked.files,
            report.skipped,
            attempt_dir / THUMBNAILS_DIR,
            between=lambda: _stop_if(ended),
        )
        return oversized_uids(report)
    except BaseException:
        shutil.rmtree(attempt_dir, ignore_errors=True)
        raise


def _stop_if(ended: threading.Event) -> None:
    if ended.is_set():
        raise LeaseLost


def moved(report: MediaReport, source: Path, target: Path) -> MediaReport:
    """The report with each instance's path where its file is once the attempt is swapped in
    (the index points into the folder in force, never into an attempt's)."""
    report.instances = [
        dataclasses.replace(inst, path=target / inst.path.relative_to(source))
        for inst in report.instances
    ]
    report.documents = [
        dataclasses.replace(doc, path=target / doc.path.relative_to(source))
        for doc in report.documents
    ]
    return report


@dataclass(slots=True)
class FoundStudy:
    uid: str
    instances: list[ScannedInstance]

    @property
    def first(self) -> ScannedInstance:
        return self.instances[0]


def group_studies(report: MediaReport) -> list[FoundStudy]:
    by_uid: dict[str, list[ScannedInstance]] = defaultdict(list)
    for inst in report.instances:
        by_uid[inst.study.study_instance_uid].append(inst)
    studies = [FoundStudy(uid, items) for uid, items in by_uid.items()]
    studies.sort(key=lambda s: (s.first.study.date, s.first.study.time, s.uid))
    return studies


def ask_pacs(
    pacs: PacsClient, studies: list[FoundStudy]
) -> tuple[dict[str, StudyOnPacs], dict[str, set[str]]]:
    """Which studies the PACS holds, and which of their instances (blocking DIMSE/HTTP)."""
    on_pacs = pacs.find_studies([s.uid for s in studies])
    present = {uid: pacs.find_instances(uid) for uid in on_pacs}
    return on_pacs, present


@dataclass(frozen=True, slots=True)
class Foresight:
    """What the PACS will take, known before confirming (:func:`foresee`)."""

    verdicts: dict[str, Verdict]
    """How each instance that will not go as it is reaches it, by SOP Instance UID."""
    documents: dict[DocumentKind, bool]
    """Whether it takes the object each kind of document of the medium becomes."""


async def foresee(
    ctx: PipelineContext,
    zone: str,
    instances: list[ScannedInstance],
    documents: Iterable[DocumentKind] = (),
) -> Foresight | None:
    """How the PACS the import goes to (``zone``'s) will take each instance, where not as it
    is (:mod:`importer.pipeline.pacs_fit`), and whether it takes the objects the medium's
    documents become (:func:`importer.media.wrap.sop_class_of`); ``None`` when that cannot be
    known (DICOMweb, no temporary PACS, the PACS did not answer: the analysis goes on without
    it, and the store finds out)."""
    settings = ctx.settings
    if zone == "temporary":
        url, client = settings.temporary_pacs_url, ctx.temporary_pacs
    else:
        url, client = settings.pacs_url, ctx.pacs
    if not instances or url is None or client is None:
        return None
    pacs = client()

    def can_convert(inst: ScannedInstance) -> bool:
        ctx.check_lease()  # between two files, as the scan
        return pacs_fit.convertible(inst.path)

    kinds = set(documents)
    try:
        taken = await pacs_fit.accepted(
            ctx.redis,
            lambda missing: asyncio.to_thread(pacs.accepted_syntaxes, missing),
            [
                *((i.sop_class_uid, i.transfer_syntax_uid) for i in instances),
                *pacs_fit.document_pairs(kinds),
            ],
            node=pacs_fit.node_of(url, settings.calling_ae),
            ttl_s=settings.pacs_syntaxes_cache_s,
        )
        if taken is None:
            return None
        verdicts = await asyncio.to_thread(pacs_fit.judge, taken, instances, can_convert)
        return Foresight(verdicts, pacs_fit.takes_documents(taken, kinds))
    except LeaseLost:
        raise
    except PacsError as exc:
        log.info("the PACS's transfer syntaxes are not known (%s)", exc.code)
        return None
    except Exception as exc:  # a foresight only: the analysis goes on, the store will tell
        log.warning("the PACS's transfer syntaxes could not be judged (%s)", type(exc).__name__)
        return None


def expected_identity(imp: Import) -> Person | None:
    """The order's patient the medium is compared with (none in worklist mode)."""
    return imp.order.patient if imp.order is not None else None


def fit_person(person: Person) -> dict[str, str]:
    """A patient as stored with the study: cut to the widths of the study's own columns."""
    cut = fit(Study, {f"patient_{k}": v for k, v in person.to_dict().items()})
    return {k.removeprefix("patient_"): v for k, v in cut.items()}


async def read_upload_ahead(ctx: PipelineContext, import_id: str) -> int:
    """While the medium uploads, read the entries whose bytes have all arrived
    (:func:`importer.media.ahead.read_ahead`), again as long as more bytes were committed
    meanwhile; the entries read. A pure head start: the analysis uses what agrees with the
    archive once complete and reads the rest, so that a failure here only costs time."""
    spool = ctx.spool
    read = 0
    done_to = -1
    memo = Memo()
    while True:
        async with transaction(ctx.sessionmaker) as db:
            imp = await repository.get(db, import_id)
            if imp is None or imp.status != ImportStatus.created:
                return read
            received, size = imp.upload_received, imp.upload_size
        if received == done_to:
            return read
        try:
            read += await asyncio.to_thread(
                read_ahead,
                spool.upload_path(import_id),
                received,
                spool.ahead_dir(import_id),
                limits_of(ctx.settings),
                ctx.scan_pool,
                archive_bytes=size,
                memo=memo,
            )
        except OSError as exc:  # the import's files deleted meanwhile, the spool full: no matter
            log.info("the medium's read-ahead stopped (%s)", type(exc).__name__)
            return read
        done_to = received


async def analyse_import(ctx: PipelineContext, import_id: str, *, final_attempt: bool) -> None:
    """Analyse the medium in an attempt folder of this job's own, swapped into place when the
    analysis is written. Run holding the import's lease (:func:`run_leased`): a job that
    loses it stops between two files and writes nothing."""
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        if imp is None or imp.status not in (ImportStatus.queued, ImportStatus.analyzing):
            return  # done already, cancelled or expired: nothing to do
        await ctx.ensure_lease(db)
        set_status(imp, ImportStatus.analyzing)
        expected = expected_identity(imp)
        zone = imp.zone
    await ctx.publish(import_id, "status", status=ImportStatus.analyzing)

    attempt = ctx.lease.owner if ctx.lease else uuid.uuid4().hex
    attempt_dir = ctx.spool.attempt_dir(import_id, attempt)
    try:
        await _analyse(ctx, import_id, attempt, expected, zone, final_attempt=final_attempt)
    finally:
        await asyncio.to_thread(shutil.rmtree, attempt_dir, True)


async def _analyse(
    ctx: PipelineContext,
    import_id: str,
    attempt: str,
    expected: Person | None,
    zone: str,
    *,
    final_attempt: bool,
) -> None:
    spool = ctx.spool
    attempt_dir = spool.attempt_dir(import_id, attempt)
    ended = ctx.lease.ended if ctx.lease else threading.Event()
    # what a killed worker half-unpacked goes; this job alone holds the import
    await asyncio.to_thread(spool.clear_other_attempts, import_id, attempt)
    try:
        report = await asyncio.to_thread(
            read_archive,
            spool.upload_path(import_id),
            attempt_dir,
            limits_of(ctx.settings),
            ended,
            ctx.scan_pool,
            spool.ahead_dir(import_id),
        )
    except (ArchiveError, OSError) as exc:
        await ctx.still_holds()  # a job that lost its import says nothing about it
        await _unreadable(ctx, import_id, exc)
        return
    ctx.check_lease()

    scanned = report.instances  # where their files are now, in the attempt's folder
    series_files: dict[str, list[Path]] = defaultdict(list)
    for inst in report.instances:
        series_files[inst.series.series_instance_uid].append(inst.path)
    report = moved(report, attempt_dir / FILES_DIR, spool.files_dir(import_id))
    studies = group_studies(report)
    on_pacs: dict[str, StudyOnPacs] = {}
    present: dict[str, set[str]] = {}
    if studies:
        try:
            on_pacs, present = await asyncio.to_thread(ask_pacs, ctx.pacs(), studies)
        except PacsError as exc:
            if not final_attempt:
                raise RetryLater(PACS_RETRY_S, exc.code) from exc
            await _fail(
                ctx,
                import_id,
                MessageCode.pacs_query_failed,
                f"The PACS could not be asked which studies it already holds: {exc.message}",
                {**exc.params, "reason": exc.code},
            )
            return
    ctx.check_lease()
    foresight = await foresee(ctx, zone, scanned, (d.kind for d in report.documents))
    ctx.check_lease()
    thumbnails = await asyncio.to_thread(
        render_series_thumbnails, series_files, attempt_dir / THUMBNAILS_DIR
    )

    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, import_id, lock=True)
        await ctx.ensure_lease(db)  # under the row lock: nobody takes the import over now
        if imp is None or imp.status != ImportStatus.analyzing:
            status = None  # cancelled while we read: its files go
        else:
            await asyncio.to_thread(spool.swap_in, import_id, attempt)
            await _write_analysis(
                db,
                imp,
                report,
                studies,
                expected,
                on_pacs,
                present,
                foresight,
                thumbnails,
                spool.import_dir(import_id),
            )
            status = imp.status
    if status is None:
        await asyncio.to_thread(spool.delete, import_id)
        return
    await ctx.publish(import_id, "status", status=status)


async def _write_analysis(
    db: AsyncSession,
    imp: Import,
    report: MediaReport,
    studies: list[FoundStudy],
    expected: Person | None,
    on_pacs: dict[str, StudyOnPacs],
    present: dict[str, set[str]],
    foresight: Foresight | None,
    thumbnails: dict[str, str],
    import_dir: Path,
) -> None:
    await repository.clear_contents(db, imp.id)
    imp.media_files = report.files
    imp.media_dicom = len(report.instances)
    imp.media_non_dicom = report.non_dicom
    imp.media_unreadable = report.unreadable
    imp.media_dicomdir = report.dicomdir
    imp.media_skipped = [
        {"path": s.path, "reason": s.reason, "params": dict(s.params), "message": s.message}
        for s in report.skipped
    ]
    instance_rows: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    ris_client = await repository.ris_client_of(db, imp)
    for position, found in enumerate(studies):
        first = found.first
        patient = first.patient
        # every distinct patient of the study is compared, not only the first instance's;
        # worklist mode: no order yet, the comparison comes with the order the user picks
        people = distinct_patients(
            Person(
                name=i.patient.name,
                id=i.patient.id,
                issuer=i.patient.issuer,
                birth_date=i.patient.birth_date,
                sex=i.patient.sex,
            )
            for i in found.instances
        )
        filed = await _filed_before(db, imp, found, people, ris_client) if expected else {}
        reports = [
            compare(expected, p, filed.get(p.key(), ())) if expected else None for p in people
        ]
        identity = reports[0]
        pacs_hit = on_pacs.get(found.uid)
        order_patient = imp.order.patient_id if imp.order else None
        conflict = bool(pacs_hit and order_patient and pacs_hit.patient_id != order_patient)
        held = present.get(found.uid, set()) & {i.sop_instance_uid for i in found.instances}
        # every instance there already: nothing to send; some: send only the missing ones
        complete_on_pacs = conflict or (pacs_hit is not None and len(held) == len(found.instances))
        reach = pacs_fit.summary(foresight.verdicts if foresight else None, found.instances, held)
        series_map: dict[str, list[ScannedInstance]] = defaultdict(list)
        for inst in found.instances:
            series_map[inst.series.series_instance_uid].append(inst)
        study = Study(
            **fit(
                Study,
                {
                    "id": new_id(),
                    "import_id": imp.id,
                    "position": position,
                    "study_instance_uid": found.uid,
                    "description": first.study.description,
                    "date": first.study.date,
                    "time": first.study.time,
                    "accession_number": first.study.accession_number,
                    "institution": first.study.institution,
                    "modalities": sorted({i.series.modality for i in found.instances} - {""}),
                    "patient_name": patient.name,
                    "patient_id": patient.id,
                    "patient_issuer": patient.issuer,
                    "patient_birth_date": patient.birth_date,
                    "patient_sex": patient.sex,
                    "identity": identity,
                    "compared_with": expected.to_dict() if expected else None,
                    "patients": [
                        {"patient": fit_person(p), "identity": r}
                        for p, r in zip(people, reports, strict=True)
                    ],
                    "on_pacs": complete_on_pacs,
                    "pacs_patient_id": pacs_hit.patient_id if pacs_hit else None,
                    "pacs_conflict": conflict,
                    "instances_on_pacs": len(held) if pacs_hit else None,
                    "warnings": patient_conflicts(found.instances),
                    "to_convert": reach.to_convert,
                    "unsent": reach.unsent,
                    "unsent_count": reach.unsent_count,
                    "selected": not complete_on_pacs,
                    "series": [],
                    "stages": [],
                    "series_count": len(series_map),
                    "instance_count": len(found.instances),
                },
            )
        )
        imp.studies.append(study)
        await db.flush()
        for series_uid, items in series_map.items():
            series = Series(
                **fit(
                    Series,
                    {
                        "id": new_id(),
                        "study_id": study.id,
                        "series_instance_uid": series_uid,
                        "modality": items[0].series.modality,
                        "number": items[0].series.number,
                        "description": items[0].series.description,
                        "instance_count": len(items),
                        "thumbnail": thumbnails.get(series_uid),
                    },
                )
            )
            study.series.append(series)
            for inst in items:
                instance_rows.append(
                    {
                        "id": new_id(),
                        "import_id": imp.id,
                        "study_id": study.id,
                        "series_id": series.id,
                        "sop_instance_uid": inst.sop_instance_uid,
                        "sop_class_uid": inst.sop_class_uid,
                        "transfer_syntax_uid": inst.transfer_syntax_uid,
                        "has_file_meta": inst.has_file_meta,
                        "path": str(inst.path.relative_to(import_dir)),
                        "display_path": inst.display_path,
                        "size": inst.size,
                        "file_stamp": inst.stamp,
                        "read_again": inst.read_again,
                        "sent_state": "on_pacs" if inst.sop_instance_uid in held else "pending",
                    }
                )
        outcomes.append(
            {
                "study_instance_uid": found.uid,
                "identity": identity["overall"] if identity else None,
                "patients": len(people),
                "on_pacs": complete_on_pacs,
                "instances_on_pacs": len(held) if pacs_hit else None,
                "pacs_conflict": conflict,
                "to_convert": reach.to_convert,
                "unsent": reach.unsent_count,
                "series": len(series_map),
                "instances": len(found.instances),
                "institution": first.study.institution,
            }
        )
    await db.flush()
    if instance_rows:
        await db.execute(insert(Instance), instance_rows)
    if report.documents:
        await db.execute(
            insert(Document),
            [
                {
                    "id": new_id(),
                    "import_id": imp.id,
                    "position": position,
                    "kind": doc.kind,
                    "path": str(doc.path.relative_to(import_dir)),
                    "display_path": doc.display_path,
                    "size": doc.size,
                    "file_stamp": doc.stamp,
                    "pages": doc.pages,
                    "width": doc.width,
                    "height": doc.height,
                    "preview": doc.preview,
                    "pacs_accepts": foresight.documents.get(doc.kind) if foresight else None,
                }
                for position, doc in enumerate(report.documents)
            ],
        )
    if studies:
        set_status(imp, ImportStatus.awaiting_confirmation)
        action, outcome = "import.analysed", "success"
    else:
        set_status(
            imp,
            ImportStatus.failed,
            error_code=MessageCode.no_dicom,
            message=f"No DICOM image was found among the {report.files} file(s) of the medium.",
            params={"files": report.files},
        )
        action, outcome = "import.analysed", "failure"
    await record(
        db,
        action=action,
        outcome=outcome,
        actor=SYSTEM,
        import_id=imp.id,
        **about(imp.order),
        details={
            "files": report.files,
            "dicom": len(report.instances),
            "documents": len(report.documents),
            "skipped": len(report.skipped),
            "dicomdir": report.dicomdir,
            "studies": outcomes,
        },
    )


async def _filed_before(
    db: AsyncSession, imp: Import, found: FoundStudy, people: list[Person], ris_client: str
) -> dict[tuple[str, ...], list[FiledBefore]]:
    """The local patients each patient of the study was filed under before (by
    :meth:`Person.key`), each use of what is remembered audited (``identity.recalled``)."""
    # as the study will record them (cut to its columns): the gate reads them from there
    institution = fit(Study, {"institution": found.first.study.institution})["institution"]
    keys = {p.key(): memory.key_of(Person(**fit_person(p)), institution) for p in people}
    remembered = await memory.recall(db, ris_client, [k for k in keys.values() if k])
    filed = memory.filed_by_key(keys, remembered)
    await memory.audit_recall(
        db,
        [f for entries in filed.values() for f in entries],
        actor=SYSTEM,
        import_id=imp.id,
        study_uid=found.uid,
        **about(imp.order),
    )
    return filed


async def _unreadable(ctx: PipelineContext, import_id: str, exc: Exception) -> None:
    """The medium could not be unpacked or read: fail clearly, or raise what is not the
    medium's fault (the job is retried)."""
    if isinstance(exc, ArchiveError):
        await _fail(ctx, import_id, exc.code, exc.message, exc.params)
    elif isinstance(exc, FileNotFoundError) and not ctx.spool.upload_path(import_id).exists():
        await _fail(ctx, import_id, MessageCode.archive_invalid, "The uploaded archive is missing.")
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        await _fail(
            ctx,
            import_id,
            MessageCode.spool_full,
            "The server's storage is full: the medium could not be unpacked. The upload is "
            "kept; retry once space has been freed.",
        )
    else:
        raise exc


async def _fail(
    ctx: PipelineContext, import_id: str, code: str, message: str, params: Params | None = None
) -> None:
    await fail_import(
        ctx, import_id, code=code, message=message, params=params, action="import.analysed"
    )
