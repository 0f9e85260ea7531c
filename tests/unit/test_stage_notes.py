"""What each stage of a study tells the user: a message code with its params (the app words
it), never a sentence the app would show as it is; a failed or retried stage keeps its error's
code and params, the attempts left being the stage's own field."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from importer.imports import repository
from importer.imports.models import Stage
from importer.imports.states import StageName, StageStatus, can_retry, reset_stage
from importer.media.stamp import file_stamp
from importer.merge import MergeResult, MovedStudy
from importer.messages import MessageCode, Note
from importer.pacs import CommitResult, PacsError
from importer.pipeline import process
from importer.pipeline.context import PipelineContext
from importer.pipeline.process import StudyFailure, failure_code_params
from importer.pipeline.stages import StageError, StudyRef
from importer.pipeline.stages.commit import commit
from importer.pipeline.stages.finish import finish
from importer.pipeline.stages.merge import merge, merged_note
from importer.pipeline.stages.notify import notify
from importer.pipeline.stages.store import stored_note
from importer.pipeline.stages.verify import verify
from importer.settings import Settings

REF = StudyRef("imp-1", "study-1", "1.2.3")


class _Session:
    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        return None

    async def rollback(self) -> None:
        return None


class _Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def import_dir(self, import_id: str) -> Path:
        return self.root


def context(tmp_path: Path, pacs: Any = None, **settings: Any) -> PipelineContext:
    """A pipeline context with no database behind it (the repository is patched)."""
    fake = SimpleNamespace(
        settings=Settings(data_dir=tmp_path, **settings),
        sessionmaker=_Session,
        spool=_Spool(tmp_path),
        pacs=lambda: pacs,
        temporary_pacs=None,
    )
    return cast(PipelineContext, fake)


def an_import(zone: str = "pacs", callback_url: str | None = None) -> SimpleNamespace:
    study = SimpleNamespace(id=REF.study_id, filed_under=None, instance_count=2, target=None)
    return SimpleNamespace(
        id=REF.import_id, support_id="S-1", zone=zone, callback_url=callback_url, studies=[study]
    )


def patch_repository(
    monkeypatch: pytest.MonkeyPatch, imp: SimpleNamespace, rows: Sequence[Any] = ()
) -> None:
    async def get(db: object, import_id: str, *, lock: bool = False) -> SimpleNamespace:
        return imp

    async def instances_of_study(db: object, study_id: str) -> Sequence[Any]:
        return rows

    async def documents_to_wrap(db: object, study_id: str) -> Sequence[Any]:
        return ()

    async def count_by_sent_state(db: object, study_id: str) -> dict[str, int]:
        return {"sent": len(rows)}

    async def set_file_stamps(db: object, stamps: dict[str, str]) -> None:
        for row in rows:
            row.file_stamp = stamps.get(row.id, row.file_stamp)

    monkeypatch.setattr(repository, "get", get)
    monkeypatch.setattr(repository, "set_file_stamps", set_file_stamps)
    monkeypatch.setattr(repository, "instances_of_study", instances_of_study)
    monkeypatch.setattr(repository, "count_by_sent_state", count_by_sent_state)
    monkeypatch.setattr(repository, "documents_to_wrap", documents_to_wrap)


def sample(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert path is not None
    return Path(str(path))


# --- verify ------------------------------------------------------------------------------------


async def test_verify_says_how_many_instances_it_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = []
    for name in ("CT_small.dcm", "MR_small.dcm"):
        shutil.copy(sample(name), tmp_path / name)
        ds = dcmread(tmp_path / name, stop_before_pixels=True)
        rows.append(
            SimpleNamespace(
                id=name,
                path=name,
                display_path=f"CD/{name}",
                sop_instance_uid=ds.SOPInstanceUID,
                file_stamp=None,
                read_again=False,
            )
        )
    patch_repository(monkeypatch, an_import(), rows)
    ref = StudyRef(
        REF.import_id, REF.study_id, str(dcmread(tmp_path / "CT_small.dcm").StudyInstanceUID)
    )
    # two studies' files under one study: the second is refused, with counts
    with pytest.raises(StageError) as raised:
        await verify(context(tmp_path), ref)
    assert raised.value.code == "verify_failed"
    assert raised.value.params == {"count": 1, "total": 2}

    rows.pop()
    status, note = await verify(context(tmp_path), ref)
    assert status == StageStatus.done
    assert (note.code, note.params) == (MessageCode.instances_verified, {"count": 1})
    # read again completely and found sound: stamped, for the store to send it only unchanged
    assert rows[0].file_stamp == file_stamp((tmp_path / "CT_small.dcm").stat())


@pytest.mark.parametrize("stamp", [None, "1:2:3:4"], ids=["read-again", "stamped"])
async def test_verify_never_quotes_the_system_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stamp: str | None
) -> None:
    """A file gone from the spool, whether verify would read it or only check its stamp."""
    rows = [
        SimpleNamespace(
            path="gone.dcm",
            display_path="CD/gone",
            sop_instance_uid="1.2",
            file_stamp=stamp,
            read_again=False,
        )
    ]
    patch_repository(monkeypatch, an_import(), rows)
    with pytest.raises(StageError) as raised:
        await verify(context(tmp_path), REF)
    assert raised.value.code == "spool_unreadable"
    assert "No such file" not in raised.value.message
    assert "Errno" not in raised.value.message


# --- store -------------------------------------------------------------------------------------


def test_store_note_counts_what_was_stored_and_what_was_there() -> None:
    note = stored_note(stored=3, held=1, warned=0, total=4)
    assert note.code == MessageCode.instances_stored
    assert note.params == {"count": 3, "total": 4, "already": 1, "warnings": 0}
    assert note.message == "3 of 4 instance(s) stored. 1 were on the PACS already."


def test_store_note_counts_the_instances_converted_and_how() -> None:
    note = stored_note(
        stored=4, held=0, warned=0, total=4, converted={"pylibjpeg": 2, "gdcm-12bit": 1}
    )
    assert note.params["converted"] == 3
    assert note.params["decoded_by"] == "gdcm-12bit 1, pylibjpeg 2"
    assert note.message.endswith(
        "3 converted to a transfer syntax the PACS takes (gdcm-12bit 1, pylibjpeg 2)."
    )
    assert "converted" not in stored_note(stored=4, held=0, warned=0, total=4).params


def test_store_note_when_everything_was_on_the_pacs_already() -> None:
    note = stored_note(stored=0, held=5, warned=0, total=5)
    assert note.code == MessageCode.instances_already_on_pacs
    assert note.params["already"] == 5


# --- commit ------------------------------------------------------------------------------------


class _Pacs:
    def __init__(self, result: CommitResult | None = None, error: PacsError | None = None) -> None:
        self.result = result
        self.error = error

    def commit(self, refs: Sequence[tuple[str, str]], *, timeout: float) -> CommitResult:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


ROWS = [
    SimpleNamespace(
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2", sop_instance_uid=uid, sent_state="sent"
    )
    for uid in ("1.1", "1.2")
]


async def test_commit_not_configured_is_a_note(tmp_path: Path) -> None:
    status, note = await commit(context(tmp_path), REF)
    assert (status, note.code) == (StageStatus.skipped, MessageCode.commit_not_configured)


@pytest.mark.parametrize(
    ("zone", "pacs", "expected"),
    [
        ("temporary", _Pacs(), MessageCode.commit_not_for_temporary),
        (
            "pacs",
            _Pacs(error=PacsError(PacsError.UNSUPPORTED, "x")),
            MessageCode.commit_not_offered,
        ),
    ],
)
async def test_commit_skipped_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str, pacs: _Pacs, expected: MessageCode
) -> None:
    patch_repository(monkeypatch, an_import(zone), ROWS)
    status, note = await commit(context(tmp_path, pacs, storage_commitment=True), REF)
    assert (status, note.code) == (StageStatus.skipped, expected)


async def test_commit_counts_the_instances_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_repository(monkeypatch, an_import(), ROWS)
    pacs = _Pacs(CommitResult(transaction_uids=("9",), committed=frozenset({"1.1", "1.2"})))
    status, note = await commit(context(tmp_path, pacs, storage_commitment=True), REF)
    assert (status, note.code, note.params) == (
        StageStatus.done,
        MessageCode.instances_committed,
        {"count": 2},
    )


async def test_commit_incomplete_and_timeout_carry_their_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_repository(monkeypatch, an_import(), ROWS)
    partly = _Pacs(CommitResult(("9",), frozenset({"1.1"}), failed={"1.2": 0x0110}))
    with pytest.raises(StageError) as raised:
        await commit(context(tmp_path, partly, storage_commitment=True), REF)
    assert (raised.value.code, raised.value.params) == (
        "commit_incomplete",
        {"count": 1, "total": 2},
    )

    late = _Pacs(error=PacsError(PacsError.TIMEOUT, "no report", params={"seconds": 120}))
    with pytest.raises(StageError) as raised:
        await commit(context(tmp_path, late, storage_commitment=True), REF)
    assert (raised.value.code, raised.value.params) == ("pacs_timeout", {"seconds": 120})
    assert raised.value.retryable


# --- merge, notify, finish ---------------------------------------------------------------------


async def test_merge_not_configured_is_a_note(tmp_path: Path) -> None:
    status, note = await merge(context(tmp_path), REF)
    assert (status, note.code) == (StageStatus.skipped, MessageCode.merge_not_configured)


def test_merge_note_counts_the_studies_moved_and_left_alone() -> None:
    moved = (MovedStudy("1.2.3", "abc", 4),)
    note = merged_note(MergeResult(moved, "1 earlier study moved.", left_alone=2))
    assert (note.code, note.params) == (MessageCode.merged, {"count": 1, "left_alone": 2})
    refused = merged_note(MergeResult((), "Issued by this hospital.", refused=True))
    assert (refused.code, refused.params) == (MessageCode.merge_refused, {})


@pytest.mark.parametrize(
    ("zone", "url", "expected"),
    [
        ("temporary", "https://ris.example/hook", MessageCode.notify_on_promotion),
        ("pacs", None, MessageCode.notify_no_callback),
    ],
)
async def test_notify_skipped_says_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    zone: str,
    url: str | None,
    expected: MessageCode,
) -> None:
    patch_repository(monkeypatch, an_import(zone, url))
    status, note = await notify(context(tmp_path), REF)
    assert (status, note.code, note.params) == (StageStatus.skipped, expected, {})


@pytest.mark.parametrize(
    ("zone", "expected"),
    [("pacs", MessageCode.study_imported), ("temporary", MessageCode.study_kept_temporary)],
)
async def test_finish_never_says_imported_for_the_temporary_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str, expected: MessageCode
) -> None:
    patch_repository(monkeypatch, an_import(zone))
    status, note = await finish(context(tmp_path), REF)
    assert (status, note.code) == (StageStatus.done, expected)
    if zone == "temporary":
        assert "imported" not in note.message


# --- the driver: what a stage keeps, what the import's error says ------------------------------


def a_stage() -> Stage:
    return Stage(
        name=StageName.store.value, status=StageStatus.running, attempts_left=2, message=""
    )


def test_a_stage_keeps_its_note_code_params_and_english() -> None:
    stage = a_stage()
    process._set_stage(
        stage, StageStatus.done, Note(MessageCode.instances_verified, "2 ok.", {"count": 2})
    )
    assert (stage.status, stage.code, stage.params, stage.message) == (
        StageStatus.done,
        "instances_verified",
        {"count": 2},
        "2 ok.",
    )
    process._set_stage(stage, StageStatus.running)  # running: its last note stays
    assert (stage.code, stage.params) == ("instances_verified", {"count": 2})
    reset_stage(stage, attempts=3, message="", now=stage.updated_at)  # a retry: the note goes
    assert (stage.code, stage.params) == (None, None)


def failure(code: MessageCode, stage: StageName, **params: str | int) -> StudyFailure:
    return StudyFailure(REF, stage, code, "English.", dict(params))


def test_one_study_failed_keeps_its_own_code_with_the_counts() -> None:
    code, params = failure_code_params(
        [failure(MessageCode.pacs_aborted, StageName.store, left=3)], total=3
    )
    assert code == MessageCode.pacs_aborted
    assert params == {"failed": 1, "total": 3, "finished": 2, "stage": "store", "left": 3}


def test_one_failed_study_keeps_its_own_params_over_the_import_counts() -> None:
    # store_failed's own "total" is its images: the app words "N of total images" from it
    code, params = failure_code_params(
        [failure(MessageCode.store_failed, StageName.store, count=2, total=9)], total=3
    )
    assert code == MessageCode.store_failed
    assert params == {"failed": 1, "total": 9, "finished": 2, "stage": "store", "count": 2}


def test_several_failed_studies_name_first_the_one_a_retry_may_help() -> None:
    code, params = failure_code_params(
        [
            failure(MessageCode.verify_failed, StageName.verify, count=1),
            failure(MessageCode.pacs_unreachable, StageName.store),
        ],
        total=2,
    )
    assert (code, params["reason"], params["stage"]) == (
        MessageCode.studies_failed,
        "pacs_unreachable",
        "store",
    )
    assert can_retry("failed", code, params)
    only_medium = failure_code_params(
        [
            failure(MessageCode.verify_failed, StageName.verify, count=1),
            failure(MessageCode.verify_failed, StageName.verify, count=2),
        ],
        total=2,
    )
    assert not can_retry("failed", *only_medium)


def test_the_reason_of_several_failed_studies_counts_the_images_of_each() -> None:
    code, params = failure_code_params(
        [
            failure(MessageCode.cannot_convert, StageName.store, count=1, total=4, syntax="A"),
            failure(MessageCode.store_failed, StageName.store, count=5, total=5),
            failure(MessageCode.cannot_convert, StageName.store, count=3, total=3, syntax="B"),
        ],
        total=4,
    )
    assert code == MessageCode.studies_failed
    assert (params["reason"], params["count"], params["syntax"]) == ("cannot_convert", 4, "A")
    assert (params["failed"], params["total"], params["finished"]) == (3, 4, 1)


def test_several_studies_failed_say_so_with_the_first_reason() -> None:
    code, params = failure_code_params(
        [
            failure(MessageCode.store_failed, StageName.store, count=2, total=9, status="0xA700"),
            failure(MessageCode.verify_failed, StageName.verify, count=1),
        ],
        total=4,
    )
    assert code == MessageCode.studies_failed
    # the first failure's own params where their names are free: its "total" is not the import's
    assert params == {
        "failed": 2,
        "total": 4,
        "finished": 2,
        "stage": "store",
        "reason": "store_failed",
        "count": 2,
        "status": "0xA700",
    }


async def test_a_stage_event_carries_its_code_and_params() -> None:
    published: list[dict[str, Any]] = []

    async def publish(import_id: str, kind: str, **fields: Any) -> None:
        published.append({"type": kind, **fields})

    stage = a_stage()
    process._set_stage(
        stage, StageStatus.pending, Note(MessageCode.pacs_timeout, "No answer.", {"seconds": 30})
    )
    await process._publish_stage(
        cast(PipelineContext, SimpleNamespace(publish=publish)), REF, stage
    )
    [event] = published
    assert (event["type"], event["name"], event["status"]) == ("stage", "store", "pending")
    assert (event["code"], event["params"], event["attempts_left"]) == (
        "pacs_timeout",
        {"seconds": 30},
        2,
    )
