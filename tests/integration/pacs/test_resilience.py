"""The DIMSE adapter when the PACS goes away mid-store and comes back: no hang, a clear
error, the unsent instances known, and nothing stored twice."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from devstack import OrthancProcess
from importer.pacs import DimsePacs, PacsError, StoreItem, StoreOutcome
from importer.settings import parse_dimse_url
from tests.conftest import REFUSED_SOCKET_WARNINGS
from tests.integration.pacs.conftest import CALLING_AE
from tests.support.orthanc import orthanc_instance_count, orthanc_sop_instance_uids

pytestmark = [
    pytest.mark.integration,
    pytest.mark.usefixtures("refused_sockets"),
    *(pytest.mark.filterwarnings(f) for f in REFUSED_SOCKET_WARNINGS),
]

COUNT = 300
STOP_AFTER = 60
TIMEOUT_S = 5.0


def _generated(count: int) -> list[Dataset]:
    """``count`` instances of one CT series, in memory, with new UIDs."""
    path = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(path, str)
    base = dcmread(path)
    base.StudyInstanceUID = generate_uid()
    base.SeriesInstanceUID = generate_uid()
    datasets: list[Dataset] = []
    for number in range(count):
        ds = copy.deepcopy(base)
        ds.SOPInstanceUID = generate_uid()
        ds.InstanceNumber = number + 1
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        datasets.append(ds)
    return datasets


def _loader(ds: Dataset) -> Callable[[], Dataset]:
    return lambda: copy.deepcopy(ds)


def _items(datasets: list[Dataset]) -> list[StoreItem]:
    return [
        StoreItem(
            key=str(ds.SOPInstanceUID),
            sop_class_uid=str(ds.SOPClassUID),
            sop_instance_uid=str(ds.SOPInstanceUID),
            transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
            load=_loader(ds),
        )
        for ds in datasets
    ]


def _store_and_crash(
    pacs: DimsePacs, items: list[StoreItem], orthanc: OrthancProcess, outcomes: list[StoreOutcome]
) -> None:
    for outcome in pacs.store(items):
        outcomes.append(outcome)
        if len(outcomes) == STOP_AFTER:
            # a crash while both associations are sending (on SIGTERM, Orthanc would finish
            # the associations under way before it exits)
            orthanc.kill()


@pytest.fixture
def own_orthanc(tmp_path: Path) -> OrthancProcess:
    return OrthancProcess(tmp_path / "orthanc", aet="STOPPED")


def test_stopping_the_pacs_mid_store_and_starting_it_again(own_orthanc: OrthancProcess) -> None:
    items = _items(_generated(COUNT))
    with own_orthanc:
        pacs = DimsePacs(
            parse_dimse_url(own_orthanc.dimse_url),
            calling_ae=CALLING_AE,
            timeout=TIMEOUT_S,
            parallel=2,
        )
        outcomes: list[StoreOutcome] = []
        started = time.monotonic()
        with pytest.raises(PacsError) as raised:
            _store_and_crash(pacs, items, own_orthanc, outcomes)
        elapsed = time.monotonic() - started

        # a clear error, soon: the PACS refuses connections once it is down
        assert raised.value.code in {"pacs_unreachable", "pacs_aborted", "pacs_timeout"}
        assert "not sent" in raised.value.message
        assert elapsed < 4 * TIMEOUT_S + 20
        stored = {o.key for o in outcomes if o.ok}
        assert STOP_AFTER <= len(stored) < COUNT
        assert all(not o.ok for o in outcomes if o.key not in stored)

        # started again: the rest goes, and only the rest
        own_orthanc.start()
        rest = [item for item in items if item.key not in stored]
        second = list(pacs.store(rest))
        assert sorted(o.key for o in second) == sorted(item.key for item in rest)
        assert all(o.ok for o in second), [o for o in second if not o.ok][:3]
        held = orthanc_sop_instance_uids(own_orthanc.http_url)
        assert held == {item.sop_instance_uid for item in items}

        # sending everything again stores nothing twice
        again = list(pacs.store(items))
        assert all(o.ok for o in again)
        assert orthanc_instance_count(own_orthanc.http_url) == COUNT


def test_a_pacs_that_stays_down_fails_fast(own_orthanc: OrthancProcess) -> None:
    items = _items(_generated(5))
    with own_orthanc:
        pacs = DimsePacs(
            parse_dimse_url(own_orthanc.dimse_url), calling_ae=CALLING_AE, timeout=TIMEOUT_S
        )
    # stopped: nothing listens on its port any more
    started = time.monotonic()
    with pytest.raises(PacsError) as raised:
        list(pacs.store(items))
    assert raised.value.code == "pacs_unreachable"
    assert "5 instance(s) not sent" in raised.value.message
    assert time.monotonic() - started < TIMEOUT_S * 2
