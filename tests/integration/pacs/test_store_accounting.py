"""The DIMSE sender answers for every instance it is given: each ends as an outcome, or the store
raises. A worker thread meeting an unexpected error never drops the instance it holds, whatever
the number of associations; an association refused to one extra worker while another sends
everything is no failure."""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Any, cast

import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from devstack import OrthancProcess
from importer.pacs import STATUS_SENDER_FAILED, DimsePacs, PacsError, StoreItem, StoreOutcome
from importer.settings import parse_dimse_url
from tests.integration.pacs.conftest import CALLING_AE
from tests.support.orthanc import orthanc_sop_instance_uids

pytestmark = pytest.mark.integration


def _items(count: int) -> list[StoreItem]:
    """``count`` instances of one CT series, in memory, with new UIDs."""
    path = get_testdata_file("CT_small.dcm", download=False)
    assert isinstance(path, str)
    base = dcmread(path)
    base.StudyInstanceUID = generate_uid()
    base.SeriesInstanceUID = generate_uid()
    items = []
    for number in range(count):
        ds = copy.deepcopy(base)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID

        def load(ds: Dataset = ds) -> Dataset:
            return copy.deepcopy(ds)

        items.append(
            StoreItem(
                key=f"ct-{number}",
                sop_class_uid=str(ds.SOPClassUID),
                sop_instance_uid=str(ds.SOPInstanceUID),
                transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
                load=load,
            )
        )
    return items


@pytest.mark.parametrize("parallel", [1, 2, 3])
def test_an_unexpected_error_in_a_store_worker_loses_no_instance(
    orthanc: OrthancProcess, parallel: int
) -> None:
    items = _items(6)
    # a loader that returns nothing: the worker meets an error nobody planned for (a bug);
    # the last instance, so that with one association there is nothing left after it
    broken = dataclasses.replace(items[-1], load=lambda: cast(Dataset, None))
    items[-1] = broken
    pacs = DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10, parallel=parallel
    )

    outcomes: list[StoreOutcome] = []
    with pytest.raises(PacsError) as raised:
        outcomes.extend(pacs.store(items))

    assert raised.value.code == PacsError.FAILED
    assert "unexpected error" in raised.value.message
    by_key = {o.key: o for o in outcomes}
    assert set(by_key) == {i.key for i in items}  # every instance answered for
    assert (by_key[broken.key].ok, by_key[broken.key].status) == (False, STATUS_SENDER_FAILED)
    assert all(by_key[i.key].ok for i in items[:-1])
    held = orthanc_sop_instance_uids(orthanc.http_url)
    assert {i.sop_instance_uid for i in items[:-1]} <= held
    assert broken.sop_instance_uid not in held


def test_an_extra_association_refused_while_another_sends_everything_is_a_success(
    orthanc: OrthancProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PACS refuses the second association (too many at once, say): that worker gives its
    instance back and stops; the other sends everything, and the store succeeds."""
    associate = DimsePacs._associate
    calls: list[str] = []
    lock = threading.Lock()

    def second_refused(self: DimsePacs, *args: Any, **kwargs: Any) -> Any:
        with lock:
            calls.append("associate")
            refused = len(calls) == 2
        if refused:
            raise PacsError(PacsError.REJECTED, "the PACS rejected the association: too many")
        return associate(self, *args, **kwargs)

    monkeypatch.setattr(DimsePacs, "_associate", second_refused)
    pacs = DimsePacs(
        parse_dimse_url(orthanc.dimse_url), calling_ae=CALLING_AE, timeout=10, parallel=2
    )
    items = _items(40)

    outcomes = list(pacs.store(items))  # no PacsError

    assert len(calls) == 2  # the second worker did ask, and was refused
    assert sorted(o.key for o in outcomes) == sorted(i.key for i in items)
    assert all(o.ok for o in outcomes)
    assert {i.sop_instance_uid for i in items} <= orthanc_sop_instance_uids(orthanc.http_url)
