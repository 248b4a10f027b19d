"""`crmkit report satisfaction`: CSAT per month, agent, line and tier; the sentiment journey; survey response.

CSAT is the share of ratings of 4 or 5 among all ratings (the usual "top two boxes"),
counted by the date of the rating. A ticket's agent and line are the ticket's current
owner and line; a tier is the company's tier now.
"""

from __future__ import annotations

import datetime as dt
import gc
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from crmkit.render.report import Chart, Column, Report, Section, Series
from crmkit.support.sentiment import STATES, state_at

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

HUNDRED = Decimal(100)
#: Sentiment changes shown on a page (table, md, html); json has every one.
SHOWN = 100


def _pct(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) \
        if whole else None


def _local_date(ws: Workspace, at: Any) -> dt.date | None:
    if isinstance(at, dt.datetime):
        return (at if at.tzinfo else at.replace(tzinfo=ws.tz)).astimezone(ws.tz).date()
    return at if isinstance(at, dt.date) else None


def _csat_rows(groups: dict[str, list[int]], label: str) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(groups):
        values = groups[key]
        good = sum(1 for v in values if v >= 4)
        rows.append({label: key, "ratings": len(values), "satisfied": good, "csat": _pct(good, len(values)),
                     "average": (Decimal(sum(values)) / len(values)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)})
    return rows


def satisfaction_report(ws: Workspace, ticket_ids: set[str] | None, start: dt.date, end: dt.date,
                        period_label: str) -> Report:
    """Ratings given in [start, end] on the tickets (all, or ``ticket_ids``), the journey of
    every contact over the period, surveys sent in it."""
    from crmkit.sales.value import values_now
    from crmkit.support.sentiment import ticket_rows

    # a short run that frees almost nothing: the cyclic collector would only re-scan what it
    # builds (as crmkit.reports.selection.report_records says for every report)
    gc.disable()
    by_month: dict[str, list[int]] = {}
    by_agent: dict[str, list[int]] = {}
    by_line: dict[str, list[int]] = {}
    by_tier: dict[str, list[int]] = {}
    all_ratings: list[int] = []
    surveyed = answered = 0
    tiers: dict[str, str] | None = None
    for tid, row in ticket_rows(ws):
        rated, sent_at = row[6], row[7]
        if not rated and not sent_at:  # most tickets: neither rated nor surveyed
            continue
        if ticket_ids is not None and tid not in ticket_ids:
            continue
        contact, company, owner, line = row[0], row[1], row[2], row[3]
        for at, r, _comment in rated:
            d = _local_date(ws, at)
            if d is None or not start <= d <= end:
                continue
            all_ratings.append(r)
            by_month.setdefault(d.isoformat()[:7], []).append(r)  # YYYY-MM (isoformat is cheaper than strftime)
            by_agent.setdefault(owner or "-", []).append(r)
            by_line.setdefault(line or "-", []).append(r)
            if tiers is None:  # only when there is a rating to put in a tier
                tiers = {key[1]: cv.tier for key, cv in values_now(ws).items() if key[0] == "company"}
            if company is None and contact is not None:
                person = ws.index("contact").get(contact)
                company = person.get("company") if person else None
            by_tier.setdefault(tiers.get(company, "-") if isinstance(company, str) else "-", []).append(r)
        sent = [at for at in sent_at if (d := _local_date(ws, at)) is not None and start <= d <= end] \
            if sent_at else None
        if sent:
            surveyed += 1
            if any(at >= sent[0] for at, _, _ in rated):
                answered += 1

    # the journey: each contact's state when the period began and when it ended
    begin = dt.datetime.combine(start, dt.time(0, 0), tzinfo=ws.tz) - dt.timedelta(microseconds=1)
    finish = min(dt.datetime.combine(end, dt.time(23, 59, 59), tzinfo=ws.tz), ws.now())
    matrix = {a: {b: 0 for b in STATES} for a in STATES}
    moves: dict[tuple[str, str], int] = {}
    journeys = []
    from crmkit.support.sentiment import journey, signals_by_contact

    for cid, sigs in signals_by_contact(ws).items():
        changes = journey(sigs, finish)
        if not changes:
            continue
        a, b = state_at(changes, begin), changes[-1].to_state  # the journey stops at `finish`
        matrix[a][b] += 1
        for ch in changes:
            if ch.at > begin:
                moves[(ch.from_state, ch.to_state)] = moves.get((ch.from_state, ch.to_state), 0) + 1
                journeys.append({"contact": cid, "at": ch.at.astimezone(ws.tz).isoformat(" ", "minutes")[:16],
                                 "from": ch.from_state, "to": ch.to_state, "reason": ch.reason})
    journeys.sort(key=lambda j: (j["at"], j["contact"]))
    shown = journeys[-SHOWN:]  # the newest on a page; --json has them all
    matrix_rows = [{"from": a, **{b: matrix[a][b] for b in STATES}, "total": sum(matrix[a].values())}
                   for a in STATES]

    month_rows = _csat_rows(by_month, "month")
    total_good = sum(1 for r in all_ratings if r >= 4)
    overall = _pct(total_good, len(all_ratings))
    rate = _pct(answered, surveyed)

    def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.items()} for r in rows]

    data = {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "label": period_label},
        "csat": {"ratings": len(all_ratings), "satisfied": total_good, "csat": str(overall) if overall else None},
        "by_month": plain(month_rows), "by_agent": plain(_csat_rows(by_agent, "agent")),
        "by_line": plain(_csat_rows(by_line, "line")), "by_tier": plain(_csat_rows(by_tier, "tier")),
        "journey": {"matrix": {a: dict(matrix[a]) for a in STATES},
                    "moves": [{"from": a, "to": b, "contacts": n} for (a, b), n in sorted(moves.items())],
                    "changes": journeys},
        "surveys": {"sent": surveyed, "answered": answered, "response_rate": str(rate) if rate is not None else None},
    }
    csat_cols = [Column("ratings", kind="int"), Column("satisfied", "4-5", "int"),
                 Column("csat", "CSAT", "pct", bar=True), Column("average", kind="num")]
    sections = [
        Section("CSAT by month", [Column("month")] + csat_cols, month_rows,
                total={"month": "total", "ratings": len(all_ratings), "satisfied": total_good, "csat": overall,
                       "average": (Decimal(sum(all_ratings)) / len(all_ratings)).quantize(Decimal("0.1"))
                       if all_ratings else None} if all_ratings else None,
                empty="no ratings in the period"),
        Section("CSAT by agent", [Column("agent")] + csat_cols, _csat_rows(by_agent, "agent"),
                empty="no ratings in the period"),
        Section("CSAT by line", [Column("line")] + csat_cols, _csat_rows(by_line, "line"),
                empty="no ratings in the period"),
        Section("CSAT by tier", [Column("tier")] + csat_cols, _csat_rows(by_tier, "tier"),
                empty="no ratings in the period"),
        Section("Journey: sentiment at the start (rows) and end (columns) of the period",
                [Column("from", "start \\ end")] + [Column(s, kind="int") for s in STATES]
                + [Column("total", kind="int")], matrix_rows,
                note="contacts with at least one sentiment signal; everyone else is neutral"),
        Section("Moves in the period (every change counted)",
                [Column("from"), Column("to"), Column("contacts", "changes", "int", bar=True)],
                [{"from": a, "to": b, "contacts": n} for (a, b), n in
                 sorted(moves.items(), key=lambda kv: (STATES.index(kv[0][0]), STATES.index(kv[0][1])))],
                empty="no sentiment changed in the period"),
        Section("Sentiment changes in the period",
                [Column("at"), Column("contact"), Column("from"), Column("to"),
                 Column("reason", wrap=True)], shown, empty="no sentiment changed in the period",
                note=f"the newest {SHOWN} of {len(journeys)}; --format json lists every change"
                if len(journeys) > SHOWN else None),
        Section("Survey response",
                [Column("sent", kind="int"), Column("answered", kind="int"),
                 Column("response_rate", "response rate", "pct")],
                [{"sent": surveyed, "answered": answered, "response_rate": rate}]),
    ]
    charts = []
    if month_rows:
        charts.append(Chart("bars", "Ratings by month", [r["month"] for r in month_rows],
                            [Series("4-5", [r["satisfied"] for r in month_rows]),
                             Series("1-3", [r["ratings"] - r["satisfied"] for r in month_rows])]))
    return Report("satisfaction", "Customer satisfaction",
                  meta=[("period", period_label), ("ratings", str(len(all_ratings))),
                        ("CSAT", f"{overall}%" if overall is not None else "-"),
                        ("survey response", f"{rate}%" if rate is not None else "-")],
                  sections=sections, charts=charts, data=data)
