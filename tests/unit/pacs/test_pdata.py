"""The C-STORE request bytes we write ourselves are the ones pynetdicom would send."""

from __future__ import annotations

from io import BytesIO

import pytest
from pynetdicom.dimse_messages import C_STORE_RQ
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.pdu import P_DATA_TF

from importer.pacs.pdata import c_store_command, p_data_pdus

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
