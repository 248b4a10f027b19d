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


class _Policy(policy.EmailPolicy):
    """email.policy.SMTP, except that the Subject keeps its spaces when folded.

    Python 3.11's folder can break a long non-ASCII header between two encoded words
    and put the space between them *outside* both; RFC 2047 decoders drop whitespace
    between encoded words, so `å ø ő ű` arrived as `å øő ű`. Such a subject is folded
    with email.header.Header instead, which keeps every space inside an encoded word.
    Read back with policy.default, the lines stay as written (they are short), so the
    same text goes over SMTP.
    """

    def _subject(self, name: str, value: object) -> str | None:
        text = str(value)
        if name.lower() != "subject" or any(c in text for c in "\r\n"):
            return None
        from email.header import Header

        # (an ASCII subject too: the policy would fold a long one right after "Subject:",
        # and readers then show it with a leading space)
        folded = Header(text, "us-ascii" if text.isascii() else "utf-8", header_name=name,
                        maxlinelen=self.max_line_length or 78)
        return f"{name}: {folded.encode(linesep=self.linesep)}{self.linesep}"

    def fold(self, name: str, value: str) -> str:  # type: ignore[override]
        return self._subject(name, value) or super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:  # type: ignore[override]
        text = self._subject(name, value)
        return text.encode("ascii") if text is not None else super().fold_binary(name, value)


SMTP = _Policy(linesep="\r\n")


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
          headers: dict[str, str] | None = None) -> EmailMessage:
    """A message with a text body and, when given, an HTML alternative (multipart/alternative)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = _one_line(subject.strip(), "the subject")
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=sender.domain)
    for key, value in (headers or {}).items():
        msg[key] = _one_line(value, key)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
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
