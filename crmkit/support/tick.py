"""`crmkit tick`: the time-driven work of the support desk, planned and then applied.

The plan is a pure function of the tickets, the SLA configuration, the escalation rules
and the clock: SLA breaches not yet recorded on a ticket, and escalation rules that hold
and have not fired yet (or whose `repeat` has passed). Applying it appends `breached` and
`escalated` events, which is what makes a second run find nothing to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.store.records import Record
from crmkit.support.calendar import calendars, parse_duration
from crmkit.support.escalation import Escalation, load
from crmkit.support.sla import CLOSED, event_type, policy_for, sla_state
from crmkit.support.tickets import append_event, assign, set_priority

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

#: Who the tick acts as in events and commits: itself, not whoever runs cron.
ACTOR = "crmkit"


@dataclass
class Firing:
    ticket: Record
    rule: Escalation
    why: str
    at: dt.datetime | None = None  # when the rule's input made it hold (see _fired_at)


@dataclass
class Breach:
    ticket: Record
    target: str
    at: dt.datetime | None


@dataclass
class TickPlan:
    firings: list[Firing] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    #: cadence follow-ups and reminder digests (crmkit.support.cadence, .reminders)
    followups: list[Any] = field(default_factory=list)
    digests: list[Any] = field(default_factory=list)
    repeats: list[Any] = field(default_factory=list)     # crmkit.support.recurring

    def __bool__(self) -> bool:
        return bool(self.firings or self.breaches or self.followups or self.digests or self.repeats)

    def to_lines(self) -> list[dict[str, Any]]:
        out = [{"action": "breached", "ticket": b.ticket.id, "target": b.target,
                "at": b.at.isoformat() if b.at else None} for b in self.breaches]
        out += [{"action": "escalated", "ticket": f.ticket.id, "rule": f.rule.id, "why": f.why} for f in self.firings]
        out += [f.to_line() for f in self.followups] + [r.to_line() for r in self.repeats]
        out += [d.to_line() for d in self.digests]
        return out


def _last_firing(ticket: Record, rule_id: str) -> dt.datetime | None:
    times = [e.get("at") for e in ticket.get("events") or []
             if event_type(e) == "escalated" and str(e.get("rule")) == rule_id]
    return max(times) if times else None


def _fired_at(ticket: Record, state: Any, again: dt.datetime | None, now: dt.datetime,
              breached: list[dt.datetime]) -> dt.datetime:
    """When an escalation's input made it hold, for its event's `at`: two clones ticking at
    different times on the same tickets then write the same bytes.

    A repeat fires its interval after the last firing; a first firing when the SLA state
    it sees began (the earliest breached target's due time, else when a target came to be
    at risk). Never before the ticket's newest event, nor a breach this run records on it
    (it saw those, and the history stays in time order), never after now; without any
    of these, now."""
    times = [e.get("at") for e in ticket.get("events") or [] if isinstance(e, dict)]
    newest = max((t for t in [*times, *breached, ticket.get("created")] if isinstance(t, dt.datetime) and t.tzinfo),
                 default=None)
    anchor = again
    if anchor is None and state is not None:
        for wanted in ("breached", "at_risk"):
            since = [t.since for t in state.targets if t.state == wanted and t.since is not None]
            if since:
                anchor = min(since)
                break
    found = [t for t in (anchor, newest) if t is not None]
    return min(max(found), now) if found else now


def _latest_on_schedule(cal: Any, at: dt.datetime, every: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """A repeating rule's firing, stamped at the last point of its schedule (at, at + every,
    ...) that is not after now: a tick that comes late fires once, not once per missed
    interval, and the next tick at the same moment finds the interval not yet over."""
    if every <= dt.timedelta(0):
        return at
    steps = cal.between(at, now) // every
    return cal.add(at, every * steps) if steps > 0 else at


def plan_tick(ws: Workspace) -> TickPlan:
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
        breached = [b.at for b in result.breaches if b.ticket is ticket and b.at is not None]
        mapping = view(ws, ticket)
        for rule in rules:
            if not rule.when.evaluate(mapping, ws.resolve):
                continue
            last = _last_firing(ticket, rule.id)
            again = None
            cal, every = None, None
            if rule.repeat is not None:
                policy = policy_for(ws, ticket) if ws.config.get("sla") else None
                cal = calendars(ws)[policy.calendar if policy else "24/7"]
                every = parse_duration(rule.repeat, cal.day)
            if last is not None:
                if cal is None or every is None:
                    continue
                if cal.between(last, now) < every:
                    continue
                again = cal.add(last, every)
            at = _fired_at(ticket, state, again, now, breached)
            if cal is not None and every is not None:
                at = _latest_on_schedule(cal, at, every, now)
            result.firings.append(Firing(ticket, rule, "; ".join(rule.when.explain(mapping, ws.resolve)[:-1]), at))
    _plan_rhythm(ws, result)
    return result


def _plan_rhythm(ws: Workspace, result: TickPlan) -> None:
    """Cadence follow-ups that are due, then each owner's digest (which lists them too)."""
    from crmkit.support.cadence import activity_data, plan_followups
    from crmkit.support.cadence_rules import digest_enabled
    from crmkit.support.recurring import plan_repeats
    from crmkit.support.reminders import plan_digests

    result.followups = [f for f in plan_followups(ws) if f.id not in ws.index("activity")]
    result.repeats = plan_repeats(ws, ws.now())
    if digest_enabled(ws):
        result.digests = plan_digests(ws, [(f.id, activity_data(ws, f)) for f in result.followups]
                                      + [(r.id, r.data) for r in result.repeats])


def run_tick(ws: Workspace, command: str) -> TickPlan:
    """Plan and apply under the workspace lock, in one commit (none when there is nothing to do).

    Planning again under the lock, from freshly read tickets, is what keeps two overlapping
    cron runs from firing the same rule twice: the second sees the first one's events."""
    with ws.transaction("tick", command) as tx:
        ws.invalidate("ticket")
        ws.invalidate("activity")
        plan = plan_tick(ws)
        if plan:
            nf, nb = len(plan.firings), len(plan.breaches)
            tx.message = f"tick: {nf} escalation{'s' if nf != 1 else ''}, {nb} SLA breach{'es' if nb != 1 else ''}"
            if plan.followups or plan.digests or plan.repeats:
                tx.message += (f", {len(plan.followups) + len(plan.repeats)} follow-ups, "
                               f"{len(plan.digests)} digests")
            _apply(ws, tx, plan)
            # a breach is a sentiment signal: the moves it causes go in the same commit, once
            from crmkit.support.sentiment import log_for_tickets

            log_for_tickets(ws, tx, [b.ticket.id for b in plan.breaches] + [f.ticket.id for f in plan.firings])
    return plan


def _apply(ws: Workspace, tx: Transaction, plan: TickPlan) -> None:
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

        tx.update("ticket", b.ticket.id, breach, plain=True)
        notes.append(f"{b.ticket.ref}: {b.target} breached")
    for f in plan.firings:
        changes: list[str] = []
        at = f.at or now

        def fire(doc: Any, f: Firing = f, changes: list[str] = changes, at: dt.datetime = at) -> None:
            for key, value in f.rule.set.items():
                if key == "priority":
                    # through an event, so that the SLA clocks know from when it applies
                    changes.extend(set_priority(doc, str(value), by=who, at=at))
                    continue
                if doc.get(key) != value:
                    doc[key] = value
                    changes.append(f"{key}={value}")
            if f.rule.assign:
                changes.extend(assign(doc, f.rule.assign, by=who, at=at, users=ws.users))
            if f.rule.priority:
                changes.extend(set_priority(doc, f.rule.priority, by=who, at=at))
            event: dict[str, Any] = {"type": "escalated", "at": at, "by": who, "rule": f.rule.id}
            if changes:
                event["changes"] = list(changes)
            append_event(doc, event)

        tx.update("ticket", f.ticket.id, fire, plain=True)
        if f.rule.notify:
            # the ticket as written just now: an earlier rule in this run may have reassigned it
            fresh = ws.index("ticket").get(f.ticket.id) or f.ticket
            owner = fresh.get("owner")
            if owner:
                from crmkit.marketing.mail import render_notification

                render_notification(ws, tx, f.rule.notify, fresh, str(owner), rule=f.rule.id, when=at)
        notes.append(f"{f.ticket.ref}: {f.rule.id}" + (f" ({', '.join(changes)})" if changes else ""))
    from crmkit.support.cadence import apply_followups
    from crmkit.support.recurring import apply_repeats
    from crmkit.support.reminders import apply_digests

    notes += apply_followups(ws, tx, plan.followups)
    notes += apply_repeats(ws, tx, plan.repeats)
    notes += apply_digests(ws, tx, plan.digests)
    for line in notes:
        tx.note(line)

