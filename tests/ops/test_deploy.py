"""deploy/: the systemd units and the nginx site pass their tools' checks, and a signed Twilio webhook
goes through nginx and gunicorn, configured as they are there, and is accepted (a forged one is not).

Each test is skipped when its tool (systemd-analyze, nginx, openssl) is not installed.
"""

from __future__ import annotations

import http.client
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from ivr.config import ROOT
from tickets.db import make_engine
from tickets.migrate import upgrade

DEPLOY = ROOT / "deploy"
UNITS = ["hotline-web.service", "hotline-scheduler.service"]
INSTALLED_BIN = "/opt/hotline/.venv/bin/"
HOST = "hotline.example.org"
TOKEN = "deploy-test-auth-token"


def needs(*tools: str) -> pytest.MarkDecorator:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


def installed_here(unit: str) -> str:
    """The unit as if the code were installed where this checkout's virtualenv is."""
    return (
        (DEPLOY / unit).read_text(encoding="utf-8").replace(INSTALLED_BIN, f"{Path(sys.executable).parent}/")
    )


@needs("systemd-analyze")
@pytest.mark.parametrize("unit", UNITS)
def test_the_systemd_units_verify_and_are_hardened(tmp_path: Path, unit: str) -> None:
    (tmp_path / unit).write_text(installed_here(unit), encoding="utf-8")
    verify = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True, check=False
    )
    # an unknown or misspelt setting is only a warning ("ignoring"), and it must fail here too
    assert (verify.returncode, verify.stdout + verify.stderr) == (0, "")

    # exposure 0-10 (shown as 0-100 here): up to 3 is what systemd calls "OK"
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--threshold=30", str(tmp_path / unit)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert security.returncode == 0, security.stdout[-2000:] + security.stderr
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    assert re.search(r"^User=hotline$", text, re.M) and re.search(r"^NoNewPrivileges=yes$", text, re.M)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_prefix(tmp_path: Path, *, https_port: int = 443, http_port: int = 80, upstream: int = 8000) -> Path:
    """deploy/nginx-hotline.conf inside a minimal nginx.conf, with a self-signed certificate, in tmp_path."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}"]
        + ["-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        check=True,
    )
    site = (DEPLOY / "nginx-hotline.conf").read_text(encoding="utf-8")
    site = re.sub(r"ssl_certificate .*;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key .*;", f"ssl_certificate_key {key};", site)
    site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.M)  # loopback IPv4 is enough here
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp_paths = "".join(
        f"    {kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp_paths}    include {tmp_path / 'site.conf'};\n}}\n",
        encoding="utf-8",
    )
    return tmp_path / "nginx.conf"


@needs("nginx", "openssl")
def test_the_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    conf = nginx_prefix(tmp_path)
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"{process.args[0]} exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing answers on {port}"
            time.sleep(0.1)


def gunicorn_command(port: int) -> list[str]:
    """hotline-web.service's ExecStart (`hotline web`: gunicorn), with one worker on a free port."""
    unit = (DEPLOY / "hotline-web.service").read_text(encoding="utf-8").replace("\\\n", " ")
    [exec_start] = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    args = shlex.split(exec_start)
    assert args[:2] == [f"{INSTALLED_BIN}hotline", "web"]
    args[args.index("--workers") + 1] = "1"
    args[args.index("--port") + 1] = str(port)
    return [sys.executable, "-m", "ivr.cli", *args[1:]]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[int, Path]]:
    """gunicorn (as the unit runs it) behind nginx (as the site has it); yields nginx's https port and the
    certificate to trust. request.param is PUBLIC_BASE_URL, or None to leave it unset."""
    database = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    engine = make_engine(database)
    upgrade(engine)
    engine.dispose()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database,
        "SECRET_KEY": "s" * 64,
        "TWILIO_AUTH_TOKEN": TOKEN,
        **({"PUBLIC_BASE_URL": request.param} if request.param else {}),
    }
    app_port, https_port, http_port = free_port(), free_port(), free_port()
    gunicorn = subprocess.Popen(gunicorn_command(app_port), cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    conf = nginx_prefix(tmp_path, https_port=https_port, http_port=http_port, upstream=app_port)
    nginx = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
    )
    try:
        wait_for_port(app_port, gunicorn)
        wait_for_port(https_port, nginx)
        yield https_port, tmp_path / "cert.pem"
    finally:
        stop(nginx)
        stop(gunicorn)


def post_webhook(port: int, cert: Path, path: str, form: dict[str, str], signature: str) -> int:
    context = ssl.create_default_context(cafile=str(cert))
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=urlencode(form),
            headers={
                "Host": HOST,
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "X-Forwarded-Proto": "http",  # a client's own forwarding headers must not count
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


@needs("nginx", "openssl")
@pytest.mark.slow
@pytest.mark.parametrize("served", [f"https://{HOST}", None], indirect=True, ids=["base-url", "forwarded"])
def test_a_signed_webhook_is_accepted_through_nginx_and_gunicorn(served: tuple[int, Path]) -> None:
    port, cert = served
    # a query Twilio would sign as sent: percent-escaped Korean must reach the app byte for byte
    path = "/ivr/voice?lang=%ED%95%9C%EA%B5%AD%EC%96%B4&note=a%2Bb"
    form = {
        "CallSid": "CA" + "7" * 32,
        "From": "+821012345678",
        "To": "+827040001379",
        "CallStatus": "ringing",
    }
    signature = RequestValidator(TOKEN).compute_signature(f"https://{HOST}{path}", form)

    assert post_webhook(port, cert, path, form, signature) == 200
    forged = RequestValidator("another-token").compute_signature(f"https://{HOST}{path}", form)
    assert post_webhook(port, cert, path, form, forged) == 403
