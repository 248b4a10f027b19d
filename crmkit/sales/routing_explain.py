"""`--explain` for routing: every rule for a record's kind, whether it matched and why, and the outcome.

Read-only: it asks :func:`crmkit.sales.routing.plan` what a run would do for the one record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.conditions.views import view
from crmkit.sales.pools import is_open
from crmkit.sales.routing import manual_owner, plan, routing_reason
from crmkit.sales.rules import Rule, RuleSet
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def explain(ws: Workspace, ruleset: RuleSet, rec: Record, *, force: bool = False) -> dict[str, Any]:
    """Every rule for the record's kind, whether it matched and why; and what a run would do."""
    rules = ruleset.for_kind(rec.kind)
    mapping = view(ws, rec)
    rows: list[dict[str, Any]] = []
    winner: Rule | None = None
    for rule in rules:
        if rule.when is None:
            matched, notes = True, ["no condition: matches everything (catch-all)"]
        else:
            notes = rule.when.explain(mapping, ws.resolve)
            matched = notes[-1] == "=> true"
            notes = notes[:-1]
        rows.append({"id": rule.id, "where": rule.where, "when": rule.when_text, "matched": matched,
                     "winner": matched and winner is None, "actions": rule.actions(), "notes": notes})
        if matched and winner is None:
            winner = rule
    reason = routing_reason(ws, rec)
    manual = manual_owner(rec)
    outcome: dict[str, Any]
    if reason is None:
        why = "it is closed" if not is_open(ws, rec) else "it was routed for its current status already"
        outcome = {"routed": False, "why": f"not routed now: {why}"}
    elif manual and not force:
        outcome = {"routed": False, "why": f"not routed now: owner {manual} was set by a person (--force re-routes it)"}
    else:
        p = plan(ws, ruleset, kinds=[rec.kind], force=force, only=[rec])
        a = next(iter(p.assignments or p.unassigned), None)
        outcome = {"routed": bool(p.assignments), "why": reason, "assignment": a.to_dict() if a else None}
    return {
        "kind": rec.kind, "id": rec.id, "title": rec.title, "status": rec.data.get("status"),
        "owner": rec.data.get("owner"), "routing": rec.data.get("routing"),
        "rules": rows, "winner": winner.id if winner else None, "outcome": outcome,
    }


def explain_text(info: dict[str, Any]) -> list[str]:
    """--explain as lines for a person."""
    lines = [f"{info['kind']}/{info['id']}  {info['title']}  "
             f"(status {info['status'] or '-'}, owner {info['owner'] or 'none'})"]
    if not info["rules"]:
        lines.append(f"  no {info['kind']} rules in rules/routing.yaml or rules/triage.yaml")
    for row in info["rules"]:
        if row["winner"]:
            verdict = "MATCH (first match wins)"
        elif row["matched"]:
            verdict = "matches too, but an earlier rule won"
        else:
            verdict = "no match"
        lines.append(f"  rule {row['id']} ({row['where']}): {verdict}")
        lines.append(f"    when: {row['when']}")
        lines.extend(f"      {n}" for n in row["notes"])
    out = info["outcome"]
    a = out.get("assignment")
    if a and a.get("owner"):
        extra = ""
        if a.get("set"):
            extra += "; set " + ", ".join(f"{k}={v}" for k, v in a["set"].items())
        if a.get("tags"):
            extra += "; tags +" + ",".join(a["tags"])
        if a.get("notify"):
            extra += f"; notify {a['notify']}"
        lines.append(f"  => {a['owner']} (rule {a['rule']}){extra}   [{out['why']}]")
        lines.extend(f"     {n}" for n in a.get("notes") or [])
    elif a:
        lines.append(f"  => left unassigned: {'; '.join(a.get('notes') or [])}")
    else:
        lines.append(f"  => {out['why']}" + (f"; the rule that would apply is {info['winner']}" if info["winner"] else ""))
    return lines
