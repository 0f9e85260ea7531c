"""The audit trail also goes to a hospital's audit repository as DICOM audit messages over
syslog (IHE ATNA), once sealed: over TLS (RFC 5425) to a repository whose certificate we
check, and what it missed while it was down or untrusted is sent once it is back, in order."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest

from devstack import free_port
from importer.audit.atna import EVENTS
from importer.audit.service import Actor, record
from importer.db import make_engine, make_sessionmaker, transaction
from importer.settings import Settings
from tests.support.app import DEMO_PATIENT, Journey, make_zip, run_worker, sample


def attr(node: ET.Element | None, name: str) -> str | None:
    assert node is not None
    return node.get(name)


async def test_audit_events_reach_a_syslog_audit_repository(
    journey: Journey, settings: Settings
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as repository:
        repository.bind(("127.0.0.1", 0))
        repository.settimeout(5)
        port = repository.getsockname()[1]
        atna = settings.model_copy(update={"atna_syslog": f"udp://127.0.0.1:{port}"})

        session = await journey.start()
        imported = await journey.import_media(
            session, make_zip([("IM1", sample("CT_small.dcm").read_bytes())])
        )
        uid = imported["studies"][0]["study_instance_uid"]
        assert (await journey.confirm(session, imported["id"], [uid], acknowledge=True)).is_success
        await run_worker(settings)
        await run_worker(atna, reconcile=True)  # the sealer sends what it chains

        frames = []
        while True:
            try:
                frames.append(repository.recv(65535).decode())
            except TimeoutError:
                break
    assert len(frames) >= 8
    assert all(f.startswith("<85>1 ") and " IHE+RFC-3881 " in f for f in frames)
    messages = [ET.fromstring(f.split("\ufeff", 1)[1]) for f in frames]
    by_type = {
        attr(m.find("EventIdentification/EventTypeCode"), "originalText"): m for m in messages
    }
    stored = by_type["import.completed"]
    assert attr(stored.find("EventIdentification/EventID"), "csd-code") == "110104"
    objects = {
        o.get("ParticipantObjectTypeCode"): o.get("ParticipantObjectID")
        for o in stored.iter("ParticipantObjectIdentification")
    }
    assert objects["1"] == DEMO_PATIENT["id"]
    confirmed = by_type["import.confirmed"]
    assert "u-tech-1" in [p.get("UserID") for p in confirmed.iter("ActiveParticipant")]
    study_ids = {
        o.get("ParticipantObjectID") for o in confirmed.iter("ParticipantObjectIdentification")
    }
    assert uid in study_ids


# --- over TLS (RFC 5425), and what the repository missed sent again ------------------------------


@dataclass(frozen=True)
class Pki:
    """Throw-away certificates (openssl CLI): our CA, a stranger's CA, and their leaves."""

    ca: Path  # the hospital's CA: IMPORTER_ATNA_CA_FILE
    server: tuple[Path, Path]  # the repository, 127.0.0.1, from our CA
    client: tuple[Path, Path]  # us, from our CA
    stranger: tuple[Path, Path]  # 127.0.0.1 too, from another CA
    misnamed: tuple[Path, Path]  # from our CA, for another host name


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "2", "-subj", f"/CN={name}", "-keyout", key, "-out", cert,
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def _leaf(
    folder: Path, name: str, ca: tuple[Path, Path], san: str, usage: str
) -> tuple[Path, Path]:
    cert, key, csr, ext = (folder / f"{name}.{s}" for s in ("crt", "key", "csr", "ext"))
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-subj", f"/CN={name}", "-keyout", key, "-out", csr,
    )  # fmt: skip
    ext.write_text(
        f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage={usage}\nsubjectAltName={san}\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
        "-days", "2", "-extfile", ext, "-out", cert,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ours, theirs = _ca(folder, "hospital-ca"), _ca(folder, "stranger-ca")
    return Pki(
        ca=ours[0],
        server=_leaf(folder, "audit-repository", ours, "IP:127.0.0.1", "serverAuth"),
        client=_leaf(folder, "pacs-media-import", ours, "DNS:importer.test", "clientAuth"),
        stranger=_leaf(folder, "stranger", theirs, "IP:127.0.0.1", "serverAuth"),
        misnamed=_leaf(folder, "elsewhere", ours, "DNS:elsewhere.example", "serverAuth"),
    )


class Repository:
    """An audit repository speaking syslog over TLS (RFC 5425), or over plain TCP without
    ``cert`` (RFC 6587), octet-counted frames, on 127.0.0.1, in a thread; it keeps the messages
    it received, in order, and the client certificates it was shown. ``client_ca`` set: it
    asks for a client certificate."""

    def __init__(
        self,
        port: int,
        cert: tuple[Path, Path] | None,
        *,
        client_ca: Path | None = None,
        verdict_delay_s: float = 0,
        silent: bool = False,
    ) -> None:
        self.verdict_delay_s = verdict_delay_s
        self.silent = silent  # a refusal drops the connection without an alert
        self.context: ssl.SSLContext | None = None
        if cert is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(*cert)
        if self.context is not None and client_ca is not None:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(client_ca)
        self.messages: list[str] = []
        self.clients: list[str] = []
        self.attempts = 0
        self.changed = threading.Condition()
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.listener.settimeout(0.05)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Repository:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.listener.close()

    def wait(self, until: Callable[[], bool]) -> None:
        with self.changed:
            assert self.changed.wait_for(until, timeout=10)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                if self.stopping.is_set():  # connections made before the stop are read first
                    return
                continue
            with conn:
                self._read(conn)

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        buffer = b""
        try:
            for chunk in self._plain(conn) if self.context is None else self._tls(conn):
                buffer += chunk
                while b" " in buffer:
                    length, _, rest = buffer.partition(b" ")
                    if len(rest) < int(length):
                        break
                    self._note(message=rest[: int(length)].decode())
                    buffer = rest[int(length) :]
        except (ssl.SSLError, OSError):
            pass  # refused in the handshake, or the client went away
        self._note(attempt=True)

    def _plain(self, conn: socket.socket) -> Iterator[bytes]:
        while chunk := conn.recv(65536):
            yield chunk

    def _tls(self, conn: socket.socket) -> Iterator[bytes]:
        """TLS through memory buffers, so that the verdict on the client's certificate can come
        late, as across a slow network (``verdict_delay_s``: the client's last handshake
        flight is read that much later; TLS 1.3 lets the client send before it), and a
        refusal can be a dropped connection without an alert (``silent``)."""
        assert self.context is not None
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.context.wrap_bio(incoming, outgoing, server_side=True)

        def exchange(delay_s: float = 0) -> bool:
            conn.sendall(outgoing.read())
            time.sleep(delay_s)  # the network's latency, not a wait for an event
            data = conn.recv(65536)
            incoming.write(data)
            return bool(data)

        flights = 0
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                flights += 1
                if not exchange(self.verdict_delay_s if flights == 3 else 0):
                    return
            except ssl.SSLError:
                if not self.silent:
                    conn.sendall(outgoing.read())  # the alert
                raise
        conn.sendall(outgoing.read())  # the session tickets: the client is accepted
        subject = cast(
            Sequence[Sequence[tuple[str, str]]], (tls.getpeercert() or {}).get("subject", ())
        )
        self.clients += [v for rdn in subject for k, v in rdn if k == "commonName"]
        while True:
            try:
                data = tls.read(65536)
            except ssl.SSLWantReadError:
                if not exchange():
                    return
                continue
            except ssl.SSLZeroReturnError:
                data = b""
            if not data:  # the client's close_notify: answer it
                with contextlib.suppress(ssl.SSLError):
                    tls.unwrap()
                conn.sendall(outgoing.read())
                return
            yield data

    def _note(self, *, message: str | None = None, attempt: bool = False) -> None:
        with self.changed:
            if message is not None:
                self.messages.append(message)
            self.attempts += attempt
            self.changed.notify_all()


# real actions (``record`` refuses any other), distinct so that each message is told apart
FIRST, SECOND, THIRD, FOURTH, FIFTH = list(EVENTS)[:5]


def event_types(messages: list[str]) -> list[str | None]:
    return [
        attr(ET.fromstring(m.split("\ufeff", 1)[1]).find("EventIdentification/EventTypeCode"),
             "originalText")
        for m in messages
    ]  # fmt: skip


async def audit(settings: Settings, *actions: str) -> None:
    """Events of the trail, recorded as a service records them (sealed by the next tick)."""
    engine = make_engine(settings.effective_database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as db:
            for action in actions:
                await record(db, action=action, actor=Actor(id="u-auditor"), patient_id="P-1")
    finally:
        await engine.dispose()


def tls_settings(settings: Settings, port: int, pki: Pki, **more: object) -> Settings:
    return settings.model_copy(
        update={"atna_syslog": f"tls://127.0.0.1:{port}", "atna_ca_file": pki.ca, **more}
    )


async def test_audit_messages_go_over_tls_to_a_repository_that_checks_our_certificate(
    settings: Settings, pki: Pki
) -> None:
    port = free_port()
    atna = tls_settings(
        settings, port, pki, atna_cert_file=pki.client[0], atna_key_file=pki.client[1]
    )
    await audit(settings, FIRST, SECOND)
    with Repository(port, pki.server, client_ca=pki.ca) as repository:
        await run_worker(atna, reconcile=True)
        repository.wait(lambda: len(repository.messages) >= 2)
    assert event_types(repository.messages) == [FIRST, SECOND]
    assert all(" IHE+RFC-3881 [meta sequenceId=" in m for m in repository.messages)
    assert repository.clients == ["pacs-media-import"]


@pytest.mark.parametrize(
    "refused",
    [
        "certificate from another CA",
        "certificate for another host",
        "our certificate missing",
        "our certificate missing, refused without an alert",
    ],
)
async def test_a_repository_we_cannot_trust_gets_nothing_and_a_trusted_one_everything(
    settings: Settings, pki: Pki, refused: str
) -> None:
    port = free_port()
    mutual = {"atna_cert_file": pki.client[0], "atna_key_file": pki.client[1]}
    atna = tls_settings(settings, port, pki, **mutual)
    untrusted, client_ca = {
        "certificate from another CA": (pki.stranger, None),
        "certificate for another host": (pki.misnamed, None),
        "our certificate missing": (pki.server, pki.ca),
        "our certificate missing, refused without an alert": (pki.server, pki.ca),
    }[refused]
    tried = tls_settings(settings, port, pki) if "missing" in refused else atna
    await audit(settings, FIRST, SECOND)
    # a repository that refuses our certificate decides late: TLS 1.3 lets us send before
    with Repository(
        port, untrusted, client_ca=client_ca, verdict_delay_s=0.3, silent="alert" in refused
    ) as impostor:
        await run_worker(tried, reconcile=True)
        impostor.wait(lambda: impostor.attempts >= 1)
    assert impostor.messages == []

    await audit(settings, THIRD)
    with Repository(port, pki.server, client_ca=pki.ca) as repository:
        await run_worker(atna, reconcile=True)  # the tick after the certificate is fixed
        repository.wait(lambda: len(repository.messages) >= 3)
        await run_worker(atna, reconcile=True)  # nothing new: nothing sent again
    assert event_types(repository.messages) == [FIRST, SECOND, THIRD]


@pytest.mark.parametrize("scheme", ["tls", "tcp"])
async def test_a_repository_down_for_a_while_gets_what_it_missed_in_order_once(
    settings: Settings, pki: Pki, scheme: str
) -> None:
    port = free_port()
    atna = tls_settings(settings, port, pki)
    atna = atna.model_copy(update={"atna_syslog": f"{scheme}://127.0.0.1:{port}"})
    await audit(settings, FIRST, SECOND)
    await run_worker(atna, reconcile=True)  # the repository is down: nothing listens
    await audit(settings, THIRD)
    await run_worker(atna, reconcile=True)  # still down
    await audit(settings, FOURTH)

    with Repository(port, pki.server if scheme == "tls" else None) as repository:
        await run_worker(atna, reconcile=True)  # back
        repository.wait(lambda: len(repository.messages) >= 4)
        await audit(settings, FIFTH)
        await run_worker(atna, reconcile=True)
        repository.wait(lambda: len(repository.messages) >= 5)
        await run_worker(atna, reconcile=True)
    assert event_types(repository.messages) == [FIRST, SECOND, THIRD, FOURTH, FIFTH]
    sequence = [int(m.split('sequenceId="', 1)[1].split('"', 1)[0]) for m in repository.messages]
    assert sequence == sorted(sequence)
    assert len(set(sequence)) == 5
