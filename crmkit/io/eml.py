"""RFC 5322 messages: building them safely and reading them back from the outbox.

Header injection is impossible by construction: every header value built here is
refused if it holds a line break or NUL, addresses are built from their parts with
email.headerregistry.Address (never by pasting text), and the SMTP policy encodes
non-ASCII names and subjects (RFC 2047) instead of letting them through raw.

International addresses: a domain is written in its ASCII form (IDNA, RFC 5890:
`post@bjørkli.no` goes out as `post@xn--bjrkli-cya.no`), which every server and
parser accepts; RFC 2047 encoded words are not allowed inside an address. A
non-ASCII part before the @ has no ASCII form, so such a message is written with
UTF-8 headers (RFC 6532) and can only be sent to a server offering SMTPUTF8
(marketing/smtp.py checks that and says so).
"""

from __future__ import annotations

import datetime as dt
import os
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
SMTPUTF8 = _Policy(linesep="\r\n", utf8=True)


# deliberately plain: one @, no spaces, brackets, quotes or separators anywhere
_ADDRESS = re.compile(r"[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+")


def _one_line(value: str, what: str) -> str:
    """A header value may never carry a line break: that is how headers get injected."""
    if any(c in value for c in "\r\n\x00"):
        raise CrmkitError(f"{what} contains a line break; refusing to build a header from it: {value!r}")
    return value


def ascii_domain(domain: str) -> str:
    """A domain in the form DNS and SMTP use: `bjørkli.no` -> `xn--bjrkli-cya.no` (IDNA 2008, UTS 46)."""
    if domain.isascii():
        return domain
    import idna

    try:   # raw UTF-8 read from a file arrives as surrogate escapes
        domain = domain.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError:
        pass

    try:
        return str(idna.encode(domain, uts46=True).decode("ascii"))
    except idna.IDNAError as exc:
        raise CrmkitError(f"{domain!r} is not a valid international domain name: {exc}") from None


def address(name: str, email: str) -> Address:
    """An address from a name and an email address, its domain in ASCII (IDNA)."""
    email = _one_line(email.strip(), "an email address")
    if not _ADDRESS.fullmatch(email):
        raise CrmkitError(f"{email!r} is not an email address")
    local, _, domain = email.rpartition("@")
    return Address(display_name=_one_line(name.strip(), "a name"), username=local, domain=ascii_domain(domain))


def needs_smtputf8(addr: Address) -> bool:
    """Whether an address can only travel with SMTPUTF8: its local part is not ASCII."""
    return not addr.username.isascii()


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

    Bodies are UTF-8, 8bit where the lines allow it; marketing/smtp.py re-encodes them
    as quoted-printable or base64 for a server without 8BITMIME.

    With `message_id` (the local part, made from what the message is about) the message
    is the same bytes wherever it is built: Message-ID and MIME boundary come from it,
    so two clones writing the same notification write one file.
    """
    # UTF-8 headers only when an address cannot be written in ASCII (RFC 6532)
    utf8 = needs_smtputf8(sender) or needs_smtputf8(to)
    msg = EmailMessage(policy=SMTPUTF8 if utf8 else SMTP)
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


def addresses_of(msg: EmailMessage) -> list[str]:
    """The envelope addresses smtplib takes from a message: sender and every recipient."""
    from email.utils import getaddresses

    fields = [str(v) for h in ("Sender", "From", "To", "Cc", "Bcc") for v in (msg.get_all(h) or [])]
    return [a for _n, a in getaddresses(fields) if a]


def ascii_domains(msg: EmailMessage) -> None:
    """Rewrite the address headers of a message (one put in the outbox by hand) with IDNA domains."""
    for name in ("From", "Sender", "Reply-To", "To", "Cc", "Bcc"):
        header = msg.get(name)
        found = getattr(header, "addresses", None)
        if not found or all(a.domain.isascii() for a in found):
            continue
        fixed = [Address(a.display_name, a.username, ascii_domain(a.domain)) for a in found]
        msg.replace_header(name, ", ".join(str(a) for a in fixed))


def _utf8_headers(msg: EmailMessage) -> EmailMessage:
    """Decode raw UTF-8 headers (RFC 6532), which the bytes parser leaves as surrogate escapes.

    Without this a local part such as `jørgen` would read as `j\udcc3\udcb8rgen` and be
    sent mangled. Headers are replaced in place (the parser's own list, as the email
    package itself does in `replace_header`), so their order stays as written.
    """
    headers = msg._headers  # type: ignore[attr-defined]  # noqa: SLF001 - private in the stubs; see the docstring
    for i, (name, value) in enumerate(headers):
        text = str(value)
        if text.isascii():
            continue
        try:
            fixed = text.encode("utf-8", "surrogateescape").decode("utf-8")
        except UnicodeError:
            continue        # not UTF-8: leave it as the parser read it
        if fixed != text:
            headers[i] = msg.policy.header_store_parse(name, fixed)
    return msg


def read(path: Path) -> EmailMessage:
    from crmkit.store import paths

    try:
        with os.fdopen(paths.open_nofollow(path), "rb") as fh:  # an outbox link is refused
            return _utf8_headers(BytesParser(policy=policy.default).parse(fh))  # type: ignore[arg-type]
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(path)) from None


def read_headers(path: Path) -> EmailMessage:
    """Only the headers of a message file (fast, for listing the outbox)."""
    from email.parser import BytesHeaderParser

    from crmkit.store import paths

    try:
        with os.fdopen(paths.open_nofollow(path), "rb") as fh:
            return BytesHeaderParser(policy=policy.default).parse(fh)  # type: ignore[return-value]
    except OSError as exc:
        raise CrmkitError(f"cannot read: {exc.strerror}", path=str(path)) from None


def text_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""
