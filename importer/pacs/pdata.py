"""A C-STORE request as the bytes that go on the wire (PS3.7 9.3.1.1, PS3.8 9.3.5), built in
one piece instead of through pynetdicom's DIMSE and DUL layers.

pynetdicom sends a message as one P-DATA primitive per fragment (33 for a 525 kB instance
with Orthanc's 16 kB maximum PDU), each put on a queue, taken by the DUL reactor thread, run
through the state machine, encoded and written: about 1 ms of interpreter time per
instance, all holding the GIL. The same PDUs built here cost a few tens of microseconds and go
out in one ``sendall``. The bytes are the ones pynetdicom would send (a unit test compares
them); only the way they reach the socket differs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

__all__ = ["STREAM_BLOCK_BYTES", "c_store_command", "p_data_pdus", "p_data_stream"]

_COMMAND = 0x01
"""Message control header (PS3.8 E.2): bit 0 command (else data set), bit 1 last fragment."""
_COMMAND_LAST = 0x03
_DATA = 0x00
_DATA_LAST = 0x02
_P_DATA_TF = 0x04
_PDV_OVERHEAD = 6
"""Bytes of a PDV item besides its fragment: item length (4), context id (1), control (1)."""

_C_STORE_RQ = 0x0001
_DATA_SET_PRESENT = 0x0001
_UL = struct.Struct("<HHIL")
_US = struct.Struct("<HHIH")
_HEADER = struct.Struct(">BBIIBB")
"""PDU type, reserved, PDU length, PDV item length, presentation context id, control."""


def _ui(tag_element: int, value: str) -> bytes:
    encoded = value.encode("ascii")
    if len(encoded) % 2:
        encoded += b"\x00"
    return struct.pack("<HHI", 0x0000, tag_element, len(encoded)) + encoded


def c_store_command(
    message_id: int, sop_class_uid: str, sop_instance_uid: str, priority: int = 2
) -> bytes:
    """The command set of a C-STORE-RQ with a data set, encoded in Implicit VR Little Endian
    (PS3.7 6.3.1): the elements pynetdicom writes, in tag order, Command Group Length first."""
    body = b"".join(
        (
            _ui(0x0002, sop_class_uid),  # Affected SOP Class UID
            _US.pack(0x0000, 0x0100, 2, _C_STORE_RQ),  # Command Field
            _US.pack(0x0000, 0x0110, 2, message_id),  # Message ID
            _US.pack(0x0000, 0x0700, 2, priority),  # Priority
            _US.pack(0x0000, 0x0800, 2, _DATA_SET_PRESENT),  # Command Data Set Type
            _ui(0x1000, sop_instance_uid),  # Affected SOP Instance UID
        )
    )
    return _UL.pack(0x0000, 0x0000, 4, len(body)) + body


def _fragments(
    context_id: int, data: bytes, max_pdu: int, *, command: bool, ends: bool = True
) -> list[bytes | memoryview]:
    """``data`` as P-DATA-TF PDUs of one PDV each, its fragments at most ``max_pdu`` - 6
    bytes (the PDV item, 4 + 1 + 1 + fragment, within the peer's maximum PDU length; 0:
    unlimited); the last fragment flagged as such when ``data`` ``ends`` the message."""
    view = memoryview(data)
    size = len(view) if not max_pdu else _fragment_size(max_pdu)
    more, last = (_COMMAND, _COMMAND_LAST) if command else (_DATA, _DATA_LAST)
    parts: list[bytes | memoryview] = []
    for start in range(0, len(view), size):
        fragment = view[start : start + size]
        control = last if ends and start + size >= len(view) else more
        item_length = len(fragment) + 2
        parts.append(_HEADER.pack(_P_DATA_TF, 0, item_length + 4, item_length, context_id, control))
        parts.append(fragment)
    return parts


def _fragment_size(max_pdu: int) -> int:
    size = max_pdu - _PDV_OVERHEAD
    if size <= 0:
        raise ValueError(f"a maximum PDU length of {max_pdu} bytes cannot carry data")
    return size


STREAM_BLOCK_BYTES = 4 * 1024 * 1024
"""About how much of a streamed data set is read and framed at a time."""


def p_data_stream(
    context_id: int, command: bytes, dataset: Callable[[int], Iterator[bytes]], max_pdu: int
) -> Iterator[bytes]:
    """The PDUs :func:`p_data_pdus` gives, a few megabytes at a time: the command set first,
    then the data set as ``dataset(n)`` yields it in blocks of ``n`` bytes (the last one
    shorter), ``n`` a whole number of fragments so that each block ends on a fragment's end.
    With no maximum PDU length (0), fragments of :data:`STREAM_BLOCK_BYTES`."""
    yield b"".join(_fragments(context_id, command, max_pdu, command=True))
    fragment = _fragment_size(max_pdu) if max_pdu else STREAM_BLOCK_BYTES
    per = fragment * max(1, STREAM_BLOCK_BYTES // fragment)
    blocks = dataset(per)
    block = next(blocks, b"")
    while block:
        following = next(blocks, b"")
        yield b"".join(
            _fragments(
                context_id, block, fragment + _PDV_OVERHEAD, command=False, ends=not following
            )
        )
        block = following


def p_data_pdus(context_id: int, command: bytes, dataset: bytes, max_pdu: int) -> bytes:
    """The P-DATA-TF PDUs of one DIMSE message, as pynetdicom fragments it: the command set,
    then the data set, in fragments of at most ``max_pdu`` bytes of PDV item (the peer's
    maximum PDU length, that of a PDU's PDV list; 0: unlimited), one PDV per PDU."""
    parts = _fragments(context_id, command, max_pdu, command=True)
    if dataset:
        parts += _fragments(context_id, dataset, max_pdu, command=False)
    return b"".join(parts)
