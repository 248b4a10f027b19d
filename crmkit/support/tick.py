"""`crmkit tick`: the time-driven work of the support desk, planned and then applied.

The plan is a pure function of the tickets, the SLA configuration, the escalation rules
and the clock: SLA breaches not yet recorded on a ticket, and escalation rules that hold
and have not fired yet (or whose `repeat` has passed). Applying it appends `breached` and
`escalated` events, which is what makes a second run find nothing to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from crmkit.store.records import Record
from crmkit.support.calendar import calendars, parse_duration
from crmkit.support.escalation import Escalation, load
from crmkit.support.sla import CLOSED, event_type, policy_for, sla_state
from crmkit.support.tickets import append_event, assign, set_priority

#: Who the tick acts as in events and commits: itself, not whoever runs cron.
ACTOR = "crmkit"


@dataclass
class Firing:
    ticket: Record
    rule: Escalation
    why: str


@dataclass
class Breach:
    ticket: Record
    target: str
    at: dt.datetime | None


@dataclass
class TickPlan:
    firings: list[Firing] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)

    def to_lines(self) -> list[dict[str, Any]]:
        out = [{"action": "breached", "ticket": b.ticket.id, "target": b.target,
                "at": b.at.isoformat() if b.at else None} for b in self.breaches]
        out += [{"action": "escalated", "ticket": f.ticket.id, "rule": f.rule.id, "why": f.why} for f in self.firings]
        return out


def _last_firing(ticket: Record, rule_id: str) -> dt.datetime | None:
    times = [e.get("at") for e in ticket.get("events") or []
             if event_type(e) == "escalated" and str(e.get("rule")) == rule_id]
    return max(times) if times else None


def plan_tick(ws: Any) -> TickPlan:
    """What `tick` would do now: SLA breaches to record and escalation rules to fire."""
    from crmkit.conditions.views import view

    rules = load(ws)
    result = TickPlan()
    now = ws.now()
    for ticket in ws.records("ticket"):
        if ticket.get("status") in CLOSED:
            continue
        state = sla_state(ws, ticket) if ws.config.get("sla") else None
        if state is not None:
            recorded = [(str(e.get("target")), e.get("at")) for e in ticket.get("events") or []
                        if event_type(e) == "breached" and isinstance(e.get("at"), dt.datetime)]
            for t in state.targets:
                # once per clock: a later round of next_response can be breached again
                if t.state == "breached" and not any(name == t.name and (t.started is None or at >= t.started)
                                                     for name, at in recorded):
                    result.breaches.append(Breach(ticket, t.name, t.due))
        mapping = view(ws, ticket)
        for rule in rules:
            if not rule.when.evaluate(mapping, ws.resolve):
                continue
            last = _last_firing(ticket, rule.id)
            if last is not None:
                if rule.repeat is None:
                    continue
                policy = policy_for(ws, ticket) if ws.config.get("sla") else None
                cal = calendars(ws)[policy.calendar if policy else "24/7"]
                if cal.between(last, now) < parse_duration(rule.repeat, cal.day):
                    continue
            result.firings.append(Firing(ticket, rule, "; ".join(rule.when.explain(mapping, ws.resolve)[:-1])))
    return result


def run_tick(ws: Any, command: str) -> TickPlan:
    """Plan and apply under the workspace lock, in one commit (none when there is nothing to do).

    Planning again under the lock, from freshly read tickets, is what keeps two overlapping
    cron runs from firing the same rule twice: the second sees the first one's events."""
    with ws.transaction("tick", command) as tx:
        ws.invalidate("ticket")
        plan = plan_tick(ws)
        if plan.firings or plan.breaches:
            nf, nb = len(plan.firings), len(plan.breaches)
            tx.message = f"tick: {nf} escalation{'s' if nf != 1 else ''}, {nb} SLA breach{'es' if nb != 1 else ''}"
            _apply(ws, tx, plan)
            # a breach is a sentiment signal: the moves it causes go in the same commit, once
            from crmkit.support.satisfaction import log_for_tickets

            log_for_tickets(ws, tx, [b.ticket.id for b in plan.breaches] + [f.ticket.id for f in plan.firings])
    return plan


def _apply(ws: Any, tx: Any, plan: TickPlan) -> None:
    now = ws.now()
    who = ACTOR
    notes: list[str] = []
    for b in plan.breaches:
        def breach(doc: Any, b: Breach = b) -> None:
            # `at` is when the target was breached (its due time), not when this run noticed:
            # two clones ticking at different times then write the same event.
            event: dict[str, Any] = {"type": "breached", "at": b.at or now, "by": who, "target": b.target}
            if b.at:
                event["due"] = b.at
            append_event(doc, event)

        tx.update("ticket", b.ticket.id, breach)
        notes.append(f"{b.ticket.ref}: {b.target} breached")
    for f in plan.firings:
        changes: list[str] = []

        def fire(doc: Any, f: Firing = f, changes: list[str] = changes) -> None:
            for key, value in f.rule.set.items():
                if key == "priority":
                    # through an event, so that the SLA clocks know from when it applies
                    changes.extend(set_priority(doc, str(value), by=who, at=now))
                    continue
                if doc.get(key) != value:
                    doc[key] = value
                    changes.append(f"{key}={value}")
            if f.rule.assign:
                changes.extend(assign(doc, f.rule.assign, by=who, at=now, users=ws.users))
            if f.rule.priority:
                changes.extend(set_priority(doc, f.rule.priority, by=who, at=now))
            event: dict[str, Any] = {"type": "escalated", "at": now, "by": who, "rule": f.rule.id}
            if changes:
                event["changes"] = list(changes)
            append_event(doc, event)

        tx.update("ticket", f.ticket.id, fire)
        if f.rule.notify:
            # the ticket as written just now: an earlier rule in this run may have reassigned it
            fresh = ws.index("ticket").get(f.ticket.id) or f.ticket
            owner = fresh.get("owner")
            if owner:
                from crmkit.marketing.mail import render_notification

                render_notification(ws, tx, f.rule.notify, fresh, str(owner), rule=f.rule.id)
        notes.append(f"{f.ticket.ref}: {f.rule.id}" + (f" ({', '.join(changes)})" if changes else ""))
    for line in notes:
        tx.note(line)

