"""Per-deal facts for the reports: stage, probability, value in the reporting currency, and fast sums.

Pure functions on plain dicts; crmkit.reports builds every figure on these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crmkit.sales.pipeline import (
    HUNDRED,
    ZERO,
    PipelineConfig,
    Rates,
    Stage,
)
from crmkit.values import parse_decimal, to_date


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
    override = parse_decimal(deal.get("probability"))
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
    value = parse_decimal(raw_value)
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
    if t is str and "_" not in raw:  # Decimal() would take "1_000"; parse_decimal does not
        try:
            d = Decimal(raw)
        except InvalidOperation:
            return parse_decimal(raw)
        return d if d.is_finite() else None
    return parse_decimal(raw)


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
        pd = parse_decimal(p)
        if pd is None or not ZERO <= pd <= HUNDRED:
            s[1] += v
        else:
            s[2] += v * pd

    def merge(self, other: Bag) -> None:
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

    def value(self, rates: Rates) -> Decimal:
        total = ZERO
        for cur, s in self.sums.items():
            total += rates.convert(s[0], str(cur).upper(), f"deals/{s[3]}.yaml")
        return total

    def weighted(self, rates: Rates, probability: Decimal) -> Decimal:
        """Value x probability / 100, with each deal's own probability where it has one."""
        total = ZERO
        for cur, s in self.sums.items():
            total += rates.convert(s[1] * probability + s[2], str(cur).upper(), f"deals/{s[3]}.yaml")
        return total / HUNDRED

    def warnings(self) -> list[str]:
        return [f"deals/{i}.yaml: value {raw!r} is not a number; counted as no value" for i, raw in self.bad]




def open_deals(facts: Iterable[DealFacts]) -> list[DealFacts]:
    return [f for f in facts if f.is_open]
