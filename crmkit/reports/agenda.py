"""The agenda report: follow-ups overdue, today and coming, per owner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crmkit.errors import UsageError
from crmkit.render.report import Column, Report, Section
from crmkit.reports.frame import (
    RecordPairs,
    due_info,
    is_done,
)
from crmkit.sales.pipeline import PipelineConfig
from crmkit.values import local_date


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
    rows: list[dict[str, Any]] = []
    later = 0
    for aid, a in activities:
        if is_done(a):
            continue
        due = due_info(a.get("due"), tz)
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
