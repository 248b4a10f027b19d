"""What every sales report shares: options, exact money, per-currency sums, deal summaries."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sales_report_data import CFG, DEALS, NOW

from crmkit.errors import UsageError
from crmkit.render.report import render
from crmkit.reports.forecast import forecast_report
from crmkit.reports.frame import SUMMARY_FIELDS, deal_summary, m
from crmkit.reports.periods import parse_period
from crmkit.reports.pipeline import pipeline_report
from crmkit.sales.facts import deal_facts


def test_bad_by() -> None:
    with pytest.raises(UsageError, match="--by"):
        pipeline_report(DEALS, CFG, NOW, by="colour")


def test_json_is_exact_strings() -> None:
    data = json.loads(render(pipeline_report(DEALS, CFG, NOW), "json"))
    assert data["totals"]["value"] == "133200.00"
    assert data["stages"][0]["probability"] == "10"


def test_twenty_thousand_deals_add_up() -> None:
    """Summing per currency and converting once stays exact at scale (speed is in bench/)."""
    many = [(f"d{i}", {"stage": ("lead", "proposal", "negotiation", "won")[i % 4], "value": 1000 + i,
                       "currency": ("SEK", "EUR")[i % 2], "expected_close": dt.date(2026, 12, 1 + i % 28),
                       "owner": "daniel", "closed": dt.date(2026, 11, 1)}) for i in range(20000)]
    rep = pipeline_report(many, CFG, NOW)
    assert rep.data["totals"]["count"] == 15000
    sek = sum(1000 + i for i in range(20000) if i % 4 != 3 and i % 2 == 0)
    eur = sum(1000 + i for i in range(20000) if i % 4 != 3 and i % 2 == 1)
    assert rep.data["totals"]["value"] == m(Decimal(sek) + Decimal(eur) * Decimal("11.50"))
    assert forecast_report(many, CFG, NOW).data["totals"]["count"] == 15000


_deal = st.fixed_dictionaries(
    {
        "stage": st.sampled_from(["lead", "qualified", "proposal", "negotiation", "won", "lost"]),
        "currency": st.sampled_from(["SEK", "EUR", "NOK"]),
    },
    optional={
        "value": st.one_of(st.integers(0, 10**7), st.decimals(0, 10**6, places=2).map(str)),
        "probability": st.integers(0, 100),
        "owner": st.sampled_from(["daniel", "karin"]),
        "expected_close": st.dates(dt.date(2026, 1, 1), dt.date(2027, 12, 31)),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_deal, max_size=25))
def test_summed_per_currency_equals_per_deal_arithmetic(deals: list[dict]) -> None:
    """Pipeline and forecast add per currency and convert once; the result equals converting each deal."""
    pairs = [(f"d{i}", d) for i, d in enumerate(deals)]
    rates = CFG.rates_to()
    facts = [deal_facts(i, d, CFG, rates) for i, d in pairs]
    open_ = [f for f in facts if f.is_open]
    value = sum((f.value for f in open_ if f.value is not None), Decimal(0))
    weighted = sum((f.weighted for f in open_), Decimal(0))
    rep = pipeline_report(pairs, CFG, NOW)
    assert rep.data["totals"]["count"] == len(open_)
    assert rep.data["totals"]["value"] == m(value)
    assert abs(rep.data["totals"]["weighted"] - weighted) <= Decimal("0.005") * max(len(open_), 1)
    fc = forecast_report(pairs, CFG, NOW, months=12)
    assert fc.data["totals"]["count"] == len(open_)
    assert fc.data["totals"]["value"] == m(value)
    by = pipeline_report(pairs, CFG, NOW, by="owner")
    assert sum((g["count"] for g in by.data.get("groups", [])), 0) == len(open_) or not open_


# --------------------------------------------------------------------------- summaries


#: DEALS and the awkward cases a summary must not lose: a closed deal whose close date
#: comes from its history, one with neither, an unknown stage, a stage that is a list,
#: an amount that is no number, and an unhashable --by value.
AWKWARD = DEALS + [
    ("h", {"title": "H", "stage": "won", "value": 7000, "owner": "karin", "products": ["BI"],
           "stage_history": [{"stage": "lead", "at": "2026-09-01T10:00:00+02:00"},
                             {"stage": "won", "at": "2026-11-10T10:00:00+01:00", "from": "lead"}]}),
    ("i", {"title": "I", "stage": "lost", "value": 9000}),
    ("j", {"title": "J", "stage": "pilot", "value": 4000, "expected_close": "2026-12-24", "source": "event"}),
    ("k", {"title": "K", "stage": ["lead"], "value": 1000}),
    ("l", {"title": "L", "stage": "lead", "value": "lots", "owner": ["daniel", "karin"]}),
]


@pytest.mark.parametrize("by", [None, "owner", "source", "company"])
def test_summaries_give_the_same_reports_as_whole_deals(by: str | None) -> None:
    summaries = [(i, deal_summary(d, CFG)) for i, d in AWKWARD]
    for report in (pipeline_report, forecast_report):
        whole, part = report(AWKWARD, CFG, NOW, by=by), report(summaries, CFG, NOW, by=by)
        assert part.data == whole.data and part.warnings == whole.warnings
        assert render(part, "html") == render(whole, "html")
    # the history is kept only where the close date has to come from it
    assert [i for i, s in summaries if "stage_history" in s] == ["h"]
    assert "products" not in dict(summaries)["h"] and "created" not in dict(summaries)["e"]


class _Watched(dict):
    """A deal that remembers which fields a report asked for."""

    def __init__(self, data: dict, seen: set) -> None:
        super().__init__(data)
        self.seen = seen

    def get(self, key, default=None):  # type: ignore[override]
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.seen.add(key)
        return super().__contains__(key)


@pytest.mark.parametrize("by", [None, "owner", "source", "company"])
def test_pipeline_and_forecast_read_only_summary_fields(by: str | None) -> None:
    """A report that starts reading another field must add it to SUMMARY_FIELDS, or the cache lies."""
    seen: set = set()
    closed_with_date: set = set()
    watched = [(i, _Watched(d, closed_with_date if d.get("closed") else seen)) for i, d in AWKWARD]
    pipeline_report(watched, CFG, NOW, by=by, period=parse_period("2026", NOW.date()))
    forecast_report(watched, CFG, NOW, by=by, months=24)
    assert seen | closed_with_date, "nothing was read: the watch is broken"
    assert seen <= set(SUMMARY_FIELDS) | {"stage_history"}
    assert closed_with_date <= set(SUMMARY_FIELDS)  # a close date spares the history
