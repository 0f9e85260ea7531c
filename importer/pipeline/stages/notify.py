"""The notify stage: the RIS told, by its callback, that the study is stored.

The callbacks (the import's progress, then ``study.stored``) are written to the outbox in the
stage's transaction (:mod:`importer.imports.ris_outbox`) and posted by the worker's delivery,
in order after the import's earlier callbacks: a RIS that does not answer delays them, never
the import.
"""

from __future__ import annotations

from importer.access.policy import CallbackRefused, check_callback_url
from importer.db import transaction
from importer.imports import repository, ris_outbox
from importer.imports.states import StageStatus
from importer.messages import MessageCode, Note
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StudyRef
from importer.ris import RisError


async def notify(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        if imp.zone == "temporary":
            return StageStatus.skipped, Note(
                MessageCode.notify_on_promotion,
                "Kept in the temporary zone: the RIS is told on promotion.",
            )
        url = imp.callback_url
        if not url:
            return StageStatus.skipped, Note(
                MessageCode.notify_no_callback, "The RIS gave no callback address."
            )
        secret = ctx.settings.callback_secret.get_secret_value()
        try:
            # the address was checked at launch; the rules may have changed since (defence in
            # depth: the delivery checks it again before each post)
            check_callback_url(
                url,
                signed=bool(secret),
                hosts=ctx.settings.callback_hosts,
                allow_http=ctx.settings.callback_allow_http,
            )
        except CallbackRefused as exc:
            raise RisError(
                exc.code, f"The RIS was not told. {exc.message}", retryable=False, params=exc.params
            ) from None
        study = next(s for s in imp.studies if s.id == ref.study_id)
        counts = await repository.count_by_sent_state(db, ref.study_id)
        ris_outbox.on_study_stored(imp, study, instances_stored=counts.get("sent", 0))
    return StageStatus.done, Note(
        MessageCode.ris_notify_queued, "The RIS is told as soon as it answers."
    )
