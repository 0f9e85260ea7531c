"""Application logs never hold patient data: a whole journey, every log record checked; and
the paths where a value reaches an error or a warning (a database error quoting the row, a
pydicom warning quoting a header value, a bug whose message names the patient), checked as an
operator reads them: every record formatted, everything the process wrote to stderr."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pydicom
import pytest
from fastapi import Request
from pydicom import dcmread
from sqlalchemy import text

import worker.main
from api.main import create_app
from importer.imports.states import StageName
from importer.logs import JsonFormatter
from importer.media import scan
from importer.pipeline.context import PipelineContext
from importer.pipeline.stages import STAGES, StudyRef
from importer.settings import Settings
from tests.support.app import (
    DEMO_PATIENT,
    Journey,
    make_zip,
    run_worker,
    sample,
    serving,
)

MEDIUM = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm"]


async def test_a_whole_journey_logs_no_patient_data(
    journey: Journey, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([(f"IM{i}", sample(n).read_bytes()) for i, n in enumerate(MEDIUM)])
    )
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, imported["id"], uids, acknowledge=True)).is_success
    await run_worker(settings)
    assert (await journey.get_import(session, imported["id"]))["status"] == "completed"

    secrets = {
        DEMO_PATIENT["name"],
        "ROSSI",
        "MARIO",
        DEMO_PATIENT["id"],
        DEMO_PATIENT["birth_date"],
    }
    for name in MEDIUM:
        ds = dcmread(sample(name), stop_before_pixels=True)
        for value in (ds.get("PatientName"), ds.get("PatientID"), ds.get("PatientBirthDate")):
            if value and len(str(value)) > 3:
                secrets.add(str(value))
                secrets.update(p for p in str(value).split("^") if len(p) > 3)
    assert len(caplog.records) > 20  # the journey did log
    for record in caplog.records:
        text = (
            record.getMessage()
            + " "
            + " ".join(
                str(v) for k, v in vars(record).items() if k not in ("msg", "args", "message")
            )
        )
        leaked = [s for s in secrets if s in text]
        assert not leaked, (record.name, record.getMessage())


# a patient of the medium, not of the order: found in the files only
MEDIUM_PATIENT = "VERDI^GIUSEPPE"
MEDIUM_BIRTH_DATE = "1913-01-10"  # not a DA: pydicom quotes it
SECRETS = ("VERDI", "GIUSEPPE", "1913-01-10")


class Operator(logging.Handler):
    """What the process's log shows: every record that reaches the root logger's handlers,
    as a handler writes it (logging's own formatter, as uvicorn's and arq's handlers use, and
    our JSON lines). Records of a logger that does not propagate (pydicom's) are not here,
    as they are not in production; pytest's caplog sees them too."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.plain = logging.Formatter("%(levelname)s %(name)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.plain.format(record))
        self.lines.append(
            json.dumps(json.loads(JsonFormatter().format(record)), ensure_ascii=False)
        )


@pytest.fixture
def operator(caplog: pytest.LogCaptureFixture) -> Iterator[Operator]:
    caplog.set_level(logging.DEBUG)
    handler = Operator()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def operator_view(operator: Operator, stderr: str) -> str:
    """The log, and what went to stderr (uvicorn's own handler, warnings Python prints)."""
    return "\n".join([stderr, *operator.lines])


def assert_no_secrets(view: str, secrets: Iterable[str]) -> None:
    leaked = sorted({s for s in secrets if s in view})
    assert not leaked, [line for line in view.splitlines() if any(s in line for s in leaked)][:5]


async def test_a_database_error_quoting_the_row_logs_its_sqlstate_and_a_support_id(
    settings: Settings,
    operator: Operator,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """PostgreSQL quotes the failing row ("Failing row contains (…, VERDI^GIUSEPPE, …)"): the
    log says which error (SQLSTATE) and where, the answer gives the support id it is logged
    with."""
    app = create_app(settings)

    async def quoting(request: Request) -> None:  # a bug: an order row without its accession
        async with request.app.state.sessionmaker() as db:
            await db.execute(
                text("INSERT INTO orders (id, patient_id, patient_name) VALUES ('o', 'p', :n)"),
                {"n": MEDIUM_PATIENT},
            )

    app.add_api_route("/api/v1/quoting", quoting, methods=["POST"])
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        response = await http.post("/api/v1/quoting")

    assert_no_secrets(operator_view(operator, capfd.readouterr().err), SECRETS)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "VERDI" not in response.text
    support = re.search(r"Support id: (MI-[0-9A-Z]{8})", error["message"])
    assert support, error["message"]
    logged = [r for r in caplog.records if getattr(r, "support_id", None) == support[1]]
    assert len(logged) == 1
    line = logging.Formatter().format(logged[0])
    assert "POST /api/v1/quoting" in line
    assert "IntegrityError (SQLSTATE 23502)" in line  # not_null_violation
    assert "in quoting\n" in line  # the frames are kept: where it happened


def invalid_vr_medium() -> bytes:
    """CT_small with the medium's patient: the name written with VR CS (pydicom warns
    "Invalid value for VR CS: 'VERDI^GIUSEPPE'") and a birth date that is no DA."""
    out = io.BytesIO()
    with warnings.catch_warnings():  # writing the test's own bad file
        warnings.simplefilter("ignore")
        ds = dcmread(sample("CT_small.dcm"))
        ds.add_new(0x00100010, "CS", MEDIUM_PATIENT)
        ds.add_new(0x00100030, "DA", MEDIUM_BIRTH_DATE)
        ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def quoting_reader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each file the analysis scans also goes through a pydicom call that warns quoting the
    file's patient ("Invalid value for VR DA: '1913-01-10'"): pydicom 3.0 converts the values
    it reads without validating them, so the scan itself does not warn today, but pydicom 2
    did and any pydicom call that validates (an assignment) does."""
    quoted: list[str] = []
    real_scan = scan._scan

    def scan_file(file: Any) -> Any:
        header = pydicom.dcmread(file.path, stop_before_pixels=True, force=True)
        copy = pydicom.Dataset()
        copy.PatientBirthDate = header["PatientBirthDate"].value  # validated: warns
        quoted.append(str(copy.PatientBirthDate))
        return real_scan(file)

    monkeypatch.setattr(scan, "_scan", scan_file)
    return quoted


async def test_pydicom_warnings_quoting_header_values_are_never_shown(
    journey: Journey,
    settings: Settings,
    operator: Operator,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As in production: the process starts with Python's default warning filters, the
    worker starts (its start-up silences pydicom's warnings, once), and pydicom warns quoting
    the medium's patient while the medium (its name written with a wrong VR, its birth date no
    DA) is analysed: nothing of it is printed or logged, and the analysis goes on."""
    quoted = quoting_reader(monkeypatch)
    session = await journey.start()
    medium = make_zip([("DICOM/IM1", invalid_vr_medium())])
    created = await journey.create_import(session, len(medium))
    await journey.upload(session, created["upload_url"], medium)
    with warnings.catch_warnings(record=True) as shown:
        warnings.resetwarnings()  # what a process starts with: UserWarnings shown once
        warnings.simplefilter("default")
        # the headers read in this process, where pydicom is watched (the pool's processes
        # start with the worker's own logging set-up: worker.main.ScanPool)
        await run_worker(settings.model_copy(update={"scan_processes": 0}))
    assert quoted == [MEDIUM_BIRTH_DATE]  # pydicom did warn
    printed = "\n".join(f"{w.category.__name__}: {w.message}" for w in shown)
    assert_no_secrets(printed + operator_view(operator, capfd.readouterr().err), SECRETS)
    analysed = await journey.get_import(session, created["id"])
    assert analysed["status"] == "awaiting_confirmation", analysed


async def test_a_job_error_naming_the_patient_logs_its_type_and_place(
    journey: Journey,
    settings: Settings,
    operator: Operator,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in a stage whose message names the patient: the worker logs the job error with
    the import id, the exception's type and its frames; the import fails as internal_error."""

    async def confused(ctx: PipelineContext, ref: StudyRef) -> None:
        raise RuntimeError(f"no series for {MEDIUM_PATIENT} born {MEDIUM_BIRTH_DATE}")

    monkeypatch.setitem(STAGES, StageName.verify, confused)
    monkeypatch.setattr(worker.main, "MAX_TRIES", 1)  # fail the import at the first error
    session = await journey.start()
    imported = await journey.import_media(
        session, make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
    )
    uids = [s["study_instance_uid"] for s in imported["studies"]]
    assert (await journey.confirm(session, imported["id"], uids, acknowledge=True)).is_success
    await run_worker(settings)

    assert_no_secrets(operator_view(operator, capfd.readouterr().err), SECRETS)
    failed = await journey.get_import(session, imported["id"])
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "internal_error"
    errors = [r for r in caplog.records if r.name == "worker" and r.levelno >= logging.ERROR]
    assert [getattr(r, "import_id", None) for r in errors] == [imported["id"]]
    line = logging.Formatter().format(errors[0])
    assert "RuntimeError" in line
    assert "in confused\n" in line
