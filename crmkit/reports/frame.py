"""The frame every sales report stands on: the shared facts, groupings, dates and rounding.

Every report function takes plain records as ``(id, dict)`` pairs, the
:class:`~crmkit.sales.pipeline.PipelineConfig` and the clock (``now``, an aware
datetime), and returns a :class:`~crmkit.render.report.Report` whose ``data`` is the
documented JSON shape. Money is exact ``Decimal`` in the reporting currency
(the workspace currency unless asked otherwise); amounts in other currencies are
converted with ``pipeline.rates``; a deal in a currency without a rate is left out
(:func:`without_rates`), named in a warning, and the report is marked partial
(exit code 4), so one such deal never hides every other figure. One module per report stands on it
(pipeline, forecast, winrate, velocity, stale, agenda); crmkit.reports.selection
reads the records they take.

The per-deal work is a handful of dict look-ups so that a report over 100,000
deals costs little next to reading them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crmkit.errors import UsageError
from crmkit.sales.facts import DealFacts, amount_of, deal_facts, stage_of
from crmkit.sales.history import history_of
from crmkit.sales.pipeline import CENT, HUNDRED, PipelineConfig, Rates
from crmkit.values import local_date, to_date, to_datetime

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


def round_days(d: float | None) -> Decimal | None:
    return None if d is None else Decimal(repr(round(d, 1)))



# --------------------------------------------------------------------------- shared


def check_by(by: str | None, allowed: Iterable[str] = BY_FIELDS) -> None:
    if by is not None and by not in allowed:
        raise UsageError(f"--by must be one of {', '.join(allowed)}, not '{by}'")


@dataclass(frozen=True)
class Setup:
    """What a sales report starts from: the reporting currency's rates, a list for its
    warnings, and today in the workspace's zone."""

    rates: Rates
    warnings: list[str]
    today: dt.date


def setup(cfg: PipelineConfig, now: dt.datetime, by: str | None, currency: str | None) -> Setup:
    """--by checked, --currency turned into rates (or refused), today as the workspace sees it."""
    check_by(by)
    return Setup(cfg.rates_to(currency), [], local_date(now, cfg.tz))


@dataclass(frozen=True)
class LeftOut:
    """A deal with a value in a currency that has no exchange rate to the reporting currency."""

    id: str
    currency: str
    value: Decimal
    data: Mapping[str, Any] = field(compare=False, repr=False)


def without_rates(deals: RecordPairs, rates: Rates, base: str) -> tuple[list[tuple[str, Mapping[str, Any]]], list[LeftOut]]:
    """The deals a money report can convert, and the ones it cannot (a value in a currency
    with no rate). Deals without a value need no rate and are kept. A reporting currency
    (--currency) that itself has no rate stays an error, as before: asking for it is the mistake.
    """
    kept: list[tuple[str, Mapping[str, Any]]] = []
    left: list[LeftOut] = []
    known: dict[Any, bool] = {}  # currency as written -> convertible; a handful of currencies
    target_known = rates.target in rates.rates
    for i, d in deals:
        cur = d.get("currency") or base
        ok = known.get(cur)
        if ok is None:
            c = str(cur).upper()
            ok = known[cur] = c == rates.target or (c in rates.rates and target_known)
            if not ok and not target_known:
                rates.factor(c, f"deals/{i}.yaml")  # raises: the asked-for currency has no rate
        if ok:
            kept.append((i, d))
            continue
        v = amount_of(d.get("value"))
        if v is None:
            kept.append((i, d))
        else:
            left.append(LeftOut(i, str(cur).upper(), v, d))
    return kept, left


def left_out_warning(left: list[LeftOut], rates: Rates, what: str = "left out of this report", shown: int = 20) -> str:
    """One line naming the deals without a rate (``what`` became of them), and how to add the rates."""
    names = ", ".join(f"deals/{x.id}.yaml ({x.value.normalize():f} {x.currency})" for x in left[:shown])
    more = f" and {len(left) - shown} more" if len(left) > shown else ""
    missing = sorted({x.currency for x in left})
    how = "; ".join(f"`{c}: <how many {rates.base} one {c} is worth>`" for c in missing)
    return (f"{len(left)} deal(s) {what}: crmkit.yaml has no exchange rate for "
            f"{', '.join(missing)}: {names}{more}. Add under pipeline.rates: {how}")


def left_out_data(left: list[LeftOut]) -> list[dict[str, Any]]:
    """The left-out deals for ``--json``: id, value (exact string) and currency."""
    return [{"deal": x.id, "value": f"{x.value.normalize():f}", "currency": x.currency} for x in left]


def mark_left_out(report: Any, left: list[LeftOut], rates: Rates) -> Any:
    """A report with the left-out deals named: warning, a meta line, ``left_out`` in its data, partial."""
    if not left:
        return report
    report.warnings.append(left_out_warning(left, rates))
    report.meta.append(("left out", f"{len(left)} deal(s) without an exchange rate ({', '.join(sorted({x.currency for x in left}))})"))
    report.data["left_out"] = left_out_data(left)
    report.partial = True
    return report


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


def report_meta(cfg: PipelineConfig, rates: Rates, now: dt.datetime) -> list[tuple[str, str]]:
    return [("as of", now.astimezone(cfg.tz).strftime("%Y-%m-%d %H:%M %Z")), ("currency", rates.target)]


def group_of(d: Mapping[str, Any], by: str) -> str:
    v = d.get(by)
    return "(none)" if v is None or v == "" else str(v)


def closed_from_history(d: Mapping[str, Any], stage: Any, cfg: PipelineConfig) -> dt.date | None:
    """A closed deal without ``closed``: the day it entered its closing stage."""
    last = None
    for h in history_of(d, cfg.tz):
        if h.stage == stage:
            last = h.at
    return None if last is None else local_date(last, cfg.tz)


def created_on(f: DealFacts, cfg: PipelineConfig) -> dt.date | None:
    c = f.created
    if isinstance(c, dt.datetime):
        return local_date(c if c.tzinfo else c.replace(tzinfo=cfg.tz), cfg.tz)
    d = to_datetime(c, cfg.tz)
    if d is not None:
        return local_date(d, cfg.tz)
    hist = history_of(f.data, cfg.tz)
    return local_date(hist[0].at, cfg.tz) if hist else None



# --------------------------------------------------------------------------- activities


def is_done(a: Mapping[str, Any]) -> bool:
    d = a.get("done")
    return d is not None and d is not False and d != ""


def due_info(due: Any, tz: dt.tzinfo) -> tuple[dt.date, dt.datetime] | None:
    if due is None or due == "":
        return None
    if isinstance(due, dt.datetime):
        at = due if due.tzinfo else due.replace(tzinfo=tz)
        return local_date(at, tz), at
    if isinstance(due, dt.date):
        return due, dt.datetime(due.year, due.month, due.day, tzinfo=tz)
    parsed = to_datetime(due, tz)
    if parsed is None:
        return None
    if isinstance(due, str) and len(due.strip()) == 10:
        return parsed.date(), parsed
    return local_date(parsed, tz), parsed
