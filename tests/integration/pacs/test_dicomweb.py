"""The DICOMweb adapter (QIDO-RS, STOW-RS) against a real Orthanc with Debian's DICOMweb
plugin."""

from __future__ import annotations

import copy
import errno
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from pydicom import Dataset, dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from devstack import OrthancProcess, free_port
from importer.pacs import (
    STATUS_SPOOL_UNREADABLE,
    DicomWebPacs,
    PacsError,
    StoreItem,
    make_pacs_client,
)
from tests.support.orthanc import orthanc_instance_file, orthanc_sop_instance_uids, orthanc_upload

pytestmark = pytest.mark.integration

FILES = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "SC_rgb_rle.dcm", "rtplan.dcm")


def _testdata(name: str) -> Path:
    path = get_testdata_file(name, download=False)
    assert isinstance(path, str), f"pydicom test file {name} is missing"
    return Path(path)


def _fresh(name: str, study_uid: str | None = None) -> Dataset:
    ds = dcmread(_testdata(name))
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def _loader(ds: Dataset) -> Callable[[], Dataset]:
    return lambda: copy.deepcopy(ds)


def _item(key: str, ds: Dataset) -> StoreItem:
    return StoreItem(
        key=key,
        sop_class_uid=str(ds.SOPClassUID),
        sop_instance_uid=str(ds.SOPInstanceUID),
        transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID),
        load=_loader(ds),
    )


def _bytes(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.fixture
def web(dicomweb_orthanc: OrthancProcess) -> DicomWebPacs:
    return DicomWebPacs(dicomweb_orthanc.dicomweb_url, timeout=20, batch_bytes=64 * 1024)


def test_echo_and_make_pacs_client(dicomweb_orthanc: OrthancProcess) -> None:
    url = dicomweb_orthanc.dicomweb_url.replace("http://", "dicomweb://")
    client = make_pacs_client(url, calling_ae="UNUSED", timeout=10)
    assert isinstance(client, DicomWebPacs)
    client.echo()


def test_find_studies_with_qido(web: DicomWebPacs, dicomweb_orthanc: OrthancProcess) -> None:
    ds = _fresh("CT_small.dcm")
    ds.PatientID = "QIDO-ID-7"
    orthanc_upload(dicomweb_orthanc.http_url, _bytes(ds))

    found = web.find_studies([ds.StudyInstanceUID, generate_uid(), "1.2.*", ""])

    assert set(found) == {ds.StudyInstanceUID}
    study = found[ds.StudyInstanceUID]
    assert study.patient_id == "QIDO-ID-7"
    assert study.instance_count == 1
    assert web.find_studies([]) == {}


def test_find_instances_with_qido(web: DicomWebPacs, dicomweb_orthanc: OrthancProcess) -> None:
    study_uid = generate_uid()
    datasets = [_fresh("CT_small.dcm", study_uid) for _ in range(4)]
    for ds in datasets:
        orthanc_upload(dicomweb_orthanc.http_url, _bytes(ds))

    assert web.find_instances(study_uid) == {str(ds.SOPInstanceUID) for ds in datasets}
    assert web.find_instances(generate_uid()) == set()
    assert web.find_instances("1.2.*") == set()


def test_store_with_stow_in_batches(web: DicomWebPacs, dicomweb_orthanc: OrthancProcess) -> None:
    datasets = {name: _fresh(name) for name in FILES}
    # several CT instances: more than one 64 kB batch
    for index in range(6):
        datasets[f"ct-{index}"] = _fresh("CT_small.dcm")

    def unreadable() -> Dataset:
        raise OSError(errno.EIO, "gone")  # the spool failing

    items = [_item(key, ds) for key, ds in datasets.items()]
    items.append(
        StoreItem(
            key="unreadable",
            sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
            sop_instance_uid=generate_uid(),
            transfer_syntax_uid="1.2.840.10008.1.2.1",
            load=unreadable,
        )
    )

    outcomes = {o.key: o for o in web.store(items)}

    assert set(outcomes) == {item.key for item in items}
    assert outcomes["unreadable"].status == STATUS_SPOOL_UNREADABLE  # worth a retry
    for key, ds in datasets.items():
        assert outcomes[key].ok, outcomes[key]
        assert outcomes[key].status == 0
        stored = dcmread(
            BytesIO(orthanc_instance_file(dicomweb_orthanc.http_url, ds.SOPInstanceUID))
        )
        assert stored.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
        assert stored.get("PixelData") == ds.get("PixelData")


def test_store_twice_keeps_one_copy(web: DicomWebPacs, dicomweb_orthanc: OrthancProcess) -> None:
    datasets = [_fresh("CT_small.dcm") for _ in range(3)]
    items = [_item(str(i), ds) for i, ds in enumerate(datasets)]
    first = list(web.store(items))
    second = list(web.store(items))
    assert all(o.ok for o in first + second), second
    held = orthanc_sop_instance_uids(dicomweb_orthanc.http_url)
    assert {str(ds.SOPInstanceUID) for ds in datasets} <= held
    response = httpx.get(
        f"{dicomweb_orthanc.dicomweb_url}/studies/{datasets[0].StudyInstanceUID}/instances",
        timeout=10,
    )
    assert len(response.json()) == 1  # each study here holds one instance, once


def test_a_refused_instance_is_reported_per_instance(
    web: DicomWebPacs, dicomweb_orthanc: OrthancProcess
) -> None:
    good = _fresh("CT_small.dcm")
    broken = _fresh("CT_small.dcm")
    del broken.StudyInstanceUID  # Orthanc cannot index it

    outcomes = {o.key: o for o in web.store([_item("good", good), _item("broken", broken)])}

    assert outcomes["good"].ok
    assert outcomes["good"].transfer_syntax == good.file_meta.TransferSyntaxUID
    assert not outcomes["broken"].ok
    assert outcomes["broken"].status == 0xC000  # from the Failed SOP Sequence
    assert outcomes["broken"].message == "Failure 0xC000 (STOW-RS)"


def test_unreachable_dicomweb_pacs() -> None:
    web = DicomWebPacs(f"http://127.0.0.1:{free_port()}/dicom-web", timeout=3)
    with pytest.raises(PacsError) as raised:
        web.echo()
    assert raised.value.code == "pacs_unreachable"
    with pytest.raises(PacsError) as raised:
        list(web.store([_item("x", _fresh("CT_small.dcm"))]))
    assert raised.value.code == "pacs_unreachable"
