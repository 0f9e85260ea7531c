"""The commit stage: the PACS asked to commit to keeping every instance sent (storage
commitment), when the site configured it."""

from __future__ import annotations

import asyncio

from importer.db import transaction
from importer.imports import repository
from importer.imports.states import StageStatus
from importer.messages import MessageCode, Note
from importer.pacs import PacsError
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StageError, StudyRef


async def commit(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    settings = ctx.settings
    if not settings.storage_commitment:
        return StageStatus.skipped, Note(
            MessageCode.commit_not_configured,
            "Storage commitment is not configured for this PACS.",
        )
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        if imp.zone == "temporary":
            return StageStatus.skipped, Note(
                MessageCode.commit_not_for_temporary, "Not asked of the temporary PACS node."
            )
        rows = await repository.instances_of_study(db, ref.study_id)
        refs = [
            (r.sop_class_uid, r.sop_instance_uid)
            for r in rows
            if r.sent_state in ("sent", "on_pacs")
        ]
    try:
        result = await asyncio.to_thread(
            ctx.pacs().commit, refs, timeout=settings.commitment_timeout_s
        )
    except PacsError as exc:
        if exc.code == PacsError.UNSUPPORTED:
            return StageStatus.skipped, Note(
                MessageCode.commit_not_offered, "This PACS offers no storage commitment."
            )
        raise StageError(
            exc.code,
            f"Storage commitment failed: {exc.message}",
            retryable=exc.code != PacsError.REJECTED,
            params=exc.params,
        ) from exc
    if not result.complete:
        raise StageError(
            "commit_incomplete",
            f"The PACS did not commit {len(result.failed)} of {len(refs)} instance(s).",
            retryable=True,
            params={"count": len(result.failed), "total": len(refs)},
        )
    return StageStatus.done, Note(
        MessageCode.instances_committed,
        f"The PACS committed to keeping all {len(refs)} instance(s).",
        {"count": len(refs)},
    )
