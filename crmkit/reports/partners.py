"""`crmkit report partners`: what each channel partner did with the leads handed to them.

Per partner, for the leads handed over in the period (the routing that set `partner`,
else the lead's `created`): handed out; accepted (`partner_status: accepted`, or the
lead went on to qualified or converted); declined (`partner_status: declined`);
converted; the won value of deals made from those leads (`deal.lead`, in the
workspace currency); and the median hours from hand-over to the first activity
logged on the lead (time to first contact; our hand-over mail to the partner is not one),
and for the total the median over every partner's leads.
"""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.render.model import Column, Report, Section
from crmkit.reports.frame import m
from crmkit.reports.periods import Period
from crmkit.sales.partners import is_hand_over, partners
from crmkit.sales.pipeline import PipelineConfig, parse_amount
from crmkit.values import to_datetime

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def _handed_at(lead: Any, tz: dt.tzinfo) -> dt.datetime | None:
    routing = lead.get("routing") if isinstance(lead.get("routing"), dict) else {}
    return to_datetime(routing.get("at"), tz) or to_datetime(lead.get("created"), tz)


def partners_report(ws: Workspace, period: Period) -> Report:
    cfg = PipelineConfig.from_config(ws.config, ws.tz)
    rates = cfg.rates_to(None)
    found = partners(ws)
    won_stage = cfg.won_stage.name
    deals_by_lead: dict[str, list[Any]] = {}
    for deal in ws.records("deal"):
        if deal.get("lead"):
            deals_by_lead.setdefault(str(deal.get("lead")), []).append(deal)
    first_touch: dict[str, dt.datetime] = {}
    for act in ws.records("activity"):
        lead_id, at = act.get("lead"), to_datetime(act.get("at"), ws.tz)
        if lead_id and at is not None and act.get("direction") != "in" and not is_hand_over(act):
            key = str(lead_id)
            first_touch[key] = min(first_touch.get(key, at), at)
    rows: list[dict[str, Any]] = []
    counts = {"handed": 0, "accepted": 0, "declined": 0, "converted": 0}
    won_total = Decimal(0)
    all_hours: list[float] = []
    data_rows = []
    for pid in sorted(found):
        handed = accepted = declined = converted = 0
        won = Decimal(0)
        hours: list[float] = []
        for lead in ws.records("lead"):
            if lead.get("partner") != pid:
                continue
            at = _handed_at(lead, ws.tz)
            if at is None or at.astimezone(ws.tz).date() not in period:
                continue
            handed += 1
            status, said = lead.get("status"), lead.get("partner_status")
            if said == "declined":
                declined += 1
            elif said == "accepted" or status in ("qualified", "converted"):
                accepted += 1
            if status == "converted":
                converted += 1
            for deal in deals_by_lead.get(lead.id, []):
                if deal.get("stage") == won_stage:
                    amount = parse_amount(deal.get("value")) or Decimal(0)
                    won += amount * rates.factor(str(deal.get("currency") or rates.target), ws.rel(deal.path))
            touch = first_touch.get(lead.id)
            if touch is not None and touch >= at:
                hours.append((touch - at).total_seconds() / 3600)
        median = round(statistics.median(hours), 1) if hours else None
        all_hours += hours
        row = {"partner": pid, "name": found[pid].get("name") or pid, "handed": handed, "accepted": accepted,
               "declined": declined, "converted": converted, "won_value": m(won), "first_contact_h": median}
        rows.append(row)
        data_rows.append({**row, "won_value": str(m(won))})
        for key, n in (("handed", handed), ("accepted", accepted), ("declined", declined), ("converted", converted)):
            counts[key] += n
        won_total += won
    total: dict[str, Any] = {"partner": "total", "name": "", **counts, "won_value": m(won_total),
                             "first_contact_h": round(statistics.median(all_hours), 1) if all_hours else None}
    return Report(
        name="partners", title="Channel partners",
        meta=[("period", period.label), ("currency", rates.target)],
        sections=[Section("Leads handed to partners", [
            Column("partner"), Column("name"), Column("handed", kind="int"), Column("accepted", kind="int"),
            Column("declined", kind="int"), Column("converted", kind="int"),
            Column("won_value", "won value", kind="money"),
            Column("first_contact_h", "hours to first contact", kind="num")], rows,
            total=total if rows else None, empty="no partners (companies with partner: settings)")],
        data={"period": period.to_dict(), "currency": rates.target, "partners": data_rows,
              "total": {**total, "won_value": str(total["won_value"])}})
