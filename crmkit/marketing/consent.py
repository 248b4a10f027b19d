"""Consent at send time: marketing mail goes out only if the recipient still wants it.

A message is rendered into outbox/ at one moment and sent at another; in between a
person may opt out, withdraw consent, change address or be removed. So `mail send`
checks every marketing message again, against the record as it is when the message
leaves. A message that may no longer go is *held*: moved to outbox/held/ (committed,
so the team sees it in review), reported, and never sent by a later run. If the
person consents again, render the mail again (or move the file back by hand).

Transactional mail (answers, notifications) is not held back by consent, just as
`mail render` does not hold it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

HELD = "outbox/held"


@dataclass(frozen=True)
class Held:
    file: str      # where the message was (outbox/...)
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "reason": self.reason}


def hold_reason(ws: Workspace, headers: Any) -> str | None:
    """Why this message may not be sent now, or None. `headers` are the message's headers
    (X-Crmkit-Kind, X-Crmkit-Record, To), read from the outbox file."""
    if str(headers.get("X-Crmkit-Kind", "")) != "marketing":
        return None
    ref = str(headers.get("X-Crmkit-Record", ""))
    if not ref:
        return "marketing mail that names no recipient record (X-Crmkit-Record)"
    from crmkit.errors import CrmkitError

    try:
        rec = ws.get(ref)
    except CrmkitError as exc:   # removed, or merged into another record
        return str(exc)
    if rec.get("opted_out") is True:
        return f"{rec.ref} opted out"
    if (rec.get("consent") or {}).get("marketing") is not True:
        return f"{rec.ref} has no consent to marketing"
    to = headers.get("To")
    addresses = [a.addr_spec.lower() for a in getattr(to, "addresses", ())]
    email = str(rec.get("email") or "").strip().lower()
    if addresses and email not in addresses:
        return f"{rec.ref}'s address is now {email or 'gone'}, not {', '.join(addresses)}"
    return None


def review(ws: Workspace, files: list[Path]) -> list[Held]:
    """What `send` would hold back, without moving anything (for `send --dry-run`)."""
    from crmkit.io import eml

    held = []
    for path in files:
        reason = hold_reason(ws, eml.read_headers(path))
        if reason:
            held.append(Held(ws.rel(path), reason))
    return held


def hold_back(ws: Workspace, command: str, files: list[Path]) -> list[Held]:
    """Move every message that may not go now into outbox/held/ (one commit) and return them."""
    held = review(ws, files)
    if not held:
        return held
    noun = "message" if len(held) == 1 else "messages"
    with ws.transaction(f"outbox: hold back {len(held)} marketing {noun} (no consent at send time)", command) as tx:
        for h in held:
            data = (ws.root / h.file).read_bytes()
            tx.write_file(f"{HELD}/{Path(h.file).name}", data)
            tx.remove_file(h.file)
        tx.note("\n".join(f"{h.file}: {h.reason}" for h in held))
    return held


def list_unsubscribe(ws: Workspace, mailbox: str, rec: Any) -> dict[str, str]:
    """The List-Unsubscribe headers of a marketing message (RFC 2369, RFC 8058).

    Always a mailto: address (the sender's, subject "unsubscribe"). With
    `mail.unsubscribe_url` in crmkit.yaml (an https URL; `{id}` and `{email}` are
    filled in, URL-encoded) the URL comes first and `List-Unsubscribe-Post:
    List-Unsubscribe=One-Click` is added: RFC 8058 allows one-click only with an
    https URI, so a mailto-only message does not claim it.
    """
    from urllib.parse import quote

    mailto = f"<mailto:{mailbox}?subject=unsubscribe>"
    url = (ws.config.get("mail") or {}).get("unsubscribe_url")
    if not isinstance(url, str) or not url.startswith("https://"):
        return {"List-Unsubscribe": mailto}
    filled = url.replace("{id}", quote(rec.id, safe="")).replace("{email}", quote(str(rec.get("email", "")), safe=""))
    return {"List-Unsubscribe": f"<{filled}>, {mailto}", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
