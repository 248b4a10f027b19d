"""`crmkit inbox fetch --imap` against a real IMAP server: Dovecot over TLS, started per test
module in a temporary folder (skipped where dovecot or openssl is not installed)."""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG
from test_inbound import FILES, inbound, message, records

pytestmark = pytest.mark.skipif(not (shutil.which("dovecot") and shutil.which("openssl")),
                                reason="dovecot (Debian: dovecot-imapd) and openssl are needed for a real IMAP server")

PASSWORD = "s3cret-imap"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    """A Dovecot that speaks IMAP over TLS only, one user `crm` with a Maildir."""
    import tempfile

    # not under pytest's tmp folder: that is private to us, and dovecot's own users read here
    root = Path(tempfile.mkdtemp(prefix="crmkit-dovecot-"))
    root.chmod(0o755)
    try:
        yield from _serve(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _serve(root: Path):  # type: ignore[no-untyped-def]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(root / "key.pem"),
                    "-out", str(root / "cert.pem"), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    home = root / "home"
    for sub in ("new", "cur", "tmp"):
        (home / "Maildir" / sub).mkdir(parents=True)
    uid, gid = os.getuid(), os.getgid()
    extra = ""
    if uid == 0:  # dovecot refuses to run mail as root: the mailbox belongs to nobody
        uid = gid = 65534
        for path in [home, *home.rglob("*")]:
            os.chown(path, uid, gid)
    else:
        import pwd

        me = pwd.getpwuid(uid).pw_name
        extra = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    (root / "passwd").write_text(f"crm:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{home}\n")
    port = _free_port()
    (root / "base").mkdir()
    (root / "dovecot.conf").write_text(f"""\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/base
state_dir = {root}/base
log_path = {root}/dovecot.log
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
{extra}passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
""")
    proc = subprocess.Popen(["dovecot", "-F", "-c", str(root / "dovecot.conf")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.skip(f"dovecot did not start here: {log[-300:]}")
            time.sleep(0.1)
    yield {"port": port, "cafile": str(root / "cert.pem")}
    proc.terminate()
    proc.wait(timeout=10)


def client(server) -> imaplib.IMAP4_SSL:  # type: ignore[no-untyped-def]
    c = imaplib.IMAP4_SSL("localhost", server["port"],
                          ssl_context=ssl.create_default_context(cafile=server["cafile"]))
    c.login("crm", PASSWORD)
    return c


def put(server, *msgs) -> None:  # type: ignore[no-untyped-def]
    c = client(server)
    for m in msgs:
        c.append("INBOX", None, None, m.as_bytes())
    c.logout()


def unseen(server) -> int:  # type: ignore[no-untyped-def]
    c = client(server)
    c.select("INBOX", readonly=True)
    _, found = c.search(None, "UNSEEN")
    c.logout()
    return len(found[0].split())


def config(server, **extra: str) -> str:  # type: ignore[no-untyped-def]
    lines = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return (MINIMAL_CONFIG + "inbox:\n  support: support@example.se\n  imap:\n    host: localhost\n"
            f"    port: {server['port']}\n    user: crm\n    cafile: {server['cafile']}\n" + lines)


@pytest.fixture
def clean(server):  # type: ignore[no-untyped-def]
    c = client(server)
    _, count = c.select("INBOX")
    if int(count[0] or 0):
        c.store("1:*", "+FLAGS", "\\Deleted")
        c.expunge()
    c.logout()
    return server


def test_messages_are_fetched_over_tls_filed_once_and_left_unread(run, make_ws, clean, monkeypatch) -> None:
    ws = make_ws({**FILES, "crmkit.yaml": config(clean)})
    put(clean, message(), message("Hello", to="daniel@example.se", mid="<h1@plain.se>"))
    monkeypatch.setenv("CRMKIT_IMAP_PASSWORD", PASSWORD)
    r = run(["--now", "2026-11-23T12:00", "inbox", "fetch", "--imap"], ws)
    assert r.exit_code == 0, r.stderr
    assert "imap:INBOX/" in r.stdout and "filed 2 of 2" in r.stderr
    assert len(records(ws, "ticket")) == 1 and len(inbound(ws)) == 2
    assert unseen(clean) == 2  # read-only, BODY.PEEK: the mailbox is as it was
    again = run(["--now", "2026-11-23T13:00", "inbox", "fetch", "--imap"], ws)
    assert again.exit_code == 0 and again.stdout.count("already") == 2 and len(inbound(ws)) == 2


def test_the_password_may_come_from_a_netrc_file(run, make_ws, clean, monkeypatch, tmp_path) -> None:
    ws = make_ws({**FILES, "crmkit.yaml": config(clean)})
    put(clean, message())
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine localhost login crm password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    r = run(["--now", "2026-11-23T12:00", "inbox", "fetch", "--imap"], ws)
    assert r.exit_code == 0, r.stderr
    assert len(records(ws, "ticket")) == 1


def test_credentials_and_connection_problems_are_one_clear_line(run, make_ws, clean, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    ws = make_ws({**FILES, "crmkit.yaml": config(clean)})
    r = run(["inbox", "fetch", "--imap"], ws)
    assert r.exit_code == 1 and "no IMAP password for crm@localhost" in r.stderr
    monkeypatch.setenv("CRMKIT_IMAP_PASSWORD", "wrong")
    r = run(["inbox", "fetch", "--imap"], ws)
    assert r.exit_code == 1 and "login as crm refused" in r.stderr and "Traceback" not in r.stderr
    stored = make_ws({**FILES, "crmkit.yaml": config(clean, password="hunter2")})
    r = run(["inbox", "fetch", "--imap"], stored)
    assert r.exit_code == 1 and "never kept in crmkit.yaml" in r.stderr
    untrusted = make_ws({**FILES, "crmkit.yaml": config(clean).replace(f"    cafile: {clean['cafile']}\n", "")})
    r = run(["inbox", "fetch", "--imap"], untrusted)
    assert r.exit_code == 1 and "TLS failed" in r.stderr
    closed = make_ws({**FILES, "crmkit.yaml": config(clean).replace(str(clean["port"]), str(_free_port()))})
    r = run(["inbox", "fetch", "--imap"], closed)
    assert r.exit_code == 4 and "cannot connect" in r.stderr


def test_a_server_that_offers_no_tls_is_not_configurable(run, make_ws, clean) -> None:
    ws = make_ws({**FILES, "crmkit.yaml": config(clean, security="none")})
    r = run(["inbox", "fetch", "--imap"], ws)
    assert r.exit_code == 1 and "inbox.imap.security is tls or starttls" in r.stderr


def test_fetching_from_imap_and_a_maildir_at_once_is_a_usage_error(run, make_ws, clean, tmp_path) -> None:
    ws = make_ws({**FILES, "crmkit.yaml": config(clean)})
    r = run(["inbox", "fetch", "--imap", "--maildir", str(tmp_path)], ws)
    assert r.exit_code == 2



