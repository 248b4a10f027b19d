"""Routing: who gets a record. Plan (pure), apply (one transaction, one commit); `--explain` is routing_explain.

Which records are routed: open records (not converted or disqualified leads, not
solved or closed tickets) that have no owner, or (leads) whose status changed
since they were last routed. Each routed record remembers it::

    routing:
      rule: prospect-large
      at: 2026-11-22T09:30:00+01:00
      status: prospect
      owner: karin

An owner set by a person (an owner and no routing block, or an owner other than
`routing.owner`) is never overwritten unless the run is forced. A routed record
whose status has not changed is left alone, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.conditions.views import view
from crmkit.errors import CrmkitError
from crmkit.sales.pools import PoolState, is_open
from crmkit.sales.rules import Rule, RuleSet
from crmkit.store.appending import Appender, field_edit, write_all
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


@dataclass
class Assignment:
    """What routing does (or would do) to one record."""

    kind: str
    id: str
    title: str
    reason: str  # why the record was considered
    rule: str | None
    rule_at: str | None
    owner: str | None
    previous_owner: str | None
    status: Any
    pool: str | None = None
    #: the pool's round-robin turn this assignment took (None for other strategies)
    turn: int | None = None
    set: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    notify: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the record's fields as planned from (not part of the output)
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.id}"

    @property
    def assigned(self) -> bool:
        return self.owner is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "id": self.id, "title": self.title, "owner": self.owner,
            "previous_owner": self.previous_owner, "rule": self.rule, "rule_at": self.rule_at,
            "reason": self.reason, "status": self.status, "pool": self.pool, "set": self.set,
            "tags": self.tags, "notify": self.notify, "notes": self.notes,
        }

    def summary(self) -> str:
        return f"{self.ref} -> {self.owner or 'nobody'} (rule {self.rule})"


@dataclass
class Skipped:
    """A record that needs routing but keeps its owner (set by a person)."""

    kind: str
    id: str
    owner: str
    reason: str

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "owner": self.owner, "skipped": self.reason}


@dataclass
class Plan:
    at: dt.datetime
    assignments: list[Assignment] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    #: records that matched no rule, or whose pool had nobody and no fallback
    unassigned: list[Assignment] = field(default_factory=list)


# -- which records --------------------------------------------------------------------

#: Kinds whose status is a stage of a process with its own owners (a qualified lead
#: goes to sales). A ticket's status (new, open, pending) is the work of its owner:
#: tickets are triaged once, when they have no owner, and not re-triaged behind
#: the agent's back when the agent opens them.
REROUTE_ON_STATUS = {"lead"}


def routing_reason(ws: Workspace, rec: Record) -> str | None:
    """Why a record should be routed now, or None when it should be left alone."""
    if not is_open(ws, rec):
        return None
    data = rec.data
    routing = data.get("routing")
    owner = data.get("owner")
    status = data.get("status")
    if isinstance(routing, dict):
        if routing.get("status") != status and rec.kind in REROUTE_ON_STATUS:
            return f"status changed from {routing.get('status')} to {status} since last routed"
        if not owner:
            return "no owner"
        return None
    if not owner:
        return "no owner"
    return "never routed"


def manual_owner(rec: Record) -> str | None:
    """The owner if a person set it (routing did not), else None."""
    owner = rec.data.get("owner")
    if not owner:
        return None
    routing = rec.data.get("routing")
    if not isinstance(routing, dict) or routing.get("owner") != owner:
        return str(owner)
    return None


# -- evaluating rules ---------------------------------------------------------------------


def first_match(ws: Workspace, rules: list[Rule], rec: Record) -> Rule | None:
    mapping = view(ws, rec)
    for rule in rules:
        if rule.matches(mapping, ws.resolve):
            return rule
    return None


def _decide(ws: Workspace, state: PoolState, rule: Rule | None, rec: Record, reason: str,
            partners_planned: dict[str, int] | None = None) -> Assignment:
    data = rec.data
    old_owner = data.get("owner")
    a = Assignment(rec.kind, rec.id, rec.title, reason, rule.id if rule else None,
                   rule.where if rule else None, None, old_owner if isinstance(old_owner, str) else None,
                   data.get("status"), data=data)
    if rule is None:
        a.notes.append("no rule matched (add a catch-all rule at the end)")
        return a
    if rule.assign:
        a.owner = rule.assign
    elif rule.pool:
        a.pool = rule.pool
        a.owner, notes = state.choose(rule.pool)
        a.turn = state.last_turn if a.owner else None
        a.notes.extend(notes)
    else:
        a.owner = a.previous_owner
        a.notes.append("the rule names no owner" + (f"; {a.owner} keeps it" if a.owner else ""))
    for key, value in rule.set.items():
        if data.get(key) != value:
            a.set[key] = value
    if rule.partner and rec.kind == "lead":
        from crmkit.sales.partners import choose

        chosen, note = choose(ws, rec, rule.partner, partners_planned)
        a.notes.append(note)
        if chosen and data.get("partner") != chosen:
            a.set["partner"] = chosen
    if "status" in a.set:
        a.status = a.set["status"]
    have = found if isinstance(found := data.get("tags"), list) else []
    a.tags = [t for t in rule.tags if t not in have]
    if rule.notify and a.owner and a.owner != a.previous_owner:
        a.notify = rule.notify
        if not notifications_available():
            a.notes.append(f"notify {rule.notify}: not sent (crmkit.marketing.mail.render_notification is not available)")
    return a


def notifications_available() -> bool:
    try:
        if importlib.util.find_spec("crmkit.marketing.mail") is None:
            return False
        return hasattr(importlib.import_module("crmkit.marketing.mail"), "render_notification")
    except ImportError:
        return False


def plan(
    ws: Workspace,
    ruleset: RuleSet,
    *,
    kinds: Iterable[str] | None = None,
    force: bool = False,
    only: Iterable[Record] | None = None,
    now: dt.datetime | None = None,
) -> Plan:
    """What a run would do: pure, from the records, the rules, the configuration and the clock."""
    result = Plan(now or ws.now())
    wanted = list(kinds) if kinds is not None else ruleset.kinds()
    chosen = list(only) if only is not None else None
    for kind in wanted:
        rules = ruleset.for_kind(kind)
        if not rules:
            continue
        records = ws.records(kind)
        state = PoolState(ws, kind, records)
        targets = [r for r in chosen if r.kind == kind] if chosen is not None else records
        for rec in targets:
            reason = routing_reason(ws, rec)
            if reason is None:
                continue
            manual = manual_owner(rec)
            if manual and not force:
                result.skipped.append(Skipped(kind, rec.id, manual, f"owner {manual} was set by a person; "
                                                                    "--force re-routes it"))
                continue
            if manual:
                reason += f"; forced over {manual}"
            rule = first_match(ws, rules, rec)
            planned: dict[str, int] = {}
            for earlier in result.assignments:
                if earlier.set.get("partner"):
                    planned[earlier.set["partner"]] = planned.get(earlier.set["partner"], 0) + 1
            a = _decide(ws, state, rule, rec, reason, planned)
            if a.owner is None:
                result.unassigned.append(a)
                continue
            state.moved(rec, rec.data.get("owner"), a.owner)
            result.assignments.append(a)
    return result


# -- applying --------------------------------------------------------------------------


#: Top-level timestamps of a record that say when it (last) changed: routing's input.
_CHANGED_AT = ("created", "updated_at", "updated", "qualified_at", "converted_at", "modified")


def decided_at(data: dict[str, Any], now: dt.datetime) -> dt.datetime:
    """The `at` of a routing decision: when its input last changed, not when the run saw it.

    A first routing is stamped with the newest of the record's own timestamps (created,
    updated_at...) and its events, never after now: two clones routing the same new
    records at different times write the same bytes. A re-route (a lead whose status
    changed, a ticket whose owner was taken away) is stamped now: nothing in the file
    says when that change was made."""
    if isinstance(data.get("routing"), dict):
        return now
    found: list[Any] = [data.get(k) for k in _CHANGED_AT]
    found += [e.get("at") for e in data.get("events") or [] if isinstance(e, dict)]
    times = [t for t in found if isinstance(t, dt.datetime) and t.tzinfo is not None]
    return min(max(times), now) if times else now


def _additions(a: Assignment, at: dt.datetime) -> dict[str, Any]:
    """The fields routing writes, in the order it writes them (owner, set, tags, routing)."""
    data = a.data
    out: dict[str, Any] = {}
    if a.owner != data.get("owner"):
        out["owner"] = a.owner
    out.update(a.set)
    if a.tags:
        have = data.get("tags")
        out["tags"] = (list(have) if isinstance(have, list) else []) + list(a.tags)
    block: dict[str, Any] = {"rule": a.rule, "at": decided_at(data, at)}
    status = a.set.get("status", data.get("status"))
    if status is not None:
        block["status"] = status
    block["owner"] = a.owner
    if a.pool:
        block["pool"] = a.pool
    if a.turn is not None:
        block["turn"] = a.turn
    out["routing"] = block
    return out


def _message(the_plan: Plan) -> str:
    n = len(the_plan.assignments)
    kinds = sorted({a.kind for a in the_plan.assignments})
    what = the_plan.assignments[0].summary() if n == 1 else f"{n} {' and '.join(k + 's' for k in kinds)}"
    return f"route {what}"


def apply(ws: Workspace, the_plan: Plan, command: str, replan: Callable[[], Plan] | None = None) -> str | None:
    """Write the plan in one transaction and one commit; returns the commit or None.

    With `replan`, the plan is made again from the files as they are once the workspace
    lock is held, and that plan is applied (`the_plan` is updated to it): an owner a person
    set after the first plan was made is seen, and kept."""
    if not the_plan.assignments:
        return None  # the fast path: nothing to do seen without the lock
    render = _notifier()
    import inspect

    takes = inspect.signature(render).parameters if render is not None else {}
    appender = Appender()
    with ws.transaction(_message(the_plan), command) as tx:
        if replan is not None:
            ws.invalidate()
            fresh = replan()
            the_plan.at, the_plan.assignments = fresh.at, fresh.assignments
            the_plan.skipped, the_plan.unassigned = fresh.skipped, fresh.unassigned
            if not the_plan.assignments:
                return None
            tx.message = _message(the_plan)
        kinds = sorted({a.kind for a in the_plan.assignments})
        appended: list[tuple[str, str]] = []
        for a in the_plan.assignments:
            additions = _additions(a, the_plan.at)
            path = ws.path_for(a.kind, a.id)
            text = appender.new_text(path, a.data, additions)
            if text is not None:
                appended.append((ws.rel(path), text))
            else:
                tx.update(a.kind, a.id, field_edit(additions))
            tx.note(a.summary())
        write_all(tx, appended)
        for a in the_plan.assignments:
            additions = _additions(a, the_plan.at)
            path = ws.path_for(a.kind, a.id)
            if a.notify and render is not None:
                from crmkit.store import yamlio

                rec = Record(a.kind, a.id, {**a.data, **yamlio.to_plain(additions)}, path)
                try:
                    extra: dict[str, Any] = {"rule": a.rule or ""} if "rule" in takes else {}
                    if "when" in takes:
                        extra["when"] = additions["routing"]["at"]
                    written = render(ws, tx, a.notify, rec, a.owner, **extra)
                except CrmkitError as exc:
                    # Routing matters more than the email: the record is routed, the failure reported.
                    a.notes.append(f"notify {a.notify}: not sent ({exc.message})")
                    continue
                if written:
                    a.notes.append(f"notify {a.notify}: {written}")
                    tx.note(f"{a.ref}: notified {a.owner}: {written}")
                else:
                    a.notes.append(f"notify {a.notify}: not sent ({a.owner} has no email in crmkit.yaml)")
        for a in the_plan.assignments:
            if a.set.get("partner"):
                from crmkit.sales.partners import notify

                ws.invalidate(a.kind)
                note = notify(ws, tx, ws.index(a.kind)[a.id], str(a.set["partner"]))
                a.notes.append(note)
                tx.note(f"{a.ref}: {note}")
        for kind in kinds:
            ws.invalidate(kind)
    return tx.commits[-1] if tx.commits else None


def _notifier() -> Any:
    if not notifications_available():
        return None
    return getattr(importlib.import_module("crmkit.marketing.mail"), "render_notification", None)
