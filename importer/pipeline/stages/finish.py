"""The finish stage: the study is imported (the import completes once, after every study)."""

from __future__ import annotations

from importer.imports.states import StageStatus
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StudyRef


async def finish(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, str]:
    return StageStatus.done, "Study imported."
