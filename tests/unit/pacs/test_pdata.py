"""The C-STORE request bytes we write ourselves are the ones pynetdicom would send."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu import P_DATA_TF

from importer.pacs import pdata
from importer.pacs.base import EncodedInstance, FileRange, SourceUnreadable
from importer.pacs.pdata import c_store_command, p_data_pdus, p_data_stream

CT = "1.2.840.10008.5.1.4.1.1.2"


def _pynetdicom_bytes(
    message_id: int, sop_class: str, sop_instance: str, data: bytes, context_id: int, max_pdu: int
) -> bytes:
    request = C_STORE()
    request.MessageID = message_id
    request.AffectedSOPClassUID = sop_class
    request.AffectedSOPInstanceUID = sop_instance
    request.Priority = 2
    request.DataSet = BytesIO(data)
    message = C_STORE_RQ()
    message.primitive_to_message(request)
    out = b""
    for primitive in message.encode_msg(context_id, max_pdu):
        pdu = P_DATA_TF()
        pdu.from_primitive(primitive)
        out += pdu.encode()
    return out


@pytest.mark.parametrize(
    ("sop_instance", "size", "max_pdu"),
    [
        ("1.2.3.4.5", 525_000, 16_384),  # odd-length UID: padded with a NUL
        ("1.2.3.4.56", 525_000, 16_384),
        ("1.2.826.0.1.3680043.8.498.1", 16_378, 16_384),  # exactly one full fragment
        ("1.2.826.0.1.3680043.8.498.12", 16_379, 16_384),  # one byte more: two
        ("1.2.3", 1_000_001, 131_072),
        ("1.2.3", 2_000, 0),  # unlimited: one PDU
        ("1.2.3", 2, 16_384),
    ],
)
def test_same_bytes_as_pynetdicom(sop_instance: str, size: int, max_pdu: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    for message_id in (1, 0xFFFF):
        ours = p_data_pdus(7, c_store_command(message_id, CT, sop_instance), data, max_pdu)
        assert ours == _pynetdicom_bytes(message_id, CT, sop_instance, data, 7, max_pdu)


def test_a_maximum_pdu_too_small_for_any_data_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        p_data_pdus(1, c_store_command(1, CT, "1.2"), b"xx", 6)


def _on_disk(tmp_path: Path, data: bytes, head: int) -> EncodedInstance:
    """``data`` as an encoded instance whose first ``head`` bytes are in memory and the rest
    in a file, after 100 bytes of something else."""
    path = tmp_path / "instance"
    path.write_bytes(b"\x99" * 100 + data[head:] + b"trailing")
    return EncodedInstance(
        sop_class_uid=CT, sop_instance_uid="1.2.3", transfer_syntax_uid="1.2.840.10008.1.2.1",
        implicit_vr=False, little_endian=True, data=data[:head],
        rest=FileRange(path, 100, len(data) - head),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("size", "max_pdu", "block"),
    [
        (525_000, 16_384, 50_000),  # several blocks of three whole fragments
        (16_378 * 6, 16_384, 16_378 * 3),  # the last block full
        (1_000_001, 131_072, 4 * 1024 * 1024),  # one block
        (300_000, 16_384, 1_000),  # a block smaller than a fragment: one fragment a block
    ],
)
def test_streamed_from_a_file_the_same_bytes_as_pynetdicom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, max_pdu: int, block: int
) -> None:
    monkeypatch.setattr(pdata, "STREAM_BLOCK_BYTES", block)
    data = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    instance = _on_disk(tmp_path, data, head=777)
    command = c_store_command(5, CT, "1.2.3")

    streamed = list(p_data_stream(7, command, instance.blocks, max_pdu))

    assert b"".join(streamed) == _pynetdicom_bytes(5, CT, "1.2.3", data, 7, max_pdu)
    assert max(len(b) for b in streamed) <= max(block, max_pdu) + max_pdu, "a few blocks at most"


def test_streamed_with_no_maximum_pdu_the_data_arrives_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdata, "STREAM_BLOCK_BYTES", 40_000)
    data = bytes(range(256)) * 1000
    instance = _on_disk(tmp_path, data, head=10)
    pdus = P_DATA_TF()
    received, flags = b"", []
    stream = BytesIO(
        b"".join(p_data_stream(3, c_store_command(1, CT, "1.2.3"), instance.blocks, 0))
    )
    while header := stream.read(6):
        length = int.from_bytes(header[2:6], "big")
        pdus.decode(header + stream.read(length))
        for item in pdus.presentation_data_value_items:
            value = item.presentation_data_value
            assert value is not None
            control, fragment = value[0], value[1:]
            if not control & 0x01:
                received += fragment
                flags.append(bool(control & 0x02))
    assert received == data
    assert flags == [False] * (len(flags) - 1) + [True]


def test_a_file_shorter_than_prepared_is_reported(tmp_path: Path) -> None:
    instance = _on_disk(tmp_path, bytes(100_000), head=10)
    assert instance.rest is not None
    with instance.rest.path.open("r+b") as fp:
        fp.truncate(50_000)

    with pytest.raises(SourceUnreadable):
        list(instance.blocks(16_000))
