"""The finish stage: the study is imported, or kept in the temporary zone for review (the
import completes once, after every study)."""

from __future__ import annotations

from importer.db import transaction
from importer.imports import repository
from importer.imports.states import StageStatus
from importer.messages import MessageCode, Note
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StudyRef


async def finish(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        temporary = imp.zone == "temporary"
    if temporary:  # not filed under the order's patient: promoted or purged later
        return StageStatus.done, Note(
            MessageCode.study_kept_temporary,
            "Study kept in the temporary zone for review: it is filed once promoted.",
        )
    return StageStatus.done, Note(MessageCode.study_imported, "Study imported.")
