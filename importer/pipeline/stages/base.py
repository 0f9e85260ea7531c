"""What every stage of a study shares: the study it works on, its signature, its error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from importer.errors import Failure
from importer.imports.states import StageStatus
from importer.messages import Note
from importer.pipeline.context import PipelineContext


class StageError(Failure):
    """A stage of a study did not go through, for a reason of its own (``verify_failed``,
    ``store_failed``, ``commit_incomplete``...). Any other :class:`~importer.errors.ImporterError`
    a stage raises fails it the same way, with its own code, message and ``retryable``."""


@dataclass(frozen=True, slots=True)
class StudyRef:
    import_id: str
    study_id: str
    study_instance_uid: str


StageFn = Callable[[PipelineContext, StudyRef], Awaitable[tuple[StageStatus, Note]]]
"""A stage: done or skipped, with its note (a message code and its params, worded by the app;
the English for logs); raises an ``ImporterError`` when it fails."""
