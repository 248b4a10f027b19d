"""Email that arrives: one message's bytes into what crmkit files (`Inbound`), and a Maildir's
messages in a stable order.

Pure conversions with the standard library (`mailbox`, `email.policy.default`): nothing
here writes a file, and an attachment is only ever held as bytes, never opened or run.
What cannot be filed safely raises `BadMessage` with the reason (malformed MIME, a
header that decodes to a line break, no sender); the caller leaves such a message
unfiled and says so.

A bounce is a delivery status notification (RFC 3464: `multipart/report;
report-type=delivery-status`): the failed recipients and their status are read from
its `message/delivery-status` part.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors as email_errors
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

from crmkit.errors import CrmkitError

#: Defects after which the parts of a message are guesses, not what was sent.
FATAL_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.MissingHeaderBodySeparatorDefect,
)
_MSGID = re.compile(r"<[^<>\s]+>")


class BadMessage(CrmkitError):
    """A message that cannot be filed as it is; it stays unfiled."""


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Bounce:
    """A delivery failure: the addresses that could not be reached, with the server's status."""

    recipients: list[str]
    status: str
    diagnostic: str


@dataclass
class Inbound:
    message_id: str
    sender: str               # the address, lowercased
    sender_name: str
    to: list[str]             # every To and Cc address, lowercased
    subject: str
    date: dt.datetime | None
    body: str
    refers_to: list[str] = field(default_factory=list)   # In-Reply-To first, then References
    attachments: list[Attachment] = field(default_factory=list)
    bounce: Bounce | None = None
    spam: bool = False
    automatic: bool = False   # Auto-Submitted other than "no": an auto-reply, never a new request


def _one_line(value: str, what: str) -> str:
    if any(c in value for c in "\r\n\x00"):
        raise BadMessage(f"the {what} holds a line break (a header injection attempt?): {value[:60]!r}")
    return value


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError) as exc:  # the header registry's parsers on garbage
        raise BadMessage(f"the {name} header cannot be read: {exc}") from None
    return "" if value is None else str(value)


def message_ids(text: str) -> list[str]:
    return _MSGID.findall(text or "")


def parse(data: bytes) -> Inbound:
    """One message (RFC 5322 bytes) into an `Inbound`; BadMessage when it cannot be filed."""
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    defects = [d for part in msg.walk() for d in part.defects if isinstance(d, FATAL_DEFECTS)]
    if defects:
        raise BadMessage(f"malformed MIME: {type(defects[0]).__name__} ({defects[0]})")
    subject = _one_line(_header(msg, "Subject").strip(), "subject")
    name, sender = parseaddr(_header(msg, "From"))
    _one_line(name + sender, "sender")
    if "@" not in sender:
        raise BadMessage("the message has no sender address (From)")
    to = [a.lower() for _, a in getaddresses([_header(msg, "To"), _header(msg, "Cc"),
                                               _header(msg, "Delivered-To")]) if "@" in a]
    mids = message_ids(_header(msg, "Message-ID"))
    # without a Message-ID the message is known by its bytes: fetched twice, it is the same one
    message_id = mids[0] if mids else f"<sha256.{hashlib.sha256(data).hexdigest()[:32]}@crmkit.invalid>"
    refers = message_ids(_header(msg, "In-Reply-To")) + message_ids(_header(msg, "References"))
    date: dt.datetime | None = None
    try:
        raw_date = _header(msg, "Date")
        date = parsedate_to_datetime(raw_date) if raw_date else None
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError, BadMessage):
        date = None
    spam = (_header(msg, "X-Spam-Flag").strip().lower() == "yes"
            or _header(msg, "X-Spam-Status").strip().lower().startswith("yes"))
    auto = _header(msg, "Auto-Submitted").strip().lower()
    inbound = Inbound(
        message_id=message_id, sender=sender.strip().lower(), sender_name=name.strip(), to=to,
        subject=subject, date=date, body=_text(msg), refers_to=list(dict.fromkeys(refers)),
        spam=spam, automatic=bool(auto) and auto != "no")
    inbound.bounce = _bounce(msg)
    if inbound.bounce is None:
        inbound.attachments = _attachments(msg)
    return inbound


def _text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, ValueError, AssertionError) as exc:  # an unknown charset, say
        raise BadMessage(f"the text of the message cannot be decoded: {exc}") from None
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    return str(text).replace("\r\n", "\n").strip()


def _safe_name(name: str, n: int) -> str:
    """A file name that stays in its folder and runs nothing: no path, no leading dot."""
    base = re.sub(r"[^\w.\- ]+", "_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return base[:120] or f"attachment-{n}"


def _attachments(msg: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for n, part in enumerate(msg.iter_attachments(), start=1):
        assert isinstance(part, EmailMessage)
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError) as exc:
            raise BadMessage(f"attachment {n} cannot be decoded: {exc}") from None
        if not isinstance(payload, bytes):  # an attached message: kept as its bytes
            payload = part.as_bytes()
        found.append(Attachment(_safe_name(part.get_filename() or "", n), part.get_content_type(), payload))
    names: set[str] = set()
    for a in found:  # two attachments called report.pdf are both kept
        stem, dot, ext = a.name.rpartition(".")
        i, name = 1, a.name
        while name.lower() in names:
            i += 1
            name = f"{stem}-{i}.{ext}" if dot and stem else f"{a.name}-{i}"
        a.name = name
        names.add(name.lower())
    return found


def _bounce(msg: EmailMessage) -> Bounce | None:
    if msg.get_content_type() != "multipart/report":
        return None
    if str(msg.get_param("report-type", "")).lower() != "delivery-status":
        return None
    recipients: list[str] = []
    status, diagnostic = "", ""
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # the delivery-status body is a list of header blocks (one per recipient)
        blocks = part.get_payload()
        texts = [str(b) for b in blocks] if isinstance(blocks, list) else [str(blocks)]
        for text in texts:
            for line in text.splitlines():
                key, _, value = line.partition(":")
                key, value = key.strip().lower(), value.strip()
                if key in ("final-recipient", "original-recipient"):
                    addr = value.split(";", 1)[-1].strip().lower()
                    if "@" in addr and addr not in recipients:
                        recipients.append(addr)
                elif key == "status" and not status:
                    status = value
                elif key == "diagnostic-code" and not diagnostic:
                    diagnostic = value.split(";", 1)[-1].strip()
    if not recipients:
        return None
    return Bounce(recipients, status, diagnostic[:200])


def maildir_messages(folder: Path) -> Iterator[tuple[str, bytes]]:
    """(the message's unique name, the bytes) of every message in the Maildir `folder` (new/ and cur/),
    oldest file name first. The Maildir is only read: crmkit never moves or flags its messages."""
    if not all((folder / sub).is_dir() for sub in ("new", "cur")):
        raise CrmkitError(f"{folder} is not a Maildir (it needs new/ and cur/ folders)")
    box = mailbox.Maildir(folder, factory=None, create=False)
    for key in sorted(box.keys()):  # keys are the unique file names (time first): a stable order
        with box.get_file(key) as fh:
            yield key, fh.read()
