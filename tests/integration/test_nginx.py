"""The nginx of deploy/ (the Debian site and the compose configuration, with the shared
snippets), run for real in front of the api: what its logs hold when the api fails (its error
log quotes request lines, and its format cannot be changed), and what it serves of the API
docs."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from api.main import create_app
from devstack import free_port
from importer.settings import Settings
from tests.support.app import RIS_KEY, Journey, serving

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"  # Debian's package (make setup)


def _version() -> tuple[int, ...]:
    out = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=True).stderr
    return tuple(int(p) for p in out.strip().rsplit("/", 1)[1].split(".")[:3])


class Site:
    """One nginx of deploy/ on free loopback ports, logging into ``folder/logs`` (its stderr,
    where `error_log stderr` writes, too), proxying to ``upstream`` (host:port)."""

    def __init__(self, folder: Path, variant: str, upstream: str) -> None:
        self.folder = folder
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True)
        (folder / "snippets").mkdir()
        for snippet in (DEPLOY / "nginx" / "snippets").glob("*.conf"):
            shutil.copy(snippet, folder / "snippets" / snippet.name)
        mime = Path("/etc/nginx/mime.types")
        (folder / "mime.types").write_text(mime.read_text() if mime.exists() else "")
        (folder / "dist").mkdir()
        (folder / "dist" / "index.html").write_text("<!doctype html><title>app</title>")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-keyout", str(folder / "tls.key"), "-out", str(folder / "tls.crt")],
            check=True, capture_output=True,
        )  # fmt: skip
        self.http_port, self.https_port = free_port(), free_port()
        config = self._debian(upstream) if variant == "debian" else self._compose(upstream)
        (folder / "nginx.conf").write_text(config)

    def _debian(self, upstream: str) -> str:
        """The site file as Debian's /etc/nginx/nginx.conf includes it (its main error log:
        /var/log/nginx/error.log)."""
        site = (DEPLOY / "nginx" / "pacs-media-import.conf").read_text()
        site = "\n".join(line for line in site.splitlines() if "[::]" not in line)
        site = (
            site.replace("server 127.0.0.1:8000", f"server {upstream}")
            .replace("listen 80;", f"listen 127.0.0.1:{self.http_port};")
            .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl;")
            .replace("/var/log/nginx/", f"{self.logs}/")
            .replace("/etc/ssl/certs/ssl-cert-snakeoil.pem", str(self.folder / "tls.crt"))
            .replace("/etc/ssl/private/ssl-cert-snakeoil.key", str(self.folder / "tls.key"))
            .replace("/opt/pacs-media-import/app/frontend/dist", str(self.folder / "dist"))
        )
        (self.folder / "site.conf").write_text(site)
        return f"""
daemon off;
master_process off;
pid {self.folder}/nginx.pid;
error_log {self.logs}/error.log;
events {{}}
http {{
    include mime.types;
    client_body_temp_path {self.folder}/tmp-body;
    proxy_temp_path {self.folder}/tmp-proxy;
    fastcgi_temp_path {self.folder}/tmp-fastcgi;
    uwsgi_temp_path {self.folder}/tmp-uwsgi;
    scgi_temp_path {self.folder}/tmp-scgi;
    access_log {self.logs}/access.log;
    include site.conf;
}}
"""

    def _compose(self, upstream: str) -> str:
        """deploy/nginx.conf as the web image runs it (logs on stdout and stderr)."""
        config = (DEPLOY / "nginx.conf").read_text()
        if _version() < (1, 25, 1):
            config = config.replace("        http2 on;\n", "")
        return "daemon off;\nmaster_process off;\n" + (
            config.replace("http://api:8000", f"http://{upstream}")
            .replace("listen 8080 default_server;", f"listen 127.0.0.1:{self.http_port};")
            .replace("listen 8443 ssl default_server;", f"listen 127.0.0.1:{self.https_port} ssl;")
            .replace("/etc/nginx/tls/", f"{self.folder}/")
            .replace("/tmp/nginx.pid", f"{self.folder}/nginx.pid")
            .replace("/tmp/nginx-", f"{self.folder}/tmp-")
            .replace("/dev/stdout", f"{self.logs}/stdout.log")
            .replace("/dev/stderr", "stderr")
            .replace("/usr/share/pacs-media-import/frontend", str(self.folder / "dist"))
        )

    @contextmanager
    def running(self) -> Iterator[str]:
        conf = str(self.folder / "nginx.conf")
        subprocess.run(
            [NGINX, "-t", "-q", "-p", f"{self.folder}/", "-c", conf],
            check=True, capture_output=True,
        )  # fmt: skip
        with (self.logs / "stderr.log").open("wb") as stderr:
            process = subprocess.Popen(
                [NGINX, "-p", f"{self.folder}/", "-c", conf],
                stdout=subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
            try:
                self._wait_listening(process)
                yield f"https://127.0.0.1:{self.https_port}"
            finally:
                process.send_signal(signal.SIGQUIT)  # graceful: logs flushed
                process.wait(10)

    def _wait_listening(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert process.poll() is None, (self.logs / "stderr.log").read_text()
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.https_port)) == 0:
                    return
            time.sleep(0.02)
        raise TimeoutError("nginx did not start")

    def every_log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.iterdir()))


TOKEN = f"launch-{uuid.uuid4().hex}"
NAME, BIRTH, PATIENT_ID = "ROSSI^MARIO", "19740101", "HOSP-0042"


@pytest.mark.parametrize("variant", ["debian", "compose"])
def test_nginx_error_log_quotes_no_token_and_no_patient_data_when_the_api_is_down(
    tmp_path: Path, variant: str
) -> None:
    down = f"127.0.0.1:{free_port()}"  # nothing listens: every proxied request fails
    site = Site(tmp_path, variant, down)
    with site.running() as base, httpx.Client(base_url=base, verify=False) as client:
        answers = [
            # a request whose query carries nothing personal: its error is logged as always
            client.get("/api/v1/imports/none", params={"probe": "control"}),
            client.get("/", params={"token": TOKEN}),  # a launch link of an earlier version
            client.get(
                "/api/v1/worklist",
                params={"name": NAME, "birth_date": BIRTH, "patient_id": PATIENT_ID},
            ),
            client.get("/api/v1/worklist/", params={"name": NAME}),
            client.get("/api/v1/audit", params={"patient_id": PATIENT_ID, "user": "u-tech-1"}),
            client.get("/api/v1/identities", params={"q": NAME}),
        ]
    assert [a.status_code for a in answers] == [502] * 6
    logs = site.every_log()
    for secret in (TOKEN, "ROSSI", NAME, BIRTH, PATIENT_ID, "u-tech-1"):
        assert secret not in logs
    # the error log is written (the control request's failure is there), and what an operator
    # needs about the quiet requests is in the access log: status, upstream and its status
    assert "connect() failed" in logs
    assert "/api/v1/imports/none?probe=control" in logs
    assert '"path":"/api/v1/worklist","status":502' in logs
    assert f'"upstream":"{down}","upstream_status":"502"' in logs


@pytest.mark.parametrize("public_docs", [False, True])
async def test_api_docs_are_served_only_when_public_docs_says_so(
    tmp_path: Path, redis_url: str, public_docs: bool
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'importer.sqlite3'}",
        redis_url=redis_url,
        data_dir=tmp_path,
        spool_dir=tmp_path / "spool",
        public_docs=public_docs,
    )
    async with serving(create_app(settings)) as api:
        site = Site(tmp_path / "nginx", "debian", api.removeprefix("http://"))
        with site.running() as base:
            async with httpx.AsyncClient(base_url=base, verify=False) as client:
                docs = await client.get("/docs")
                schema = await client.get("/openapi.json")
            async with httpx.AsyncClient(base_url=api) as client:
                direct = await client.get("/openapi.json")
    if public_docs:
        assert (docs.status_code, schema.status_code, direct.status_code) == (200, 200, 200)
        assert "swagger-ui" in docs.text
        assert schema.json()["info"]["title"] == "PACS Media Import"
    else:
        assert (docs.status_code, schema.status_code, direct.status_code) == (404, 404, 404)
        assert "PACS Media Import" not in schema.text


async def test_the_launch_link_sends_its_token_to_no_server(
    journey: Journey, settings: Settings, tmp_path: Path
) -> None:
    token = await journey.launch()
    answer = await journey.client.post(
        "/api/v1/launches",
        json={"user": {"id": "u-tech-1", "name": "Tech One"}},
        headers={"Authorization": f"Bearer {RIS_KEY}"},
    )
    link = urlsplit(answer.json()["url"])
    assert (link.path, link.query, link.fragment) == ("/", "", f"token={answer.json()['token']}")

    # what a browser sends for the link (never its fragment) leaves nothing in nginx's logs,
    # even when the api is down
    site = Site(tmp_path, "debian", f"127.0.0.1:{free_port()}")
    with site.running() as base, httpx.Client(base_url=base, verify=False) as browser:
        opened = browser.get(urlunsplit(link._replace(scheme="https", netloc=base[8:])))
    assert opened.status_code == 502
    assert opened.request.url.raw_path == b"/"  # the request target: no query, no fragment
    assert answer.json()["token"] not in site.every_log()
    assert token not in site.every_log()
