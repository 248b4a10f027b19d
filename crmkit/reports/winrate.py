"""The win-rate report: win rate by count and value, deal size and cycle length."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crmkit.render.report import Column, Report, Section
from crmkit.reports.frame import (
    RecordPairs,
    closed_from_history,
    collect_facts,
    created_on,
    m,
    mark_left_out,
    pct,
    report_meta,
    round_days,
    setup,
    without_rates,
)
from crmkit.reports.periods import Period, parse_period
from crmkit.sales.facts import DealFacts
from crmkit.sales.pipeline import ZERO, PipelineConfig


def closed_facts(
    facts: list[DealFacts], cfg: PipelineConfig, period: Period, warnings: list[str]
) -> list[tuple[DealFacts, dt.date]]:
    out = []
    for f in facts:
        if f.stage_obj is None or f.stage_obj.is_open:
            continue
        c = f.closed if f.closed is not None else closed_from_history(f.data, f.stage, cfg)
        if c is None:
            warnings.append(f"deals/{f.id}.yaml: {f.stage} deal without a close date; left out")
            continue
        if c in period:
            out.append((f, c))
    return out


def win_stats(items: list[tuple[DealFacts, dt.date]], cfg: PipelineConfig) -> dict[str, Any]:
    won = lost = 0
    won_v = lost_v = ZERO
    won_with_value = 0
    cycle_total = 0
    cycle_n = 0
    for f, closed in items:
        if f.won:
            won += 1
            if f.value is not None:
                won_v += f.value
                won_with_value += 1
            created = created_on(f, cfg)
            if created is not None and created <= closed:
                cycle_total += (closed - created).days
                cycle_n += 1
        else:
            lost += 1
            if f.value is not None:
                lost_v += f.value
    return {
        "closed": won + lost,
        "won": won,
        "lost": lost,
        "win_rate": pct(won, won + lost),
        "won_value": m(won_v),
        "lost_value": m(lost_v),
        "win_rate_value": pct(won_v, won_v + lost_v),
        "avg_size": m(won_v / won_with_value) if won_with_value else None,
        "avg_cycle_days": round_days(cycle_total / cycle_n) if cycle_n else None,
        "_avg_size_exact": (won_v / won_with_value) if won_with_value else None,
        "_cycle_exact": (Decimal(cycle_total) / cycle_n) if cycle_n else None,
    }


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def winrate_report(
    deals: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    period: Period | None = None,
    by: str | None = None,
    currency: str | None = None,
) -> Report:
    """Win rate by count and by value of the deals closed in ``period`` (default: the last 12 months),
    average won deal size and average sales cycle (created to closed, won deals), optionally by a field."""
    start = setup(cfg, now, by, currency)
    rates, warnings, today = start.rates, start.warnings, start.today
    period = period or parse_period("12m", today)
    deals, left = without_rates(deals, rates, cfg.currency)
    facts = collect_facts(deals, cfg, rates, warnings, only="closed")
    items = closed_facts(facts, cfg, period, warnings)
    total = _public(win_stats(items, cfg))
    rows: list[dict[str, Any]] = []
    if by:
        groups: dict[str, list[tuple[DealFacts, dt.date]]] = {}
        for it in items:
            groups.setdefault(it[0].group(by), []).append(it)
        for name in sorted(groups):
            rows.append({by: name, **_public(win_stats(groups[name], cfg))})
        total = {by: "total", **total}
    key = by or "deals"
    if not by:
        total = {"deals": "all", **total}
    cols = [
        Column(key),
        Column("won", "won", "int"),
        Column("lost", "lost", "int"),
        Column("win_rate", "win rate", "pct"),
        Column("win_rate_value", "by value", "pct"),
        Column("won_value", "won value", "money", bar=bool(by)),
        Column("avg_size", "avg size", "money"),
        Column("avg_cycle_days", "avg cycle (days)", "days"),
    ]
    sec = Section(f"Win rate, closed {period.label}", cols, rows if by else [total], total if by else None,
                  empty="no deal closed in the period")
    data = {
        "report": "winrate",
        "now": now.isoformat(),
        "currency": rates.target,
        "period": period.to_dict(),
        "by": by,
        "totals": {k: v for k, v in total.items() if k != key},
        "groups": rows,
    }
    meta = report_meta(cfg, rates, now) + [("period", period.label)]
    return mark_left_out(Report("winrate", "Win rate", meta, [sec], [], data, warnings), left, rates)
