"""The velocity report: time in stage, stage conversion and sales velocity."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crmkit.render.report import Chart, Column, Report, Section, Series
from crmkit.reports.frame import (
    RecordPairs,
    collect_facts,
    group_of,
    m,
    mark_left_out,
    pct,
    report_meta,
    round_days,
    setup,
    without_rates,
)
from crmkit.reports.periods import Period, parse_period
from crmkit.reports.winrate import closed_facts, win_stats
from crmkit.sales.facts import DealFacts, stage_of
from crmkit.sales.history import history_of
from crmkit.sales.pipeline import PipelineConfig
from crmkit.values import to_datetime


def velocity_report(
    deals: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    period: Period | None = None,
    by: str | None = None,
    currency: str | None = None,
) -> Report:
    """Average time in each stage and stage-to-stage conversion from the stage histories, and sales
    velocity = open deals x win rate x average won size / average cycle (money per day).

    Win rate, size and cycle come from the deals closed in ``period`` (default: last 12 months).
    A deal that reached a later stage counts as having passed the earlier ones, and
    every deal counts as having entered the first open stage.
    """
    start = setup(cfg, now, by, currency)
    rates, warnings, today = start.rates, start.warnings, start.today
    period = period or parse_period("12m", today)
    deals, left = without_rates(deals, rates, cfg.currency)
    open_stages = cfg.open_stages
    order: dict[str | None, int] = {s.name: i for i, s in enumerate(open_stages)}
    n_open = len(open_stages)
    time_sum = {s.name: 0.0 for s in cfg.stages}
    time_n = {s.name: 0 for s in cfg.stages}
    reached = [0] * (n_open + 1)  # last slot: won
    won_names = {s.name for s in cfg.stages if s.won}
    closed_names = {s.name for s in cfg.stages if s.is_closed}
    opens: dict[str, int] = {}
    for _did, d in deals:
        sname = stage_of(d)
        if sname not in closed_names:
            g = group_of(d, by) if by else ""
            opens[g] = opens.get(g, 0) + 1
        hist = history_of(d, cfg.tz) if d.get("stage_history") else []
        top = 0
        if hist and hist[0].from_stage in time_sum:
            # the stage the deal was created in, before its first recorded move
            created = to_datetime(d.get("created"), cfg.tz)
            if created is not None and created <= hist[0].at:
                time_sum[hist[0].from_stage] += (hist[0].at - created).total_seconds() / 86400
                time_n[hist[0].from_stage] += 1
        for a, b in zip(hist, hist[1:]):
            if a.stage in time_sum:
                time_sum[a.stage] += (b.at - a.at).total_seconds() / 86400
                time_n[a.stage] += 1
        for h in hist:
            for name in (h.stage, h.from_stage):
                i = order.get(name)
                if i is not None and i > top:
                    top = i
        i = order.get(sname)
        if i is not None and i > top:
            top = i
        if sname in won_names:
            top = n_open
        for k in range(top + 1):
            reached[k] += 1
    stage_rows: list[dict[str, Any]] = []
    for i, s in enumerate(open_stages):
        nxt = open_stages[i + 1].name if i + 1 < n_open else cfg.won_stage.name
        stage_rows.append(
            {
                "stage": s.name,
                "avg_days": round_days(time_sum[s.name] / time_n[s.name]) if time_n[s.name] else None,
                "moves": time_n[s.name],
                "reached": reached[i],
                "next": nxt,
                "conversion": pct(reached[i + 1], reached[i]),
            }
        )

    closed = closed_facts(collect_facts(deals, cfg, rates, warnings, only="closed"), cfg, period, warnings)

    def velocity(open_n: int, stats: dict[str, Any]) -> dict[str, Any]:
        size, cycle = stats["_avg_size_exact"], stats["_cycle_exact"]
        rate = (Decimal(stats["won"]) / stats["closed"]) if stats["closed"] else None
        per_day = None
        if size is not None and cycle and rate is not None:
            per_day = Decimal(open_n) * rate * size / cycle
        return {
            "open": open_n,
            "win_rate": stats["win_rate"],
            "avg_size": stats["avg_size"],
            "avg_cycle_days": stats["avg_cycle_days"],
            "per_day": m(per_day) if per_day is not None else None,
            "per_30_days": m(per_day * 30) if per_day is not None else None,
        }

    summary = velocity(sum(opens.values()), win_stats(closed, cfg))
    rows: list[dict[str, Any]] = []
    if by:
        cgroups: dict[str, list[tuple[DealFacts, dt.date]]] = {}
        for it in closed:
            cgroups.setdefault(it[0].group(by), []).append(it)
        for name in sorted(set(opens) | set(cgroups)):
            rows.append({by: name, **velocity(opens.get(name, 0), win_stats(cgroups.get(name, []), cfg))})
    key = by or "deals"
    vcols = [
        Column(key),
        Column("open", "open deals", "int"),
        Column("win_rate", "win rate", "pct"),
        Column("avg_size", "avg size", "money"),
        Column("avg_cycle_days", "cycle (days)", "days"),
        Column("per_day", "velocity / day", "money", bar=bool(by)),
        Column("per_30_days", "per 30 days", "money"),
    ]
    total_row = {key: "total" if by else "all", **summary}
    sections = [
        Section(
            "Stages",
            [
                Column("stage"),
                Column("avg_days", "avg days in stage", "days"),
                Column("moves", "moves out", "int"),
                Column("reached", "reached", "int", bar=True),
                Column("next", "to"),
                Column("conversion", "conversion", "pct"),
            ],
            stage_rows,
        ),
        Section(
            f"Sales velocity (closed {period.label})",
            vcols,
            rows if by else [total_row],
            total_row if by else None,
        ),
    ]
    data = {
        "report": "velocity",
        "now": now.isoformat(),
        "currency": rates.target,
        "period": period.to_dict(),
        "by": by,
        "stages": stage_rows,
        "velocity": summary,
        "groups": rows,
    }
    meta = report_meta(cfg, rates, now) + [("closed in", period.label)]
    chart = Chart("funnel", "Deals reaching each stage", [r["stage"] for r in stage_rows] + [cfg.won_stage.name],
                  [Series("deals", [r["reached"] for r in stage_rows] + [reached[n_open]])], unit="deals")
    return mark_left_out(Report("velocity", "Sales velocity", meta, sections, [chart], data, warnings), left, rates)
