"""`crmkit report value`: customers ranked by lifetime value, tiers, Pareto share, tier movement."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from crmkit.render.numbers import percent, whole
from crmkit.render.report import Chart, Column, Report, Section, Series
from crmkit.reports.frame import mark_left_out, without_rates
from crmkit.sales.tiers import Tiering, load_tiering
from crmkit.sales.value import CustomerValue, compute

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

HUNDRED = Decimal(100)
PARETO = Decimal(80)


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part * HUNDRED / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if whole else None


def _money(d: Decimal) -> Decimal:
    return d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def value_report(ws: Workspace, as_of: dt.date, since: dt.date, chosen: Iterable[tuple[str, str]] | None = None,
                 limit: int | None = None) -> Report:
    """Every figure of the value report as of a date; tier movement from `since` to `as_of`.

    ``chosen`` narrows the customers (kind, id) (from --where); shares are of the
    chosen customers' revenue.
    """
    # a short run that frees almost nothing: the cyclic collector would only re-scan what it
    # builds (as crmkit.reports.selection.report_records says for every report)
    gc.disable()
    tiering: Tiering = load_tiering(ws)
    from crmkit.sales.dealrows import deal_rows
    from crmkit.sales.pipeline import PipelineConfig

    cfg = PipelineConfig.from_config(ws.config, ws.tz)
    rows_ = deal_rows(ws, cfg)
    # a deal in a currency without a rate is left out (and named), not the whole report
    rates = cfg.rates_to()
    # (a deal of no customer, neither company nor contact, counts nowhere and is not named)
    _, left = without_rates([(rid, {"value": row[3], "currency": row[4]}) for rid, row in rows_
                             if row[0] is not None or row[1] is not None], rates, cfg.currency)
    if left:
        unpriced = {x.id for x in left}
        rows_ = [(rid, row) for rid, row in rows_ if rid not in unpriced]
    now_values = compute(ws, as_of, tiering, rows_)
    then_values = compute(ws, since, tiering, rows_)
    keys = set(chosen) if chosen is not None else None
    customers = [cv for key, cv in now_values.items() if keys is None or key in keys]
    buyers = sorted((cv for cv in customers if cv.won_deals),
                    key=lambda cv: (-cv.lifetime_value, -cv.won_deals, cv.ref))
    total = sum((cv.lifetime_value for cv in buyers), Decimal(0))
    rows: list[dict[str, Any]] = []
    running = Decimal(0)
    pareto_count: int | None = None
    for rank, cv in enumerate(buyers, 1):
        running += cv.lifetime_value
        cumulative = _pct(running, total)
        if pareto_count is None and total and running * HUNDRED >= PARETO * total:
            pareto_count = rank
        rows.append({"rank": rank, "customer": cv.ref, "name": cv.name, "tier": cv.tier,
                     "lifetime_value": _money(cv.lifetime_value), "won_deals": cv.won_deals,
                     "average_deal": cv.average_deal, "first_purchase": cv.first_purchase,
                     "last_purchase": cv.last_purchase, "rfm": cv.rfm, "open_pipeline": _money(cv.open_pipeline),
                     "share": _pct(cv.lifetime_value, total), "cumulative": cumulative,
                     "pareto": pareto_count is None or rank <= pareto_count})
    shown = rows[:limit] if limit else rows

    tier_rows: list[dict[str, Any]] = []
    for name in tiering.names:
        members = [cv for cv in customers if cv.tier == name]
        revenue = sum((cv.lifetime_value for cv in members), Decimal(0))
        tier_rows.append({"tier": name, "customers": len(members), "lifetime_value": _money(revenue),
                          "share": _pct(revenue, total), "open_pipeline":
                          _money(sum((cv.open_pipeline for cv in members), Decimal(0)))})

    moves: list[dict[str, Any]] = []
    for cv in customers:
        before: CustomerValue | None = then_values.get((cv.kind, cv.id))
        was = before.tier if before is not None else tiering.default
        if was != cv.tier:
            up = tiering.rank(cv.tier) < tiering.rank(was)
            moves.append({"customer": cv.ref, "name": cv.name, "from": was, "to": cv.tier,
                          "direction": "up" if up else "down",
                          "lifetime_value_then": _money(before.lifetime_value) if before else Decimal(0),
                          "lifetime_value": _money(cv.lifetime_value)})
    moves.sort(key=lambda m: (m["direction"] != "up", tiering.rank(m["to"]), m["customer"]))
    ups = sum(1 for m in moves if m["direction"] == "up")

    n = len(buyers)
    pareto_share = _pct(Decimal(pareto_count), Decimal(n)) if pareto_count and n else None
    loc = ws.config.get("locale")
    pareto_text = (f"{pareto_count} of {n} buying customers ({percent(pareto_share, loc) if pareto_share is not None else '-'}) make "
                   f"{percent(PARETO, loc)} of the revenue"
                   if pareto_count else "no revenue yet")

    def plain(row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in row.items():
            out[k] = str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, dt.date) else v
        return out

    data = {
        "as_of": as_of.isoformat(), "since": since.isoformat(), "currency": str(ws.config.get("currency") or "SEK"),
        "customers": len(customers), "buying_customers": n, "revenue": str(_money(total)),
        "pareto": {"customers": pareto_count, "of": n, "share_of_customers": str(pareto_share)
                   if pareto_share is not None else None, "revenue_share": "80"},
        "ranked": [plain(r) for r in rows],
        "tiers": [plain(r) for r in tier_rows],
        "movement": [plain(m) for m in moves],
    }
    sections = [
        Section("Customers by lifetime value",
                [Column("rank", kind="int"), Column("customer"), Column("name"), Column("tier"),
                 Column("lifetime_value", "lifetime value", "money", bar=True), Column("won_deals", "won", "int"),
                 Column("average_deal", "average deal", "money"), Column("last_purchase", "last purchase", "date"),
                 Column("rfm", "RFM"), Column("open_pipeline", "open pipeline", "money"),
                 Column("share", kind="pct"), Column("cumulative", kind="pct"), Column("pareto", "80%")],
                shown, total={"rank": "", "customer": "total", "lifetime_value": _money(total),
                              "won_deals": sum(cv.won_deals for cv in buyers), "share": _pct(total, total)},
                note=pareto_text + (f"; the top {limit} shown" if limit and limit < n else ""),
                empty="no customer has bought yet"),
        Section("Tiers", [Column("tier"), Column("customers", kind="int"),
                          Column("lifetime_value", "lifetime value", "money", bar=True),
                          Column("share", kind="pct"), Column("open_pipeline", "open pipeline", "money")], tier_rows),
        Section(f"Tier movement since {since.isoformat()}",
                [Column("customer"), Column("name"), Column("from"), Column("to"), Column("direction"),
                 Column("lifetime_value_then", "value then", "money"), Column("lifetime_value", "value now", "money")],
                moves, note=f"{ups} up, {len(moves) - ups} down" if moves else None,
                empty="no customer changed tier"),
    ]
    top = rows[:15]
    charts = []
    if top:
        charts.append(Chart("bars", "Lifetime value, top customers (Pareto)", [r["name"] for r in top],
                            [Series("lifetime value", [r["lifetime_value"] for r in top])],
                            note=pareto_text))
    if any(r["customers"] for r in tier_rows):
        charts.append(Chart("bars", "Lifetime value by tier", [r["tier"] for r in tier_rows],
                            [Series("lifetime value", [r["lifetime_value"] for r in tier_rows])]))
    return mark_left_out(Report("value", "Customer value",
                  meta=[("as of", as_of.isoformat()), ("tier movement since", since.isoformat()),
                        ("buying customers", str(n)), ("revenue", f"{whole(_money(total).quantize(Decimal(1), rounding=ROUND_HALF_UP), ws.config.get('locale'))} {data['currency']}"),
                        ("Pareto", pareto_text)],
                  sections=sections, charts=charts, data=data), left, rates)
