"""Values a hostile medium carries that do not fit the database: the analysis runs on
PostgreSQL (which enforces column widths, unlike SQLite), so a file whose values cannot be
stored is skipped with its reason instead of failing the whole import."""

from __future__ import annotations

from importer.settings import Settings
from tests.integration.media.helpers import analyse
from tests.integration.media.zoo import sample, uids, zip_of
from tests.support.app import Journey
from tests.unit.media.helpers import with_transfer_syntax

LONG_TRANSFER_SYNTAX = b"1.2.840.10008.1.2.1." + b"9" * 100  # 120 characters


async def test_transfer_syntax_uid_too_long_is_skipped_not_fatal(
    journey: Journey, settings: Settings
) -> None:
    assert settings.database_url.startswith("postgresql")
    good = sample("CT_small.dcm").read_bytes()
    bad = with_transfer_syntax("MR_small.dcm", LONG_TRANSFER_SYNTAX)
    assert len(LONG_TRANSFER_SYNTAX) == 120

    session = await journey.start()
    imported = await analyse(
        journey, session, zip_of([("DICOM/IM0001", good), ("DICOM/IM0002", bad)])
    )

    assert imported["status"] == "awaiting_confirmation", imported["error"]
    assert [s["study_instance_uid"] for s in imported["studies"]] == [uids(good)[1]]
    media = imported["media"]
    assert [(s["path"], s["reason"]) for s in media["skipped"]] == [("DICOM/IM0002", "invalid_uid")]
    assert (media["files"], media["dicom"], media["unreadable"]) == (2, 1, 1)
