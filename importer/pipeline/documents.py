"""The documents of the disc filed with a study become objects of that study (the verify stage's
first step, so that from then on they go through every stage as the study's other instances).

Each document the confirmation filed with the study and not wrapped yet is read from the spool
only while it is the file the analysis stamped (what the user saw previewed), wrapped
(:mod:`importer.media.wrap`) with the study's own attributes and the medium's patient (the store
coerces them to the order's, as for every object of the study), written next to the medium's
files, stamped, and recorded as an instance of a series of its own, in one transaction with the
document's link to it, under the job's lease. A job that dies between the write and the commit
leaves a file the next run writes anew under another name (new UIDs: nothing of it was sent);
a run that lost its import, or finds the document recorded by another, removes its own file."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import select

from importer.composite import StudyFacts
from importer.db import new_id, transaction
from importer.imports import repository
from importer.imports.models import Document, Instance, Series, Study
from importer.media.archive import DocumentKind
from importer.media.stamp import FileChanged, file_stamp, open_unchanged
from importer.media.wrap import LO_MAX, SERIES_NUMBER_BASE, DocumentUnreadable, wrap_document
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StageError, StudyRef

DOCUMENTS_DIR: Final = "documents"
"""Folder of an import's spool folder that holds its wrapped documents."""


@dataclass(frozen=True, slots=True)
class _ToWrap:
    id: str
    kind: DocumentKind
    display_path: str
    source: Path
    stamp: str
    series_number: int


@dataclass(frozen=True, slots=True)
class _Written:
    sop_class_uid: str
    sop_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str
    series_description: str
    path: Path
    size: int
    stamp: str


def facts_of(study: Study) -> StudyFacts:
    """The study as its wrapped documents repeat it: the medium's patient and study values."""
    return StudyFacts(
        study_instance_uid=study.study_instance_uid,
        patient_name=study.patient_name,
        patient_id=study.patient_id,
        issuer=study.patient_issuer,
        birth_date=study.patient_birth_date,
        sex=study.patient_sex,
        accession_number=study.accession_number,
        study_date=study.date,
        study_time=study.time,
        study_description=study.description[:LO_MAX],
    )


async def wrap_documents(ctx: PipelineContext, ref: StudyRef) -> int:
    """Wrap the study's documents not wrapped yet; how many were. Raises :class:`StageError`
    (``document_changed``, not retryable) when one is not the file the user saw, or cannot be
    wrapped; ``spool_unreadable`` (retryable) when the spool cannot be read or written."""
    import_dir = ctx.spool.import_dir(ref.import_id)
    async with transaction(ctx.sessionmaker) as db:
        rows = await repository.documents_to_wrap(db, ref.study_id)
        if not rows:
            return 0
        study = await db.get(Study, ref.study_id)
        if study is None:
            return 0
        facts = facts_of(study)
        todo = [
            _ToWrap(
                d.id,
                d.kind,  # type: ignore[arg-type]  # written from DocumentKind by the analysis
                d.display_path,
                import_dir / d.path,
                d.file_stamp,
                SERIES_NUMBER_BASE + d.position + 1,
            )
            for d in rows
        ]
    for item in todo:
        ctx.check_lease()  # between two documents, as between two files
        written = await asyncio.to_thread(_write, item, facts, import_dir / DOCUMENTS_DIR)
        try:
            recorded = await _record(ctx, ref, item, written, import_dir)
        except BaseException:
            written.path.unlink(missing_ok=True)
            raise
        if not recorded:
            written.path.unlink(missing_ok=True)
    return len(todo)


def _write(item: _ToWrap, facts: StudyFacts, folder: Path) -> _Written:
    try:
        with open_unchanged(item.source, item.stamp) as fp:
            data = fp.read()
    except FileChanged as exc:
        raise _refused(item, "it changed on the server's storage after the analysis") from exc
    except OSError as exc:
        raise _unreadable() from exc
    try:
        wrapped = wrap_document(
            data, item.kind, item.display_path, facts, series_number=item.series_number
        )
    except DocumentUnreadable as exc:
        raise _refused(item, "it is not the document it was when analysed") from exc
    # a name of this run's own: a run that lost its import never writes over what another
    # recorded (the store sends a file only with the stamp recorded)
    target = folder / f"{item.id}-{wrapped.sop_instance_uid}.dcm"
    partial = target.with_name(f"{target.name}.part")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        wrapped.dataset.save_as(partial, enforce_file_format=True)
        os.replace(partial, target)
        status = target.stat()
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _unreadable() from exc
    return _Written(
        sop_class_uid=wrapped.sop_class_uid,
        sop_instance_uid=wrapped.sop_instance_uid,
        series_instance_uid=wrapped.series_instance_uid,
        transfer_syntax_uid=wrapped.transfer_syntax_uid,
        series_description=str(wrapped.dataset.SeriesDescription),
        path=target,
        size=status.st_size,
        stamp=file_stamp(status),
    )


async def _record(
    ctx: PipelineContext, ref: StudyRef, item: _ToWrap, written: _Written, import_dir: Path
) -> bool:
    """The wrapped file recorded as an instance of the study, under the document's row lock
    and the job's lease; False when another run recorded the document meanwhile, or the
    document is filed with another study now (its file is then this run's to remove)."""
    async with transaction(ctx.sessionmaker) as db:
        doc = (
            await db.execute(
                select(Document).where(Document.id == item.id).with_for_update(of=Document)
            )
        ).scalar_one_or_none()
        await ctx.ensure_lease(db)
        study = await db.get(Study, ref.study_id)
        if doc is None or study is None or doc.instance_id is not None:
            return False
        if doc.study_id != study.id:
            return False
        series = Series(
            id=new_id(),
            study_id=study.id,
            series_instance_uid=written.series_instance_uid,
            modality="DOC" if item.kind == "pdf" else "OT",
            number=item.series_number,
            description=written.series_description[:200],
            instance_count=1,
        )
        db.add(series)
        await db.flush()  # the instance refers to it (no relationship orders the two)
        instance = Instance(
            id=new_id(),
            import_id=ref.import_id,
            study_id=study.id,
            series_id=series.id,
            sop_instance_uid=written.sop_instance_uid,
            sop_class_uid=written.sop_class_uid,
            transfer_syntax_uid=written.transfer_syntax_uid,
            has_file_meta=True,
            path=str(written.path.relative_to(import_dir)),
            display_path=item.display_path,
            size=written.size,
            file_stamp=written.stamp,
            sent_state="pending",
        )
        db.add(instance)
        await db.flush()
        doc.instance_id = instance.id
        study.series_count += 1
        study.instance_count += 1
    return True


def _refused(item: _ToWrap, why: str) -> StageError:
    return StageError(
        "document_changed",
        f"A document of the medium cannot be filed: {why}; nothing of this study was sent.",
        retryable=False,
    )


def _unreadable() -> StageError:
    return StageError(
        "spool_unreadable",
        "The files of the import could not be read from the server's storage.",
        retryable=True,
    )
