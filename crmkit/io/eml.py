"""RFC 5322 messages: building them safely and reading them back from the outbox.

Header injection is impossible by construction: every header value built here is
refused if it holds a line break or NUL, addresses are built from their parts with
email.headerregistry.Address (never by pasting text), and the SMTP policy encodes
non-ASCII names and subjects (RFC 2047) instead of letting them through raw.
"""

from __future__ import annotations

import datetime as dt
import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

from crmkit.errors import CrmkitError


# deliberately plain: one @, no spaces, brackets, quotes or separators anywhere
_ADDRESS = re.compile(r"[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+")


def _one_line(value: str, what: str) -> str:
    """A header value may never carry a line break: that is how headers get injected."""
    if any(c in value for c in "\r\n\x00"):
        raise CrmkitError(f"{what} contains a line break; refusing to build a header from it: {value!r}")
    return value


def address(name: str, email: str) -> Address:
    email = _one_line(email.strip(), "an email address")
    if not _ADDRESS.fullmatch(email):
        raise CrmkitError(f"{email!r} is not an email address")
    local, _, domain = email.rpartition("@")
    return Address(display_name=_one_line(name.strip(), "a name"), username=local, domain=domain)


def parse_address(text: str) -> Address:
    """'Fjordlys <hej@fjordlys.se>' or 'hej@fjordlys.se'."""
    from email.utils import parseaddr

    name, email = parseaddr(_one_line(text, "the sender"))
    if not email:
        raise CrmkitError(f"{text!r} is not an email address")
    return address(name, email)


def build(*, sender: Address, to: Address, subject: str, text: str, html: str | None, when: dt.datetime,
          headers: dict[str, str] | None = None, message_id: str | None = None) -> EmailMessage:
    """A message with a text body and, when given, an HTML alternative (multipart/alternative).

    With `message_id` (the local part, made from what the message is about) the message
    is the same bytes wherever it is built: Message-ID and MIME boundary come from it,
    so two clones writing the same notification write one file."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = _one_line(subject.strip(), "the subject")
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{message_id}@{sender.domain}>" if message_id else make_msgid(domain=sender.domain)
    for key, value in (headers or {}).items():
        msg[key] = _one_line(value, key)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if message_id:
            msg.set_boundary(f"=={message_id}==")
    return msg


def read(path: Path) -> EmailMessage:
    try:
        with open(path, "rb") as fh:
            return BytesParser(policy=policy.default).parse(fh)  # type: ignore[return-value]
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(path)) from None


def read_headers(path: Path) -> EmailMessage:
    """Only the headers of a message file (fast, for listing the outbox)."""
    from email.parser import BytesHeaderParser

    try:
        with open(path, "rb") as fh:
            return BytesHeaderParser(policy=policy.default).parse(fh)  # type: ignore[return-value]
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(path)) from None


def text_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
