"""SMTP sending against real servers on localhost: plain, STARTTLS and implicit TLS, with login."""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import subprocess
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from crmkit.errors import CrmkitError
from crmkit.marketing import smtp


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl tool."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return crt, key


def _auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"crm", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=False: answer 535


@pytest.fixture
def server(cert):
    started = []

    def start(mode: str) -> tuple[Recorder, int]:
        crt, key = cert
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(crt), str(key))
        handler, port = Recorder(), _free_port()
        kwargs: dict = {"authenticator": _auth}
        if mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif mode == "tls":
            # aiosmtpd does not count implicit TLS as TLS when advertising AUTH
            kwargs.update(ssl_context=context, auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return handler, port

    yield start
    for controller in started:
        controller.stop()


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Fjordlys <hej@fjordlys.se>"
    msg["To"] = "Åsa Öberg <asa@akerberg.se>"
    msg["Subject"] = "Hej från Fjordlys"
    msg.set_content("Hej Åsa!\n")
    return msg


@pytest.mark.parametrize("mode", ["starttls", "tls", "none"])
def test_each_security_mode_delivers_with_login(server, cert, mode, monkeypatch) -> None:
    handler, port = server(mode)
    monkeypatch.setenv("CRMKIT_SMTP_PASSWORD", "s3cret")
    config = {"host": "127.0.0.1", "port": port, "security": mode, "user": "crm", "cafile": str(cert[0])}
    with smtp.connect(config) as conn:
        conn.send_message(_message())
    [got] = handler.messages
    assert got["Subject"] == "Hej från Fjordlys"
    assert got.get_content().replace("\r\n", "\n") == "Hej Åsa!\n"


def test_an_untrusted_certificate_is_refused(server) -> None:
    _, port = server("starttls")
    with pytest.raises(CrmkitError, match="cannot reach the SMTP server 127.0.0.1"):
        with smtp.connect({"host": "127.0.0.1", "port": port, "security": "starttls"}):
            pass


def test_the_password_comes_only_from_the_environment(server, cert, monkeypatch) -> None:
    _, port = server("starttls")
    config = {"host": "127.0.0.1", "port": port, "security": "starttls", "user": "crm",
              "cafile": str(cert[0]), "password_env": "FJORDLYS_SMTP"}
    with pytest.raises(CrmkitError, match=r"\$FJORDLYS_SMTP is empty"):
        with smtp.connect(config):
            pass
    monkeypatch.setenv("FJORDLYS_SMTP", "wrong")
    with pytest.raises(CrmkitError, match="SMTP login refused: 535"):
        with smtp.connect(config):
            pass
    # a password written into the configuration is not a password source
    with pytest.raises(CrmkitError, match="password"):
        smtp.connect(dict(config, password="s3cret")).__enter__()


@pytest.mark.parametrize("config,fragment", [
    ({}, "no SMTP server configured"),
    ({"host": "x", "security": "ssl"}, "starttls, tls or none"),
    ({"host": "127.0.0.1", "port": "many"}, "smtp.port"),
])
def test_bad_settings_are_explained(config, fragment) -> None:
    with pytest.raises(CrmkitError, match=fragment):
        with smtp.connect(config):
            pass
