"""Storage commitment (Push Model) against a real Orthanc, which answers with an
N-EVENT-REPORT on an association of its own to our commitment SCP."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from devstack import OrthancProcess, free_port
from importer.pacs import CommitResult, DimsePacs, PacsError, StoreItem, make_pacs_client
from importer.pacs.base import FAILURE_NO_SUCH_INSTANCE
from importer.settings import DicomNode, parse_dimse_url
from tests.integration.pacs.conftest import CALLING_AE

pytestmark = pytest.mark.integration

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def _instances(count: int) -> list[Dataset]:
    path = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(path, str)
    base = dcmread(path)
    base.StudyInstanceUID = generate_uid()
    base.SeriesInstanceUID = generate_uid()
    datasets: list[Dataset] = []
    for _ in range(count):
        ds = copy.deepcopy(base)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        datasets.append(ds)
    return datasets


def _loader(ds: Dataset) -> Callable[[], Dataset]:
    return lambda: ds


def _store(pacs: DimsePacs, datasets: list[Dataset]) -> list[tuple[str, str]]:
    items = [
        StoreItem(
            key=str(ds.SOPInstanceUID),
            sop_class_uid=str(ds.SOPClassUID),
            sop_instance_uid=str(ds.SOPInstanceUID),
            transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
            load=_loader(ds),
        )
        for ds in datasets
    ]
    assert all(outcome.ok for outcome in pacs.store(items))
    return [(item.sop_class_uid, item.sop_instance_uid) for item in items]


@pytest.fixture
def committing(committing_orthanc: OrthancProcess, commitment_port: int) -> DimsePacs:
    return DimsePacs(
        parse_dimse_url(committing_orthanc.dimse_url),
        calling_ae=CALLING_AE,
        timeout=10,
        commitment_port=commitment_port,
        commitment_host="127.0.0.1",
    )


def test_stored_instances_are_committed(committing: DimsePacs) -> None:
    refs = _store(committing, _instances(5))

    result = committing.commit(refs, timeout=20)

    assert isinstance(result, CommitResult)
    assert result.complete
    assert result.committed == {uid for _, uid in refs}
    assert result.failed == {}
    assert len(result.transaction_uids) == 1


def test_instances_the_pacs_does_not_hold_fail_with_their_reason(committing: DimsePacs) -> None:
    refs = _store(committing, _instances(2))
    missing = (CT_IMAGE_STORAGE, generate_uid())

    result = committing.commit([*refs, missing], timeout=20)

    assert not result.complete
    assert result.committed == {uid for _, uid in refs}
    assert result.failed == {missing[1]: FAILURE_NO_SUCH_INSTANCE}


def test_concurrent_commits_share_the_listener(committing: DimsePacs) -> None:
    batches = [_store(committing, _instances(3)) for _ in range(3)]
    results: list[CommitResult] = []
    errors: list[BaseException] = []

    def run(refs: list[tuple[str, str]]) -> None:
        try:
            results.append(committing.commit(refs, timeout=20))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(refs,)) for refs in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert sorted(sorted(r.committed) for r in results) == sorted(
        sorted(uid for _, uid in refs) for refs in batches
    )


def test_make_pacs_client_passes_the_commitment_port(
    committing_orthanc: OrthancProcess, commitment_port: int
) -> None:
    client = make_pacs_client(
        committing_orthanc.dimse_url,
        calling_ae=CALLING_AE,
        timeout=10,
        commitment_port=commitment_port,
        commitment_host="127.0.0.1",
    )
    assert isinstance(client, DimsePacs)
    assert client.commit([], timeout=1).committed == frozenset()


def test_no_report_within_the_timeout(committing_orthanc: OrthancProcess) -> None:
    # No commitment SCP of ours: Orthanc cannot deliver its report.
    pacs = DimsePacs(
        parse_dimse_url(committing_orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10
    )
    refs = _store(pacs, _instances(1))
    started = time.monotonic()
    with pytest.raises(PacsError) as raised:
        pacs.commit(refs, timeout=2)
    assert raised.value.code == "pacs_timeout"
    assert "storage commitment report" in raised.value.message
    assert time.monotonic() - started < 10


def test_a_pacs_that_does_not_know_us_refuses_commitment(orthanc: OrthancProcess) -> None:
    pacs = DimsePacs(parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10)
    refs = _store(pacs, _instances(1))
    with pytest.raises(PacsError) as raised:
        pacs.commit(refs, timeout=5)
    # Orthanc aborts the association of an AE it does not know
    assert raised.value.code == "pacs_rejected"
    assert CALLING_AE in raised.value.message


@pytest.fixture
def same_association_scp() -> Iterator[DicomNode]:
    """A pynetdicom commitment SCP that reports on the requesting association, as some PACS
    do: it commits every instance whose UID does not end in 9."""
    from pynetdicom import AE, evt

    from importer.pacs.commitment import (
        EVENT_ALL_COMMITTED,
        STORAGE_COMMITMENT_INSTANCE,
        STORAGE_COMMITMENT_PUSH,
    )

    def report_later(assoc: Any, request: Dataset) -> None:
        time.sleep(0.2)  # after the N-ACTION response
        info = Dataset()
        info.TransactionUID = request.TransactionUID
        committed: list[Dataset] = []
        failed: list[Dataset] = []
        for ref in request.ReferencedSOPSequence:
            (failed if ref.ReferencedSOPInstanceUID.endswith("9") else committed).append(ref)
        info.ReferencedSOPSequence = committed
        if failed:
            for ref in failed:
                ref.FailureReason = FAILURE_NO_SUCH_INSTANCE
            info.FailedSOPSequence = failed
        assoc.send_n_event_report(
            info,
            EVENT_ALL_COMMITTED if not failed else 2,
            STORAGE_COMMITMENT_PUSH,
            STORAGE_COMMITMENT_INSTANCE,
        )

    def on_action(event: Any) -> tuple[int, None]:
        request = event.action_information
        threading.Thread(target=report_later, args=(event.assoc, request), daemon=True).start()
        return 0x0000, None

    ae = AE(ae_title="SAMEASSOC")
    ae.add_supported_context(STORAGE_COMMITMENT_PUSH)
    port = free_port()
    server = ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_N_ACTION, on_action)]
    )
    assert server is not None
    try:
        yield DicomNode("SAMEASSOC", "127.0.0.1", port)
    finally:
        server.shutdown()


def test_a_report_on_the_requesting_association_is_received(
    same_association_scp: DicomNode,
) -> None:
    pacs = DimsePacs(same_association_scp, calling_ae=CALLING_AE, timeout=10)
    refs = [(CT_IMAGE_STORAGE, "1.2.3.1"), (CT_IMAGE_STORAGE, "1.2.3.9")]

    result = pacs.commit(refs, timeout=10)

    assert result.committed == {"1.2.3.1"}
    assert result.failed == {"1.2.3.9": FAILURE_NO_SUCH_INSTANCE}
