"""`crmkit report sla`: attainment, breaches and risks now, backlog, response times, escalations."""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.render.report import Chart, Column, Report, Section, Series
from crmkit.store.records import Record
from crmkit.support.sla import CLOSED, SlaState, event_type, sla_state

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def _hours(td: dt.timedelta) -> Decimal:
    return Decimal(str(round(td.total_seconds() / 3600, 1)))


def _pct(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    # nearest-rank percentile: the smallest value with at least 90% of the values at or below it
    rank = max(1, -(-len(ordered) * 9 // 10))
    return ordered[rank - 1]


def _age_bucket(age: dt.timedelta) -> str:
    days = age.total_seconds() / 86400
    return "< 1 day" if days < 1 else "1-3 days" if days < 3 else "3-7 days" if days < 7 else "> 7 days"


def _escalated(ticket: Record) -> bool:
    """Moved from first to second line: an escalation rule that set the line, or (in histories
    kept by hand) a ticket now on second line that was handed over after it came in."""
    events = ticket.get("events") or []
    for e in events:
        kind = event_type(e)
        if kind == "escalated" and any(str(c) == "line=second" for c in e.get("changes") or []):
            return True
        if kind == "line" and e.get("to") == "second":
            return True
    return ticket.get("line") == "second" and any(event_type(e) in ("escalated", "assigned") for e in events)


def sla_report(ws: Workspace, tickets: list[Record], start: dt.date, end: dt.date, period_label: str) -> Report:
    """Every figure of the SLA report for tickets created in [start, end], and the open ones now."""
    now = ws.now()
    states: dict[str, SlaState | None] = {t.id: sla_state(ws, t) for t in tickets}

    def created_on(t: Record) -> dt.date | None:
        c = t.get("created")
        return c.astimezone(ws.tz).date() if isinstance(c, dt.datetime) else c if isinstance(c, dt.date) else None

    in_period = [t for t in tickets if (d := created_on(t)) is not None and start <= d <= end]
    # attainment: per policy, priority and target, tickets whose target is decided (met or breached)
    groups: dict[tuple[str, str, str], list[int]] = {}
    first_response: list[float] = []
    resolution: list[float] = []
    for t in in_period:
        st = states[t.id]
        if st is None:
            continue
        for target in st.targets:
            key = (st.policy, str(t.get("priority", "normal")), target.name)
            counts = groups.setdefault(key, [0, 0, 0])
            if target.state == "met":
                counts[0] += 1
            elif target.state == "breached":
                counts[1] += 1
            else:
                counts[2] += 1  # still running, at risk or paused: not decided yet
            if target.stopped_at is not None and target.name == "first_response":
                first_response.append(target.elapsed.total_seconds() / 3600)
            if target.stopped_at is not None and target.name == "resolution":
                resolution.append(target.elapsed.total_seconds() / 3600)
    attainment_rows: list[dict[str, Any]] = []
    for (policy, priority, target_name), (met, breached, undecided) in sorted(groups.items()):
        attainment_rows.append({"policy": policy, "priority": priority, "target": target_name, "met": met,
                                "breached": breached, "open": undecided, "attainment": _pct(met, met + breached)})
    total_met = sum(r["met"] for r in attainment_rows)
    total_breached = sum(r["breached"] for r in attainment_rows)

    open_tickets = [t for t in tickets if t.get("status") not in CLOSED]
    risk_rows = []
    for t in open_tickets:
        st = states[t.id]
        if st is None:
            continue
        for target in st.targets:
            if target.state in ("breached", "at_risk") and target.stopped_at is None:  # still to act on
                risk_rows.append({"ticket": t.id, "subject": t.get("subject", ""), "priority": t.get("priority"),
                                  "line": t.get("line"), "owner": t.get("owner"), "target": target.name,
                                  "state": target.state, "left_hours": _hours(target.left),
                                  "due": target.due.astimezone(ws.tz).strftime("%Y-%m-%d %H:%M") if target.due else ""})
    risk_rows.sort(key=lambda r: (r["state"] != "breached", r["left_hours"]))

    backlog_rows = []
    for field in ("status", "priority", "line"):
        tally: dict[str, int] = {}
        for t in open_tickets:
            tally[str(t.get(field) or "-")] = tally.get(str(t.get(field) or "-"), 0) + 1
        backlog_rows += [{"by": field, "value": k, "tickets": v} for k, v in sorted(tally.items())]
    ages: dict[str, int] = {}
    for t in open_tickets:
        c = t.get("created")
        if isinstance(c, dt.datetime):
            bucket = _age_bucket(now - c)
            ages[bucket] = ages.get(bucket, 0) + 1
    order = ["< 1 day", "1-3 days", "3-7 days", "> 7 days"]
    backlog_rows += [{"by": "age", "value": b, "tickets": ages[b]} for b in order if b in ages]

    def stats(values: list[float]) -> dict[str, Any]:
        if not values:
            return {"tickets": 0, "median_hours": None, "p90_hours": None}
        return {"tickets": len(values), "median_hours": Decimal(str(round(statistics.median(values), 1))),
                "p90_hours": Decimal(str(round(_p90(values), 1)))}

    times_rows = [{"measure": "first response", **stats(first_response)},
                  {"measure": "resolution", **stats(resolution)}]
    escalated = [t for t in in_period if _escalated(t)]
    share = _pct(len(escalated), len(in_period))

    data = {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "tickets": len(in_period)},
        "attainment": [dict(r, attainment=str(r["attainment"]) if r["attainment"] is not None else None)
                       for r in attainment_rows],
        "attainment_total": str(_pct(total_met, total_met + total_breached)) if total_met + total_breached else None,
        "at_risk_now": [dict(r, left_hours=str(r["left_hours"])) for r in risk_rows],
        "backlog": backlog_rows,
        "business_hours": {r["measure"].replace(" ", "_"): {k: (str(v) if isinstance(v, Decimal) else v)
                                                              for k, v in r.items() if k != "measure"}
                           for r in times_rows},
        "escalated": {"tickets": len(escalated), "share": str(share) if share is not None else None},
    }
    sections = [
        Section("Attainment (tickets created in the period)",
                [Column("policy"), Column("priority"), Column("target"), Column("met", kind="int"),
                 Column("breached", kind="int"), Column("open", "open", "int"),
                 Column("attainment", kind="pct", bar=True)],
                attainment_rows,
                total={"policy": "total", "met": total_met, "breached": total_breached,
                       "open": sum(r["open"] for r in attainment_rows),
                       "attainment": _pct(total_met, total_met + total_breached)}),
        Section("Breached and at risk now",
                [Column("ticket"), Column("subject", wrap=True), Column("priority"), Column("line"),
                 Column("owner"), Column("target"), Column("state"), Column("left_hours", "left (h)", "num"),
                 Column("due")],
                risk_rows, empty="no ticket is breached or at risk"),
        Section("Backlog (open tickets)", [Column("by"), Column("value"), Column("tickets", kind="int", bar=True)],
                backlog_rows, empty="no open tickets"),
        Section("Business hours to first response and resolution",
                [Column("measure"), Column("tickets", kind="int"), Column("median_hours", "median (h)", "num"),
                 Column("p90_hours", "90th percentile (h)", "num")], times_rows),
        Section("Escalated from first to second line",
                [Column("tickets", kind="int"), Column("share", "share of the period's tickets", "pct")],
                [{"tickets": len(escalated), "share": share}]),
    ]
    charts = []
    if attainment_rows:
        labels = [f"{r['priority']} {r['target'].replace('_', ' ')}" for r in attainment_rows]
        charts.append(Chart("bars", "Targets met and breached", labels,
                            [Series("met", [r["met"] for r in attainment_rows]),
                             Series("breached", [r["breached"] for r in attainment_rows])]))
    return Report("sla", "SLA report",
                  meta=[("period", period_label), ("as of", now.strftime("%Y-%m-%d %H:%M %Z")),
                        ("tickets in period", str(len(in_period))), ("open now", str(len(open_tickets)))],
                  sections=sections, charts=charts, data=data)
