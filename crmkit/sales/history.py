"""A deal's stage history: its entries, its stage on a past day, the deal as it was then."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmkit.sales.facts import stage_of
from crmkit.sales.pipeline import (
    PipelineConfig,
)
from crmkit.values import local_date, to_date, to_datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    stage: str
    at: dt.datetime
    by: str | None
    from_stage: str | None = None


def history_of(deal: Mapping[str, Any], tz: dt.tzinfo) -> list[HistoryEntry]:
    """The deal's stage history as sorted entries; unreadable entries are skipped.

    Histories are append-only, so they are almost always already in order; sorting
    is stable and keeps the file order for equal timestamps.
    """
    raw = deal.get("stage_history") or ()
    out: list[HistoryEntry] = []
    if not isinstance(raw, list):
        return out
    dtype = dt.datetime
    for e in raw:
        if type(e) is not dict and not isinstance(e, Mapping):
            continue
        at = e.get("at")
        if type(at) is not dtype or at.tzinfo is None:
            at = to_datetime(at, tz)
        stage = e.get("stage")
        if at is None or stage is None:
            continue
        prev = e.get("from")
        out.append(HistoryEntry(str(stage), at, e.get("by"), None if prev is None else str(prev)))
    for i in range(1, len(out)):
        if out[i].at < out[i - 1].at:
            out.sort(key=lambda h: h.at)
            break
    return out


def stage_as_of(deal: Mapping[str, Any], as_of: dt.datetime, tz: dt.tzinfo) -> str | None:
    """The stage the deal was in at ``as_of`` (an aware datetime), or None if it did not exist yet.

    The last history entry at or before ``as_of`` wins. Before its first entry a deal
    was in the stage that entry says it came ``from`` (``deal move`` records it), or,
    for hand-written histories without ``from``, in the first recorded stage. A deal
    without history has always been in its current stage since ``created``.
    """
    created = to_datetime(deal.get("created"), tz)
    hist = history_of(deal, tz)
    if created is None and hist:
        created = hist[0].at
    if created is not None and created > as_of:
        return None
    if not hist:
        return stage_of(deal)
    current: str | None = None
    for h in hist:
        if h.at <= as_of:
            current = h.stage
        else:
            break
    if current is not None:
        return current
    return hist[0].from_stage or hist[0].stage


#: The stage --as-of reports for a deal that closed later and has no history to tell.
UNKNOWN_STAGE = "(unknown)"


def deal_as_of(deal: Mapping[str, Any], as_of: dt.datetime, cfg: PipelineConfig) -> dict[str, Any] | None:
    """A copy of the deal as it stood at ``as_of`` (stage and closing fields), or None if not yet created.

    Only the stage is rebuilt from history: value and expected close are today's
    (crmkit does not keep a history of them outside git). A probability override
    is kept only while the deal is in its current stage.
    """
    stage = stage_as_of(deal, as_of, cfg.tz)
    if stage is None:
        return None
    if stage == deal.get("stage"):
        st = cfg.get(stage)
        closed = to_date(deal.get("closed"))
        if st is not None and st.is_closed and closed is not None and closed > local_date(as_of, cfg.tz) \
                and not deal.get("stage_history"):
            # closed later, and no history says where it stood before: do not guess
            d = dict(deal)
            d["stage"] = UNKNOWN_STAGE
            for key in ("closed", "lost_reason", "probability"):
                d.pop(key, None)
            return d
        return dict(deal)
    d = dict(deal)
    d["stage"] = stage
    d.pop("probability", None)
    st = cfg.get(stage)
    if st is None or st.is_open:
        d.pop("closed", None)
        d.pop("lost_reason", None)
    else:
        # closed at the time of the move into the closing stage
        entered = None
        for h in history_of(deal, cfg.tz):
            if h.at <= as_of and h.stage == stage:
                entered = h.at
        if entered is not None:
            d["closed"] = local_date(entered, cfg.tz)
    return d
