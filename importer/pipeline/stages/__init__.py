"""The stages each selected study runs through, in :class:`~importer.imports.states.StageName`
order: verify, store, commit, merge, notify, finish. One module each; the driver that runs
them, records their outcome and completes the import is :mod:`importer.pipeline.process`.

A stage answers done or skipped with a :class:`~importer.messages.Note` (a code and its params,
never a sentence the app shows), or raises an
:class:`~importer.errors.ImporterError` (its own :class:`StageError`, or the PACS's, the
RIS's, the merge's as they are): the stage then fails with its code, params and message, and
runs again later when the error is ``retryable``.
"""

from __future__ import annotations

from importer.imports.states import StageName
from importer.pipeline.stages.base import StageError, StageFn, StudyRef
from importer.pipeline.stages.commit import commit
from importer.pipeline.stages.finish import finish
from importer.pipeline.stages.merge import merge
from importer.pipeline.stages.notify import notify
from importer.pipeline.stages.store import instances_missing, store
from importer.pipeline.stages.verify import verify

__all__ = ["STAGES", "StageError", "StageFn", "StudyRef", "instances_missing"]

STAGES: dict[StageName, StageFn] = {
    StageName.verify: verify,
    StageName.store: store,
    StageName.commit: commit,
    StageName.merge: merge,
    StageName.notify: notify,
    StageName.finish: finish,
}
