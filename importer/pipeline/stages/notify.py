"""The notify stage: the RIS told, by its callback, that the study is stored."""

from __future__ import annotations

from importer.access.policy import CallbackRefused, check_callback_url
from importer.db import transaction
from importer.imports import repository
from importer.imports.states import StageStatus
from importer.messages import MessageCode, Note
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages.base import StudyRef
from importer.ris import RisError, post_callback


async def notify(ctx: PipelineContext, ref: StudyRef) -> tuple[StageStatus, Note]:
    async with transaction(ctx.sessionmaker) as db:
        imp = await repository.get(db, ref.import_id)
        assert imp is not None
        url = imp.callback_url
        study = next(s for s in imp.studies if s.id == ref.study_id)
        order = study.filed_under
        counts = await repository.count_by_sent_state(db, ref.study_id)
        payload = {
            "event": "study.stored",
            "import_id": imp.id,
            "support_id": imp.support_id,
            "accession_number": order.accession_number if order else None,
            "patient_id": order.patient_id if order else None,
            "study_instance_uid": ref.study_instance_uid,
            "instances": study.instance_count,
            "instances_stored": counts.get("sent", 0),
            "status": "stored",
        }
    if imp.zone == "temporary":
        return StageStatus.skipped, Note(
            MessageCode.notify_on_promotion,
            "Kept in the temporary zone: the RIS is told on promotion.",
        )
    if not url:
        return StageStatus.skipped, Note(
            MessageCode.notify_no_callback, "The RIS gave no callback address."
        )
    secret = ctx.settings.callback_secret.get_secret_value()
    try:
        # the address was checked at launch; the rules may have changed since (defence in depth)
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
    # a RisError fails the stage as it is (retryable when the RIS may answer later)
    await post_callback(ctx.http, url, payload, secret=secret)
    return StageStatus.done, Note(MessageCode.ris_notified, "The RIS was told.")
