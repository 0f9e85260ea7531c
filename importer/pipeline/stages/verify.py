"""The verify stage: every file of the study is still the one the analysis read, before anything
of it is sent; a file the analysis could not stamp is read again completely and stamped then, so
that the store sends every file only as it was vouched for."""

from __future__ import annotations

import asyncio
import errno
import logging

from importer.db import transaction
from importer.imports import repository
from importer.imports.states import StageStatus
from importer.messages import MessageCode, Note
from importer.pipeline.context import PipelineContext
from importer.pipeline.documents import wrap_documents
from importer.pipeline.stages.base import StageError, StudyRef
from importer.pipeline.verify import InstanceToVerify, verify_instances

log = logging.getLogger(__name__)


async def verify(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    import_dir = ctx.spool.import_dir(ref.import_id)
    wrapped = await wrap_documents(ctx, ref)  # the disc's documents filed with it: instances now
    async with transaction(ctx.sessionmaker) as db:
        rows = await repository.instances_of_study(db, ref.study_id)
        items = [
            InstanceToVerify(
                path=import_dir / r.path,
                display_path=r.display_path,
                sop_instance_uid=r.sop_instance_uid,
                study_instance_uid=ref.study_instance_uid,
                stamp=r.file_stamp,
                read_again=r.read_again,
            )
            for r in rows
        ]
    try:
        verification = await asyncio.to_thread(verify_instances, items)
    except OSError as exc:
        # the error's name to the log only; the message says what happened in our words
        log.warning(
            "the files of an import could not be read (%s)",
            errno.errorcode.get(exc.errno or 0, type(exc).__name__),
            extra={"import_id": ref.import_id},
        )
        raise StageError(
            "spool_unreadable",
            "The files of the import could not be read from the server's storage.",
            retryable=True,
        ) from exc
    problems = verification.problems
    if problems:
        first = problems[0]
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise StageError(
            "verify_failed",
            f"{len(problems)} of {len(items)} instance(s) are damaged; nothing of this study was "
            f"sent. {first.display_path}: {first.message}{more}.",
            retryable=False,
            params={"count": len(problems), "total": len(items)},
        )
    if verification.stamps:  # read again completely: sent only as they were then
        ids = {import_dir / r.path: r.id for r in rows}
        async with transaction(ctx.sessionmaker) as db:
            await repository.set_file_stamps(
                db, {ids[path]: stamp for path, stamp in verification.stamps.items()}
            )
    if wrapped:
        return StageStatus.done, Note(
            MessageCode.documents_wrapped,
            f"{len(items)} instance(s) verified, {wrapped} of them document(s) of the medium "
            "wrapped as objects of the study.",
            {"count": len(items), "documents": wrapped},
        )
    return StageStatus.done, Note(
        MessageCode.instances_verified,
        f"{len(items)} instance(s) verified.",
        {"count": len(items)},
    )
