"""The audit trail's actions are a closed set: recording another is refused, reading one an
older version wrote is not a server error, and an import's log shows only allow-listed
details."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from importer.audit.actions import AuditAction, audit_action, stage_of, stored_action
from importer.audit.atna import EVENTS
from importer.audit.models import AuditEvent
from importer.audit.schemas import AuditEventOut
from importer.audit.service import SYSTEM, record
from importer.imports.log import details, import_log
from importer.imports.ris_outbox import EVENTS as CALLBACK_EVENTS
from importer.imports.states import StageName
from importer.messages import MessageCode
from tests.support.source import sources

ACTION_LIKE = re.compile(r"^(order|launch|session|import|upload|identity|study|stage)\.[a-z_]+$")
# file names: an upload in the spool, a series' kept order (its thumbnails)
NOT_ACTIONS = {"upload.zip", "order.json"}
PATIENT = {"name": "ROSSI^MARIA", "id": "PAT-0042", "birth_date": "19700101", "sex": "F"}


def test_listed_actions_are_accepted_and_others_refused() -> None:
    assert audit_action("import.created") is AuditAction.import_created
    assert audit_action(AuditAction.stage_store) is AuditAction.stage_store
    for action in ("import.bogus", "unknown", "", "IMPORT.CREATED"):
        with pytest.raises(ValueError, match="not an AuditAction"):
            audit_action(action)


async def test_record_refuses_an_unlisted_action_before_writing() -> None:
    class NoDatabase:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the database was used ({name})")

    with pytest.raises(ValueError, match="not an AuditAction"):
        await record(cast(AsyncSession, NoDatabase()), action="import.vanished", actor=SYSTEM)


def test_every_stage_has_its_action() -> None:
    for name in StageName:
        assert stage_of(AuditAction(f"stage.{name}")) == name
    assert stage_of(AuditAction.import_failed) is None


def test_every_atna_event_is_an_action() -> None:
    assert set(EVENTS) <= set(AuditAction) - {AuditAction.unknown}


def _not_an_action(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    """A string shaped like an action that is not one: a file name, a callback's event."""
    if node.value in NOT_ACTIONS or node.value in CALLBACK_EVENTS:
        return True
    parent = parents.get(node)
    if isinstance(parent, ast.Dict):
        keys = dict(zip(map(id, parent.values), parent.keys, strict=True))
        key = keys.get(id(node))
        return isinstance(key, ast.Constant) and key.value == "event"
    return False


def test_every_action_written_in_the_code_is_listed() -> None:
    """A service, the pipeline or the worker that records an action not listed would fail at
    run time: found here first."""
    found: dict[str, str] = {}
    for path, tree in sources():
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and ACTION_LIKE.match(node.value)
                and not _not_an_action(node, parents)
            ):
                found[node.value] = f"{path}:{node.lineno}"
    unlisted = {value: where for value, where in found.items() if value not in set(AuditAction)}
    assert not unlisted, unlisted
    assert "import.created" in found  # the scan sees the services


def test_an_action_no_longer_listed_is_read_back_as_unknown() -> None:
    assert stored_action("import.renamed_since") is AuditAction.unknown
    assert stored_action("study.merged") is AuditAction.study_merged
    row = AuditEvent(
        id=1,
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        action="import.renamed_since",
        outcome="success",
        actor_id="system",
        actor_name="PACS Media Import",
        department="",
        import_id=None,
        accession_number="",
        patient_id="",
        study_instance_uid="",
        details={},
        seq=None,
        hash=None,
    )
    out = AuditEventOut.model_validate(row, from_attributes=True)
    assert out.action is AuditAction.unknown


def _event(action: str, raw: dict[str, Any], *, outcome: str = "success", uid: str = "") -> Any:
    return AuditEvent(
        at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        action=action,
        outcome=outcome,
        actor_id="u-1",
        actor_name="Anna Rossi",
        study_instance_uid=uid,
        details=raw,
    )


def test_the_log_keeps_codes_and_counts_and_drops_patient_data() -> None:
    uid = "1.2.3.4"
    events = [
        _event(
            "import.created", {"support_id": "MI-X", "zone": "pacs", "size": 10, "mode": "order"}
        ),
        _event("upload.completed", {"bytes": 10, "filename": "ROSSI_MARIA.zip"}),
        _event(
            "import.analysed",
            {"files": 3, "dicom": 2, "skipped": 1, "studies": [{"study_instance_uid": uid}]},
        ),
        _event(
            "import.confirmed",
            {
                "identity": {"overall": "mismatch", "fields": {"name": "mismatch"}},
                "compared_with": PATIENT,
                "medium_patient": PATIENT,
                "acknowledged_identity": True,
                "description": "CT ROSSI",
                "series": 2,
                "instances": 40,
            },
            uid=uid,
        ),
        _event(
            "stage.store",
            {
                "status": "failed",
                "message": "Stored 3 of 40 for PAT-0042",
                "code": "store_failed",
                "params": {"count": 3, "total": 40, "nested": {"x": 1}},
            },
            outcome="failure",
            uid=uid,
        ),
        _event(
            "import.failed",
            {
                "error": "store_failed",
                "failed_studies": [{"study_instance_uid": uid, "stage": "store", "error": "x"}],
                "studies": 2,
            },
            outcome="failure",
        ),
        _event("identity.compared", {"reason": "not_compared", "compared_with": PATIENT}),
    ]
    log = import_log(events, study_numbers={uid: 1})
    body = log.model_dump(mode="json", exclude_none=True)
    text = json.dumps(body)
    for forbidden in (*PATIENT.values(), uid, "ROSSI", "MI-X"):
        assert forbidden not in text
    lines = [item["details"] for item in body["items"]]
    assert lines[0] == {"zone": "pacs", "size": 10, "mode": "order"}
    assert lines[1] == {"size": 10}
    assert lines[2] == {"count": 1, "files": 3, "dicom": 2, "skipped": 1}
    assert lines[3] == {
        "study": 1,
        "series": 2,
        "instances": 40,
        "identity": "mismatch",
        "acknowledged": True,
    }
    assert lines[4] == {
        "code": "store_failed",
        "params": {"count": 3, "total": 40},
        "stage": "store",
        "status": "failed",
        "study": 1,
    }
    assert lines[5] == {
        "code": "store_failed",
        "params": {},
        "stage": "store",
        "count": 1,
        "total": 2,
    }
    assert lines[6] == {"code": "identity_not_compared", "params": {}}
    assert [item["outcome"] for item in body["items"]][4:6] == ["failure", "failure"]
    assert {item["user"] for item in body["items"]} == {"Anna Rossi"}
    assert {item["system"] for item in body["items"]} == {False}
    # the pipeline's own events: the app names the system in the user's language
    (by_system,) = import_log(
        [
            AuditEvent(
                at=events[0].at,
                action=AuditAction.stage_verify,
                outcome="success",
                actor_id=SYSTEM.id,
                actor_name=SYSTEM.name,
                study_instance_uid=uid,
                details={"status": "done"},
            )
        ],
        study_numbers={uid: 1},
    ).items
    assert by_system.system is True


def test_a_log_detail_an_older_version_wrote_is_shown_safely() -> None:
    shown = details(
        AuditAction.import_failed,
        {"error": "a_code_since_removed", "stage": "a_stage_since_removed", "studies": "two"},
        study=None,
    )
    assert shown.code is MessageCode.failed
    assert (shown.stage, shown.total) == (None, None)
