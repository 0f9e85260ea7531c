"""The dev stack: the real local services the importer talks to, started and stopped by us.

Orthanc (the demo PACS), dcmtk ``wlmscpfs`` (the demo Modality Worklist SCP) and Redis. Used by
``make run``, the test harnesses and the benches. Every service listens on a free port, is
addressed on 127.0.0.1, and is stopped by pid by whoever started it (``stop()`` or the context
manager). Plain stdlib + httpx: no pytest here.

``python -m devstack [DATA_DIR]`` starts a demo Orthanc and worklist and prints their
``dimse://`` URLs until interrupted.
"""

from devstack.orthanc import DICOMWEB_PLUGIN, UNCOMPRESSED_TRANSFER_SYNTAXES, OrthancProcess
from devstack.process import LOOPBACK, ServiceError, free_port
from devstack.redis import RedisProcess, ensure_redis, redis_answers
from devstack.worklist import WorklistProcess

__all__ = [
    "DICOMWEB_PLUGIN",
    "LOOPBACK",
    "UNCOMPRESSED_TRANSFER_SYNTAXES",
    "OrthancProcess",
    "RedisProcess",
    "ServiceError",
    "WorklistProcess",
    "ensure_redis",
    "free_port",
    "redis_answers",
]
