"""Deal stages, probabilities and money conversion: the pipeline configuration, pure functions.

Nothing here reads files or talks to git. The CLI loads deals, calls these
functions and writes what they return. Per-deal facts are in crmkit.sales.facts,
stage histories in crmkit.sales.history, stage moves in crmkit.sales.moves.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from crmkit.errors import CrmkitError, Problem
from crmkit.values import parse_decimal

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

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


def parse_amount(value: Any) -> Decimal | None:
    """An amount from a record field: ``120000``, ``"120000.00"``, ``"120 000"``; None if absent or not a number."""
    return parse_decimal(value)


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
            d = parse_decimal(rate)
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
                f"Add one under pipeline.rates: `{missing}: <how many {self.base} one {missing} is worth>` "
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
    tz: dt.tzinfo = dt.UTC

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None, tz: dt.tzinfo | None = None) -> PipelineConfig:
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
            prob = parse_decimal(s.get("probability"))
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
            tz = ZoneInfo(str(tzname)) if tzname else dt.UTC
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


#: check's codes that are warnings (an error only with --strict).
WARNING_CODES = frozenset({"deal-rate"})


def check_rates(ws: Workspace) -> list[Problem]:
    """`crmkit check`: deals with a value in a currency crmkit.yaml has no exchange rate for.
    The money reports leave them out (exit 4), so say it before a report does."""
    from crmkit.store import yamlio

    try:
        cfg = PipelineConfig.from_config(ws.config, ws.tz)
        rates = cfg.rates_to()
    except CrmkitError:
        return []  # a broken pipeline setting is reported by the config check
    problems: list[Problem] = []
    for rec in ws.records("deal"):
        cur = rec.get("currency")
        if not isinstance(cur, str) or cur.upper() in rates.rates or parse_amount(rec.get("value")) is None:
            continue
        code = cur.upper()
        problems.append(Problem(ws.rel(rec.path), yamlio.key_lines(rec.path).get("currency"), "deal-rate",
                                f"no exchange rate for {code}: reports leave this deal out; add "
                                f"`{code}: <how many {rates.base} one {code} is worth>` under pipeline.rates"))
    return problems
