"""Status badges follow the seed's colours."""

from __future__ import annotations

import pytest

from importer.imports.states import badge


@pytest.mark.parametrize(
    ("status", "stages", "expected"),
    [
        ("created", None, "muted"),
        ("queued", None, "warning"),
        ("analyzing", None, "primary"),
        ("awaiting_confirmation", None, "primary"),
        ("processing", ["running", "pending"], "primary"),
        ("processing", ["done", "running"], "success"),
        ("processing", ["done", "failed"], "danger"),
        ("completed", ["done"], "success"),
        ("failed", None, "danger"),
        ("cancelled", None, "muted"),
        ("expired", None, "muted"),
    ],
)
def test_badge(status: str, stages: list[str] | None, expected: str) -> None:
    assert badge(status, stage_statuses=stages) == expected


def test_unknown_status_is_a_bug() -> None:
    with pytest.raises(ValueError, match="bogus"):
        badge("bogus")
