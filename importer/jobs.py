"""The names of the worker's jobs: the api enqueues them and asks them, the worker runs them.

They live in the core so that neither side takes them from the other.
"""

from __future__ import annotations

from typing import Final

ANALYSE: Final = "analyse_import"
"""Unpack, scan and compare an uploaded medium (one import id)."""
PROCESS: Final = "process_import"
"""Send a confirmed import's studies to the PACS (one import id)."""
WORKLIST_SEARCH: Final = "worklist_search"
"""Search the RIS worklist for an identity (answered to the api, see ``worker.rpc``)."""
WORKLIST_ORDERS: Final = "worklist_orders"
"""The worklist's order of each accession number (answered to the api)."""
