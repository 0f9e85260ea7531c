"""The raw DICOM reader: element headers in every encoding, the walk over top-level elements
(sequences of undefined length passed over), encapsulated pixel data fragments; on bytes built
by hand, and checked against pydicom on its own test files."""

from __future__ import annotations

import contextlib
import io
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.data import get_testdata_file

from importer.media import raw
from importer.media.deflate import meta_info

U = raw.UNDEFINED_LENGTH


def tag(t: int, little: bool = True) -> bytes:
    return struct.pack("<HH" if little else ">HH", t >> 16, t & 0xFFFF)


def explicit(
    t: int, vr: bytes, value: bytes, *, little: bool = True, length: int | None = None
) -> bytes:
    """An explicit VR element (``length`` overrides the value's, e.g. undefined)."""
    order = "<" if little else ">"
    n = len(value) if length is None else length
    if vr in raw.LONG_VRS:
        return tag(t, little) + vr + b"\x00\x00" + struct.pack(order + "L", n) + value
    return tag(t, little) + vr + struct.pack(order + "H", n) + value


def implicit(t: int, value: bytes, *, little: bool = True, length: int | None = None) -> bytes:
    """An implicit VR element, item or delimiter."""
    n = len(value) if length is None else length
    return tag(t, little) + struct.pack("<L" if little else ">L", n) + value


def item(value: bytes, *, little: bool = True, length: int | None = None) -> bytes:
    return implicit(raw.ITEM, value, little=little, length=length)


def item_end(little: bool = True) -> bytes:
    return implicit(raw.ITEM_END, b"", little=little)


def sequence_end(little: bool = True, length: int = 0) -> bytes:
    return implicit(raw.SEQUENCE_END, b"", little=little, length=length)


PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020
SEQUENCE = 0x00081115  # Referenced Series Sequence
SOP_UID = 0x00081155


# -- one header -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "is_implicit", "little", "expected"),
    [
        pytest.param(
            explicit(PATIENT_NAME, b"PN", b"DOE^J "), False, True,
            raw.Header(PATIENT_NAME, b"PN", 6, 0, 8), id="explicit-short-vr",
        ),
        pytest.param(
            explicit(raw.PIXEL_DATA, b"OW", b"\x01\x02"), False, True,
            raw.Header(raw.PIXEL_DATA, b"OW", 2, 0, 12), id="explicit-long-vr",
        ),
        pytest.param(
            tag(raw.PIXEL_DATA) + b"OB\x01\x00" + struct.pack("<L", 2), False, True,
            raw.Header(raw.PIXEL_DATA, b"OB", 2, 0, 12, reserved=1), id="reserved-not-zero",
        ),
        pytest.param(
            explicit(PATIENT_NAME, b"PN", b"DOE^J ", little=False), False, False,
            raw.Header(PATIENT_NAME, b"PN", 6, 0, 8), id="big-endian-short-vr",
        ),
        pytest.param(
            explicit(raw.PIXEL_DATA, b"OW", b"\x01\x02", little=False), False, False,
            raw.Header(raw.PIXEL_DATA, b"OW", 2, 0, 12), id="big-endian-long-vr",
        ),
        pytest.param(
            implicit(PATIENT_NAME, b"DOE^J "), True, True,
            raw.Header(PATIENT_NAME, None, 6, 0, 8), id="implicit",
        ),
        pytest.param(
            implicit(PATIENT_NAME, b"DOE^J ", little=False), True, False,
            raw.Header(PATIENT_NAME, None, 6, 0, 8), id="implicit-big-endian",
        ),
        pytest.param(
            implicit(PATIENT_NAME, b"DOE^J "), False, True,
            raw.Header(PATIENT_NAME, None, 6, 0, 8), id="implicit-in-an-explicit-file",
        ),
        pytest.param(
            explicit(SEQUENCE, b"SQ", b"", length=U), False, True,
            raw.Header(SEQUENCE, b"SQ", U, 0, 12), id="undefined-length",
        ),
        pytest.param(
            item(b"", length=U), False, True,
            raw.Header(raw.ITEM, None, U, 0, 8), id="item-in-explicit-vr",
        ),
        pytest.param(
            sequence_end(little=False), False, False,
            raw.Header(raw.SEQUENCE_END, None, 0, 0, 8), id="delimiter-big-endian",
        ),
    ],
)  # fmt: skip
def test_headers(data: bytes, is_implicit: bool, little: bool, expected: raw.Header) -> None:
    assert raw.parse_header(data, implicit=is_implicit, little=little) == expected
    padded = b"\x00" * 6 + data
    at_six = raw.parse_header(padded, 6, implicit=is_implicit, little=little)
    assert (at_six.offset, at_six.value_offset) == (6, 6 + expected.header_length)
    read = raw.read_header(io.BytesIO(padded), 6, implicit=is_implicit, little=little)
    assert read == at_six


def test_a_header_knows_where_its_value_is() -> None:
    header = raw.parse_header(b"\x00\x00" + explicit(PATIENT_ID, b"LO", b"ID01"), 2,
                              implicit=False, little=True)  # fmt: skip
    assert (header.group, header.element) == (0x0010, 0x0020)
    assert (header.value_offset, header.end, header.undefined) == (10, 14, False)
    undefined = raw.parse_header(explicit(SEQUENCE, b"SQ", b"", length=U), implicit=False,
                                 little=True)  # fmt: skip
    assert undefined.undefined
    with pytest.raises(ValueError, match="undefined length"):
        _ = undefined.end


@pytest.mark.parametrize(
    ("data", "is_implicit"),
    [
        (b"", False),
        (tag(PATIENT_NAME), False),  # the tag alone
        (explicit(PATIENT_NAME, b"PN", b"")[:7], False),
        (explicit(raw.PIXEL_DATA, b"OB", b"")[:8], False),  # a long VR needs 12 bytes
        (explicit(raw.PIXEL_DATA, b"OB", b"")[:11], False),
        (implicit(PATIENT_NAME, b"")[:7], True),
    ],
    ids=["empty", "tag-only", "short-vr-cut", "long-vr-at-8", "long-vr-at-11", "implicit-cut"],
)
def test_a_truncated_header_raises(data: bytes, is_implicit: bool) -> None:
    with pytest.raises(raw.Truncated):
        raw.parse_header(data, implicit=is_implicit, little=True)
    with pytest.raises(raw.Truncated, match="at byte 3"):
        raw.read_header(io.BytesIO(b"\x00" * 3 + data), 3, implicit=is_implicit, little=True)


@pytest.mark.parametrize(
    ("data", "little", "expected"),
    [
        (b"", True, None),  # the end of the file: no element
        (explicit(PATIENT_NAME, b"PN", b"X "), True, PATIENT_NAME),
        (explicit(PATIENT_NAME, b"PN", b"X ", little=False), False, PATIENT_NAME),
        (explicit(raw.PIXEL_DATA, b"OB", b"")[:8], True, raw.PIXEL_DATA),  # 8 bytes suffice
    ],
)
def test_read_tag(data: bytes, little: bool, expected: int | None) -> None:
    assert raw.read_tag(io.BytesIO(data), 0, little=little) == expected


@pytest.mark.parametrize("cut", [1, 4, 7])
def test_read_tag_raises_when_not_even_a_header_is_left(cut: int) -> None:
    with pytest.raises(raw.Truncated):
        raw.read_tag(io.BytesIO(explicit(PATIENT_NAME, b"PN", b"X ")[:cut]), 0, little=True)


# -- top-level elements -----------------------------------------------------------------------


def _walk(data: bytes, *, is_implicit: bool = False, little: bool = True) -> list[int]:
    return [h.tag for h in raw.elements(io.BytesIO(data), implicit=is_implicit, little=little)]


def _nested_sequence(little: bool, is_implicit: bool) -> bytes:
    """A sequence of undefined length holding an item of undefined length (with a nested
    sequence of undefined length, one defined-length item) and an item of defined length."""

    def element(t: int, vr: bytes, value: bytes, length: int | None = None) -> bytes:
        if is_implicit:
            return implicit(t, value, little=little, length=length)
        return explicit(t, vr, value, little=little, length=length)

    inner_item = item(element(SOP_UID, b"UI", b"1.2.3\x00"), little=little)
    inner = element(SEQUENCE, b"SQ", b"", U) + inner_item + sequence_end(little)
    first = item(element(SOP_UID, b"UI", b"1.2\x00") + inner, little=little, length=U)
    first += item_end(little)
    second = item(element(SOP_UID, b"UI", b"1.4\x00"), little=little)
    return (
        element(PATIENT_NAME, b"PN", b"DOE^J ")
        + element(SEQUENCE, b"SQ", b"", U)
        + first
        + second
        + sequence_end(little)
        + element(PATIENT_ID, b"LO", b"ID01")
    )


@pytest.mark.parametrize("little", [True, False], ids=["little", "big"])
@pytest.mark.parametrize("is_implicit", [False, True], ids=["explicit", "implicit"])
def test_sequences_of_undefined_length_are_walked_over(little: bool, is_implicit: bool) -> None:
    data = _nested_sequence(little, is_implicit)
    assert _walk(data, is_implicit=is_implicit, little=little) == [
        PATIENT_NAME,
        SEQUENCE,
        PATIENT_ID,
    ]


def test_a_defined_length_sequence_and_an_un_of_undefined_length() -> None:
    body = item(implicit(SOP_UID, b"1.2\x00"), length=U) + item_end() + sequence_end()
    data = (
        explicit(SEQUENCE, b"SQ", item(explicit(SOP_UID, b"UI", b"1.2\x00")))
        + explicit(0x00091010, b"UN", body, length=U)  # its items in implicit VR
        + explicit(PATIENT_ID, b"LO", b"ID01")
    )
    assert _walk(data) == [SEQUENCE, 0x00091010, PATIENT_ID]


def test_the_walk_starts_where_asked_and_yields_offsets() -> None:
    data = (
        b"\xff" * 4
        + explicit(PATIENT_NAME, b"PN", b"DOE^J ")
        + explicit(raw.PIXEL_DATA, b"OB", b"\x00\x01")
    )
    headers = list(raw.elements(io.BytesIO(data), 4, implicit=False, little=True))
    assert [(h.tag, h.offset, h.value_offset) for h in headers] == [
        (PATIENT_NAME, 4, 12),
        (raw.PIXEL_DATA, 18, 30),
    ]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param(explicit(PATIENT_ID, b"LO", b"ID01")[:-1], raw.Truncated, id="value-cut"),
        pytest.param(
            explicit(PATIENT_ID, b"LO", b"ID01") + b"\x10\x00", raw.Truncated, id="header-cut"
        ),
        pytest.param(
            explicit(SEQUENCE, b"SQ", b"", length=U) + item(b""), raw.Truncated,
            id="no-sequence-delimiter",
        ),
        pytest.param(
            explicit(SEQUENCE, b"SQ", b"", length=U) + item(b"", length=U)
            + explicit(SOP_UID, b"UI", b"1.2\x00"),
            raw.Truncated, id="no-item-delimiter",
        ),
        pytest.param(
            explicit(SEQUENCE, b"SQ", b"", length=U) + explicit(SOP_UID, b"UI", b"1.2\x00")
            + sequence_end(),
            raw.Malformed, id="element-where-an-item-belongs",
        ),
        pytest.param(
            explicit(SEQUENCE, b"SQ", b"", length=U) + item(b"", length=U) + sequence_end(),
            raw.Malformed, id="item-closed-by-a-sequence-delimiter",
        ),
        pytest.param(
            (explicit(SEQUENCE, b"SQ", b"", length=U) + item(b"", length=U)) * 80,
            raw.Malformed, id="nested-too-deep",
        ),
    ],
)  # fmt: skip
def test_ill_formed_elements_raise(data: bytes, error: type[raw.RawError]) -> None:
    with pytest.raises(error):
        _walk(data)


# -- encapsulated pixel data ------------------------------------------------------------------


def _encapsulated(*items: bytes, little: bool = True, delimiter: int = 0) -> bytes:
    value = b"".join(item(i, little=little) for i in items) + sequence_end(little, delimiter)
    return explicit(raw.PIXEL_DATA, b"OB", b"", little=little, length=U) + value


@pytest.mark.parametrize("little", [True, False], ids=["little", "big"])
def test_fragments_with_a_basic_offset_table(little: bool) -> None:
    offsets = struct.pack("<LL" if little else ">LL", 0, 12)
    data = _encapsulated(offsets, b"\xff\xd8\x01\x02", b"\xff\xd8\x03\x04", little=little)
    header = raw.parse_header(data, implicit=False, little=little)
    found = list(raw.fragments(io.BytesIO(data), header.value_offset, little=little))
    assert [(f.tag, f.length) for f in found] == [
        (raw.ITEM, 8),
        (raw.ITEM, 4),
        (raw.ITEM, 4),
        (raw.SEQUENCE_END, 0),
    ]
    assert data[found[0].value_offset : found[0].end] == offsets
    assert found[-1].value_offset == len(data)
    # and the walk passes over them to the element after
    after = data + explicit(raw.TRAILING_PADDING, b"OB", b"\x00\x00", little=little)
    assert _walk(after, little=little) == [raw.PIXEL_DATA, raw.TRAILING_PADDING]


def test_an_empty_basic_offset_table_and_no_items_at_all() -> None:
    data = _encapsulated(b"", b"\x01\x02")
    assert [f.length for f in raw.fragments(io.BytesIO(data), 12, little=True)] == [0, 2, 0]
    bare = _encapsulated()
    assert [f.tag for f in raw.fragments(io.BytesIO(bare), 12, little=True)] == [raw.SEQUENCE_END]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        pytest.param(_encapsulated(b"", b"\x01\x02")[:-8], raw.Truncated, id="no-delimiter"),
        pytest.param(_encapsulated(b"", b"\x01\x02")[:-11], raw.Truncated, id="fragment-cut"),
        pytest.param(
            explicit(raw.PIXEL_DATA, b"OB", b"", length=U) + item(b"\x01\x02", length=40),
            raw.Truncated, id="fragment-longer-than-the-file",
        ),
        pytest.param(
            explicit(raw.PIXEL_DATA, b"OB", b"", length=U) + item(b"", length=U)
            + sequence_end(),
            raw.Malformed, id="fragment-of-undefined-length",
        ),
        pytest.param(
            explicit(raw.PIXEL_DATA, b"OB", b"", length=U) + item(b"")
            + explicit(PATIENT_ID, b"LO", b"ID01"),
            raw.Malformed, id="element-among-fragments",
        ),
    ],
)  # fmt: skip
def test_ill_formed_fragments_raise(data: bytes, error: type[raw.RawError]) -> None:
    with pytest.raises(error):
        list(raw.fragments(io.BytesIO(data), 12, little=True))
    with pytest.raises(error):
        _walk(data)


def test_a_delimiter_with_a_length_still_ends_the_fragments() -> None:
    # what to make of it is the caller's business (pydicom reads it, writes a zero one)
    data = _encapsulated(b"", b"\x01\x02", delimiter=4)
    assert list(raw.fragments(io.BytesIO(data), 12, little=True))[-1].length == 4


# -- against pydicom --------------------------------------------------------------------------

FILES = [
    "CT_small.dcm",
    "MR_small_bigendian.dcm",
    "rtplan.dcm",  # implicit VR, nested sequences
    "MR_small_RLE.dcm",  # encapsulated
    "JPEG2000.dcm",
    "SC_rgb_jpeg_gdcm.dcm",
    "SC_rgb_rle_2frame.dcm",  # multi-frame, encapsulated
    "nested_priv_SQ.dcm",  # private sequences of undefined length
]


@pytest.mark.parametrize("name", FILES)
def test_the_top_level_elements_are_pydicoms(name: str) -> None:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), name
    data = Path(path).read_bytes()
    ds = dcmread(path)
    start, _ = meta_info(io.BytesIO(data)) or (0, "")
    is_implicit, little = ds.original_encoding
    assert is_implicit is not None
    assert little is not None
    assert _walk(data[start:], is_implicit=is_implicit, little=little) == [int(e.tag) for e in ds]


@given(st.binary(max_size=64), st.booleans(), st.booleans())
def test_any_bytes_walk_or_raise_a_raw_error(data: bytes, is_implicit: bool, little: bool) -> None:
    try:
        for header in raw.elements(io.BytesIO(data), implicit=is_implicit, little=little):
            assert header.offset < len(data)
    except raw.RawError:
        pass
    with contextlib.suppress(raw.RawError):
        list(raw.fragments(io.BytesIO(data), 0, little=little))


def _counted(data: bytes, **budgets: int) -> raw.HeaderSize:
    return raw.header_size(
        io.BytesIO(data),
        implicit=False,
        little=True,
        **({"max_elements": 1000, "max_bytes": 1 << 20} | budgets),
        bulk=lambda h: h.vr == b"OB",
    )


def test_header_size_counts_up_to_pixel_data() -> None:
    header = explicit(0x00080018, b"UI", b"1.2") + explicit(0x00090010, b"OB", bytes(100))
    pixels = explicit(raw.PIXEL_DATA, b"OW", bytes(64)) + explicit(0x7FE10010, b"LO", b"ab")

    assert _counted(header + pixels) == raw.HeaderSize(elements=2, bytes=len(header) - 100)


def test_header_size_stops_at_the_element_budget() -> None:
    padding = explicit(0x00090010, b"LO", b"")

    assert _counted(padding * 10_000, max_elements=10) == raw.HeaderSize(elements=11, bytes=80)


def test_header_size_stops_inside_a_sequence_at_the_byte_budget() -> None:
    padding = explicit(0x00090010, b"LO", b"")
    inside = item(padding * 100_000, length=U) + item_end()
    sequence = explicit(0x00091020, b"SQ", inside, length=U) + sequence_end()

    counted = _counted(sequence, max_bytes=1000)

    assert counted.elements == 1
    assert 1000 < counted.bytes < 1100  # not walked to its end


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (implicit(0x00080005, b"ISO_IR 100"), True),
        (implicit(0x00080000, struct.pack("<L", 400)), True),  # a group length
        (explicit(0x00080005, b"CS", b"ISO_IR 100"), True),
        (explicit(0x00080005, b"CS", b"ISO_IR 100", little=False), True),
        (implicit(0x00080005, b"ISO_IR 100", little=False), True),
        (explicit(0x00020000, b"UL", struct.pack("<L", 200)), True),  # file meta, no preamble
        (explicit(0x00041130, b"CS", b"DISC1 "), True),
        (implicit(0x00081115, b"", length=U), True),  # a sequence of undefined length
        (explicit(0x00080016, b"UI", b"1.2.3"), True),
        (implicit(0x00080005, b"", length=raw.MAX_FIRST_LENGTH + 1), False),
        (implicit(0x00080005, b"", length=0x7FFFFFFF), False),
        (tag(0x00080005) + b"QQ" + b"\xff\xff", False),  # no VR; 4 GiB long as implicit
        (implicit(0x00100010, b"DOE^JOHN"), False),  # group 0010 never comes first
        (bytes(64), False),
        (b"MZ\x90\x00" + bytes(60), False),
        (b"%PDF-1.4\n", False),
        (b"\x08\x00\x05\x00", False),  # shorter than a header
        (b"", False),
    ],
)
def test_starts_data_set(head: bytes, expected: bool) -> None:
    assert raw.starts_data_set(head) is expected


@given(st.binary(max_size=64))
def test_starts_data_set_never_raises(head: bytes) -> None:
    raw.starts_data_set(head)


def _item(body: bytes, *, undefined: bool = False) -> bytes:
    if undefined:
        return (
            struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF)
            + body
            + struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
        )
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(body)) + body


def _el(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHL", tag >> 16, tag & 0xFFFF, len(value)) + value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (_item(_el(0x00100020, b"ID01")), True),
        (_item(_el(0x00100020, b"ID01"), undefined=True) + _item(b""), True),
        # a nested sequence of undefined length, closed
        (
            _item(
                _el(0x00091001, b"")[:-4]
                + struct.pack("<L", 0xFFFFFFFF)
                + _item(b"")
                + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
            ),
            True,
        ),
        (
            struct.pack("<HHL", 0xFFFE, 0xE0DD, 0) + _el(0x00100020, b"ID01"),
            False,
        ),  # a stray delimiter
        (struct.pack("<HHL", 0xFFFE, 0xE000, 0xFFFFFFFF), False),  # an item never closed
        (_item(_el(0x00100020, b"ID01"))[:-2], False),  # an item running past the value
        (_item(struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)), False),  # a delimiter inside an item
    ],
    ids=[
        "item",
        "undefined-item",
        "nested",
        "stray-delimiter",
        "unclosed",
        "overrun",
        "inner-delimiter",
    ],
)
def test_is_item_list(value: bytes, expected: bool) -> None:
    assert raw.is_item_list(value) is expected
