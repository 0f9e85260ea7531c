"""One study's failure does not strand the others: every study of a multi-study import runs to
its own end; the import ends failed once, naming how many studies did not finish; a retry runs
only what did not finish. On a real Orthanc that refuses one study (its SOP class)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydicom import dcmread
from pydicom.uid import UID, generate_uid
from sqlalchemy import select

from devstack import OrthancProcess
from importer.audit.models import AuditEvent
from importer.imports.models import Instance
from importer.settings import Settings
from tests.integration.test_pipeline import db_rows
from tests.support.app import Journey, make_zip, run_worker, sample

PRIVATE_SOP_CLASS = UID("1.2.826.0.1.3680043.8.498.4242.1")
"""A SOP class of some vendor's own, which a PACS takes only when configured to."""


class PickyOrthanc(OrthancProcess):
    """An Orthanc that refuses SOP classes it does not know (``UnknownSopClassAccepted``)
    until its administrator says otherwise (:meth:`accept_unknown`: it restarts, data kept)."""

    accepting = False

    def config(self) -> dict[str, object]:
        config = super().config()
        config["UnknownSopClassAccepted"] = self.accepting
        return config

    def accept_unknown(self) -> None:
        self.stop()
        self.accepting = True
        self.start()


@pytest.fixture
def picky(tmp_path: Path) -> Iterator[PickyOrthanc]:
    with PickyOrthanc(tmp_path / "orthanc-picky", aet="PICKY") as server:
        yield server


def three_studies() -> tuple[bytes, list[str]]:
    """Three studies of two instances each, in date order (the order they are processed in);
    the first in a SOP class of its own."""
    files, uids = [], []
    for number, (name, date) in enumerate(
        [("CT_small.dcm", "20200101"), ("MR_small.dcm", "20210101"), ("CT_small.dcm", "20220101")]
    ):
        ds = dcmread(sample(name))
        if number == 0:
            ds.SOPClassUID = PRIVATE_SOP_CLASS
            ds.file_meta.MediaStorageSOPClassUID = PRIVATE_SOP_CLASS
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.StudyDate = date
        for copy in range(2):
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            out = io.BytesIO()
            ds.save_as(out, enforce_file_format=True)
            files.append((f"S{number}/IM{copy}", out.getvalue()))
        uids.append(str(ds.StudyInstanceUID))
    return make_zip(files), uids


def studies_on(pacs: OrthancProcess) -> dict[str, int]:
    """Each study the PACS holds, with how many instances."""
    held: dict[str, int] = {}
    with httpx.Client(base_url=pacs.http_url, timeout=30) as http:
        for study in http.get("/studies").json():
            uid = http.get(f"/studies/{study}").json()["MainDicomTags"]["StudyInstanceUID"]
            held[uid] = len(http.get(f"/studies/{study}/instances").json())
    return held


def stages(imported: dict[str, Any], uid: str) -> dict[str, str]:
    study = next(s for s in imported["studies"] if s["study_instance_uid"] == uid)
    return {st["name"]: st["status"] for st in study["stages"]}


async def test_one_study_refused_does_not_strand_the_others_and_a_retry_runs_only_it(
    journey: Journey, settings: Settings, picky: PickyOrthanc
) -> None:
    session = await journey.start()
    archive, uids = three_studies()
    imported = await journey.import_media(session, archive)
    assert [s["study_instance_uid"] for s in imported["studies"]] == uids
    confirmed = await journey.confirm(session, imported["id"], uids, acknowledge=True)
    assert confirmed.status_code == 202, confirmed.text

    refused, *others = uids  # the PACS will not take the first study, however often
    to_picky = settings.model_copy(update={"pacs_url": picky.dimse_url})
    await run_worker(to_picky)

    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    # Orthanc accepts none of the contexts of an association that offers it nothing it takes:
    # those objects are of a kind this PACS takes none of (not a failure of the PACS)
    assert failed["error"]["code"] == "sop_class_not_accepted", failed["error"]
    assert stages(failed, refused)["store"] == "failed"
    assert stages(failed, refused)["finish"] == "pending"
    for uid in others:  # went on to their end, although the first study had failed
        assert stages(failed, uid)["store"] == "done"
        assert stages(failed, uid)["finish"] == "done"
    assert studies_on(picky) == {uid: 2 for uid in others}
    assert failed["error"]["message"].startswith("1 of 3 studies did not finish")
    # and so the app can say it: one study's own error, with how many did not finish
    # (its own params first: its count and total are its images)
    assert {k: failed["error"]["params"][k] for k in ("failed", "count", "finished", "stage")} == {
        "failed": 1,
        "count": 2,
        "finished": 2,
        "stage": "store",
    }
    assert refused in failed["error"]["message"]
    assert (settings.effective_spool_dir / "imports" / imported["id"]).is_dir()
    sent_before = {
        i.sop_instance_uid: i.sent_at
        for i in await db_rows(settings, select(Instance).where(Instance.sent_state == "sent"))
    }
    assert len(sent_before) == 4

    # the PACS takes it now: a retry runs the refused study only
    picky.accept_unknown()
    retried = await journey.client.post(
        f"/api/v1/imports/{imported['id']}/retry", headers=session.headers
    )
    assert retried.status_code == 202, retried.text
    await run_worker(to_picky)

    done = await journey.get_import(session, imported["id"])
    assert done["status"] == "completed", done["error"]
    assert studies_on(picky) == {uid: 2 for uid in uids}
    sent_after = {
        i.sop_instance_uid: i.sent_at
        for i in await db_rows(settings, select(Instance).where(Instance.sent_state == "sent"))
    }
    assert {uid: sent_after[uid] for uid in sent_before} == sent_before  # not sent again
    stored = await db_rows(
        settings,
        select(AuditEvent).where(
            AuditEvent.import_id == imported["id"], AuditEvent.action == "stage.store"
        ),
    )
    per_study = {uid: [e.outcome for e in stored if e.study_instance_uid == uid] for uid in uids}
    assert per_study == {refused: ["failure", "success"], **{uid: ["success"] for uid in others}}
