"""Message-IDs of notifications, derived from the record and the event they announce.

Two clones that route the same lead or fire the same escalation write the same
Message-ID (and the same outbox file name), so a merge holds one message, not two,
and `mail send` sends it once."""

from __future__ import annotations

import hashlib

from crmkit.store.records import Record


def event_key(record: Record, template: str, owner: str, rule: str) -> str:
    """What makes one notification: the record, the template, the owner and the event.

    The event is the routing decision (rule and the status routed for) or the n-th
    firing of an escalation rule (a rule with `repeat` notifies again, with a new id)."""
    routing = record.get("routing") if isinstance(record.get("routing"), dict) else {}
    firings = sum(1 for e in record.get("events") or []
                  if isinstance(e, dict) and e.get("type") == "escalated" and str(e.get("rule")) == rule)
    return "|".join([record.ref, template, owner, rule, str(routing.get("status", "")), str(firings)])


def notification_id(record: Record, template: str, owner: str, rule: str) -> str:
    """`crmkit.notify.<kind>.<id>.<digest>`: readable, and the same wherever it is made."""
    digest = hashlib.sha256(event_key(record, template, owner, rule).encode("utf-8")).hexdigest()[:12]
    return f"crmkit.notify.{record.kind}.{record.id}.{digest}"
