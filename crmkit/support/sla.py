"""SLA clocks, computed from a ticket's events and never stored by hand.

    sla:
      at_risk: 0.75                 # share of a target used when it turns "at risk"
      policies:                     # the first whose `when` matches a ticket applies
        - id: gold
          when: company.agreement == gold
          calendar: extended
          pause_on: [pending]       # statuses during which the clocks stop
          targets:
            urgent: {first_response: 30m, next_response: 1h, resolution: 4h}
            high:   {first_response: 1h, resolution: 1d}
        - id: standard              # no `when`: every other ticket
          calendar: office
          targets:
            normal: {first_response: 4h, resolution: 3d}

Targets are business time in the policy's calendar (`4h`, `30m`, `2d`; a `d` is
the calendar's business day). The clocks:

- first_response runs from creation to our first reply;
- next_response runs from each customer reply that we have not answered yet;
- resolution runs while the ticket is neither solved nor closed (a reopened
  ticket's clock goes on from where it stopped).

All clocks stop while the ticket's status is in `pause_on`. Each target's state is
met, breached, running, at_risk or paused.

History is not rewritten: a clock's target is the one of the priority the ticket had
when that clock started (from its `priority` events), so a priority raised by an
escalation applies to clocks that start afterwards (the next customer message's
next_response), and a breach recorded by `crmkit tick` keeps its recorded due time.
The due time is the moment the target's business time runs out, which may be the
closing time of a day (not "now" while the office is closed) or, for a target of
zero created outside hours, the next opening.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.support.calendar import BusinessCalendar, calendars, format_duration
from crmkit.support.policies import TARGETS, Policy, load_policies, policy_for

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

CLOSED = ("solved", "closed")
#: Event types as people and older files write them -> the canonical type.
EVENT_ALIASES = {"reply": "replied", "customer_reply": "customer_replied", "status_changed": "status",
                 "assign": "assigned", "escalation": "escalated"}


def event_type(event: dict[str, Any]) -> str:
    kind = str(event.get("type", ""))
    return EVENT_ALIASES.get(kind, kind)


def event_status(event: dict[str, Any]) -> str | None:
    value = event.get("status", event.get("to"))
    return str(value) if value is not None else None


@dataclass
class TargetState:
    name: str
    target: dt.timedelta
    elapsed: dt.timedelta
    state: str                       # met, breached, running, at_risk, paused
    due: dt.datetime | None          # when it breaches (running/at_risk) or breached
    stopped_at: dt.datetime | None   # when it was met or last stopped
    started: dt.datetime | None = None  # when this clock started (each next_response round anew)
    #: when the target came to be in its state: breached at its due time, at risk when the
    #: at-risk share of it was used up (tick stamps escalations with it, not with its clock)
    since: dt.datetime | None = None

    @property
    def left(self) -> dt.timedelta:
        return self.target - self.elapsed

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "target": format_duration(self.target),
                "elapsed": format_duration(self.elapsed), "left": format_duration(self.left),
                "left_hours": round(self.left.total_seconds() / 3600, 2),
                "due": self.due.isoformat() if self.due else None}


@dataclass
class SlaState:
    policy: str
    calendar: str
    targets: list[TargetState]

    @property
    def worst(self) -> str:
        order = ["breached", "at_risk", "running", "paused", "met"]
        states = [t.state for t in self.targets]
        return next((s for s in order if s in states), "met")

    @property
    def pressing(self) -> TargetState | None:
        """The open target to act on first: a breached one, else the one due soonest."""
        open_ = [t for t in self.targets if t.stopped_at is None and t.state != "paused"]
        breached = [t for t in open_ if t.state == "breached"]
        if breached:
            return min(breached, key=lambda t: t.left)
        running = [t for t in open_ if t.due is not None]
        return min(running, key=lambda t: t.due.astimezone(dt.UTC)) if running else None  # type: ignore[union-attr]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"policy": self.policy, "calendar": self.calendar, "state": self.worst}
        pressing = self.pressing
        out["next"] = pressing.name if pressing else None
        out["due"] = pressing.due.isoformat() if pressing and pressing.due else None
        out["left"] = format_duration(pressing.left) if pressing else None
        for t in self.targets:
            out[t.name] = t.to_dict()
        return out

    def describe(self, tz: Any = None) -> str:
        """One line for people, e.g. `at_risk (standard/office): first_response met in 15m;
        next_response at_risk, 30m left, due 2026-11-23 11:40; resolution running, ...`."""
        bits = []
        for t in self.targets:
            if t.state == "met":
                bits.append(f"{t.name} met in {format_duration(t.elapsed)} of {format_duration(t.target)}")
                continue
            bit = f"{t.name} {t.state}"
            if t.state == "breached":
                bit += f" by {format_duration(-t.left)}"
            else:
                bit += f", {format_duration(t.left)} left"
            if t.due is not None:
                due = t.due.astimezone(tz) if tz is not None else t.due
                bit += f" ({'since' if t.state == 'breached' else 'due'} {due:%Y-%m-%d %H:%M})"
            bits.append(bit)
        return f"{self.worst} ({self.policy}/{self.calendar}): " + "; ".join(bits) if bits else \
            f"{self.worst} ({self.policy}/{self.calendar})"


class SlaSummary(dict):  # type: ignore[type-arg]
    """The `sla` field: a plain mapping for JSON and conditions that prints as one readable line
    (which is what `crmkit show` prints for it)."""

    text = ""

    def __str__(self) -> str:
        return self.text or super().__str__()


# -- the clocks ----------------------------------------------------------------------------


def _timeline(events: list[dict[str, Any]]) -> list[tuple[dt.datetime, str, dict[str, Any]]]:
    out = []
    for e in events or []:
        at = e.get("at")
        if isinstance(at, dt.datetime) and at.tzinfo is not None:
            out.append((at, event_type(e), e))
    out.sort(key=lambda x: x[0].astimezone(dt.UTC))
    return out


def _status_periods(timeline: list[Any], created: dt.datetime, now: dt.datetime,
                    initial: str = "new") -> list[tuple[dt.datetime, dt.datetime, str]]:
    """The ticket's status over time: (from, to, status) periods up to now."""
    periods = []
    status, since = initial, created
    for at, kind, e in timeline:
        if kind == "status" and event_status(e):
            if at > since:
                periods.append((since, at, status))
            status, since = str(event_status(e)), max(at, since)
    if now > since:
        periods.append((since, now, status))
    return periods


def _active_time(cal: BusinessCalendar, periods: list[Any], start: dt.datetime, end: dt.datetime,
                 stop_when: tuple[str, ...]) -> dt.timedelta:
    """Business time between start and end spent in statuses not in stop_when."""
    total = dt.timedelta()
    for a, b, status in periods:
        if status in stop_when:
            continue
        lo, hi = max(a, start), min(b, end)
        if hi > lo:
            total += cal.between(lo, hi)
    return total


def priority_at(ticket: dict[str, Any], timeline: list[Any], when: dt.datetime) -> str:
    """The ticket's priority at `when`, from its `priority` events (before the first one,
    that event's `from`; without any, the priority in the file)."""
    current = str(ticket.get("priority", "normal"))
    changes = [e for _at, kind, e in timeline if kind == "priority"]
    if not changes:
        return current
    prio = str(changes[0].get("from", current))
    for at, kind, e in timeline:
        if kind == "priority":
            if at > when:
                break
            prio = str(e.get("to", prio))
    return prio


def targets_for(policy: Policy, priority: str) -> dict[str, dt.timedelta]:
    return policy.targets.get(priority) or policy.targets.get("default") or {}


def compute(ticket: dict[str, Any], policy: Policy, cal: BusinessCalendar, now: dt.datetime,
            at_risk: float = 0.75) -> SlaState:
    """Every target of the ticket's priority: elapsed business time, due time and state."""
    events = ticket.get("events") or []
    timeline = _timeline(events)
    created = ticket.get("created")
    if not isinstance(created, dt.datetime):
        created = timeline[0][0] if timeline else now
    periods = _status_periods(timeline, created, now)
    current = periods[-1][2] if periods else str(ticket.get("status", "new"))
    if not timeline or not any(k == "status" for _, k, _ in timeline):
        current = str(ticket.get("status", current))
        periods = [(created, now, current)] if now > created else []
    elif ticket.get("status") is not None and str(ticket["status"]) != current and periods:
        # The status was edited by hand (`crmkit set`), so no event says when. The file is
        # the truth now; assume the change came with the ticket's last event (check warns).
        since = max(timeline[-1][0], periods[-1][0])
        a, b, old = periods.pop()
        if since > a:
            periods.append((a, since, old))
        current = str(ticket["status"])
        periods.append((min(since, b), b, current))
    paused = current in policy.pause_on
    # solved and closed stop every clock; a reopened ticket's clocks go on from where they stopped
    stop = tuple(policy.pause_on) + CLOSED
    closed_at = _closed_since(periods) if current in CLOSED else None
    states = []
    ours = [at for at, kind, _ in timeline if kind == "replied"]
    theirs = [at for at, kind, _ in timeline if kind == "customer_replied"]
    recorded = [(str(e.get("target")), at, e.get("due")) for at, kind, e in timeline if kind == "breached"]
    for name in TARGETS:
        stopped: dt.datetime | None
        if name == "first_response":
            start, stopped = created, (ours[0] if ours else closed_at)
        elif name == "next_response":
            first = ours[0] if ours else None
            after = [t for t in theirs if first is not None and t > first]
            unanswered = [t for t in after if not any(o > t for o in ours)]
            if unanswered:
                start, stopped = unanswered[0], closed_at
            else:
                answered = [(t, min(o for o in ours if o > t)) for t in after]
                if not answered:
                    continue  # no customer message after our first answer: nothing to measure
                start, stopped = answered[-1]
        else:
            start, stopped = created, closed_at
        # The target in force is the one of the priority the ticket had when this clock
        # started: a later priority change (escalation) applies to clocks that start
        # afterwards and never rewrites a running or finished clock's history.
        targets = targets_for(policy, priority_at(ticket, timeline, start))
        if name not in targets:
            continue
        target = targets[name]
        end = stopped or now
        elapsed = _active_time(cal, periods, start, end, stop)
        left = target - elapsed
        # the moment the target's business time ran out (it may end exactly at closing
        # time, or, for a zero target outside hours, be the next opening): fixed, never
        # a time that moves with the clock
        used_up = _breach_time(cal, periods, start, target, stop, end)
        due: dt.datetime | None = None
        pinned = [d for n, at, d in recorded if n == name and at >= start]   # this round of the clock
        if pinned:
            # a breach recorded by `crmkit tick` stays where it was recorded
            state = "breached"
            due = pinned[0] if isinstance(pinned[0], dt.datetime) else used_up
        elif stopped is not None:
            state = "met" if used_up is None or stopped <= used_up else "breached"
        elif used_up is not None and now > used_up:
            state = "breached"
        elif paused:
            state = "paused"
        else:
            state = "at_risk" if elapsed >= target * at_risk else "running"
            due = used_up or cal.add(now, max(left, dt.timedelta(0)))
        if state == "breached" and due is None:
            due = used_up
        in_state_since = due if state == "breached" else (
            _breach_time(cal, periods, start, target * at_risk, stop, end) if state == "at_risk" else None)
        states.append(TargetState(name, target, elapsed, state, due, stopped, start, in_state_since))
    return SlaState(policy.id, policy.calendar, states)


def _closed_since(periods: list[tuple[dt.datetime, dt.datetime, str]]) -> dt.datetime | None:
    """When the ticket's last unbroken run of solved/closed statuses began (solved, then closed,
    counts from the solving)."""
    since = None
    for a, _b, status in reversed(periods):
        if status not in CLOSED:
            break
        since = a
    return since


def _breach_time(cal: BusinessCalendar, periods: list[Any], start: dt.datetime, target: dt.timedelta,
                 stop: tuple[str, ...], end: dt.datetime | None = None) -> dt.datetime | None:
    """When the target was used up, up to `end`: walk the active periods until the business
    time runs out (None if it had not by then)."""
    left = target
    for a, b, status in periods:
        if end is not None:
            b = min(b, end)
        if status in stop or b <= start or b <= a:
            continue
        lo = max(a, start)
        room = cal.between(lo, b)
        if room >= left:
            return cal.add(lo, left)
        left -= room
    return None


def sla_state(ws: Workspace, record: Any) -> SlaState | None:
    """The ticket's clocks now, or None when no policy (or no target for its priority) applies."""
    if record.get("status") is None and not record.get("events"):
        return None
    policy = policy_for(ws, record)
    if policy is None:
        return None
    if str(record.get("priority", "normal")) not in policy.targets and "default" not in policy.targets:
        return None
    _, at_risk = load_policies(ws)
    return compute(record.data, policy, calendars(ws)[policy.calendar], ws.now(), at_risk)


def sla_summary(ws: Workspace, record: Any) -> dict[str, Any] | None:
    """The computed `sla` field of a ticket (crmkit.conditions.views): usable in conditions as
    `sla.state == breached` or `sla.first_response.left_hours < 1`, and shown by list and show."""
    try:
        state = sla_state(ws, record)
    except CrmkitError:
        return None
    if state is None:
        return None
    out = SlaSummary(state.to_dict())
    out["waiting_hours"] = waiting_hours(ws, record, state)
    out.text = out["summary"] = state.describe(ws.tz)
    return out


def waiting_hours(ws: Workspace, record: Any, state: SlaState | None = None) -> float:
    """Business hours since the customer's last message that we have not answered (0 if none)."""
    if record.get("status") in CLOSED:
        return 0.0
    timeline = _timeline(record.get("events") or [])
    last_theirs = [at for at, k, _ in timeline if k in ("customer_replied", "created")]
    last_ours = [at for at, k, _ in timeline if k == "replied"]
    if not last_theirs or (last_ours and last_ours[-1] > last_theirs[-1]):
        return 0.0
    policy = policy_for(ws, record) if state is None else None
    cal_name = state.calendar if state else (policy.calendar if policy else "24/7")
    cal = calendars(ws)[cal_name]
    return round(cal.between(last_theirs[-1], ws.now()).total_seconds() / 3600, 2)
