"""What a report reads: records of a kind narrowed by a condition, cached deal summaries, titles.

The command line passes the workspace and its options here and gets plain
``(id, dict)`` pairs back, the input of every report function.
"""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

from crmkit.errors import UsageError
from crmkit.sales.pipeline import PipelineConfig
from crmkit.store.records import TITLE_FIELD
from crmkit.store.workspace import Workspace

RecordPairs = list[tuple[str, dict[str, Any]]]


def report_records(ws: Workspace, kind: str, where: str | None) -> RecordPairs:
    """(id, data) of the records of a kind, narrowed by ``where`` in the condition language."""
    # A report is a short run that allocates hundreds of thousands of small objects and
    # frees none of them: the cyclic collector would only re-scan them, over and over
    # (about 60% of the time of a 100,000-deal report). Reference counting still frees.
    gc.disable()
    records = ws.records(kind)
    if where:
        from crmkit.conditions.listing import compile_where
        from crmkit.conditions.views import view

        cond = compile_where(ws, kind, where, records)
        records = [r for r in records if cond.evaluate(view(ws, r), ws.resolve)]
    return [(r.id, r.data) for r in records]


def deal_summaries(ws: Workspace, where: str | None, cfg: PipelineConfig) -> RecordPairs:
    """The deals pipeline and forecast read: cached summaries (crmkit.reports.frame.deal_summary),
    or with ``where`` whole records (a condition may read any field, or follow a reference)."""
    if where:
        return report_records(ws, "deal", where)
    from crmkit.reports.frame import deal_summary, summary_key

    pairs = ws.derived("deal", "summary", lambda _rid, d: deal_summary(d, cfg), key=summary_key(cfg))
    return pairs if pairs is not None else report_records(ws, "deal", None)


def pipeline_config(ws: Workspace) -> PipelineConfig:
    """Stages, probabilities and rates of the workspace, for the sales reports."""
    return PipelineConfig.from_config(ws.config, ws.tz)


def option_date(text: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD option such as --as-of; a usage error naming the option otherwise."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name} {text!r}: expected a date YYYY-MM-DD") from None


def titles(ws: Workspace, acts: RecordPairs) -> dict[str, str]:
    """Display names of the records follow-ups are about (only the kinds that occur)."""
    wanted: dict[str, set[str]] = {}
    for _i, a in acts:
        for k in ("deal", "ticket", "lead", "contact", "company"):
            if a.get(k):
                wanted.setdefault(k, set()).add(str(a[k]))
                break
    out: dict[str, str] = {}
    for kind, ids in wanted.items():
        idx = ws.index(kind)
        for rid in ids:
            rec = idx.get(rid)
            if rec is not None:
                out[f"{kind}/{rid}"] = str(rec.get(TITLE_FIELD[kind]) or rid)
    return out
