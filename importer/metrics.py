"""Prometheus metrics. The api serves ``/metrics`` (imports by status and queue depth are read
at scrape time from the database and Redis, so any number of api processes agree); each worker
serves its own counters on ``IMPORTER_WORKER_METRICS_PORT``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

IMPORTS = Gauge("importer_imports", "Imports by status and zone", ["status", "zone"])
QUEUE_DEPTH = Gauge("importer_queue_depth", "Jobs waiting in the queue")
UPLOAD_BYTES = Counter("importer_upload_bytes_total", "Bytes received by tus uploads")

INSTANCES_STORED = Counter(
    "importer_instances_stored_total", "Instances the PACS accepted", ["destination"]
)
BYTES_STORED = Counter(
    "importer_bytes_stored_total", "Bytes of the instances the PACS accepted", ["destination"]
)
STAGE_SECONDS = Histogram(
    "importer_stage_duration_seconds",
    "Time a stage of one study took",
    ["stage", "outcome"],
    buckets=(0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)
PACS_ERRORS = Counter("importer_pacs_errors_total", "PACS failures by code", ["code"])
RIS_ERRORS = Counter("importer_ris_errors_total", "RIS callback failures by code", ["code"])
JOBS = Counter("importer_jobs_total", "Jobs run by the worker", ["job", "outcome"])
