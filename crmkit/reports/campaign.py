"""`crmkit report campaign C`: what a campaign did, per variant, by a documented attribution rule.

Attribution (README: Campaigns), within `attribution_days` (default 30) of the mail:

* **sent**: email activities with `campaign: C` (logged by `mail send`), per `variant`;
  **bounced**: those with `delivery: bounced`.
* **replied**: a recipient with an inbound activity (`direction: in`) after the mail
  and within the window.
* **leads**: leads with `campaign: C` (their `variant:` if given, else the variant of
  the recipient with their email) or `source: campaign/C`, and leads whose email is a
  recipient's address, created after the mail within the window.
* **deals**: deals with `campaign: C`, deals whose `lead` is an attributed lead, and
  deals naming a recipient in `contacts`, created after the mail within the window;
  **won** and **value** count those in a won stage, in the report currency.
* **holdout**: its members (as the segment and split say today), and leads with a
  member's email created from the campaign's `start` within the window of its `end`.

Cost per lead is budget / leads; return on budget is won value / budget. Variants are
compared pairwise on reply and lead rate with a two-proportion z-test; a note says one
is better only when p < 0.05.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.render.report import Column, Report, Section
from crmkit.sales.pipeline import PipelineConfig, parse_amount
from crmkit.values import to_datetime

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

Pair = tuple[str, dict[str, Any]]


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """The two-sided p-value of the pooled two-proportion z-test; None when it is undefined."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if var <= 0:
        return None
    z = (x1 / n1 - x2 / n2) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def _norm(email: Any) -> str | None:
    return email.strip().lower() if isinstance(email, str) and "@" in email else None


def _created(rec: dict[str, Any], tz: Any) -> dt.datetime | None:
    when = rec.get("created")
    if when is None:
        hist = rec.get("stage_history") or []
        when = hist[0].get("at") if hist and isinstance(hist[0], dict) else None
    return to_datetime(when, tz) if when is not None else None


def campaign_report(campaign: Any, members: Iterable[Any], activities: list[Pair], leads: list[Pair],
                    deals: list[Pair], contacts: dict[str, dict[str, Any]], cfg: PipelineConfig,
                    now: dt.datetime) -> Report:
    """The report; `campaign` is a marketing.campaigns.Campaign, `members` the segment's records."""
    from crmkit.marketing.campaigns import HOLDOUT

    tz = cfg.tz
    cid = campaign.id
    data = campaign.record.data
    window = dt.timedelta(days=campaign.attribution_days)
    groups = [v.id for v in campaign.variants]
    rows = {g: {"variant": g, "template": v.template, "share": v.share, "sent": 0, "bounced": 0, "replied": 0,
                "leads": 0, "deals": 0, "won": 0, "value": Decimal(0)} for g, v in
            ((v.id, v) for v in campaign.variants)}
    # recipients: ref -> (variant, when, address)
    mailed: dict[str, tuple[str, dt.datetime]] = {}
    by_email: dict[str, tuple[str, dt.datetime, str]] = {}
    for _aid, a in activities:
        if a.get("campaign") != cid or a.get("type") != "email":
            continue
        g = str(a.get("variant") or (groups[0] if len(groups) == 1 else "?"))
        row = rows.setdefault(g, _empty(g))
        if a.get("delivery") == "sending":
            continue
        at = to_datetime(a.get("at"), tz)
        ref = next((f"{k}/{a[k]}" for k in ("contact", "lead") if isinstance(a.get(k), str)), None)
        if at is None or ref is None:
            continue
        row["sent"] += 1
        if a.get("delivery") == "bounced":
            row["bounced"] += 1
        mailed[ref] = (g, at)
        kind, _, rid = ref.partition("/")
        address = _norm(contacts.get(rid, {}).get("email")) if kind == "contact" else None
        address = address or _norm(str(a.get("to") or "").rsplit("<", 1)[-1].rstrip(">"))
        if address:
            by_email[address] = (g, at, ref)
    # replies
    replied: set[str] = set()
    for _aid, a in activities:
        if a.get("direction") != "in":
            continue
        at = to_datetime(a.get("at"), tz)
        for k in ("contact", "lead"):
            ref = f"{k}/{a.get(k)}"
            if at is not None and ref in mailed and ref not in replied and mailed[ref][1] <= at <= mailed[ref][1] + window:
                replied.add(ref)
                rows[mailed[ref][0]]["replied"] += 1
    # leads
    lead_variant: dict[str, str] = {}
    for lid, lead in leads:
        explicit = lead.get("campaign") == cid or lead.get("source") == f"campaign/{cid}"
        hit = by_email.get(_norm(lead.get("email")) or "")
        created = _created(lead, tz)
        if explicit:
            g = str(lead.get("variant") or (hit[0] if hit else (groups[0] if len(groups) == 1 else "?")))
        elif hit and created is not None and hit[1] <= created <= hit[1] + window:
            g = hit[0]
        else:
            continue
        lead_variant[lid] = g
        rows.setdefault(g, _empty(g))["leads"] += 1
    # deals
    rates = cfg.rates_to()
    won_stage = cfg.won_stage.name
    for did, deal in deals:
        dg: str | None = None
        if deal.get("campaign") == cid:
            dg = str(deal.get("variant") or lead_variant.get(str(deal.get("lead")), "?"))
        elif str(deal.get("lead")) in lead_variant:
            dg = lead_variant[str(deal.get("lead"))]
        else:
            created = _created(deal, tz)
            for c in deal.get("contacts") or []:
                mail = mailed.get(f"contact/{c}")
                if mail and created is not None and mail[1] <= created <= mail[1] + window:
                    dg = mail[0]
                    break
        if dg is None:
            continue
        row = rows.setdefault(dg, _empty(dg))
        row["deals"] += 1
        if deal.get("stage") == won_stage:
            row["won"] += 1
            amount = parse_amount(deal.get("value")) or Decimal(0)
            row["value"] += rates.convert(amount, deal.get("currency"), f"deals/{did}.yaml")
    # the holdout
    holdout_rows = []
    if campaign.holdout:
        held = [m for m in members if campaign.variant_of(m.id) == HOLDOUT]
        emails = {_norm(m.get("email")): m.id for m in held if _norm(m.get("email"))}
        start = to_datetime(data.get("start"), tz)
        end = to_datetime(data.get("end") or data.get("start"), tz)
        hleads = 0
        for _lid, lead in leads:
            created = _created(lead, tz)
            if (_norm(lead.get("email")) in emails and created is not None and start is not None
                    and end is not None and start <= created <= end + window):
                hleads += 1
        holdout_rows.append({"variant": HOLDOUT, "members": len(held), "leads": hleads,
                             "lead_rate": _rate(hleads, len(held))})
    out_rows = [rows[g] for g in groups] + [r for g, r in sorted(rows.items()) if g not in groups]
    for r in out_rows:
        r["reply_rate"] = _rate(r["replied"], r["sent"])
        r["lead_rate"] = _rate(r["leads"], r["sent"])
    total = {k: sum(r[k] for r in out_rows) for k in ("sent", "bounced", "replied", "leads", "deals", "won")}
    total["value"] = sum((r["value"] for r in out_rows), Decimal(0))
    budget = parse_amount(data.get("budget"))
    if budget is not None and data.get("currency"):
        budget = rates.convert(budget, data.get("currency"), "campaign budget")
    cost_per_lead = (budget / total["leads"]).quantize(Decimal("0.01")) if budget and total["leads"] else None
    rob = (total["value"] / budget).quantize(Decimal("0.01")) if budget else None
    tests, notes = _compare(out_rows[: len(groups)])
    cols = [Column("variant"), Column("template"), Column("share", "share %", "num"), Column("sent", kind="int"),
            Column("bounced", kind="int"), Column("replied", kind="int"), Column("reply_rate", "reply %", "pct"),
            Column("leads", kind="int"), Column("lead_rate", "lead %", "pct"), Column("deals", "deals opened", "int"),
            Column("won", kind="int"), Column("value", "won value", "money")]
    sections = [Section("Per variant", cols, out_rows, total=dict(total, variant="total"),
                        note=" ".join(notes) if notes else None)]
    if holdout_rows:
        sections.append(Section("Holdout (control)", [Column("variant", "group"), Column("members", kind="int"),
                                                      Column("leads", kind="int"),
                                                      Column("lead_rate", "lead %", "pct")], holdout_rows))
    meta = [("campaign", f"{cid}: {data.get('name', '')}"), ("segment", str(campaign.segment)),
            ("dates", f"{data.get('start', '?')} to {data.get('end', '?')}"),
            ("attribution", f"within {campaign.attribution_days} days of the mail"),
            ("budget", f"{budget} {cfg.currency}" if budget is not None else "none"),
            ("cost per lead", f"{cost_per_lead} {cfg.currency}" if cost_per_lead is not None else "-"),
            ("return on budget", f"{rob} x" if rob is not None else "-")]
    jdata = {"report": "campaign", "campaign": cid, "now": now.isoformat(), "currency": cfg.currency,
             "attribution_days": campaign.attribution_days, "variants": out_rows, "holdout": holdout_rows,
             "total": total, "budget": budget, "cost_per_lead": cost_per_lead, "return_on_budget": rob,
             "tests": tests, "notes": notes}
    return Report("campaign", f"Campaign {cid}", meta, sections, [], jdata, [])


def _empty(variant: str) -> dict[str, Any]:
    """The row of a variant the campaign no longer names (or `?`: mail or a lead without one)."""
    return {"variant": variant, "template": None, "share": None, "sent": 0, "bounced": 0, "replied": 0,
            "leads": 0, "deals": 0, "won": 0, "value": Decimal(0)}


def _rate(x: int, n: int) -> Decimal | None:
    return (Decimal(x) * 100 / n).quantize(Decimal("0.1")) if n else None


def _compare(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    tests, notes = [], []
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            for measure, key in (("reply rate", "replied"), ("lead rate", "leads")):
                p = two_proportion_p(a[key], a["sent"], b[key], b["sent"])
                tests.append({"a": a["variant"], "b": b["variant"], "measure": measure,
                              "p": None if p is None else round(p, 4)})
                if p is not None and p < 0.05:
                    hi, lo = (a, b) if a[key] / a["sent"] > b[key] / b["sent"] else (b, a)
                    notes.append(f"Variant {hi['variant']}'s {measure} ({_rate(hi[key], hi['sent'])} %) is higher "
                                 f"than {lo['variant']}'s ({_rate(lo[key], lo['sent'])} %): p = {p:.4f}, "
                                 "two-proportion z-test.")
    return tests, notes


def report_for(ws: Workspace, ref: str) -> Report:
    """Read what the report needs (the campaign, its segment today, activities, leads, deals) and build it."""
    from crmkit.marketing.campaigns import load
    from crmkit.marketing.segments import get_segment, members
    from crmkit.reports.selection import pipeline_config

    camp = load(ws, ref)
    held = [v.record for v in members(ws, get_segment(ws, str(camp.segment)))] if camp.holdout else []

    def pairs(kind: str) -> list[Pair]:
        return [(r.id, r.data) for r in ws.records(kind)]

    contacts = {r.id: r.data for r in ws.records("contact")}
    return campaign_report(camp, held, pairs("activity"), pairs("lead"), pairs("deal"), contacts,
                           pipeline_config(ws), ws.now())
