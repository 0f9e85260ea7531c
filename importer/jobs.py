"""The worker's jobs as both sides know them: their names (the api enqueues them and asks them,
the worker runs them) and how they are written to Redis (:func:`serialize` and
:func:`deserialize`, the pair every arq pool and worker uses).

They live in the core so that neither side takes them from the other.
"""

from __future__ import annotations

import json
from typing import Any, Final

ANALYSE: Final = "analyse_import"
"""Unpack, scan and compare an uploaded medium (one import id)."""
READ_AHEAD: Final = "read_ahead"
"""Read what has arrived of a medium still uploading (one import id; after each PATCH)."""
PROCESS: Final = "process_import"
"""Send a confirmed import's studies to the PACS (one import id)."""
UNDO: Final = "undo_import"
"""Ask the PACS to take back what an import stored, a referent having asked (one import id)."""
WORKLIST_SEARCH: Final = "worklist_search"
"""Search the RIS worklist for an identity (answered to the api, see ``worker.rpc``)."""
WORKLIST_ORDERS: Final = "worklist_orders"
"""The worklist's order of each accession number (answered to the api)."""
INSTANCE_IMAGE: Final = "instance_image"
"""Render one instance of a series for the viewer into the spool (answered to the api)."""


class JobFailed(Exception):
    """A job that raised in the worker, as its caller reads the result: the error's type only
    (its message may quote patient data and stays in the worker's log)."""


_EXCEPTION = "__exception__"


def _encode(value: object) -> object:
    if isinstance(value, BaseException):  # a failed job's result (or arq's own failures)
        return {_EXCEPTION: type(value).__name__}
    raise TypeError(f"{type(value).__name__} does not cross the queue")


def _decode(value: dict[str, Any]) -> object:
    if value.keys() == {_EXCEPTION}:
        name = str(value[_EXCEPTION])
        return TimeoutError() if name == "TimeoutError" else JobFailed(name)
    return value


def serialize(value: Any) -> bytes:
    """How jobs and their results are written to Redis (arq's ``job_serializer``): JSON, never
    pickle, so that whoever can write to Redis cannot run code in the worker or the api. Job
    arguments and results are JSON (ids, ``model_dump(mode="json")`` dicts); arq's own fields
    are ints, strings and lists; an exception crosses as its type's name."""
    return json.dumps(value, separators=(",", ":"), default=_encode).encode()


def deserialize(data: bytes) -> Any:
    """The other half (arq's ``job_deserializer``): anything but JSON is refused (arq then drops
    the job and the reconciler queues it again from the database)."""
    return json.loads(data, object_hook=_decode)
