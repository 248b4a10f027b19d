"""The stale-deals report: open deals without recent activity or a follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from crmkit.errors import UsageError
from crmkit.render.report import Column, Report, Section
from crmkit.reports.frame import (
    RecordPairs,
    check_by,
    collect_facts,
    due_info,
    is_done,
    left_out_warning,
    m,
    report_meta,
    without_rates,
)
from crmkit.sales.facts import stage_of
from crmkit.sales.history import history_of
from crmkit.sales.pipeline import PipelineConfig
from crmkit.values import local_date, to_datetime


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
    check_by(by)
    if days < 0:
        raise UsageError("--days must not be negative")
    rates = cfg.rates_to(currency)
    # stale is about attention, not money: a deal whose currency has no rate is listed
    # like any other, without a value (the warning says why), and the report is whole
    deals, left = without_rates(deals, rates, cfg.currency)
    closed = {s.name for s in cfg.stages if s.is_closed}
    left = [x for x in left if stage_of(x.data) not in closed]  # stale lists open deals only
    deals += [(x.id, {**x.data, "value": None}) for x in left]
    warnings: list[str] = [left_out_warning(left, rates, "shown without a value")] if left else []
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
        done = is_done(a)
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
            due = due_info(a.get("due"), tz)
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
    rows: list[dict[str, Any]] = []
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
    meta = report_meta(cfg, rates, now) + [("idle after", f"{days} days"),
                                     ("deals", str(found) if found == len(rows) else f"{len(rows)} of {found}")]
    sec = Section("Deals needing attention", cols, rows, empty="every open deal is in hand")
    return Report("stale", "Stale deals", meta, [sec], [], data, warnings)
