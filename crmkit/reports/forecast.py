"""The forecast report: expected revenue by month of expected close, by category."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crmkit.errors import UsageError
from crmkit.render.numbers import month_label
from crmkit.render.report import Chart, Column, Report, Section, Series
from crmkit.reports.frame import (
    CATEGORY_COLORS,
    CATEGORY_LABELS,
    RecordPairs,
    check_by,
    closed_from_history,
    group_of,
    m,
    mark_left_out,
    report_meta,
    without_rates,
)
from crmkit.reports.periods import add_months, month_end, month_start
from crmkit.sales.facts import Bag, amount_of, stage_of
from crmkit.sales.pipeline import ZERO, PipelineConfig, Stage
from crmkit.values import local_date, to_date


def forecast_report(
    deals: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    months: int = 6,
    by: str | None = None,
    currency: str | None = None,
    overdue_limit: int | None = 50,
    locale: str | None = None,
) -> Report:
    """Open deals by month of expected close for ``months`` months from this one.

    Each month shows the unweighted value split by forecast category (commit, best
    case, pipeline), the total and the weighted value, and what was already won in
    it. Deals whose expected close has passed go to an ``overdue`` bucket and are
    listed, largest first (``overdue_limit`` of them; None for all); deals closing
    after the horizon go to ``later``, deals without an expected close to ``no date``.
    """
    check_by(by)
    if months < 1 or months > 120:
        raise UsageError("--months must be between 1 and 120")
    rates = cfg.rates_to(currency)
    deals, left = without_rates(deals, rates, cfg.currency)
    warnings: list[str] = []
    today = local_date(now, cfg.tz)
    first = month_start(today)
    month_keys = [add_months(first, i) for i in range(months)]
    keys = [f"{d:%Y-%m}" for d in month_keys]
    horizon_end = month_end(month_keys[-1])
    cats = ("commit", "best_case", "pipeline")

    def bucket_row(label: str, kind: str) -> dict[str, Any]:
        return {"month": label, "bucket": kind, "count": 0, "commit": ZERO, "best_case": ZERO, "pipeline": ZERO,
                "value": ZERO, "weighted": ZERO, "won": ZERO, "no_value": 0}

    buckets: dict[str, dict[str, Any]] = {"overdue": bucket_row("overdue", "overdue")}
    for k in keys:
        buckets[k] = bucket_row(k, "month")
    buckets["later"] = bucket_row("later", "later")
    buckets["no date"] = bucket_row("no date", "undated")
    first_key = keys[0]
    month_of = {(d.year, d.month): k for d, k in zip(month_keys, keys)}
    stages: dict[str | None, Stage] = {s.name: s for s in cfg.stages}
    base = cfg.currency
    # (group, bucket, stage) -> Bag; (month, ) -> Bag of won deals
    bags: dict[tuple[str, str, Any], Bag] = {}
    won_bags: dict[str, Bag] = {}
    overdue_raw: list[tuple[str, Mapping[str, Any], dt.date]] = []
    date_type = dt.date
    for did, d in deals:
        sname = stage_of(d)
        st = stages.get(sname)
        if st is not None and st.is_closed:
            if st.won:
                c = to_date(d.get("closed"))
                if c is None:
                    c = closed_from_history(d, sname, cfg)
                if c is not None and first <= c <= horizon_end:
                    k = month_of[(c.year, c.month)]
                    bag = won_bags.get(k)
                    if bag is None:
                        bag = won_bags[k] = Bag()
                    bag.add(did, d, base, closed=True)
            continue
        ec = d.get("expected_close")
        if type(ec) is not date_type:
            ec = to_date(ec)
        if ec is None:
            key = "no date"
        elif ec < today:
            key = "overdue"
            overdue_raw.append((did, d, ec))
        elif ec > horizon_end:
            key = "later"
        else:
            key = month_of.get((ec.year, ec.month), first_key)
        g = "" if by is None else group_of(d, by)
        bk = (g, key, sname)
        bag = bags.get(bk)
        if bag is None:
            bag = bags[bk] = Bag()
        bag.add(did, d, base)

    by_groups: dict[tuple[str, str], dict[str, Any]] = {}
    for (g, key, sname), bag in bags.items():
        warnings.extend(bag.warnings())
        st = stages.get(sname)
        value = bag.value(rates)
        weighted = bag.weighted(rates, st.probability if st is not None else ZERO)
        cat = st.category if st is not None and st.category in cats else "pipeline"
        b = buckets[key]
        b["count"] += bag.count
        b["no_value"] += bag.no_value
        b[cat] += value
        b["value"] += value
        b["weighted"] += weighted
        if by:
            row = by_groups.get((g, key))
            if row is None:
                row = by_groups[(g, key)] = {by: g, "month": key, "count": 0, "value": ZERO, "weighted": ZERO}
            row["count"] += bag.count
            row["value"] += value
            row["weighted"] += weighted
    for k, bag in won_bags.items():
        buckets[k]["won"] += bag.value(rates)
    # The overdue list: the largest first. Building a row per deal is what costs here
    # (a messy CRM has tens of thousands), so rank on the converted value and build
    # rows for the ones shown only.
    ranked: list[tuple[int, Decimal, dt.date, str, Mapping[str, Any]]] = []
    factors: dict[Any, Decimal] = {}
    for did, d, ec in overdue_raw:
        v = amount_of(d.get("value"))
        if v is None:
            ranked.append((1, ZERO, ec, did, d))  # deals without value last
            continue
        else:
            cur = d.get("currency") or base
            f = factors.get(cur)
            if f is None:
                f = factors[cur] = rates.factor(str(cur).upper(), f"deals/{did}.yaml")
            v = v * f
        ranked.append((0, -v, ec, did, d))
    if overdue_limit is not None and overdue_limit >= 0 and len(ranked) > overdue_limit:
        import heapq

        shown = heapq.nsmallest(overdue_limit, ranked)
    else:
        shown = sorted(ranked)
    overdue = [
        {
            "deal": did,
            "title": d.get("title") or did,
            "owner": d.get("owner"),
            "stage": d.get("stage"),
            "expected_close": ec,
            "days_overdue": (today - ec).days,
            "value": None if novalue else m(-nv),
        }
        for novalue, nv, ec, did, d in shown
    ]
    overdue_count = len(ranked)

    rows = list(buckets.values())
    total = {"month": "total", "count": sum(r["count"] for r in rows)}
    for k in ("commit", "best_case", "pipeline", "value", "weighted", "won"):
        total[k] = m(sum((r[k] for r in rows), ZERO))  # from the exact sums, rounded once
    total["no_value"] = sum(r["no_value"] for r in rows)
    for r in rows:
        for k in ("commit", "best_case", "pipeline", "value", "weighted", "won"):
            r[k] = m(r[k])

    cols = [
        Column("month"),
        Column("count", "deals", "int"),
        Column("commit", "commit", "money"),
        Column("best_case", "best case", "money"),
        Column("pipeline", "pipeline", "money"),
        Column("value", "total", "money", bar=True),
        Column("weighted", "weighted", "money"),
        Column("won", "won", "money"),
    ]
    sections = [
        Section(
            f"Forecast by month of expected close (next {months} month{'s' if months != 1 else ''})",
            cols,
            rows,
            total,
            note=(f"{overdue_count} open deal(s) are past their expected close." if overdue_count else None),
        )
    ]
    if by:
        grows = sorted(by_groups.values(), key=lambda g: (g[by], g["month"]))
        for grow in grows:
            grow["value"], grow["weighted"] = m(grow["value"]), m(grow["weighted"])
        sections.append(
            Section(
                f"Forecast by {by}",
                [Column(by), Column("month"), Column("count", "deals", "int"),
                 Column("value", "total", "money", bar=True), Column("weighted", "weighted", "money")],
                grows,
            )
        )
    sections.append(
        Section(
            "Past expected close (overdue), largest first",
            [Column("deal"), Column("title", wrap=True), Column("owner"), Column("stage"), Column("expected_close", "expected close", "date"),
             Column("days_overdue", "days over", "int"), Column("value", "value", "money")],
            overdue,
            empty="no open deal is past its expected close",
            note=(f"{len(overdue)} of {overdue_count} shown (--overdue-limit)" if overdue_count > len(overdue) else None),
        )
    )
    chart_rows = [buckets["overdue"]] + [buckets[k] for k in keys]
    chart = Chart(
        "bars",
        "Forecast by month of expected close",
        ["overdue"] + [month_label(d, locale) for d in month_keys],
        [Series(CATEGORY_LABELS[c], [r[c] for r in chart_rows], "bar", CATEGORY_COLORS[c]) for c in cats]
        + [Series("weighted", [r["weighted"] for r in chart_rows], "line", "#e76f51")],
        unit=rates.target,
        highlight=[True] + [False] * len(keys),
        note=f"Bars: unweighted value by forecast category. Line: weighted value. {rates.target}.",
    )
    data = {
        "report": "forecast",
        "now": now.isoformat(),
        "currency": rates.target,
        "months": months,
        "by": by,
        "buckets": rows,
        "totals": total,
        "overdue": overdue,
        "overdue_count": overdue_count,
    }
    if by:
        data["groups"] = sections[1].rows
    meta = report_meta(cfg, rates, now)
    meta.append(("horizon", f"{keys[0]} .. {keys[-1]}"))
    return mark_left_out(Report("forecast", "Forecast", meta, sections, [chart], data, warnings), left, rates)
