"""Sales reports as pure functions: pipeline, forecast, winrate, velocity, stale, agenda.

Every function takes plain records as ``(id, dict)`` pairs, the
:class:`~crmkit.sales.pipeline.PipelineConfig` and the clock (``now``, an aware
datetime), and returns a :class:`~crmkit.render.report.Report` whose ``data`` is the
documented JSON shape. Money is exact ``Decimal`` in the reporting currency
(the workspace currency unless asked otherwise); amounts in other currencies are
converted with ``pipeline.rates`` or refused.

The per-deal work is a handful of dict look-ups so that a report over 100,000
deals costs little next to reading them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crmkit.errors import UsageError
from crmkit.sales.pipeline import (
    CENT,
    Bag,
    amount_of,
    HUNDRED,
    ZERO,
    DealFacts,
    PipelineConfig,
    Rates,
    deal_as_of,
    deal_facts,
    history_of,
    local_date,
    stage_of,
    to_date,
    to_datetime,
)
from crmkit.render.report import Chart, Column, Report, Section, Series, money_text

RecordPairs = Iterable[tuple[str, Mapping[str, Any]]]

BY_FIELDS = ("owner", "source", "company")
#: What pipeline_report (without as_of) and forecast_report read of a deal, --by included.
SUMMARY_FIELDS = ("stage", "value", "currency", "probability", "expected_close", "closed", "title", *BY_FIELDS)
CATEGORY_LABELS = {"commit": "commit", "best_case": "best case", "pipeline": "pipeline"}
CATEGORY_COLORS = {"commit": "#2a9d8f", "best_case": "#f0a202", "pipeline": "#2f6fde"}


def m(d: Decimal) -> Decimal:
    """Money rounded to cents for output (sums are exact until here)."""
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def pct(num: Decimal | int, den: Decimal | int) -> Decimal | None:
    if not den:
        return None
    return (Decimal(num) * HUNDRED / Decimal(den)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _days(d: float | None) -> Decimal | None:
    return None if d is None else Decimal(repr(round(d, 1)))


# --------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """An inclusive range of dates with a label for people."""

    start: dt.date
    end: dt.date
    label: str

    def __contains__(self, d: object) -> bool:
        return isinstance(d, dt.date) and self.start <= d <= self.end

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _add_months(d: dt.date, n: int) -> dt.date:
    y, mo = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, mo + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


_PERIOD_HELP = (
    "month, quarter, year, last-month, last-quarter, last-year, 30d, 12m, 2026, 2026-11, 2026-Q4 "
    "or START..END (ISO dates)"
)


def parse_period(text: str, today: dt.date) -> Period:
    """A period from its name: ``month`` (this month to date), ``quarter``, ``year``, ``last-month``,
    ``last-quarter``, ``last-year``, ``30d``/``12m`` (trailing), ``2026``, ``2026-11``, ``2026-Q4``,
    or ``2026-01-01..2026-03-31``."""
    t = text.strip().lower()
    q_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if t in ("month", "this-month", "mtd"):
        return Period(_month_start(today), today, f"{today:%Y-%m} to date")
    if t in ("quarter", "this-quarter", "qtd"):
        return Period(q_start, today, f"{today.year}-Q{(today.month - 1) // 3 + 1} to date")
    if t in ("year", "this-year", "ytd"):
        return Period(dt.date(today.year, 1, 1), today, f"{today.year} to date")
    if t == "last-month":
        s = _add_months(_month_start(today), -1)
        return Period(s, _month_end(s), f"{s:%Y-%m}")
    if t == "last-quarter":
        s = _add_months(q_start, -3)
        return Period(s, _month_end(_add_months(s, 2)), f"{s.year}-Q{(s.month - 1) // 3 + 1}")
    if t == "last-year":
        return Period(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), str(today.year - 1))
    mt = re.fullmatch(r"(\d+)([dwm])", t)
    if mt:
        n, unit = int(mt.group(1)), mt.group(2)
        if n <= 0:
            raise UsageError(f"period '{text}' must be positive")
        if unit == "m":
            start = _add_months(today, -n) + dt.timedelta(days=1)
        else:
            start = today - dt.timedelta(days=n * (7 if unit == "w" else 1) - 1)
        return Period(start, today, f"last {n}{unit} ({start.isoformat()}..{today.isoformat()})")
    if re.fullmatch(r"\d{4}", t):
        y = int(t)
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), t)
    mt = re.fullmatch(r"(\d{4})-(\d{2})", t)
    if mt:
        s = dt.date(int(mt.group(1)), int(mt.group(2)), 1)
        return Period(s, _month_end(s), t)
    mt = re.fullmatch(r"(\d{4})-q([1-4])", t)
    if mt:
        s = dt.date(int(mt.group(1)), 3 * (int(mt.group(2)) - 1) + 1, 1)
        return Period(s, _month_end(_add_months(s, 2)), t.upper())
    if ".." in t:
        a, b = t.split("..", 1)
        try:
            s, e = dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip())
        except ValueError:
            raise UsageError(f"period '{text}': dates must be YYYY-MM-DD") from None
        if e < s:
            raise UsageError(f"period '{text}' ends before it starts")
        return Period(s, e, f"{s.isoformat()}..{e.isoformat()}")
    raise UsageError(f"unknown period '{text}'; use {_PERIOD_HELP}")


# --------------------------------------------------------------------------- shared


def _check_by(by: str | None, allowed: Iterable[str] = BY_FIELDS) -> None:
    if by is not None and by not in allowed:
        raise UsageError(f"--by must be one of {', '.join(allowed)}, not '{by}'")


def collect_facts(
    deals: RecordPairs, cfg: PipelineConfig, rates: Rates, warnings: list[str], only: str | None = None
) -> list[DealFacts]:
    """Per-deal facts; ``only="open"`` or ``"closed"`` skips the others before any work."""
    if only is None:
        return [deal_facts(i, d, cfg, rates, warnings) for i, d in deals]
    closed = {s.name for s in cfg.stages if s.is_closed}
    want_closed = only == "closed"
    return [deal_facts(i, d, cfg, rates, warnings) for i, d in deals if (stage_of(d) in closed) is want_closed]


def summary_key(cfg: PipelineConfig) -> str:
    """What :func:`deal_summary` depends on besides the deal: a cache of summaries is valid while this is."""
    return ",".join(SUMMARY_FIELDS) + "|" + ",".join(sorted(s.name for s in cfg.stages if s.is_closed))


def deal_summary(deal: Mapping[str, Any], cfg: PipelineConfig) -> dict[str, Any]:
    """The part of a deal that pipeline and forecast read: :data:`SUMMARY_FIELDS`, and the stage
    history only where the close date has to come from it (a closed deal without ``closed``).

    Both reports give the same figures on summaries as on whole deals (a test holds them to
    it). The workspace caches summaries, so a warm report over 100,000 deals unpickles a third
    of what whole records take: the histories are most of a deal.
    """
    out = {k: deal[k] for k in SUMMARY_FIELDS if k in deal}
    st = cfg.get(stage_of(deal))
    if st is not None and st.is_closed and to_date(deal.get("closed")) is None and "stage_history" in deal:
        out["stage_history"] = deal["stage_history"]
    return out


def _meta(cfg: PipelineConfig, rates: Rates, now: dt.datetime) -> list[tuple[str, str]]:
    return [("as of", now.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M %Z")), ("currency", rates.target)]


def _group_of(d: Mapping[str, Any], by: str) -> str:
    v = d.get(by)
    return "(none)" if v is None or v == "" else str(v)


def _closed_from_history(d: Mapping[str, Any], stage: Any, cfg: PipelineConfig) -> dt.date | None:
    """A closed deal without ``closed``: the day it entered its closing stage."""
    last = None
    for h in history_of(d, cfg.tz):
        if h.stage == stage:
            last = h.at
    return None if last is None else local_date(last, cfg.tz)


def _created_on(f: DealFacts, cfg: PipelineConfig) -> dt.date | None:
    c = f.created
    if isinstance(c, dt.datetime):
        return local_date(c if c.tzinfo else c.replace(tzinfo=cfg.tz), cfg.tz)
    d = to_datetime(c, cfg.tz)
    if d is not None:
        return local_date(d, cfg.tz)
    hist = history_of(f.data, cfg.tz)
    return local_date(hist[0].at, cfg.tz) if hist else None


# --------------------------------------------------------------------------- pipeline


def pipeline_report(
    deals: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    by: str | None = None,
    period: Period | None = None,
    currency: str | None = None,
    as_of: dt.date | None = None,
) -> Report:
    """Open deals by stage (count, value, weighted value), totals, and won/lost in ``period`` apart.

    ``as_of`` rebuilds each deal's stage on that date (end of day) from its stage
    history; ``now`` is then the end of that day.
    """
    _check_by(by)
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
    today = local_date(now, cfg.tz)
    if period is None:
        period = parse_period("quarter", today)
    order = {s.name: s for s in cfg.open_stages}
    closing = {s.name: s for s in cfg.stages if s.is_closed}
    base = cfg.currency
    start, stop = period.start, period.end
    # one pass, a few dict look-ups per deal: (group, stage) -> Bag of open deals,
    # (group, won?) -> Bag of deals closed in the period
    open_bags: dict[tuple[str, Any], Bag] = {}
    closed_bags: dict[tuple[str, bool], Bag] = {}
    for did, d in deals:
        sname = stage_of(d)
        g = "" if by is None else _group_of(d, by)
        cst = closing.get(sname)
        if cst is None:
            bag = open_bags.get((g, sname))
            if bag is None:
                bag = open_bags[(g, sname)] = Bag()
            bag.add(did, d, base)
            continue
        closed = to_date(d.get("closed"))
        if closed is None:
            closed = _closed_from_history(d, sname, cfg)
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
        i = 4 if won else 6
        a[i] += bag.count
        a[i + 1] += bag.value(rates)
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
    meta = _meta(cfg, rates, now) if as_of is None else [("as of", as_of.isoformat() + " (rebuilt from stage histories)"), ("currency", rates.target)]
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
            note=f"{total['count']} open deals, {money_text(total['value'])} {rates.target}, "
                 f"weighted {money_text(total['weighted'])}",
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
    return Report("pipeline", title, meta, sections, charts, data, warnings)


# --------------------------------------------------------------------------- forecast


def forecast_report(
    deals: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    months: int = 6,
    by: str | None = None,
    currency: str | None = None,
    overdue_limit: int | None = 50,
) -> Report:
    """Open deals by month of expected close for ``months`` months from this one.

    Each month shows the unweighted value split by forecast category (commit, best
    case, pipeline), the total and the weighted value, and what was already won in
    it. Deals whose expected close has passed go to an ``overdue`` bucket and are
    listed, largest first (``overdue_limit`` of them; None for all); deals closing
    after the horizon go to ``later``, deals without an expected close to ``no date``.
    """
    _check_by(by)
    if months < 1 or months > 120:
        raise UsageError("--months must be between 1 and 120")
    rates = cfg.rates_to(currency)
    warnings: list[str] = []
    today = local_date(now, cfg.tz)
    first = _month_start(today)
    month_keys = [_add_months(first, i) for i in range(months)]
    keys = [f"{d:%Y-%m}" for d in month_keys]
    horizon_end = _month_end(month_keys[-1])
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
    stages = {s.name: s for s in cfg.stages}
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
                    c = _closed_from_history(d, sname, cfg)
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
        g = "" if by is None else _group_of(d, by)
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
        for g in grows:
            g["value"], g["weighted"] = m(g["value"]), m(g["weighted"])
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
        ["overdue"] + [d.strftime("%b %Y") for d in month_keys],
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
    meta = _meta(cfg, rates, now)
    meta.append(("horizon", f"{keys[0]} .. {keys[-1]}"))
    return Report("forecast", "Forecast", meta, sections, [chart], data, warnings)


# --------------------------------------------------------------------------- winrate


def _closed_facts(
    facts: list[DealFacts], cfg: PipelineConfig, period: Period, warnings: list[str]
) -> list[tuple[DealFacts, dt.date]]:
    out = []
    for f in facts:
        if f.stage_obj is None or f.stage_obj.is_open:
            continue
        c = f.closed if f.closed is not None else _closed_from_history(f.data, f.stage, cfg)
        if c is None:
            warnings.append(f"deals/{f.id}.yaml: {f.stage} deal without a close date; left out")
            continue
        if c in period:
            out.append((f, c))
    return out


def _win_stats(items: list[tuple[DealFacts, dt.date]], cfg: PipelineConfig) -> dict[str, Any]:
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
            created = _created_on(f, cfg)
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
        "avg_cycle_days": _days(cycle_total / cycle_n) if cycle_n else None,
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
    _check_by(by)
    rates = cfg.rates_to(currency)
    warnings: list[str] = []
    today = local_date(now, cfg.tz)
    period = period or parse_period("12m", today)
    facts = collect_facts(deals, cfg, rates, warnings, only="closed")
    items = _closed_facts(facts, cfg, period, warnings)
    total = _public(_win_stats(items, cfg))
    rows: list[dict[str, Any]] = []
    if by:
        groups: dict[str, list[tuple[DealFacts, dt.date]]] = {}
        for it in items:
            groups.setdefault(it[0].group(by), []).append(it)
        for name in sorted(groups):
            rows.append({by: name, **_public(_win_stats(groups[name], cfg))})
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
    meta = _meta(cfg, rates, now) + [("period", period.label)]
    return Report("winrate", "Win rate", meta, [sec], [], data, warnings)


# --------------------------------------------------------------------------- velocity


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
    _check_by(by)
    rates = cfg.rates_to(currency)
    warnings: list[str] = []
    today = local_date(now, cfg.tz)
    period = period or parse_period("12m", today)
    deals = deals if isinstance(deals, list) else list(deals)
    open_stages = cfg.open_stages
    order = {s.name: i for i, s in enumerate(open_stages)}
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
            g = _group_of(d, by) if by else ""
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
    stage_rows = []
    for i, s in enumerate(open_stages):
        nxt = open_stages[i + 1].name if i + 1 < n_open else cfg.won_stage.name
        stage_rows.append(
            {
                "stage": s.name,
                "avg_days": _days(time_sum[s.name] / time_n[s.name]) if time_n[s.name] else None,
                "moves": time_n[s.name],
                "reached": reached[i],
                "next": nxt,
                "conversion": pct(reached[i + 1], reached[i]),
            }
        )

    closed = _closed_facts(collect_facts(deals, cfg, rates, warnings, only="closed"), cfg, period, warnings)

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

    summary = velocity(sum(opens.values()), _win_stats(closed, cfg))
    rows: list[dict[str, Any]] = []
    if by:
        cgroups: dict[str, list[tuple[DealFacts, dt.date]]] = {}
        for it in closed:
            cgroups.setdefault(it[0].group(by), []).append(it)
        for name in sorted(set(opens) | set(cgroups)):
            rows.append({by: name, **velocity(opens.get(name, 0), _win_stats(cgroups.get(name, []), cfg))})
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
    meta = _meta(cfg, rates, now) + [("closed in", period.label)]
    chart = Chart("funnel", "Deals reaching each stage", [r["stage"] for r in stage_rows] + [cfg.won_stage.name],
                  [Series("deals", [r["reached"] for r in stage_rows] + [reached[n_open]])], unit="deals")
    return Report("velocity", "Sales velocity", meta, sections, [chart], data, warnings)


# --------------------------------------------------------------------------- activities


def _is_done(a: Mapping[str, Any]) -> bool:
    d = a.get("done")
    return d is not None and d is not False and d != ""


def _due_info(due: Any, tz: dt.tzinfo) -> tuple[dt.date, dt.datetime] | None:
    if due is None or due == "":
        return None
    if isinstance(due, dt.datetime):
        at = due if due.tzinfo else due.replace(tzinfo=tz)
        return local_date(at, tz), at
    if isinstance(due, dt.date):
        return due, dt.datetime(due.year, due.month, due.day, tzinfo=tz)
    at = to_datetime(due, tz)
    if at is None:
        return None
    if isinstance(due, str) and len(due.strip()) == 10:
        return at.date(), at
    return local_date(at, tz), at


# --------------------------------------------------------------------------- stale


def stale_report(
    deals: RecordPairs,
    activities: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    days: int = 30,
    by: str | None = None,
    currency: str | None = None,
    limit: int | None = None,
) -> Report:
    """Open deals that need attention: no activity for ``days`` days, past their expected close,
    or without a planned follow-up (an open task or a future meeting linked to the deal).

    The last touch of a deal is its latest linked activity (done or held, not in the
    future); a deal without any counts from its last stage change or creation.
    """
    _check_by(by)
    if days < 0:
        raise UsageError("--days must not be negative")
    rates = cfg.rates_to(currency)
    warnings: list[str] = []
    tz = cfg.tz
    today = local_date(now, tz)
    last_touch: dict[str, dt.datetime] = {}
    planned: dict[str, dt.date] = {}
    late: set[str] = set()
    for _aid, a in activities:
        deal = a.get("deal")
        if not deal:
            continue
        deal = str(deal)
        done = _is_done(a)
        when = None
        if done:
            when = to_datetime(a.get("done"), tz) if not isinstance(a.get("done"), bool) else None
            when = when or to_datetime(a.get("at"), tz)
        else:
            at = to_datetime(a.get("at"), tz)
            if at is not None and at <= now:
                when = at
        if when is not None and when <= now:
            prev = last_touch.get(deal)
            if prev is None or when > prev:
                last_touch[deal] = when
        if not done:
            due = _due_info(a.get("due"), tz)
            at = to_datetime(a.get("at"), tz)
            nxt = None
            if due is not None:
                if due[0] >= today:
                    nxt = due[0]
                else:
                    late.add(deal)
            elif at is not None and at > now:
                nxt = local_date(at, tz)
            if nxt is not None and (deal not in planned or nxt < planned[deal]):
                planned[deal] = nxt
    facts = collect_facts(deals, cfg, rates, warnings, only="open")
    rows = []
    for f in facts:
        touch = last_touch.get(f.id)
        basis = "activity"
        if touch is None:
            hist = history_of(f.data, tz)
            touch = hist[-1].at if hist else to_datetime(f.created, tz)
            basis = "stage change" if hist else "created"
        idle = (today - local_date(touch, tz)).days if touch is not None else None
        reasons = []
        if idle is None:
            reasons.append("no activity and no creation date")
        elif idle >= days:
            reasons.append(f"no activity for {idle} days" if basis == "activity" else f"no activity since {basis} {idle} days ago")
        if f.expected_close is not None and f.expected_close < today:
            reasons.append(f"expected close {f.expected_close.isoformat()} passed")
        if f.id not in planned:
            reasons.append("follow-up overdue" if f.id in late else "no follow-up planned")
        if not reasons:
            continue
        rows.append(
            {
                "deal": f.id,
                "title": f.title,
                "owner": f.owner,
                "stage": f.stage,
                "value": m(f.value) if f.value is not None else None,
                "last_activity": local_date(touch, tz) if touch is not None and basis == "activity" else None,
                "idle_days": idle,
                "expected_close": f.expected_close,
                "next_follow_up": planned.get(f.id),
                "reasons": reasons,
                "_group": f.group(by) if by else "",
            }
        )
    rows.sort(key=lambda r: (r["_group"], -(r["idle_days"] if r["idle_days"] is not None else 10**6), r["deal"]))
    found = len(rows)
    for r in rows:
        g = r.pop("_group")
        if by:
            r[by] = g
    cols = ([Column(by)] if by and by != "owner" else []) + [
        Column("deal"), Column("title"), Column("owner"), Column("stage"), Column("value", "value", "money"),
        Column("idle_days", "idle days", "int"), Column("expected_close", "expected close", "date"),
        Column("reasons", wrap=True),
    ]
    counts = {
        "idle": sum(1 for r in rows if any(x.startswith("no activity") for x in r["reasons"])),
        "past_expected_close": sum(1 for r in rows if any("passed" in x for x in r["reasons"])),
        "no_follow_up": sum(1 for r in rows if any("follow-up" in x for x in r["reasons"])),
    }
    if limit is not None and limit >= 0:
        rows = rows[:limit]
    data = {"report": "stale", "now": now.isoformat(), "days": days, "currency": rates.target, "by": by,
            "counts": counts, "found": found, "deals": rows}
    meta = _meta(cfg, rates, now) + [("idle after", f"{days} days"),
                                     ("deals", str(found) if found == len(rows) else f"{len(rows)} of {found}")]
    sec = Section("Deals needing attention", cols, rows, empty="every open deal is in hand")
    return Report("stale", "Stale deals", meta, [sec], [], data, warnings)


# --------------------------------------------------------------------------- agenda


def agenda_report(
    activities: RecordPairs,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    days: int = 7,
    by: str | None = "owner",
    titles: Mapping[str, str] | None = None,
) -> Report:
    """Follow-ups (activities with a due date, not done): overdue, today, and coming in the next
    ``days`` days, per owner. ``titles`` maps ``kind/id`` to a display name for the linked record."""
    if by is not None and by not in ("owner", "type"):
        raise UsageError("--by for the agenda must be owner or type")
    if days < 0:
        raise UsageError("--days must not be negative")
    tz = cfg.tz
    today = local_date(now, tz)
    until = today + dt.timedelta(days=days)
    rows = []
    later = 0
    for aid, a in activities:
        if _is_done(a):
            continue
        due = _due_info(a.get("due"), tz)
        if due is None:
            continue
        d, at = due
        if d < today:
            bucket = "overdue"
        elif d == today:
            bucket = "today"
        elif d <= until:
            bucket = "coming"
        else:
            later += 1
            continue
        about = None
        for k in ("deal", "ticket", "lead", "contact", "company"):
            if a.get(k):
                about = f"{k}/{a.get(k)}"
                break
        raw = a.get("due")
        rows.append(
            {
                "owner": str(a.get("owner") or "(none)"),
                "type": str(a.get("type") or "task"),
                "bucket": bucket,
                "due": raw if isinstance(raw, (dt.date, dt.datetime)) else (at if len(str(raw).strip()) > 10 else d),
                "days": (d - today).days,
                "activity": aid,
                "subject": a.get("subject") or "",
                "about": about,
                "about_title": (titles or {}).get(about or "", None),
                "_sort": at,
            }
        )
    rank = {"overdue": 0, "today": 1, "coming": 2}
    key = by or "owner"
    rows.sort(key=lambda r: ((r[key] if by else ""), rank[r["bucket"]], r["_sort"], r["activity"]))
    for r in rows:
        r.pop("_sort")
    summary: dict[str, dict[str, Any]] = {}
    for r in rows:
        g = r[key] if by else "all"
        s = summary.setdefault(g, {key if by else "group": g, "overdue": 0, "today": 0, "coming": 0, "total": 0})
        s[r["bucket"]] += 1
        s["total"] += 1
    srows = [summary[k] for k in sorted(summary)]
    cols = ([Column(by)] if by else []) + [
        Column("bucket", "when"), Column("due", "due", "date"), Column("days", "days", "int"), Column("type"),
        Column("subject", wrap=True), Column("about"), Column("about_title", "regarding", wrap=True),
        Column("activity", "id"),
    ]
    totals = {"overdue": sum(s["overdue"] for s in srows), "today": sum(s["today"] for s in srows),
              "coming": sum(s["coming"] for s in srows), "later": later}
    sections = [
        Section("Follow-ups", cols, rows, empty="no follow-ups due"),
        Section(
            f"Per {key}",
            [Column(key if by else "group"), Column("overdue", "overdue", "int"), Column("today", "today", "int"),
             Column("coming", "coming", "int"), Column("total", "total", "int", bar=True)],
            srows,
        ),
    ]
    data = {"report": "agenda", "now": now.isoformat(), "today": today.isoformat(), "until": until.isoformat(),
            "by": by, "counts": totals, "items": rows, "groups": srows}
    meta = [("as of", now.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")),
            ("window", f"next {days} days, to {until.isoformat()}"),
            ("due", f"{totals['overdue']} overdue, {totals['today']} today, {totals['coming']} coming")]
    return Report("agenda", "Agenda", meta, sections, [], data, [])


def dashboard(pipeline: Report, forecast: Report) -> Report:
    """The pipeline page with the forecast on it: funnel by stage and forecast by month together."""
    return pipeline.merged(forecast)


__all__ = [
    "Period",
    "parse_period",
    "pipeline_report",
    "forecast_report",
    "winrate_report",
    "velocity_report",
    "stale_report",
    "agenda_report",
    "dashboard",
]
