"""Deal stages, probabilities, money conversion and stage moves: pure functions on plain dicts.

Nothing here reads files or talks to git. The CLI loads deals, calls these
functions and writes what they return; reports (crmkit.reports) build on the
small per-deal facts computed here.

Stages come from ``crmkit.yaml``::

    currency: SEK
    pipeline:
      stages:
        - {name: lead, probability: 10, category: pipeline}
        - {name: proposal, probability: 50, category: best_case}
        - {name: won, probability: 100, category: closed, won: true}
        - {name: lost, probability: 0, category: closed, lost: true}
      rates: {EUR: 11.50, NOK: 1.02}     # 1 EUR = 11.50 SEK (to the workspace currency)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from crmkit.errors import CrmkitError, UsageError
from crmkit.values import local_date, to_date, to_datetime

CATEGORIES = ("pipeline", "best_case", "commit", "closed")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
CENT = Decimal("0.01")

#: Used when crmkit.yaml has no ``pipeline.stages``: a common B2B sales process.
DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"name": "lead", "probability": 10, "category": "pipeline"},
    {"name": "qualified", "probability": 25, "category": "pipeline"},
    {"name": "proposal", "probability": 50, "category": "best_case"},
    {"name": "negotiation", "probability": 75, "category": "commit"},
    {"name": "won", "probability": 100, "category": "closed", "won": True},
    {"name": "lost", "probability": 0, "category": "closed", "lost": True},
)


# --------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class Stage:
    """One stage of the sales process, in the order of the configuration."""

    name: str
    probability: Decimal
    category: str
    order: int
    won: bool = False
    lost: bool = False

    @property
    def is_open(self) -> bool:
        return not (self.won or self.lost)

    @property
    def is_closed(self) -> bool:
        return self.won or self.lost


def _decimal(value: Any) -> Decimal | None:
    """Exact Decimal from a YAML scalar: ints, decimal text, and floats via their text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr of a float is the shortest text that reads back as it: 0.1 stays 0.1
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(" ", "").replace("\u00a0", "")
        if not text:
            return None
        if "," in text and "." not in text:  # a decimal comma, as crmkit check accepts it
            text = text.replace(",", ".")
        try:
            d = Decimal(text)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def parse_amount(value: Any) -> Decimal | None:
    """An amount from a record field: ``120000``, ``"120000.00"``, ``"120 000"``; None if absent or not a number."""
    return _decimal(value)


class Rates:
    """Conversion to one reporting currency, with rates given to the workspace currency.

    ``rates[c]`` is the price of one unit of ``c`` in the workspace currency. Reporting
    in another currency goes through the workspace currency (cross rate). A currency
    without a rate is refused with a message that says how to fix it: kronor are
    never added to euros.
    """

    def __init__(self, base: str, rates: Mapping[str, Any] | None = None, target: str | None = None) -> None:
        self.base = base.upper()
        self.rates: dict[str, Decimal] = {self.base: Decimal(1)}
        for cur, rate in (rates or {}).items():
            d = _decimal(rate)
            if d is None or d <= 0:
                raise CrmkitError(f"pipeline.rates.{cur} must be a positive number, not {rate!r}", path="crmkit.yaml")
            self.rates[str(cur).upper()] = d
        # A target without a rate is fine as long as every amount is already in it
        # (--where 'currency == "EUR"' --currency EUR); mixing is refused in factor().
        self.target = (target or base).upper()
        self._factor: dict[str, Decimal] = {}

    def factor(self, currency: str, where: str = "") -> Decimal:
        """Multiply an amount in ``currency`` by this to get the target currency."""
        f = self._factor.get(currency)
        if f is not None:
            return f
        cur = currency.upper()
        if cur == self.target:
            f = Decimal(1)
        elif cur in self.rates and self.target in self.rates:
            f = self.rates[cur] / self.rates[self.target]
        else:
            src = f" ({where})" if where else ""
            missing = self.target if cur in self.rates else cur
            raise CrmkitError(
                f"cannot add {cur} to {self.target}{src}: crmkit.yaml has no exchange rate for {missing}. "
                f"Add one under pipeline.rates (e.g. `rates: {{{missing}: 11.50}}` = 1 {missing} in {self.base}), "
                f"or narrow the report to one currency with --where 'currency == \"{cur}\"' --currency {cur}"
            )
        self._factor[currency] = f
        return f

    def convert(self, amount: Decimal, currency: str | None, where: str = "") -> Decimal:
        if not currency:
            return amount
        f = self.factor(currency, where)
        return amount if f == 1 else amount * f


@dataclass(frozen=True)
class PipelineConfig:
    """The stages and money settings of a workspace."""

    stages: tuple[Stage, ...]
    currency: str = "SEK"
    rates: Mapping[str, Any] = field(default_factory=dict)
    tz: dt.tzinfo = dt.timezone.utc

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, tz: dt.tzinfo | None = None) -> "PipelineConfig":
        """Build from the plain ``crmkit.yaml`` mapping; validates the stage list."""
        config = config or {}
        pipe = config.get("pipeline") or {}
        raw = pipe.get("stages") or DEFAULT_STAGES
        stages: list[Stage] = []
        seen: set[str] = set()
        for i, s in enumerate(raw):
            if isinstance(s, str):
                s = {"name": s}
            if not isinstance(s, Mapping) or not s.get("name"):
                raise CrmkitError(f"pipeline.stages[{i}] needs a name", path="crmkit.yaml")
            name = str(s["name"])
            if name in seen:
                raise CrmkitError(f"pipeline.stages: stage '{name}' is listed twice", path="crmkit.yaml")
            seen.add(name)
            won, lost = bool(s.get("won", False)), bool(s.get("lost", False))
            if won and lost:
                raise CrmkitError(f"pipeline.stages: stage '{name}' cannot be both won and lost", path="crmkit.yaml")
            prob = _decimal(s.get("probability"))
            if won:
                prob = HUNDRED
            elif lost:
                prob = ZERO
            if prob is None:
                prob = ZERO
            if not ZERO <= prob <= HUNDRED:
                raise CrmkitError(f"pipeline.stages: probability of '{name}' must be 0-100", path="crmkit.yaml")
            cat = str(s.get("category") or ("closed" if won or lost else "pipeline"))
            if cat not in CATEGORIES:
                raise CrmkitError(
                    f"pipeline.stages: category of '{name}' must be one of {', '.join(CATEGORIES)}, not '{cat}'",
                    path="crmkit.yaml",
                )
            stages.append(Stage(name, prob, cat, i, won, lost))
        if not any(s.won for s in stages) or not any(s.lost for s in stages):
            raise CrmkitError("pipeline.stages needs one stage with won: true and one with lost: true", path="crmkit.yaml")
        if tz is None:
            tzname = config.get("timezone")
            tz = ZoneInfo(str(tzname)) if tzname else dt.timezone.utc
        return cls(tuple(stages), str(config.get("currency") or "SEK").upper(), dict(pipe.get("rates") or {}), tz)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {s.name: s for s in self.stages})

    def stage(self, name: str) -> Stage:
        """The stage called ``name``; a clear error listing the stages otherwise."""
        st = self._by_name.get(name)  # type: ignore[attr-defined]
        if st is None:
            raise CrmkitError(f"unknown stage '{name}'; stages are: {', '.join(s.name for s in self.stages)}")
        return st

    def get(self, name: Any) -> Stage | None:
        return self._by_name.get(name)  # type: ignore[attr-defined]

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.is_open)

    @property
    def won_stage(self) -> Stage:
        return next(s for s in self.stages if s.won)

    @property
    def lost_stage(self) -> Stage:
        return next(s for s in self.stages if s.lost)

    def rates_to(self, target: str | None = None) -> Rates:
        return Rates(self.currency, self.rates, target)


# --------------------------------------------------------------------------- per-deal facts


def stage_of(deal: Mapping[str, Any]) -> str | None:
    """The deal's stage name. A stage written as a list or a mapping becomes its text, which
    names no stage: the deal counts as in an unknown stage (and `crmkit check` reports the
    field) instead of failing every report that looks stages up."""
    s = deal.get("stage")
    return s if s is None or type(s) is str else str(s)


def probability_of(deal: Mapping[str, Any], stage: Stage | None) -> Decimal:
    """The deal's probability in percent: won 100, lost 0, else its override or the stage default."""
    if stage is not None and stage.won:
        return HUNDRED
    if stage is not None and stage.lost:
        return ZERO
    override = _decimal(deal.get("probability"))
    if override is not None and ZERO <= override <= HUNDRED:
        return override
    return stage.probability if stage is not None else ZERO


@dataclass(slots=True)
class DealFacts:
    """What reports need of one deal, computed once: converted value, probability, dates."""

    id: str
    title: str
    stage: str
    stage_obj: Stage | None
    value: Decimal | None  # in the reporting currency; None when the deal has no value
    currency: str
    probability: Decimal
    expected_close: dt.date | None
    closed: dt.date | None
    created: Any  # raw; parsed lazily (only winrate/velocity need it)
    owner: str | None
    source: str | None
    company: str | None
    data: Mapping[str, Any]

    @property
    def is_open(self) -> bool:
        return self.stage_obj is None or self.stage_obj.is_open

    @property
    def won(self) -> bool:
        return self.stage_obj is not None and self.stage_obj.won

    @property
    def lost(self) -> bool:
        return self.stage_obj is not None and self.stage_obj.lost

    @property
    def weighted(self) -> Decimal:
        if self.value is None:
            return ZERO
        return self.value * self.probability / HUNDRED

    def group(self, by: str | None) -> str:
        if not by:
            return ""
        v = self.data.get(by)
        return "(none)" if v is None or v == "" else str(v)


def deal_facts(
    deal_id: str,
    deal: Mapping[str, Any],
    cfg: PipelineConfig,
    rates: Rates,
    warnings: list[str] | None = None,
) -> DealFacts:
    """Per-deal facts for reports. Raises CrmkitError on a currency without a rate."""
    stage_name = stage_of(deal) or ""
    st = cfg.get(stage_name)
    if st is None and warnings is not None:
        warnings.append(f"deals/{deal_id}.yaml: unknown stage '{stage_name}'; counted as open with probability 0")
    raw_value = deal.get("value")
    value = _decimal(raw_value)
    if value is None and raw_value not in (None, "") and warnings is not None:
        warnings.append(f"deals/{deal_id}.yaml: value {raw_value!r} is not a number; counted as no value")
    currency = deal.get("currency") or cfg.currency
    currency = str(currency).upper()
    if value is not None and currency != rates.target:
        value = rates.convert(value, currency, f"deals/{deal_id}.yaml")
    return DealFacts(
        id=deal_id,
        title=str(deal.get("title") or deal_id),
        stage=stage_name,
        stage_obj=st,
        value=value,
        currency=currency,
        probability=probability_of(deal, st),
        expected_close=to_date(deal.get("expected_close")),
        closed=to_date(deal.get("closed")),
        created=deal.get("created"),
        owner=deal.get("owner"),
        source=deal.get("source"),
        company=deal.get("company"),
        data=deal,
    )


# --------------------------------------------------------------------------- fast sums


def amount_of(raw: Any) -> Decimal | None:
    """:func:`parse_amount` with the common cases first (it runs once per deal in every report)."""
    t = type(raw)
    if t is int:
        return Decimal(raw)
    if t is str:
        try:
            d = Decimal(raw)
        except InvalidOperation:
            return _decimal(raw)
        return d if d.is_finite() else None
    return _decimal(raw)


class Bag:
    """Deal amounts summed per currency in the deal's own currency, converted once at the end.

    Summing first and converting once is exact (Decimal) and keeps the per-deal work
    to a few additions, which matters at 100,000 deals. ``sums[cur]`` holds the total,
    the part that uses the stage's default probability, the already weighted part of
    deals with their own probability (value x percent), and the first deal seen in
    that currency (named if the currency has no rate).
    """

    __slots__ = ("count", "no_value", "sums", "bad")

    def __init__(self) -> None:
        self.count = 0
        self.no_value = 0
        self.sums: dict[str, list[Any]] = {}
        self.bad: list[tuple[str, Any]] = []

    def add(self, deal_id: str, deal: Mapping[str, Any], base: str, closed: bool = False) -> None:
        self.count += 1
        raw = deal.get("value")
        if raw is None:
            self.no_value += 1
            return
        v = amount_of(raw)
        if v is None:
            self.no_value += 1
            if raw != "":
                self.bad.append((deal_id, raw))
            return
        cur = deal.get("currency") or base
        s = self.sums.get(cur)
        if s is None:
            s = self.sums[cur] = [ZERO, ZERO, ZERO, deal_id]
        s[0] += v
        if closed:
            return
        p = deal.get("probability")
        if p is None:
            s[1] += v
            return
        pd = _decimal(p)
        if pd is None or not ZERO <= pd <= HUNDRED:
            s[1] += v
        else:
            s[2] += v * pd

    def merge(self, other: "Bag") -> None:
        self.count += other.count
        self.no_value += other.no_value
        self.bad += other.bad
        for cur, o in other.sums.items():
            s = self.sums.get(cur)
            if s is None:
                self.sums[cur] = [o[0], o[1], o[2], o[3]]
            else:
                s[0] += o[0]
                s[1] += o[1]
                s[2] += o[2]

    def value(self, rates: "Rates") -> Decimal:
        total = ZERO
        for cur, s in self.sums.items():
            total += rates.convert(s[0], str(cur).upper(), f"deals/{s[3]}.yaml")
        return total

    def weighted(self, rates: "Rates", probability: Decimal) -> Decimal:
        """Value x probability / 100, with each deal's own probability where it has one."""
        total = ZERO
        for cur, s in self.sums.items():
            total += rates.convert(s[1] * probability + s[2], str(cur).upper(), f"deals/{s[3]}.yaml")
        return total / HUNDRED

    def warnings(self) -> list[str]:
        return [f"deals/{i}.yaml: value {raw!r} is not a number; counted as no value" for i, raw in self.bad]


# --------------------------------------------------------------------------- stage history


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


# --------------------------------------------------------------------------- moves


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
        if "probability" in deal and _decimal(deal.get("probability")) != forced:
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
            if "probability" in deal and _decimal(deal.get("probability")) == forced:
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


def open_deals(facts: Iterable[DealFacts]) -> list[DealFacts]:
    return [f for f in facts if f.is_open]
