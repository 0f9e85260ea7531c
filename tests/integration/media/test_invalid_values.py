"""Values a hostile medium carries that do not fit the database: the analysis runs on
PostgreSQL (which enforces column widths, unlike SQLite), so a file whose values cannot be
stored is skipped with its reason instead of failing the whole import."""

from __future__ import annotations

import io
import struct

from importer.media import raw
from importer.settings import Settings
from tests.integration.media.helpers import analyse
from tests.integration.media.zoo import sample, uids, zip_of
from tests.support.app import Journey

LONG_TRANSFER_SYNTAX = b"1.2.840.10008.1.2.1." + b"9" * 100  # 120 characters


def with_transfer_syntax(name: str, transfer_syntax: bytes) -> bytes:
    """A Part 10 test file whose file meta holds ``transfer_syntax``, written byte for byte
    (pydicom refuses to write an invalid one); the dataset is unchanged."""
    data = sample(name).read_bytes()
    meta = bytearray()
    end = 132
    for header in raw.elements(io.BytesIO(data), 132, implicit=False, little=True):
        if header.group != 0x0002:
            end = header.offset
            break
        if header.tag == 0x00020010:
            value = transfer_syntax + b"\x00" * (len(transfer_syntax) % 2)
            meta += struct.pack("<HH2sH", 0x0002, 0x0010, b"UI", len(value)) + value
        elif header.tag != 0x00020000:  # the group length is written again below
            meta += data[header.offset : header.end]
    group_length = struct.pack("<HH2sHL", 0x0002, 0x0000, b"UL", 4, len(meta))
    return data[:132] + group_length + bytes(meta) + data[end:]


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
