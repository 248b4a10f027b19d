"""Ticket lifecycle: every change is an event appended to the ticket's history.

Events (append-only, each with `at` and `by`):
  created                         the ticket was opened
  replied            body         we answered the customer
  customer_replied   body         the customer wrote again
  status             to, from     the status changed (new, open, pending, solved, closed)
  assigned           to, from     the owner changed
  priority           to, from     the priority changed
  escalated          rule, ...    an escalation rule fired
  breached           target       an SLA target was breached (written by `crmkit tick`)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmkit.errors import CrmkitError, UsageError

STATUSES = ("new", "open", "pending", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")


def append_event(doc: Any, event: dict[str, Any]) -> None:
    if "events" not in doc or doc["events"] is None:
        doc["events"] = []
    doc["events"].append(event)


def reply(doc: Any, *, by: str, at: dt.datetime, customer: bool, body: str | None) -> list[str]:
    """Record a reply; returns what changed. Our reply opens a new ticket; the customer's
    reply to a pending or solved ticket opens it again."""
    event: dict[str, Any] = {"type": "customer_replied" if customer else "replied", "at": at, "by": by}
    if body:
        event["body"] = body
    append_event(doc, event)
    changes = [event["type"]]
    status = doc.get("status", "new")
    new = None
    if customer and status in ("pending", "solved"):
        new = "open"
    elif not customer and status == "new":
        new = "open"
    if new:
        changes += set_status(doc, new, by=by, at=at)
    return changes


def set_status(doc: Any, status: str, *, by: str, at: dt.datetime) -> list[str]:
    if status not in STATUSES:
        raise UsageError(f"status is one of {', '.join(STATUSES)}, not {status!r}")
    old = doc.get("status", "new")
    if old == status:
        return []
    if old == "closed" and status != "open":
        raise CrmkitError(f"a closed ticket can only be reopened (status open), not set to {status}")
    doc["status"] = status
    append_event(doc, {"type": "status", "at": at, "by": by, "from": old, "to": status})
    return [f"status {old} -> {status}"]


def assign(doc: Any, owner: str, *, by: str, at: dt.datetime, users: dict[str, Any]) -> list[str]:
    if users and owner not in users:
        raise CrmkitError(f"{owner!r} is not a user in crmkit.yaml (users: {', '.join(sorted(users))})")
    old = doc.get("owner")
    if old == owner:
        return []
    doc["owner"] = owner
    event: dict[str, Any] = {"type": "assigned", "at": at, "by": by, "to": owner}
    if old:
        event["from"] = old
    append_event(doc, event)
    return [f"owner {old or '-'} -> {owner}"]


def set_priority(doc: Any, priority: str, *, by: str, at: dt.datetime) -> list[str]:
    if priority == "raise":
        current = str(doc.get("priority", "normal"))
        index = PRIORITIES.index(current) if current in PRIORITIES else 1
        priority = PRIORITIES[min(index + 1, len(PRIORITIES) - 1)]
    if priority not in PRIORITIES:
        raise UsageError(f"priority is one of {', '.join(PRIORITIES)} or raise, not {priority!r}")
    old = doc.get("priority", "normal")
    if old == priority:
        return []
    doc["priority"] = priority
    append_event(doc, {"type": "priority", "at": at, "by": by, "from": old, "to": priority})
    return [f"priority {old} -> {priority}"]


def escalate(doc: Any, *, by: str, at: dt.datetime, owner: str | None = None, reason: str | None = None,
             users: dict[str, Any] | None = None) -> list[str]:
    """A person moves the ticket to second line (and optionally to an owner there); recorded
    as an `escalated` event like the ones escalation rules write, so reports count it."""
    if doc.get("line") == "second" and (owner is None or doc.get("owner") == owner):
        raise CrmkitError("the ticket is already on second line" + (f" with {owner}" if owner else ""))
    changes: list[str] = []
    if doc.get("line") != "second":
        doc["line"] = "second"
        changes.append("line=second")
    if owner is not None:
        changes.extend(assign(doc, owner, by=by, at=at, users=users or {}))
    event: dict[str, Any] = {"type": "escalated", "at": at, "by": by, "changes": list(changes)}
    if reason:
        event["reason"] = reason
    append_event(doc, event)
    return changes
