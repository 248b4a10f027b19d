"""Reading a mailbox over IMAP with TLS (imaplib), for `crmkit inbox fetch --imap`.

    inbox:
      imap:
        host: imap.example.com
        port: 993                   # the default for tls; 143 for starttls
        security: tls               # tls | starttls: never in the clear
        user: crm@example.com
        folder: INBOX
        password_env: CRMKIT_IMAP_PASSWORD   # the default
        cafile: /etc/ssl/my-ca.pem  # optional: trust a private CA (certificates are always verified)

The password never lives in crmkit.yaml: it is read from the variable `password_env`
names, else from a netrc-style file (`$NETRC`, else `~/.netrc`: `machine HOST login
USER password SECRET`). The mailbox is opened read-only and messages are fetched with
BODY.PEEK, so nothing on the server changes: what was filed is known by Message-ID.
"""

from __future__ import annotations

import imaplib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import EXIT_PARTIAL, CrmkitError

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

SECURITY = ("tls", "starttls")


class Unreachable(CrmkitError):
    """The server cannot be reached now: nothing was read, a later run reads it all (exit 4)."""

    exit_code = EXIT_PARTIAL


def settings(ws: Workspace) -> dict[str, Any]:
    cfg = (ws.config.get("inbox") or {}).get("imap")
    if not isinstance(cfg, dict) or not cfg.get("host"):
        raise CrmkitError("no IMAP server: set inbox.imap.host (and user) in crmkit.yaml", path="crmkit.yaml")
    if "password" in cfg:
        raise CrmkitError("inbox.imap.password: a password is never kept in crmkit.yaml (it is committed); "
                          "put it in $CRMKIT_IMAP_PASSWORD (or the variable password_env names) or ~/.netrc",
                          path="crmkit.yaml")
    security = str(cfg.get("security", "tls"))
    if security not in SECURITY:
        raise CrmkitError(f"inbox.imap.security is tls or starttls, not {security!r}", path="crmkit.yaml")
    return {**cfg, "security": security}


def credentials(cfg: dict[str, Any]) -> tuple[str, str]:
    """(user, password) from the environment, else from the netrc file."""
    host = str(cfg["host"])
    user = str(cfg.get("user") or "")
    password = os.environ.get(str(cfg.get("password_env") or "CRMKIT_IMAP_PASSWORD"))
    if password:
        if not user:
            raise CrmkitError("inbox.imap.user is not set", path="crmkit.yaml")
        return user, password
    import netrc

    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    if path.is_file():
        try:
            entry = netrc.netrc(str(path)).authenticators(host)
        except (netrc.NetrcParseError, OSError) as exc:
            raise CrmkitError(f"cannot read {path}: {exc}") from None
        if entry and entry[2] and (not user or entry[0] == user):
            return entry[0] or user, entry[2]
    raise CrmkitError(f"no IMAP password for {user or '?'}@{host}: set ${cfg.get('password_env') or 'CRMKIT_IMAP_PASSWORD'} "
                      f"or add `machine {host} login {user or 'USER'} password ...` to {path}")


def messages(ws: Workspace) -> Iterator[tuple[str, bytes]]:
    """(imap:FOLDER/UID, bytes) of every message in the folder, oldest first; the folder is not changed."""
    cfg = settings(ws)
    user, password = credentials(cfg)
    host, folder = str(cfg["host"]), str(cfg.get("folder") or "INBOX")
    context = ssl.create_default_context(cafile=str(cfg["cafile"]) if cfg.get("cafile") else None)
    timeout = float(cfg.get("timeout", 30))
    try:
        if cfg["security"] == "tls":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, int(cfg.get("port", 993)), ssl_context=context,
                                                      timeout=timeout)
        else:
            client = imaplib.IMAP4(host, int(cfg.get("port", 143)), timeout=timeout)
            client.starttls(ssl_context=context)
    except ssl.SSLError as exc:
        raise CrmkitError(f"IMAP {host}: TLS failed ({exc.reason or exc}); nothing was read") from None
    except OSError as exc:
        raise Unreachable(f"IMAP {host}: cannot connect ({exc.strerror or exc}); nothing was read, "
                          "try again later") from None
    try:
        try:
            client.login(user, password)
        except imaplib.IMAP4.error as exc:
            raise CrmkitError(f"IMAP {host}: login as {user} refused ({_text(exc)})") from None
        status, _ = client.select(_quote(folder), readonly=True)
        if status != "OK":
            raise CrmkitError(f"IMAP {host}: no folder {folder!r}")
        status, found = client.uid("SEARCH", "ALL")
        if status != "OK":
            raise CrmkitError(f"IMAP {host}: search failed in {folder}")
        for raw_uid in (found[0] or b"").split():
            uid = raw_uid.decode() if isinstance(raw_uid, bytes) else str(raw_uid)
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            body = next((p[1] for p in parts if isinstance(p, tuple) and len(p) > 1), None)
            if status != "OK" or not isinstance(body, bytes):
                raise CrmkitError(f"IMAP {host}: cannot fetch message {uid} of {folder}")
            yield f"imap:{folder}/{uid}", body
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise Unreachable(f"IMAP {host}: connection lost ({_text(exc)}); run again to read the rest") from None
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(exc: BaseException) -> str:
    arg = exc.args[0] if exc.args else exc
    return arg.decode(errors="replace") if isinstance(arg, bytes) else str(arg)
