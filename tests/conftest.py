"""Shared test configuration."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from hypothesis import settings

# no time limit per example: speed lives in bench/, and a busy machine (CI, two cores) must not
# fail a property that holds
settings.register_profile("project", deadline=None)
settings.load_profile("project")

REFUSED_SOCKET_WARNINGS = (
    "ignore:unclosed <socket:ResourceWarning",
    "ignore:Exception ignored in. <socket:pytest.PytestUnraisableExceptionWarning",
)
"""pynetdicom 3.0.4 leaves the socket of a refused connection unclosed (its traceback keeps it
alive until the garbage collector runs): the ResourceWarning is not ours. Tests that provoke
refused connections take these filters and the :func:`refused_sockets` fixture."""


@pytest.fixture
def refused_sockets() -> Iterator[None]:
    """Collect the sockets pynetdicom leaked before the test ends, under its own filters
    (else the warning surfaces in whichever test, or session end, the collector runs in)."""
    yield
    gc.collect()
