"""Escalation rules (rules/escalation.yaml) and `crmkit tick`: the time-driven work.

    - id: breached-to-second-line
      when: sla.state == breached and line == first
      set: {line: second}
      assign: zsofia
      priority: raise              # or low, normal, high, urgent
      notify: ticket-escalated     # an email template to the (new) owner
    - id: customer-waiting
      when: sla.waiting_hours >= 4
      notify: customer-waiting
      repeat: 4h                   # fire again after 4 business hours; without it, once per ticket

Every rule whose condition holds fires (they are not first-match like routing).
A firing is recorded on the ticket as an `escalated` event, which is how a rule
knows it already fired: `crmkit tick` run twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from crmkit.core import yamlio
from crmkit.core.calendar import calendars, parse_duration
from crmkit.core.conditions import Condition, parse
from crmkit.core.errors import CrmkitError, Problem, RuleError
from crmkit.core.records import Record
from crmkit.core.sla import CLOSED, event_type, policy_for, sla_state
from crmkit.core.tickets import PRIORITIES, assign, set_priority

RULE_FILE = "rules/escalation.yaml"
KEYS = {"id", "when", "description", "set", "assign", "priority", "notify", "repeat"}


@dataclass
class Escalation:
    id: str
    when: Condition
    line: int | None
    set: dict[str, Any] = field(default_factory=dict)
    assign: str | None = None
    priority: str | None = None
    notify: str | None = None
    repeat: str | None = None


def _load(ws: Any) -> tuple[list[Escalation], list[Problem]]:
    path = ws.root / RULE_FILE
    if not path.is_file():
        return [], []
    try:
        doc = yamlio.load_roundtrip(path)
    except CrmkitError as exc:
        return [], [Problem(RULE_FILE, exc.line, "rule-syntax", exc.message)]
    if isinstance(doc, dict):
        doc = doc.get("rules")
    if doc is None:
        return [], []
    if not isinstance(doc, list):
        return [], [Problem(RULE_FILE, 1, "rule-syntax", "an escalation file is a list of rules")]
    rules, problems, seen = [], [], set()
    users = ws.users
    for i, item in enumerate(doc):
        try:
            line = doc.lc.item(i)[0] + 1
        except Exception:  # noqa: BLE001
            line = None
        if not isinstance(item, dict) or not item.get("id"):
            problems.append(Problem(RULE_FILE, line, "rule-syntax", "a rule is a mapping with an id and a when"))
            continue
        rid = str(item["id"])
        lines = {k: yamlio.line_of(item, k) or line for k in item}
        unknown = [k for k in item if k not in KEYS]
        if unknown:
            problems.append(Problem(RULE_FILE, lines[unknown[0]], "rule-field",
                                    f"rule {rid}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(KEYS))})"))
        if rid in seen:
            problems.append(Problem(RULE_FILE, line, "rule-id", f"rule id {rid!r} is used twice"))
        seen.add(rid)
        try:
            cond = parse(str(item.get("when", "")))
        except CrmkitError as exc:
            col = f" (column {exc.column})" if exc.column else ""
            problems.append(Problem(RULE_FILE, lines.get("when", line), "rule-syntax",
                                    f"rule {rid}: when: {exc.message}{col}"))
            continue
        owner = item.get("assign")
        if owner is not None and users and str(owner) not in users:
            problems.append(Problem(RULE_FILE, lines.get("assign"), "rule-owner", f"rule {rid}: unknown user {owner!r}"))
        prio = item.get("priority")
        if prio is not None and str(prio) not in PRIORITIES + ("raise",):
            problems.append(Problem(RULE_FILE, lines.get("priority"), "rule-field",
                                    f"rule {rid}: priority is raise or one of {', '.join(PRIORITIES)}"))
        repeat = item.get("repeat")
        if repeat is not None:
            try:
                parse_duration(repeat)
            except CrmkitError as exc:
                problems.append(Problem(RULE_FILE, lines.get("repeat"), "rule-field", f"rule {rid}: repeat: {exc.message}"))
        sets = item.get("set") or {}
        if not isinstance(sets, dict):
            problems.append(Problem(RULE_FILE, lines.get("set"), "rule-field", f"rule {rid}: set is a mapping"))
            sets = {}
        rules.append(Escalation(rid, cond, line, dict(yamlio.to_plain(sets)), str(owner) if owner else None,
                                str(prio) if prio else None, str(item["notify"]) if item.get("notify") else None,
                                str(repeat) if repeat is not None else None))
    return rules, problems


def check_rules(ws: Any) -> list[Problem]:
    return _load(ws)[1]


def load(ws: Any) -> list[Escalation]:
    rules, problems = _load(ws)
    if problems:
        first = problems[0]
        raise RuleError(f"{first.code}: {first.message}", path=first.path, line=first.line)
    return rules


# -- planning and applying ----------------------------------------------------------------


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
    from crmkit.core.views import view

    rules = load(ws)
    result = TickPlan()
    now = ws.now()
    for ticket in ws.records("ticket"):
        if ticket.get("status") in CLOSED:
            continue
        state = sla_state(ws, ticket) if ws.config.get("sla") else None
        if state is not None:
            recorded = {str(e.get("target")) for e in ticket.get("events") or [] if event_type(e) == "breached"}
            for t in state.targets:
                if t.state == "breached" and t.name not in recorded:
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


def apply_tick(ws: Any, plan: TickPlan, command: str) -> str | None:
    """Record breaches and fire escalations in one commit."""
    if not plan.firings and not plan.breaches:
        return None
    now = ws.now()
    who = "crmkit"  # the tick acts on its own, not as whoever runs cron
    notes: list[str] = []
    with ws.transaction(f"tick: {len(plan.firings)} escalations, {len(plan.breaches)} SLA breaches", command) as tx:
        for b in plan.breaches:
            def breach(doc: Any, b: Breach = b) -> None:
                from crmkit.core.tickets import append_event

                event: dict[str, Any] = {"type": "breached", "at": now, "by": who, "target": b.target}
                if b.at:
                    event["due"] = b.at
                append_event(doc, event)

            tx.update("ticket", b.ticket.id, breach)
            notes.append(f"{b.ticket.ref}: {b.target} breached")
        for f in plan.firings:
            changes: list[str] = []

            def fire(doc: Any, f: Firing = f, changes: list[str] = changes) -> None:
                from crmkit.core.tickets import append_event

                for key, value in f.rule.set.items():
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
                owner = f.rule.assign or f.ticket.get("owner")
                if owner:
                    from crmkit.core.mail import render_notification

                    fresh = ws.index("ticket").get(f.ticket.id) or f.ticket
                    render_notification(ws, tx, f.rule.notify, fresh, str(owner), rule=f.rule.id)
            notes.append(f"{f.ticket.ref}: {f.rule.id}" + (f" ({', '.join(changes)})" if changes else ""))
        for line in notes:
            tx.note(line)
    return "\n".join(notes)

