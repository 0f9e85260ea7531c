"""How jobs cross Redis (issue 13, item 12): JSON both ways, never pickle."""

from __future__ import annotations

import asyncio
import os
import pickle
from pathlib import Path

import pytest
from arq.jobs import (
    DeserializationError,
    deserialize_job,
    deserialize_result,
    serialize_job,
    serialize_result,
)
from arq.worker import JobExecutionFailed

from importer.jobs import ANALYSE, WORKLIST_SEARCH, JobFailed, deserialize, serialize


def test_a_job_crosses_as_json_and_back() -> None:
    data = serialize_job(ANALYSE, ("import-1",), {}, 3, 1_700_000_000_123, serializer=serialize)
    assert data.startswith(b"{")
    job = deserialize_job(data, deserializer=deserialize)
    assert job.function == ANALYSE
    assert list(job.args) == ["import-1"]
    assert (job.kwargs, job.job_try) == ({}, 3)
    assert int(job.enqueue_time.timestamp() * 1000) == 1_700_000_000_123


def test_a_result_crosses_as_json_and_back() -> None:
    answer = {"result": {"candidates": [{"name": "ROSSI^MARIO", "score": 0.5}]}}
    data = serialize_result(
        WORKLIST_SEARCH, ({"name": "x"},), {}, 1, 1, True, answer, 2, 3, "ref", "q", "id",
        serializer=serialize,
    )  # fmt: skip
    assert data is not None
    result = deserialize_result(data, deserializer=deserialize)
    assert (result.success, result.result) == (True, answer)


@pytest.mark.parametrize(
    ("raised", "read_as"),
    [
        (ValueError("ROSSI^MARIO is not valid"), JobFailed),
        (JobExecutionFailed("max 1 retries exceeded"), JobFailed),
        (TimeoutError(), TimeoutError),
        (asyncio.CancelledError(), JobFailed),
    ],
)
def test_a_failed_job_crosses_as_its_error_type_without_its_message(
    raised: BaseException, read_as: type[BaseException]
) -> None:
    data = serialize_result(
        WORKLIST_SEARCH, (), {}, 1, 1, False, raised, 2, 3, "ref", "q", "id", serializer=serialize
    )
    assert data is not None
    assert b"ROSSI" not in data
    result = deserialize_result(data, deserializer=deserialize)
    assert type(result.result) is read_as
    if read_as is JobFailed:
        assert str(result.result) == type(raised).__name__


def test_what_json_cannot_carry_is_refused_when_written() -> None:
    with pytest.raises(TypeError):
        serialize({"when": object()})


class _Gadget:
    """What an attacker who can write to Redis would queue: code run when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def test_a_pickled_job_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = pickle.dumps({"t": 1, "f": _Gadget(marker), "a": (), "k": {}, "et": 1})
    with pytest.raises(DeserializationError):
        deserialize_job(data, deserializer=deserialize)
    assert not marker.exists()
