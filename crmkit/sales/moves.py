"""Stage moves: ``deal move`` as a plan (fields to set and remove, one history entry) and its application."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import UsageError
from crmkit.sales.facts import stage_of
from crmkit.sales.pipeline import (
    PipelineConfig,
)
from crmkit.values import local_date, parse_decimal, to_date


@dataclass
class MovePlan:
    """What ``deal move`` changes in the deal file: fields to set, fields to remove, one history entry."""

    deal_id: str
    from_stage: str | None
    to_stage: str
    set: dict[str, Any] = field(default_factory=dict)
    unset: list[str] = field(default_factory=list)
    history: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def noop(self) -> bool:
        return not self.set and not self.unset and self.history is None

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v

        return {
            "deal": self.deal_id,
            "from": self.from_stage,
            "to": self.to_stage,
            "set": {k: plain(v) for k, v in self.set.items()},
            "unset": list(self.unset),
            "history": None if self.history is None else {k: plain(v) for k, v in self.history.items()},
            "notes": list(self.notes),
        }


def plan_move(
    deal_id: str,
    deal: Mapping[str, Any],
    to_stage: str,
    cfg: PipelineConfig,
    now: dt.datetime,
    *,
    by: str | None = None,
    reason: str | None = None,
    close_date: dt.date | None = None,
) -> MovePlan:
    """Plan moving a deal to ``to_stage``.

    Won and lost set ``closed`` (``close_date``, default today in the workspace zone;
    never in the future) and force the probability to 100 and 0; lost needs a reason.
    Reopening (a closed deal back to an open stage) removes ``closed`` and
    ``lost_reason`` but keeps the history, which remembers them. Moving a deal to the
    stage it is in is a no-op, so scripts can repeat a move safely.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    target = cfg.stage(to_stage)
    current_name = stage_of(deal)
    current = cfg.get(current_name) if current_name is not None else None
    plan = MovePlan(deal_id, current_name, target.name)
    today = local_date(now, cfg.tz)
    if close_date is not None and not target.is_closed:
        raise UsageError(f"--close-date is only for a won or lost stage, not '{target.name}'")
    if reason is not None and not reason.strip():
        raise UsageError("--reason must not be empty")
    if target.lost and not (reason or "").strip():
        raise UsageError(f"moving deal {deal_id} to '{target.name}' needs a reason: --reason TEXT")
    if close_date is not None and close_date > today:
        raise UsageError(f"close date {close_date.isoformat()} is in the future (today is {today.isoformat()})")

    if current_name == target.name:
        return plan  # already there: nothing to do

    if target.is_closed:
        closed = close_date or today
        created = to_date(deal.get("created"))
        if created is not None and closed < created:
            raise UsageError(
                f"close date {closed.isoformat()} is before the deal was created ({created.isoformat()})"
            )
        plan.set["closed"] = closed
        forced = 100 if target.won else 0
        if "probability" in deal and parse_decimal(deal.get("probability")) != forced:
            plan.set["probability"] = forced
            plan.notes.append(f"probability forced to {forced}")
        if target.lost:
            plan.set["lost_reason"] = reason.strip()  # type: ignore[union-attr]
        elif "lost_reason" in deal:
            plan.unset.append("lost_reason")
    else:
        if current is not None and current.is_closed:
            plan.notes.append(f"reopened from {current.name}")
            for key in ("closed", "lost_reason"):
                if key in deal:
                    plan.unset.append(key)
            # a forced 100/0 would pin the reopened deal; the stage default applies again
            forced = 100 if current.won else 0
            if "probability" in deal and parse_decimal(deal.get("probability")) == forced:
                plan.unset.append("probability")
    plan.set["stage"] = target.name
    entry: dict[str, Any] = {"stage": target.name, "at": now.replace(microsecond=0)}
    if plan.from_stage is not None:
        # lets --as-of and velocity know where the deal was before, even without older entries
        entry["from"] = plan.from_stage
    if by:
        entry["by"] = by
    if reason:
        entry["reason"] = reason.strip()
    plan.history = entry
    return plan


def apply_move(deal: MutableMapping[str, Any], plan: MovePlan) -> None:
    """Apply a plan to a mapping in place (a plain dict or a round-trip CommentedMap).

    New keys are added at the end; ``stage_history`` only ever grows. If the deal had
    no history, its previous stage is not invented: reports treat the time before the
    first entry as spent in the stage the deal was created in.
    """
    if plan.noop:
        return
    for key in plan.unset:
        if key in deal:
            del deal[key]
    for key, value in plan.set.items():
        deal[key] = value
    if plan.history is not None:
        hist = deal.get("stage_history")
        if hist is None:
            deal["stage_history"] = [dict(plan.history)]
        else:
            hist.append(dict(plan.history))


def move_deal(
    deal_id: str,
    deal: Mapping[str, Any],
    to_stage: str,
    cfg: PipelineConfig,
    now: dt.datetime,
    **kw: Any,
) -> dict[str, Any]:
    """A moved copy of a plain deal dict (convenience for tests and library users)."""
    plan = plan_move(deal_id, deal, to_stage, cfg, now, **kw)
    out = dict(deal)
    if "stage_history" in out and out["stage_history"] is not None:
        out["stage_history"] = list(out["stage_history"])
    apply_move(out, plan)
    return out
