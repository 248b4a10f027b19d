"""Sending over SMTP with the settings in crmkit.yaml; the password comes only from the environment.

    smtp:
      host: smtp.example.com
      port: 587
      security: starttls        # starttls | tls | none
      user: crm@example.com
      password_env: CRMKIT_SMTP_PASSWORD   # the variable holding the password (this is the default)
      cafile: /etc/ssl/my-ca.pem           # optional: trust a private CA (certificates are always verified)
      timeout: 30

`security: none` is for a relay on localhost or a test server only.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crmkit.errors import EXIT_PARTIAL, CrmkitError


class SendError(CrmkitError):
    """One message could not be sent; `fatal` when the connection itself is gone, `unknown`
    when it went mid-conversation (the server may have taken the message)."""

    def __init__(self, message: str, *, fatal: bool = False, unknown: bool = False) -> None:
        super().__init__(message)
        self.fatal = fatal
        self.unknown = unknown


class Unreachable(CrmkitError):
    """The server cannot be reached now (refused, timed out, no route): nothing was sent,
    so a later run sends it all. Exit code 4, like a half-sent batch: try again later."""

    exit_code = EXIT_PARTIAL


class Connection:
    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client

    def offers(self, extension: str) -> bool:
        """Whether the server announced an ESMTP extension (8BITMIME, SMTPUTF8) in its EHLO reply."""
        if self.client.ehlo_resp is None and self.client.helo_resp is None:
            self.client.ehlo_or_helo_if_needed()
        return bool(self.client.has_extn(extension))

    def prepare(self, msg: Any) -> list[str]:
        """Fit a message to what the server offers; the MAIL FROM options it needs.

        * An address whose local part is not ASCII needs SMTPUTF8 (RFC 6531); without
          it the message is refused here, clearly, instead of being mangled.
        * An 8-bit body is declared BODY=8BITMIME where the server offers it, and is
          otherwise re-encoded as quoted-printable or base64 (the email package's
          7-bit policy), so what arrives decodes to the same text.
        """
        from crmkit.io.eml import addresses_of, ascii_domains

        found = addresses_of(msg)
        if any(not a.isascii() for a in found) and not self.offers("smtputf8"):
            bad = next((a for a in found if not a.rpartition("@")[0].isascii()), None)
            if bad is not None:
                raise SendError(f"cannot send to or from {bad}: the part before @ is not ASCII, and the server "
                                "does not offer SMTPUTF8 (RFC 6531), which such an address needs")
            ascii_domains(msg)      # only domains are international: their IDNA form needs nothing
            found = addresses_of(msg)
        if any(not a.isascii() for a in found):
            return []       # smtplib asks for SMTPUTF8 and BODY=8BITMIME itself
        if not _has_8bit(msg):
            return []
        if self.offers("8bitmime"):
            return ["BODY=8BITMIME"]
        msg.policy = msg.policy.clone(cte_type="7bit")
        return []

    def send_message(self, msg: Any) -> None:
        try:
            options = self.prepare(msg)
            refused = self.client.send_message(msg, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {_first(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            fatal = exc.smtp_code in (421,) or exc.smtp_code >= 500 and exc.smtp_code not in (550, 551, 552, 553, 554)
            raise SendError(f"server said {exc.smtp_code} {_text(exc.smtp_error)}", fatal=fatal) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise SendError(f"connection lost: {exc}", fatal=True, unknown=True) from None
        except (ValueError, smtplib.SMTPException) as exc:
            # e.g. a message without recipients, put in the outbox by hand
            raise SendError(f"cannot send this message: {exc}") from None
        if refused:
            raise SendError(f"recipient refused: {_first(refused)}")


def _has_8bit(msg: Any) -> bool:
    """Whether any part of the message body is 8-bit (not 7-bit ASCII) as it would be written."""
    for part in msg.walk():
        if part.is_multipart():
            continue
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        payload = part.get_payload()
        if cte in ("8bit", "binary") or (isinstance(payload, str) and not payload.isascii()):
            return True
    return False


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _first(refused: dict[str, Any]) -> str:
    if not refused:
        return "the message names no recipient (no To, Cc or Bcc)"
    address, (code, text) = next(iter(refused.items()))
    return f"{address} ({code} {_text(text)})"


@contextmanager
def connect(config: dict[str, Any]) -> Iterator[Connection]:
    """An SMTP session from the `smtp:` settings; a clear error when they are missing or wrong."""
    host = config.get("host")
    if not host:
        raise CrmkitError("no SMTP server configured: add smtp: {host, port, security} to crmkit.yaml")
    security = str(config.get("security", "starttls"))
    if security not in ("starttls", "tls", "none"):
        raise CrmkitError(f"smtp.security is starttls, tls or none, not {security!r}")
    if "password" in config:
        raise CrmkitError("smtp.password in crmkit.yaml is not used: a password never belongs in the workspace; "
                          "remove it and set $" + str(config.get("password_env", "CRMKIT_SMTP_PASSWORD")))
    try:
        port = int(config.get("port", {"tls": 465, "starttls": 587}.get(security, 25)))
        timeout = float(config.get("timeout", 30))
    except (TypeError, ValueError):
        raise CrmkitError(f"smtp.port and smtp.timeout are numbers, not {config.get('port')!r}, "
                          f"{config.get('timeout')!r}") from None
    context = ssl.create_default_context()
    if config.get("cafile"):
        context.load_verify_locations(str(config["cafile"]))
    try:
        if security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(str(host), port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(str(host), port, timeout=timeout)
            if security == "starttls":
                client.starttls(context=context)
        user = config.get("user")
        if user:
            env = str(config.get("password_env", "CRMKIT_SMTP_PASSWORD"))
            password = os.environ.get(env)
            if password is None:
                client.close()
                raise CrmkitError(f"smtp.user is set but ${env} is empty: put the password in the environment")
            client.login(str(user), password)
    except CrmkitError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise CrmkitError(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except ssl.SSLError as exc:
        raise CrmkitError(f"cannot reach the SMTP server {host}:{port}: {exc}") from None
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected, OSError) as exc:
        raise Unreachable(f"cannot reach the SMTP server {host}:{port}: {exc}; everything stays in the outbox, "
                          "try again later") from None
    except smtplib.SMTPException as exc:
        raise CrmkitError(f"cannot reach the SMTP server {host}:{port}: {exc}") from None
    try:
        yield Connection(client)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
