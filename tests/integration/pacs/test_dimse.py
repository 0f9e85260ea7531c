"""The DIMSE adapter against a real Orthanc, and against a pynetdicom SCP that misbehaves."""

from __future__ import annotations

import copy
import logging
import socket
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid
from pynetdicom import AE, AllStoragePresentationContexts, build_context, evt

from importer.pacs import (
    STATUS_LOAD_FAILED,
    STATUS_NO_CONTEXT,
    DimsePacs,
    PacsError,
    StoreItem,
    make_pacs_client,
)
from importer.pacs.dimse import (
    MAX_CONTEXTS,
    STATUS_SUCCESS,
    VERIFICATION,
    _set_nodelay,
    plan_associations,
    proposed_syntaxes,
)
from importer.settings import DicomNode, parse_dimse_url
from scripts.services import OrthancProcess, free_port
from tests.support.orthanc import (
    orthanc_lookup,
    orthanc_sop_instance_uids,
    orthanc_upload,
)

pytestmark = pytest.mark.integration

CALLING_AE = "PYTEST"
MODALITY_WORKLIST_FIND = "1.2.840.10008.5.1.4.31"
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
# Test files pydicom ships: several SOP classes and transfer syntaxes (explicit, implicit,
# deflated, big endian, JPEG 2000, RLE).
STORED_FILES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "JPEG2000.dcm",
    "rtplan.dcm",
    "reportsi.dcm",
    "image_dfl.dcm",
    "SC_rgb_rle.dcm",
    "MR_small_bigendian.dcm",
)


def _testdata(name: str) -> Path:
    path = get_testdata_file(name)
    assert isinstance(path, str), f"pydicom test file {name} is missing"
    return Path(path)


def _item(
    key: str, load: Callable[[], Dataset], *, transfer_syntax: str | None = None
) -> StoreItem:
    ds = load()
    return StoreItem(
        key=key,
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        transfer_syntax_uid=(
            transfer_syntax
            if transfer_syntax is not None
            else str(ds.file_meta.get("TransferSyntaxUID", ""))
        ),
        load=load,
    )


def _file_item(name: str) -> StoreItem:
    path = _testdata(name)
    return _item(name, lambda: dcmread(path))


def _ct_copy(**attributes: str) -> Dataset:
    """CT_small with fresh UIDs (and the given attributes)."""
    ds = dcmread(_testdata("CT_small.dcm"))
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def _loader(ds: Dataset) -> Callable[[], Dataset]:
    return lambda: ds


def _memory_items(count: int) -> list[StoreItem]:
    """``count`` instances of one CT series, built in memory."""
    base = _ct_copy()
    items = []
    for index in range(count):
        ds = copy.deepcopy(base)
        ds.SOPInstanceUID = generate_uid()
        items.append(_item(f"ct-{index}", _loader(ds)))
    return items


@pytest.fixture
def dimse(orthanc: OrthancProcess) -> DimsePacs:
    # Named apart from tests/integration/conftest.py's ``pacs`` (the Orthanc process).
    return DimsePacs(parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10)


def _closed_port_pacs() -> DimsePacs:
    return DimsePacs(
        DicomNode("NOBODY", "127.0.0.1", free_port()), calling_ae=CALLING_AE, timeout=5
    )


# -- verification and query ---------------------------------------------------------------


def test_echo(dimse: DimsePacs) -> None:
    dimse.echo()


def test_make_pacs_client_builds_a_dimse_client(orthanc: OrthancProcess) -> None:
    client = make_pacs_client(orthanc.dimse_url, calling_ae=CALLING_AE, timeout=10)
    assert isinstance(client, DimsePacs)
    client.echo()


@pytest.mark.parametrize("url", ["dicomweb://127.0.0.1:8042/dicom-web", "ftp://pacs"])
def test_make_pacs_client_refuses_other_schemes(url: str) -> None:
    with pytest.raises(PacsError) as raised:
        make_pacs_client(url, calling_ae=CALLING_AE, timeout=10)
    assert raised.value.code == "pacs_unsupported"


def test_find_studies_unknown_uid(dimse: DimsePacs) -> None:
    assert dimse.find_studies([generate_uid()]) == {}
    assert dimse.find_studies([]) == {}


def test_find_studies_returns_patient_id_held_by_pacs(
    dimse: DimsePacs, orthanc: OrthancProcess
) -> None:
    ds = _ct_copy(PatientID="PACS-ID-42")
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    orthanc_upload(orthanc.http_url, buffer.getvalue())
    unknown = generate_uid()

    found = dimse.find_studies([ds.StudyInstanceUID, unknown, ds.StudyInstanceUID])

    assert set(found) == {ds.StudyInstanceUID}
    study = found[ds.StudyInstanceUID]
    assert study.study_instance_uid == ds.StudyInstanceUID
    assert study.patient_id == "PACS-ID-42"
    assert study.instance_count == 1


def test_find_studies_never_sends_wildcards(dimse: DimsePacs) -> None:
    assert dimse.find_studies(["*", "1.2.?"]) == {}


# -- storage --------------------------------------------------------------------------------


def test_store_pydicom_test_files(dimse: DimsePacs, orthanc: OrthancProcess) -> None:
    items = [_file_item(name) for name in STORED_FILES if name != "MR_small_bigendian.dcm"]
    # MR_small_bigendian shares MR_small's SOP Instance UID: send it as another instance.
    big_endian = dcmread(_testdata("MR_small_bigendian.dcm"))
    big_endian.SOPInstanceUID = generate_uid()
    items.append(_item("MR_small_bigendian.dcm", lambda: big_endian))
    # Datasets read from files without file meta: the transfer syntax comes from the item,
    # or, when the item does not know it either, from how the dataset was read.
    no_meta = dcmread(_testdata("MR_small_implicit.dcm"))
    no_meta.SOPInstanceUID = generate_uid()
    no_meta.file_meta = FileMetaDataset()
    items.append(_item("no-meta", lambda: no_meta, transfer_syntax=ImplicitVRLittleEndian))
    unknown_syntax = _ct_copy()
    unknown_syntax.file_meta = FileMetaDataset()
    items.append(_item("no-meta-no-syntax", lambda: unknown_syntax, transfer_syntax=""))

    outcomes = list(dimse.store(items))

    assert [o.key for o in outcomes] == [item.key for item in items]
    for outcome in outcomes:
        assert (outcome.ok, outcome.status, outcome.warning) == (True, STATUS_SUCCESS, False), (
            outcome
        )
    held = orthanc_sop_instance_uids(orthanc.http_url)
    assert {item.sop_instance_uid for item in items} <= held


def test_store_reports_unaccepted_context_and_unreadable_instance(
    dimse: DimsePacs, orthanc: OrthancProcess
) -> None:
    before, after = _memory_items(2)
    unknown_class = _ct_copy()
    unknown_class.SOPClassUID = "1.2.826.0.1.3680043.8.498.1"  # a private SOP class
    broken_path = _testdata("CT_small.dcm")

    def unreadable() -> Dataset:
        raise OSError(f"{broken_path} vanished")

    items = [
        before,
        _item("private-class", lambda: unknown_class),
        StoreItem(
            key="unreadable",
            sop_class_uid=CT_IMAGE_STORAGE,
            sop_instance_uid=generate_uid(),
            transfer_syntax_uid=ExplicitVRLittleEndian,
            load=unreadable,
        ),
        after,
    ]

    outcomes = {o.key: o for o in dimse.store(items)}

    assert outcomes["private-class"].status == STATUS_NO_CONTEXT
    assert not outcomes["private-class"].ok
    assert "presentation context" in outcomes["private-class"].message
    assert outcomes["unreadable"].status == STATUS_LOAD_FAILED
    assert "vanished" not in outcomes["unreadable"].message  # no paths or data in messages
    assert outcomes[before.key].ok
    assert outcomes[after.key].ok
    assert orthanc_lookup(orthanc.http_url, after.sop_instance_uid)
    assert not orthanc_lookup(orthanc.http_url, unknown_class.SOPInstanceUID)


def test_store_many_instances_on_one_association(
    dimse: DimsePacs, orthanc: OrthancProcess, caplog: pytest.LogCaptureFixture
) -> None:
    items = _memory_items(20)

    with caplog.at_level(logging.INFO, logger="importer.pacs.dimse"):
        outcomes = list(dimse.store(items))

    assert all(o.ok for o in outcomes)
    associations = [r for r in caplog.records if r.getMessage().startswith("C-STORE: associating")]
    assert len(associations) == 1
    assert {i.sop_instance_uid for i in items} <= orthanc_sop_instance_uids(orthanc.http_url)


def test_store_twice_is_harmless(dimse: DimsePacs, orthanc: OrthancProcess) -> None:
    # Jobs may run twice: sending an instance the PACS already holds must not fail.
    items = _memory_items(3)
    first = list(dimse.store(items))
    second = list(dimse.store(items))
    assert all(o.ok for o in first + second), second
    assert {i.sop_instance_uid for i in items} <= orthanc_sop_instance_uids(orthanc.http_url)


@pytest.fixture
def aborting_scp() -> Iterator[tuple[DicomNode, list[str]]]:
    """A storage SCP that aborts the association on the second C-STORE it receives."""
    received: list[str] = []

    def on_store(event: Any) -> int:
        received.append(str(event.request.AffectedSOPInstanceUID))
        if len(received) == 2:
            event.assoc.abort()
        return STATUS_SUCCESS

    ae = AE(ae_title="ABORTER")
    ae.supported_contexts = AllStoragePresentationContexts
    port = free_port()
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    assert server is not None
    try:
        yield DicomNode("ABORTER", "127.0.0.1", port), received
    finally:
        server.shutdown()


def test_store_reassociates_once_after_an_abort(
    aborting_scp: tuple[DicomNode, list[str]],
) -> None:
    node, received = aborting_scp
    items = _memory_items(4)

    outcomes = list(DimsePacs(node, calling_ae=CALLING_AE, timeout=5).store(items))

    assert [o.key for o in outcomes] == [i.key for i in items]
    assert all(o.ok for o in outcomes)
    # the second instance was sent again on the new association
    uids = [i.sop_instance_uid for i in items]
    assert received == [uids[0], uids[1], uids[1], uids[2], uids[3]]


# pynetdicom 3.0.4 leaves the socket of a refused connection unclosed (it is closed when
# collected); the ResourceWarning is not ours.
@pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")
def test_unreachable_pacs_raises() -> None:
    pacs = _closed_port_pacs()
    with pytest.raises(PacsError) as raised:
        pacs.echo()
    assert raised.value.code == "pacs_unreachable"
    with pytest.raises(PacsError) as raised:
        pacs.find_studies([generate_uid()])
    assert raised.value.code == "pacs_unreachable"
    with pytest.raises(PacsError) as raised:
        list(pacs.store(_memory_items(1)))
    assert raised.value.code == "pacs_unreachable"


def test_nodelay_is_set_on_the_association_socket(orthanc: OrthancProcess) -> None:
    # Guards the pynetdicom internals _set_nodelay relies on (assoc.dul.socket.socket).
    ae = AE(ae_title=CALLING_AE)
    assoc = ae.associate(
        "127.0.0.1",
        orthanc.dicom_port,
        contexts=[build_context(VERIFICATION)],
        ae_title=orthanc.aet,
    )
    assert assoc.is_established
    try:
        assert assoc.dul.socket is not None
        sock = assoc.dul.socket.socket
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        _set_nodelay(assoc)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        assoc.release()


# -- association planning (pure) ------------------------------------------------------------


def test_proposed_syntaxes() -> None:
    explicit, implicit = str(ExplicitVRLittleEndian), str(ImplicitVRLittleEndian)
    assert proposed_syntaxes(explicit) == [explicit, implicit]
    assert proposed_syntaxes(implicit) == [implicit, explicit]
    deflated = "1.2.840.10008.1.2.1.99"
    assert proposed_syntaxes(deflated) == [deflated, explicit, implicit]
    assert proposed_syntaxes("1.2.840.10008.1.2.4.91") == ["1.2.840.10008.1.2.4.91"]
    assert proposed_syntaxes("1.2.840.10008.1.2.2") == ["1.2.840.10008.1.2.2"]
    assert proposed_syntaxes("") == [explicit, implicit]


def test_plan_splits_beyond_128_contexts() -> None:
    def fake(index: int, sop_class: str) -> StoreItem:
        return StoreItem(
            key=str(index),
            sop_class_uid=sop_class,
            sop_instance_uid=f"1.2.3.{index}",
            transfer_syntax_uid=ExplicitVRLittleEndian,
            load=Dataset,
        )

    items = [fake(i, f"1.2.826.0.1.3680043.8.498.{i % 200}") for i in range(400)]
    plans = plan_associations(items)
    assert [len(contexts) for contexts, _ in plans] == [MAX_CONTEXTS, 200 - MAX_CONTEXTS]
    assert sorted(int(i.key) for _, batch in plans for i in batch) == list(range(400))
    for contexts, batch in plans:
        proposed = {str(cx.abstract_syntax) for cx in contexts}
        assert {i.sop_class_uid for i in batch} == proposed
    assert len(plan_associations(items[:10])) == 1
