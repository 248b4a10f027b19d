"""A customer writes to a ticket we thought was done.

A reply to a *pending* or *solved* ticket opens it again (the clocks run again: the
reply starts a next_response clock and resolution goes on from where it stopped).
A reply to a *closed* ticket follows the setting

    tickets:
      reply_to_closed: follow_up     # follow_up (default) | reopen

- `follow_up`: a new ticket is opened for the message, linked to the closed one
  (`follow_up_of: OLD`, and a `followed_up` event on the old ticket naming the new
  one), with the same subject (prefixed "Re: "), contact, company, channel, priority
  and line. The closed ticket's history and SLA figures stay as they were: a closed
  ticket is done, as in most help desks.
- `reopen`: the closed ticket itself is opened again, like a solved one.

Either way the command says what it did, and nothing is swallowed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.support import tickets

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

SETTINGS = ("follow_up", "reopen")
#: What a follow-up ticket takes over from the closed one.
CARRIED = ("contact", "company", "channel", "priority", "line", "owner", "tags")


def reply_to_closed(ws: Workspace) -> str:
    setting = str(((ws.config.get("tickets") or {}).get("reply_to_closed")) or "follow_up")
    if setting not in SETTINGS:
        raise CrmkitError(f"tickets.reply_to_closed is follow_up or reopen, not {setting!r}", path="crmkit.yaml")
    return setting


def record_reply(ws: Workspace, tx: Transaction, rec: Any, *, by: str, customer: bool, body: str | None,
                 at: Any = None) -> tuple[str, list[str]]:
    """Record a reply on ticket `rec` inside transaction `tx`, at `at` (default: now; an email
    that arrives is dated when it was written, support/inbound.py).

    Returns (the ticket the reply landed on, what changed). A customer's reply to a
    closed ticket lands on a new follow-up ticket unless `reopen` is configured."""
    now = at or ws.now()
    status = str(rec.get("status", "new"))
    if customer and status == "closed":
        if reply_to_closed(ws) == "follow_up":
            return _follow_up(ws, tx, rec, by=by, body=body, now=now)
        changes: list[str] = []

        def reopen(doc: Any) -> None:
            changes.extend(tickets.set_status(doc, "open", by=by, at=now))
            changes.extend(tickets.reply(doc, by=by, at=now, customer=True, body=body))

        tx.update("ticket", rec.id, reopen)
        return rec.id, [c.replace("status closed -> open", "reopened (status closed -> open)") for c in changes]
    changes = []
    tx.update("ticket", rec.id, lambda doc: changes.extend(
        tickets.reply(doc, by=by, at=now, customer=customer, body=body)))
    if customer and status in ("pending", "solved"):
        changes = [c.replace(f"status {status} -> open", f"reopened (status {status} -> open)") for c in changes]
    return rec.id, changes


def _follow_up(ws: Workspace, tx: Transaction, old: Any, *, by: str, body: str | None, now: Any) -> tuple[str, list[str]]:
    subject = str(old.get("subject") or old.id)
    data: dict[str, Any] = {"subject": subject if subject.lower().startswith("re:") else f"Re: {subject}"}
    for key in CARRIED:
        if old.get(key) is not None:
            data[key] = old.get(key)
    data["status"] = "open"
    data["follow_up_of"] = old.id
    event: dict[str, Any] = {"type": "customer_replied", "at": now, "by": by}
    if body:
        event["body"] = body
    data["events"] = [{"type": "created", "at": now, "by": by, "follow_up_of": old.id}, event]
    data["created"] = now
    new = tx.create("ticket", data)
    tx.update("ticket", old.id, lambda doc: tickets.append_event(
        doc, {"type": "followed_up", "at": now, "by": by, "ticket": new.id}))
    return new.id, [f"ticket {old.id} is closed: opened follow-up ticket {new.id} (follow_up_of: {old.id})",
                    "customer_replied"]
