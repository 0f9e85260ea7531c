"""The DIMSE adapter against a real Orthanc, and against a pynetdicom SCP that misbehaves."""

from __future__ import annotations

import copy
import dataclasses
import errno
import logging
import socket
import threading
import time
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

from devstack import OrthancProcess, free_port
from importer.dimse import STATUS_SUCCESS, set_nodelay
from importer.media.stamp import FileChanged
from importer.pacs import (
    STATUS_ABORTED,
    STATUS_FILE_CHANGED,
    STATUS_NO_CONTEXT,
    STATUS_SPOOL_UNREADABLE,
    DimsePacs,
    PacsError,
    StoreItem,
    StoreOutcome,
    make_pacs_client,
)
from importer.pacs.dimse import VERIFICATION
from importer.settings import DicomNode, parse_dimse_url
from tests.conftest import REFUSED_SOCKET_WARNINGS
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


@pytest.mark.parametrize("url", ["ftp://pacs", "dimse:/nohost"])
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

    assert sorted(o.key for o in outcomes) == sorted(item.key for item in items)
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
        raise FileNotFoundError(errno.ENOENT, f"{broken_path} vanished")

    def changed() -> Dataset:
        raise FileChanged("the file changed after it was checked")

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
        StoreItem(
            key="changed",
            sop_class_uid=CT_IMAGE_STORAGE,
            sop_instance_uid=generate_uid(),
            transfer_syntax_uid=ExplicitVRLittleEndian,
            load=changed,
            encoded=changed,  # type: ignore[arg-type]
        ),
        after,
    ]

    outcomes = {o.key: o for o in dimse.store(items)}

    assert outcomes["private-class"].status == STATUS_NO_CONTEXT
    assert not outcomes["private-class"].ok
    assert "presentation context" in outcomes["private-class"].message
    assert outcomes["unreadable"].status == STATUS_SPOOL_UNREADABLE
    assert outcomes["changed"].status == STATUS_FILE_CHANGED  # never sent, by either way
    assert "vanished" not in outcomes["unreadable"].message  # no paths or data in messages
    assert outcomes[before.key].ok
    assert outcomes[after.key].ok
    assert orthanc_lookup(orthanc.http_url, after.sop_instance_uid)
    assert not orthanc_lookup(orthanc.http_url, unknown_class.SOPInstanceUID)


def test_objects_of_a_kind_the_pacs_takes_none_of_are_each_reported_not_sent(
    dimse: DimsePacs, orthanc: OrthancProcess
) -> None:
    """Alone on their association, the PACS accepts none of its contexts (pynetdicom aborts
    it): each is answered for as not accepted, and the store goes on; no PACS failure."""
    items = []
    for index in range(5):
        ds = _ct_copy()
        ds.SOPClassUID = "1.2.826.0.1.3680043.8.498.1"  # a private SOP class
        items.append(_item(f"private-{index}", _loader(ds)))

    outcomes = list(dimse.store(items))

    assert sorted(o.key for o in outcomes) == sorted(item.key for item in items)
    assert {o.status for o in outcomes} == {STATUS_NO_CONTEXT}
    assert not any(orthanc_lookup(orthanc.http_url, item.sop_instance_uid) for item in items)


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_store_reuses_one_association_per_worker(
    orthanc: OrthancProcess, caplog: pytest.LogCaptureFixture, parallel: int
) -> None:
    pacs = DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10, parallel=parallel
    )
    items = _memory_items(30)

    with caplog.at_level(logging.INFO, logger="importer.pacs.dimse"):
        outcomes = list(pacs.store(items))

    assert sorted(o.key for o in outcomes) == sorted(i.key for i in items)
    assert all(o.ok and o.status == STATUS_SUCCESS for o in outcomes)
    associations = [r for r in caplog.records if "associating" in r.getMessage()]
    assert len(associations) == parallel
    assert {i.sop_instance_uid for i in items} <= orthanc_sop_instance_uids(orthanc.http_url)


def test_store_outcomes_come_from_several_threads_safely(orthanc: OrthancProcess) -> None:
    # Loaders run in the worker threads: each item is loaded exactly once.
    loads: list[str] = []
    lock = threading.Lock()
    items = []
    for item in _memory_items(40):

        def load(item: StoreItem = item) -> Dataset:
            with lock:
                loads.append(item.key)
            return item.load()

        items.append(dataclasses.replace(item, load=load))
    pacs = DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10, parallel=4
    )

    outcomes = list(pacs.store(items))

    assert sorted(loads) == sorted(i.key for i in items)
    assert len({o.key for o in outcomes}) == len(items) == len(outcomes)


def test_closing_the_store_early_stops_sending(orthanc: OrthancProcess) -> None:
    pacs = DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10, parallel=2
    )
    items = _memory_items(60)
    outcomes = pacs.store(items)
    first = next(outcomes)
    outcomes.close()  # joins the workers: each ends after the instance it is sending
    assert first.ok
    held = orthanc_sop_instance_uids(orthanc.http_url)
    assert len({i.sop_instance_uid for i in items} & held) < len(items)


def test_find_instances(dimse: DimsePacs, orthanc: OrthancProcess) -> None:
    study = _ct_copy()
    uids = set()
    for series in range(2):
        series_uid = generate_uid()
        for _ in range(3):
            ds = copy.deepcopy(study)
            ds.SeriesInstanceUID = series_uid
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            buffer = BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            orthanc_upload(orthanc.http_url, buffer.getvalue())
            uids.add(str(ds.SOPInstanceUID))
        del series

    assert dimse.find_instances(study.StudyInstanceUID) == uids
    assert dimse.find_instances(generate_uid()) == set()
    assert dimse.find_instances("1.2.*") == set()
    assert dimse.find_instances("") == set()


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

    pacs = DimsePacs(node, calling_ae=CALLING_AE, timeout=5, parallel=1)
    outcomes = list(pacs.store(items))

    assert [o.key for o in outcomes] == [i.key for i in items]
    assert all(o.ok for o in outcomes)
    # the second instance was sent again on the new association
    uids = [i.sop_instance_uid for i in items]
    assert received == [uids[0], uids[1], uids[1], uids[2], uids[3]]


@pytest.fixture
def poisoned_scp() -> Iterator[tuple[DicomNode, list[str], str]]:
    """A storage SCP that aborts the association whenever it receives one given instance (as
    PACS do with objects they cannot take, e.g. video)."""
    received: list[str] = []
    poison = generate_uid()

    def on_store(event: Any) -> int:
        uid = str(event.request.AffectedSOPInstanceUID)
        received.append(uid)
        if uid == poison:
            event.assoc.abort()
        return STATUS_SUCCESS

    ae = AE(ae_title="POISONED")
    ae.supported_contexts = AllStoragePresentationContexts
    port = free_port()
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    assert server is not None
    try:
        yield DicomNode("POISONED", "127.0.0.1", port), received, poison
    finally:
        server.shutdown()


def test_an_instance_that_aborts_the_association_does_not_stop_the_others(
    poisoned_scp: tuple[DicomNode, list[str], str],
) -> None:
    node, received, poison = poisoned_scp
    items = _memory_items(5)
    bad = _ct_copy()
    bad.SOPInstanceUID = poison
    items.insert(2, _item("poison", _loader(bad)))

    outcomes = {o.key: o for o in DimsePacs(node, calling_ae=CALLING_AE, timeout=5).store(items)}

    assert set(outcomes) == {i.key for i in items}
    assert outcomes["poison"].status == STATUS_ABORTED
    assert not outcomes["poison"].ok
    assert all(o.ok for key, o in outcomes.items() if key != "poison")
    assert received.count(poison) == 2


@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[0])
@pytest.mark.filterwarnings(REFUSED_SOCKET_WARNINGS[1])
@pytest.mark.usefixtures("refused_sockets")
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
    # Guards the pynetdicom internals set_nodelay relies on (assoc.dul.socket.socket).
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
        set_nodelay(assoc)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        assoc.release()


def test_responses_are_never_taken_by_the_pynetdicom_reactor(
    orthanc: OrthancProcess, caplog: pytest.LogCaptureFixture
) -> None:
    # Guards the pynetdicom internals _hold_reactor relies on (_reactor_checkpoint,
    # _is_paused, dimse.msg_queue): with its reactor running, pynetdicom sometimes takes a
    # C-STORE response itself and the sender waits for the whole DIMSE timeout.
    pacs = DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10, parallel=3
    )
    items = _memory_items(90)

    with caplog.at_level(logging.WARNING):
        outcomes = list(pacs.store(items))

    assert all(o.ok for o in outcomes)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
def silent_scp() -> Iterator[DicomNode]:
    """A storage SCP that takes far longer than the client's timeout to answer."""

    def on_store(event: Any) -> int:
        time.sleep(3)
        return STATUS_SUCCESS

    ae = AE(ae_title="SILENT")
    ae.supported_contexts = AllStoragePresentationContexts
    port = free_port()
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)]
    )
    assert server is not None
    try:
        yield DicomNode("SILENT", "127.0.0.1", port)
    finally:
        server.shutdown()


def test_a_pacs_that_does_not_answer_times_out(silent_scp: DicomNode) -> None:
    pacs = DimsePacs(silent_scp, calling_ae=CALLING_AE, timeout=1, parallel=1)
    outcomes: list[StoreOutcome] = []
    started = time.monotonic()
    with pytest.raises(PacsError) as raised:
        outcomes.extend(pacs.store(_memory_items(3)))
    assert raised.value.code == "pacs_timeout"
    assert "no C-STORE response within 1 s" in raised.value.message
    assert time.monotonic() - started < 15
