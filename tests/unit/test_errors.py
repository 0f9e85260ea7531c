"""One error family: the worker-side failures are domain errors like any other, each with its
stable code, its message and whether trying again later may help."""

from __future__ import annotations

import pytest

from importer.errors import Failure, ImporterError, InvalidInput
from importer.media import ArchiveError
from importer.merge import MergeError
from importer.pacs import PacsError
from importer.pipeline.stages import StageError
from importer.ris import RisError
from importer.worklist.errors import WorklistError


@pytest.mark.parametrize(
    ("error", "code", "retryable"),
    [
        (StageError("verify_failed", "Damaged.", retryable=False), "verify_failed", False),
        (StageError("spool_unreadable", "Not read.", retryable=True), "spool_unreadable", True),
        (RisError("ris_unreachable", "Not reached.", retryable=True), "ris_unreachable", True),
        (RisError("ris_rejected", "HTTP 400.", retryable=False), "ris_rejected", False),
        (MergeError("merge_failed", "The PACS merge did not go through."), "merge_failed", True),
        (ArchiveError("archive_unsafe", "A symbolic link."), "archive_unsafe", False),
        (PacsError(PacsError.TIMEOUT, "No answer."), "pacs_timeout", False),
        (WorklistError(WorklistError.UNREACHABLE, "Refused."), "worklist_unreachable", False),
    ],
)  # fmt: skip
def test_worker_failures_carry_code_message_and_retryable(
    error: Failure, code: str, retryable: bool
) -> None:
    assert isinstance(error, ImporterError)
    assert (error.code, error.retryable) == (code, retryable)
    assert str(error) == error.message


def test_a_merge_error_keeps_what_it_moved() -> None:
    assert MergeError("merge_failed", "x").moved == ()


def test_request_errors_are_not_retryable_unless_said() -> None:
    assert InvalidInput("bad").retryable is False
    assert ImporterError("later", code="upload_busy", retryable=True).retryable is True
    assert InvalidInput("bad").code == "invalid_input"  # the class's code stays the default


def test_a_code_outside_the_closed_set_is_refused_at_once() -> None:
    # every code reaches the app, which words it from its catalogs: an unlisted one would be
    # shown to a clerk as a raw code
    with pytest.raises(ValueError, match="not a MessageCode"):
        ImporterError("x", code="made_up")
    with pytest.raises(ValueError, match="not a MessageCode"):

        class Invented(ImporterError):
            code = "invented"


def test_params_keep_strings_and_integers_only() -> None:
    error = Failure("store_failed", "x", params={"count": 3, "status": "0xA700", "x": 1.5})
    assert error.params == {"count": 3, "status": "0xA700"}
