"""The pipeline report: open deals by stage, weighted; won and lost in a period apart; the dashboard page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crmkit.render.report import Chart, Column, Report, Section, Series, money_text
from crmkit.reports.frame import (
    RecordPairs,
    check_by,
    closed_from_history,
    group_of,
    m,
    mark_left_out,
    report_meta,
    without_rates,
)
from crmkit.reports.periods import Period, parse_period
from crmkit.sales.facts import Bag, stage_of
from crmkit.sales.history import deal_as_of
from crmkit.sales.pipeline import ZERO, PipelineConfig, Stage
from crmkit.values import local_date, to_date


def pipeline_report(
    deals: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    by: str | None = None,
    period: Period | None = None,
    currency: str | None = None,
    as_of: dt.date | None = None,
    locale: str | None = None,
) -> Report:
    """Open deals by stage (count, value, weighted value), totals, and won/lost in ``period`` apart.

    ``as_of`` rebuilds each deal's stage on that date (end of day) from its stage
    history; ``now`` is then the end of that day. ``locale`` (the workspace's) writes the
    figures in the chart's note as the tables do.
    """
    check_by(by)
    rates = cfg.rates_to(currency)
    warnings: list[str] = []
    if as_of is not None:
        end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), tzinfo=cfg.tz) - dt.timedelta(
            microseconds=1
        )
        now = end
        pairs = []
        for i, d in deals:
            past = deal_as_of(d, end, cfg)
            if past is not None:
                pairs.append((i, past))
        deals = pairs
    deals, left = without_rates(deals, rates, cfg.currency)
    today = local_date(now, cfg.tz)
    if period is None:
        period = parse_period("quarter", today)
    order = {s.name: s for s in cfg.open_stages}
    closing: dict[str | None, Stage] = {s.name: s for s in cfg.stages if s.is_closed}
    base = cfg.currency
    start, stop = period.start, period.end
    # one pass, a few dict look-ups per deal: (group, stage) -> Bag of open deals,
    # (group, won?) -> Bag of deals closed in the period
    open_bags: dict[tuple[str, Any], Bag] = {}
    closed_bags: dict[tuple[str, bool], Bag] = {}
    for did, d in deals:
        sname = stage_of(d)
        g = "" if by is None else group_of(d, by)
        cst = closing.get(sname)
        if cst is None:
            bag = open_bags.get((g, sname))
            if bag is None:
                bag = open_bags[(g, sname)] = Bag()
            bag.add(did, d, base)
            continue
        closed = to_date(d.get("closed"))
        if closed is None:
            closed = closed_from_history(d, sname, cfg)
        if closed is None or closed < start or closed > stop:
            continue
        key = (g, cst.won)
        bag = closed_bags.get(key)
        if bag is None:
            bag = closed_bags[key] = Bag()
        bag.add(did, d, base, closed=True)

    unknown = sorted({str(k[1]) for k in open_bags if k[1] not in order})
    for name in unknown:
        n = sum(b.count for k, b in open_bags.items() if str(k[1]) == name)
        warnings.append(f"{n} deal(s) in unknown stage '{name}' (not in crmkit.yaml pipeline.stages); counted as open")
    for bag in list(open_bags.values()) + list(closed_bags.values()):
        warnings.extend(bag.warnings())

    def weighted_of(key: tuple[str, Any], bag: Bag) -> Decimal:
        st = order.get(key[1])
        return bag.weighted(rates, st.probability if st is not None else ZERO)

    exact = {k: (b.value(rates), weighted_of(k, b)) for k, b in open_bags.items()}
    # figures per stage and per group, each bag visited once (thousands of companies with --by company)
    per_stage: dict[str, list[Any]] = {}
    per_group: dict[str, list[Any]] = {}
    for k, bag in open_bags.items():
        v, w = exact[k]
        for acc, name in ((per_stage, str(k[1]) if k[1] not in order else k[1]), (per_group, k[0])):
            a = acc.get(name)
            if a is None:
                a = acc[name] = [0, ZERO, ZERO, 0, 0, ZERO, 0, ZERO]  # open n, value, weighted, no value, won n/v, lost n/v
            a[0] += bag.count
            a[1] += v
            a[2] += w
            a[3] += bag.no_value
    for (g, won), bag in closed_bags.items():
        a = per_group.get(g)
        if a is None:
            a = per_group[g] = [0, ZERO, ZERO, 0, 0, ZERO, 0, ZERO]
        col = 4 if won else 6
        a[col] += bag.count
        a[col + 1] += bag.value(rates)
    rows = []
    for name in list(order) + unknown:
        a = per_stage.get(name) or [0, ZERO, ZERO, 0]
        st = order.get(name)
        rows.append(
            {
                "stage": name,
                "category": st.category if st else "unknown",
                "probability": st.probability if st else None,
                "count": a[0],
                "value": m(a[1]),
                "weighted": m(a[2]),
                "no_value": a[3],
            }
        )
    total = {
        "stage": "total",
        "count": sum(r["count"] for r in rows),
        "value": m(sum((e[0] for e in exact.values()), ZERO)),
        "weighted": m(sum((e[1] for e in exact.values()), ZERO)),
        "no_value": sum(r["no_value"] for r in rows),
    }
    won_n = sum(a[4] for a in per_group.values())
    lost_n = sum(a[6] for a in per_group.values())
    won_v = sum((a[5] for a in per_group.values()), ZERO)
    lost_v = sum((a[7] for a in per_group.values()), ZERO)
    closed_rows = [
        {"outcome": "won", "count": won_n, "value": m(won_v)},
        {"outcome": "lost", "count": lost_n, "value": m(lost_v)},
    ]
    group_rows = []
    if by:
        for name, a in per_group.items():
            group_rows.append(
                {
                    by: name,
                    "count": a[0],
                    "value": m(a[1]),
                    "weighted": m(a[2]),
                    "won": a[4],
                    "won_value": m(a[5]),
                    "lost": a[6],
                    "lost_value": m(a[7]),
                }
            )
        group_rows.sort(key=lambda r: (-r["weighted"], r[by]))

    stage_cols = [
        Column("stage"),
        Column("category"),
        Column("probability", "prob", "pct"),
        Column("count", "deals", "int"),
        Column("value", "value", "money", bar=True),
        Column("weighted", "weighted", "money"),
    ]
    title = "Pipeline" + (f" as of {as_of.isoformat()}" if as_of else "")
    meta = report_meta(cfg, rates, now) if as_of is None else [("as of", as_of.isoformat() + " (rebuilt from stage histories)"), ("currency", rates.target)]
    meta.append(("closed in", period.label))
    nv_note = f"{total['no_value']} open deal(s) have no value." if total["no_value"] else None
    sections = [Section("Open deals by stage", stage_cols, rows, total, note=nv_note)]
    if by:
        sections.insert(
            0,
            Section(
                f"Open deals by {by}",
                [
                    Column(by),
                    Column("count", "deals", "int"),
                    Column("value", "value", "money", bar=True),
                    Column("weighted", "weighted", "money"),
                    Column("won", "won", "int"),
                    Column("won_value", "won value", "money"),
                    Column("lost", "lost", "int"),
                ],
                group_rows,
            ),
        )
    sections.append(
        Section(
            f"Closed {period.label}",
            [Column("outcome"), Column("count", "deals", "int"), Column("value", "value", "money", bar=True)],
            closed_rows,
        )
    )
    labels = [r["stage"] for r in rows]
    charts = [
        Chart(
            "funnel",
            "Funnel by stage (open value)",
            labels,
            [Series("value", [r["value"] for r in rows]), Series("weighted", [r["weighted"] for r in rows])],
            unit=rates.target,
            # money_text rounds half up as the tables do (a format spec would round half even)
            note=f"{total['count']} open deals, {money_text(total['value'], locale=locale)} {rates.target}, "
                 f"weighted {money_text(total['weighted'], locale=locale)}",
        )
    ]
    data = {
        "report": "pipeline",
        "now": now.isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        "currency": rates.target,
        "period": period.to_dict(),
        "by": by,
        "stages": rows,
        "totals": total,
        "closed": {"won": closed_rows[0], "lost": closed_rows[1]},
    }
    if by:
        data["groups"] = group_rows
    return mark_left_out(Report("pipeline", title, meta, sections, charts, data, warnings), left, rates)



def dashboard(pipeline: Report, forecast: Report) -> Report:
    """The pipeline page with the forecast on it: funnel by stage and forecast by month together."""
    return pipeline.merged(forecast)
