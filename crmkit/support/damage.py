"""Merge damage on tickets: SLA breaches and escalations recorded twice (see crmkit.store.damage)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from crmkit.errors import CrmkitError, Problem
from crmkit.store import yamlio
from crmkit.support.sla import event_type

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def repeated_events(ws: Workspace) -> list[Problem]:
    """A breach of one target's clock recorded twice; a rule without `repeat` fired twice."""
    from crmkit.support.escalation import load

    try:
        repeating = {r.id for r in load(ws) if r.repeat is not None}
    except CrmkitError:
        repeating = set()  # broken rules are reported by the rule check
    found: list[Problem] = []
    for ticket in ws.records("ticket"):
        events = ticket.get("events")
        if not isinstance(events, list):
            continue
        breaches: dict[str, int] = {}
        firings: dict[str, int] = {}
        for e in events:
            if not isinstance(e, dict):
                continue
            if event_type(e) == "breached" and e.get("due") is not None:
                key = json.dumps([str(e.get("target")), str(e.get("due"))])
                breaches[key] = breaches.get(key, 0) + 1
            elif event_type(e) == "escalated" and e.get("rule") is not None and str(e.get("rule")) not in repeating:
                firings[str(e["rule"])] = firings.get(str(e["rule"]), 0) + 1
        line = yamlio.key_lines(ticket.path).get("events") if (
            any(n > 1 for n in breaches.values()) or any(n > 1 for n in firings.values())) else None
        for key, n in sorted(breaches.items()):
            if n > 1:
                target, due = json.loads(key)
                found.append(Problem(ws.rel(ticket.path), line, "event-twice",
                                     f"{ticket.ref}: the {target} breach due {due} is recorded {n} times"))
        for rule, n in sorted(firings.items()):
            if n > 1:
                found.append(Problem(ws.rel(ticket.path), line, "event-twice",
                                     f"{ticket.ref}: escalation rule {rule} fired {n} times (it has no repeat)"))
    return found
