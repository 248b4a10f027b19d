"""Customer value: lifetime value, purchases, open pipeline, RFM scores and the value tier.

A *customer* is a company, or a contact who buys as a private person (a deal with no
`company` counts for its first contact). A contact who works for a company shows its
company's figures, so `contact.tier` and `company.tier` agree.

Every figure is a pure function of the deal files, the pipeline configuration
(stages, currency, rates) and a date (*as of*):

* ``lifetime_value``  won value in the workspace currency (through `pipeline.rates`)
* ``won_deals``       how many deals were won
* ``first_purchase``, ``last_purchase``  dates of the first and last win
* ``open_pipeline``   the value of open deals (not weighted)
* ``average_deal``    lifetime value / won deals
* ``recency_days``    days from the last purchase to the as-of date
* ``recency``, ``frequency``, ``monetary``  quintile scores 1-5 over the workspace's buying
  customers; ``rfm`` is the three digits ("545"), ``rfm_score`` their sum (3-15)
* ``tier``            the first tier in `rules/value.yaml` whose condition holds, else its default

As of a past date, a deal counts as won if its stage history says it was won by then
(:func:`crmkit.sales.pipeline.deal_as_of`); values are today's (deal values have no
history outside git).

Quintile score: ``1 + floor(5 * worse / n)`` where ``n`` is the number of buying
customers and ``worse`` how many of them do strictly worse on the measure (fewer
recent, fewer deals, less money). Ties share a score; the best customer scores 5
once there are at least two. Customers who never bought have no RFM.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.sales.dealrows import DealRow, company_names, deal_rows
from crmkit.sales.facts import amount_of
from crmkit.sales.pipeline import PipelineConfig
from crmkit.sales.tiers import DEFAULT_TIER, VALUE_FIELDS, Tiering, _bucket, _thresholds, load_tiering
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass
class CustomerValue:
    """The value figures of one customer as of a date."""

    kind: str
    id: str
    name: str
    lifetime_value: Decimal = ZERO
    won_deals: int = 0
    first_purchase: dt.date | None = None
    last_purchase: dt.date | None = None
    open_pipeline: Decimal = ZERO
    recency_days: int | None = None
    recency: int | None = None
    frequency: int | None = None
    monetary: int | None = None
    tier: str = DEFAULT_TIER
    won: list[str] = field(default_factory=list)  # deal ids, for explaining a figure

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.id}"

    @property
    def average_deal(self) -> Decimal | None:
        return (self.lifetime_value / self.won_deals).quantize(Decimal("0.01")) if self.won_deals else None

    @property
    def rfm(self) -> str | None:
        if self.recency is None or self.frequency is None or self.monetary is None:
            return None
        return f"{self.recency}{self.frequency}{self.monetary}"

    @property
    def rfm_score(self) -> int | None:
        if self.recency is None or self.frequency is None or self.monetary is None:
            return None
        return self.recency + self.frequency + self.monetary

    def fields(self) -> dict[str, Any]:
        """The computed fields, as conditions and `show` see them (None: not applicable)."""
        return {"lifetime_value": self.lifetime_value, "won_deals": self.won_deals,
                "first_purchase": self.first_purchase, "last_purchase": self.last_purchase,
                "open_pipeline": self.open_pipeline, "average_deal": self.average_deal,
                "recency_days": self.recency_days, "recency": self.recency, "frequency": self.frequency,
                "monetary": self.monetary, "rfm": self.rfm, "rfm_score": self.rfm_score, "tier": self.tier}


# --------------------------------------------------------------------------- figures


def _as_of_datetime(ws: Workspace, as_of: dt.date | dt.datetime | None) -> dt.datetime:
    if as_of is None:
        return ws.now()  # type: ignore[no-any-return]
    if isinstance(as_of, dt.datetime):
        return as_of if as_of.tzinfo else as_of.replace(tzinfo=ws.tz)
    # the end of that day: a deal won on the as-of date counts
    return dt.datetime.combine(as_of, dt.time(23, 59, 59), tzinfo=ws.tz)


def _stage_then(row: DealRow, at: float, today: int, cfg: PipelineConfig,
                won: str) -> tuple[str | None, dt.date | None]:
    """(stage, won date) of a deal as of `at` (a timestamp; `today` its date ordinal), as
    crmkit.sales.pipeline.stage_as_of tells it.

    None as the stage: not created yet, or closed after `at` with no history to say where
    it stood (not guessed)."""
    now_stage, closed, created, history = row[2], row[5], row[6], row[7]
    if created is None and history:
        created = history[0][0]
    if created is not None and created > at:
        return None, None
    if not history:
        st = cfg.get(now_stage)
        if st is not None and st.is_closed and closed is not None and closed > today:
            return None, None
        return now_stage, dt.date.fromordinal(closed) if now_stage == won and closed is not None else None
    if history[-1][0] <= at and history[-1][1] != won:
        return history[-1][1], None  # the common case: the whole history lies before the date
    stage: str | None = None
    entered: float | None = None
    for h_at, h_stage, _ in history:
        if h_at > at:
            break
        if h_stage != stage:
            entered = h_at
        stage = h_stage
    if stage is None:
        return history[0][2] or history[0][1], None
    if stage != won:
        return stage, None
    if stage == now_stage and closed is not None and closed <= today:
        return stage, dt.date.fromordinal(closed)
    if entered is not None:
        return stage, dt.datetime.fromtimestamp(entered, cfg.tz).date()
    return stage, dt.date.fromordinal(closed) if closed is not None else None


def _quintiles(values: list[Any]) -> list[int]:
    """Score 1-5 per value: 1 + floor(5 * strictly-worse / n); higher values are better."""
    ordered = sorted(values)
    n = len(ordered)
    return [1 + (5 * bisect_left(ordered, v)) // n for v in values]


def _prepared(ws: Workspace, rows: list[tuple[str, DealRow]]) -> list[tuple[str, tuple[str, str], Any, str | None,
                                                                       DealRow]]:
    """(id, customer key, amount in the deal's currency, currency, row) of every deal that
    belongs to a customer: what does not depend on the date, once for the dates of a command."""
    memo = ws.memo.get("value_prepared")
    if memo is not None and memo[0] is rows:
        return memo[1]  # type: ignore[no-any-return]
    out = []
    for rid, row in rows:
        company, contact = row[0], row[1]
        if company is not None:
            key = ("company", company)
        elif contact is not None:
            key = ("contact", contact)
        else:
            continue
        currency = row[4]
        out.append((rid, key, amount_of(row[3]), currency.upper() if currency else None, row))
    ws.memo["value_prepared"] = (rows, out)
    return out


def customer_key(ws: Workspace, rec: Record) -> tuple[str, str] | None:
    """Whose figures a record shows: a company its own; a contact its company's, or its own if private."""
    if rec.kind == "company":
        return ("company", rec.id)
    if rec.kind == "contact":
        company = rec.get("company")
        if isinstance(company, str) and company:
            return ("company", company)
        return ("contact", rec.id)
    return None


def compute(ws: Workspace, as_of: dt.date | dt.datetime | None = None, tiering: Tiering | None = None,
            rows: list[tuple[str, DealRow]] | None = None) -> dict[tuple[str, str], CustomerValue]:
    """Every customer's figures as of a date (default: now), keyed by (kind, id).

    Companies are always present (with zero figures when they never bought); private
    contacts only when they bought or have an open deal. ``rows`` (from :func:`deal_rows`)
    saves reading the deals again when several dates are computed.
    """
    at = _as_of_datetime(ws, as_of)
    today = at.astimezone(ws.tz).date()
    cfg = PipelineConfig.from_config(ws.config, ws.tz)
    rates = cfg.rates_to()
    if tiering is None:
        tiering = load_tiering(ws)
    out: dict[tuple[str, str], CustomerValue] = {}
    for cid, name in company_names(ws):
        out[("company", cid)] = CustomerValue("company", cid, name)
    names: dict[str, str] = {}
    won = cfg.won_stage.name
    at_ts, today_ord = at.timestamp(), today.toordinal()
    # 10,000 deals go through this loop twice for `report value`: lookups bound once
    stage_named = {st.name: st for st in cfg.stages}.get
    lost = {st.name for st in cfg.stages if st.lost}
    target = rates.target
    for rid, key, amount, currency, row in _prepared(ws, rows if rows is not None else deal_rows(ws, cfg)):
        created, history = row[6], row[7]
        stage: str | None
        if history and history[-1][0] <= at_ts and history[-1][1] != won and (created is None or created <= at_ts):
            stage, won_on = history[-1][1], None  # _stage_then's common case, without the call
        else:
            stage, won_on = _stage_then(row, at_ts, today_ord, cfg, won)
        if stage is None:
            continue
        if stage in lost:
            continue
        st = stage_named(stage)
        if amount is not None and currency and currency != target:
            try:
                amount = rates.convert(amount, currency, f"deals/{rid}.yaml")
            except CrmkitError:
                # no exchange rate: the deal adds no money (never kronor plus forints), and
                # tiers, SLA policies on `company.tier` and every listing still work;
                # `report value` names such deals and exits 4
                amount = None
        cv = out.get(key)
        if cv is None:
            if not names and key[0] == "contact":
                names = {c.id: str(c.get("name") or c.id) for c in ws.records("contact")}
            cv = out[key] = CustomerValue(key[0], key[1], names.get(key[1], key[1]))
        if st is not None and st.won:
            cv.won_deals += 1
            cv.won.append(rid)
            cv.lifetime_value += amount or ZERO
            when = won_on or (dt.datetime.fromtimestamp(created, cfg.tz).date() if created is not None else None)
            if when is not None:
                cv.first_purchase = when if cv.first_purchase is None else min(cv.first_purchase, when)
                cv.last_purchase = when if cv.last_purchase is None else max(cv.last_purchase, when)
        else:  # open, or a stage crmkit.yaml does not know (counted as open, as the pipeline does)
            cv.open_pipeline += amount or ZERO
    for cv in out.values():
        cv.lifetime_value = cv.lifetime_value.quantize(CENT)
        cv.open_pipeline = cv.open_pipeline.quantize(CENT)
    buyers = [cv for cv in out.values() if cv.won_deals]
    for cv in buyers:
        if cv.last_purchase is not None:
            cv.recency_days = max(0, (today - cv.last_purchase).days)
    if buyers:
        # fewer days since the last purchase is better: score the negated days
        rec = _quintiles([-(cv.recency_days if cv.recency_days is not None else 10**9) for cv in buyers])
        freq = _quintiles([cv.won_deals for cv in buyers])
        mon = _quintiles([cv.lifetime_value for cv in buyers])
        for cv, r, f, m in zip(buyers, rec, freq, mon, strict=True):
            cv.recency, cv.frequency, cv.monetary = r, f, m
    # Customers with the same figures get the same tier when the rules read figures only:
    # most customers share a handful of figures (never bought), so evaluate each once.
    paths = {p.split(".")[0] for _, cond, _ in tiering.tiers for p in cond.paths()}
    memo: dict[tuple[Any, ...], str] | None = {} if paths <= set(VALUE_FIELDS) else None
    read = sorted(paths)
    thresholds = _thresholds(tiering)
    for key, cv in out.items():
        if memo is not None:
            # every value field is an attribute of CustomerValue: no fields() dict per customer
            k = tuple([_bucket(getattr(cv, p), thresholds.get(p)) for p in read])
            tier_ = memo.get(k)
            if tier_ is None:
                tier_ = memo[k] = tier_of(ws, tiering, cv, None)
            cv.tier = tier_
        else:  # the rules read the record's own fields too
            rec_ = ws.index(key[0]).get(key[1])
            cv.tier = tier_of(ws, tiering, cv, rec_)
    return out


def tier_of(ws: Workspace, tiering: Tiering, cv: CustomerValue, rec: Record | None) -> str:
    """The first tier whose condition holds over the figures (and the record's own fields)."""
    mapping: dict[str, Any] = dict(rec.data) if rec is not None else {}
    mapping.update({k: v for k, v in cv.fields().items() if v is not None and k != "tier"})
    mapping["id"] = cv.id
    for name, cond, _ in tiering.tiers:
        if cond.evaluate(mapping, ws.resolve):
            return name
    return tiering.default


def values_now(ws: Workspace) -> dict[tuple[str, str], CustomerValue]:
    """:func:`compute` as of now, once per read of the records (computed fields ask per record)."""
    # one "now" per command: a long listing must not recompute as the clock ticks
    memo = ws.memo.get("values")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    values = ws.memo["values"] = compute(ws)
    return values


def customer_value(ws: Workspace, rec: Record) -> CustomerValue | None:
    key = customer_key(ws, rec)
    if key is None:
        return None
    values = values_now(ws)
    cv = values.get(key)
    if cv is None and key[0] == "contact":
        # a private contact who never bought: zero figures, the default tier
        cv = CustomerValue("contact", rec.id, str(rec.get("name") or rec.id))
        cv.tier = tier_of(ws, load_tiering(ws), cv, rec)
    return cv


def _field(name: str) -> Any:
    def get(ws: Workspace, rec: Record) -> Any:
        cv = customer_value(ws, rec)
        return None if cv is None else cv.fields()[name]

    get.__name__ = name
    get.__doc__ = f"The customer's `{name}` (crmkit.sales.value)."
    return get


# The computed fields, one function each: conditions/views.py COMPUTED names them.
lifetime_value = _field("lifetime_value")
won_deals = _field("won_deals")
first_purchase = _field("first_purchase")
last_purchase = _field("last_purchase")
open_pipeline = _field("open_pipeline")
average_deal = _field("average_deal")
recency_days = _field("recency_days")
recency = _field("recency")
frequency = _field("frequency")
monetary = _field("monetary")
rfm = _field("rfm")
rfm_score = _field("rfm_score")
tier = _field("tier")
