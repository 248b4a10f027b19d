"""Offer arithmetic and money: hand-computed examples and properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CrmkitError
from crmkit.sales.offers import compute
from crmkit.values import format_money, round_money, to_decimal

D = Decimal


@pytest.mark.parametrize("text,expected", [
    ("12 345,50", "12345.50"), ("12\u00a0345,50 kr", "12345.50"), ("12,345.50", "12345.50"),
    ("12.345,50", "12345.50"), ("1234", "1234"), (12345.5, "12345.5"), (100, "100"), ("-0,5", "-0.5"),
])
def test_amounts_are_read_exactly(text, expected) -> None:
    assert to_decimal(text) == D(expected)


@pytest.mark.parametrize("bad", ["many", True, None, "1,2,3.4.5"])
def test_bad_amounts_are_refused(bad) -> None:
    with pytest.raises(CrmkitError):
        to_decimal(bad)


def test_swedish_format_and_half_up_rounding() -> None:
    assert format_money(D("12345.5"), "SEK", "sv_SE") == "12\u00a0345,50\u00a0kr"
    assert format_money(D("12345.5"), "SEK", "sv_SE").replace("\u00a0", " ") == "12 345,50 kr"
    assert format_money(D("12345.5"), "HUF", "hu_HU").replace("\u00a0", " ") == "12 346 Ft"
    assert format_money(D("12345.5"), "EUR", "en_GB") == "€12,345.50"
    assert round_money(D("0.125"), "SEK") == D("0.13")
    assert round_money(D("0.135"), "SEK") == D("0.14")
    assert round_money(D("-0.125"), "SEK") == D("-0.13")


OFFER = {
    "discount": {"percent": 5},
    "items": [
        {"description": "ERP-licens", "quantity": 25, "unit": "st", "unit_price": 4900, "vat": 25},
        {"description": "Implementation", "quantity": 80, "unit": "tim", "unit_price": 1250,
         "discount": {"percent": 10}, "vat": 25},
        {"description": "Kursbok", "quantity": 3, "unit": "st", "unit_price": 345.50, "vat": 6},
    ],
}


def test_golden_offer_by_hand() -> None:
    t = compute(OFFER, "SEK")
    assert [ln.net for ln in t.lines] == [D("122500.00"), D("90000.00"), D("1036.50")]
    assert t.lines[1].discount == D("10000")
    assert t.subtotal == D("213536.50")
    assert t.discount == D("10676.83")            # 5 % of 213 536,50 = 10 676,825 -> half up
    assert t.net == D("202859.67")
    # the offer discount is spread over the rates: 1 036,50 x 0,95 = 984,675 -> 984,67 (the rest at 25 %)
    assert [(g.rate, g.base, g.vat) for g in t.vat] == [
        (D(6), D("984.67"), D("59.08")), (D(25), D("201875.00"), D("50468.75"))]
    assert t.total == D("253387.50")


def test_amount_discounts_and_total_rounding() -> None:
    offer = {"discount": {"amount": "100"}, "items": [
        {"description": "a", "quantity": 3, "unit_price": "0.333", "vat": 25},
        {"description": "b", "quantity": 1, "unit_price": "1000", "discount": {"amount": 50}, "vat": 25}]}
    by_line = compute(offer, "SEK", rounding="line")
    assert by_line.lines[0].net == D("1.00")        # 0,999 rounded on the line
    assert by_line.subtotal == D("951.00") and by_line.net == D("851.00") and by_line.total == D("1063.75")
    by_total = compute(offer, "SEK", rounding="total")
    assert by_total.lines[0].net == D("0.999")       # exact until the totals
    assert by_total.subtotal == D("951.00") and by_total.total == D("1063.75")


@pytest.mark.parametrize("offer,fragment", [
    ({"items": []}, "no items"),
    ({"items": [{"quantity": "x", "unit_price": 1}]}, r"offer\.items\[1\] quantity"),
    ({"items": [{"quantity": 1, "unit_price": 10, "discount": {"percent": 120}}]}, "not between 0 and 100"),
    ({"items": [{"quantity": 1, "unit_price": 10, "discount": {"amount": 11}}]}, "more than"),
    ({"items": [{"quantity": 1, "unit_price": 10}], "discount": {"percent": 5, "amount": 1}}, "not both"),
    ({"items": [{"quantity": -1, "unit_price": 10}]}, "negative quantity"),
])
def test_bad_offers_name_the_item(offer, fragment) -> None:
    with pytest.raises(CrmkitError, match=fragment):
        compute(offer, "SEK")


money = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)
items = st.lists(st.fixed_dictionaries({
    "quantity": st.integers(0, 500), "unit_price": money, "vat": st.sampled_from([0, 6, 12, 25]),
    "discount": st.one_of(st.none(), st.builds(lambda p: {"percent": p}, st.integers(0, 100))),
}), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(items, st.one_of(st.none(), st.integers(0, 100)), st.sampled_from(["line", "total"]))
def test_totals_always_add_up_to_the_ore(items, pct, rounding) -> None:
    offer = {"items": items, "discount": {"percent": pct} if pct is not None else None}
    t = compute(offer, "SEK", rounding=rounding)
    cent = D("0.01")
    for value in (t.subtotal, t.discount, t.net, t.vat_total, t.total):
        assert value == value.quantize(cent)
    assert t.net == t.subtotal - t.discount
    assert sum(g.base for g in t.vat) == t.net
    assert t.vat_total == sum(g.vat for g in t.vat)
    assert t.total == t.net + t.vat_total
    assert t.total >= 0
    for g in t.vat:
        assert abs(g.vat - g.base * g.rate / 100) <= D("0.005")


def test_golden_euro_offer_with_two_rates_and_an_amount_discount() -> None:
    """Irish customer: 23 % VAT on services, 0 % on pass-through costs, 1 000 EUR off the offer."""
    offer = {"discount": {"amount": "1000"}, "items": [
        {"description": "ERP implementation", "quantity": 1, "unit_price": "58000", "vat": 23},
        {"description": "Training", "quantity": 3, "unit_price": "1650", "vat": 23},
        {"description": "Travel", "quantity": 1, "unit_price": "9050", "vat": 0},
    ]}
    t = compute(offer, "EUR")
    assert t.subtotal == D("72000.00") and t.discount == D("1000.00") and t.net == D("71000.00")
    # 1 000 spread by share: 9 050 / 72 000 of it (125.69) comes off the 0 % base
    assert [(g.rate, g.base, g.vat) for g in t.vat] == [
        (D(0), D("8924.31"), D("0.00")), (D(23), D("62075.69"), D("14277.41"))]
    assert t.total == D("85277.41")


def test_golden_fractional_quantities_and_line_discount_amount() -> None:
    offer = {"items": [
        {"description": "Konsult", "quantity": "12,5", "unit": "tim", "unit_price": "1 150,00", "vat": 25,
         "discount": {"amount": "375"}},
        {"description": "Bok", "quantity": 1, "unit_price": "99.90", "vat": 6},
    ]}
    t = compute(offer, "SEK")
    assert t.lines[0].gross == D("14375.000") and t.lines[0].net == D("14000.00")
    assert t.subtotal == D("14099.90") and t.vat_total == D("3505.99")   # 3 500,00 + 5,994 -> 5,99
    assert t.total == D("17605.89")


def test_percent_written_many_ways_is_the_same_discount() -> None:
    base = {"items": [{"quantity": 1, "unit_price": 1000, "vat": 25}]}
    totals = {compute(dict(base, discount=d), "SEK").total for d in ("10%", "10 %", " 10% ", {"percent": "10"})}
    assert totals == {D("1125.00")}
    assert compute(dict(base, discount={"amount": 100}), "SEK").total == D("1125.00")


@pytest.mark.parametrize("bare", [10, "10", "12000.00", 0.5])
def test_a_bare_number_discount_is_refused_as_ambiguous(bare) -> None:
    offer = {"discount": bare, "items": [{"quantity": 1, "unit_price": 100000, "vat": 25}]}
    with pytest.raises(CrmkitError, match=r"offer\.discount: discount .* is ambiguous: write .*% for a percent"):
        compute(offer, "SEK")


def test_huf_rounds_to_whole_forints() -> None:
    t = compute({"items": [{"quantity": 3, "unit_price": "333.5", "vat": 27}]}, "HUF")
    assert t.lines[0].net == D("1001") and t.vat_total == D("270") and t.total == D("1271")


def test_jpy_rounds_to_whole_yen() -> None:
    t = compute({"items": [{"quantity": 3, "unit_price": "333.5", "vat": 10}]}, "JPY")
    assert t.lines[0].net == D("1001") and t.vat_total == D("100") and t.total == D("1101")


@settings(max_examples=150, deadline=None)
@given(items, st.sampled_from(["SEK", "EUR", "JPY", "HUF"]))
def test_without_an_offer_discount_each_rate_is_taxed_on_its_own_lines(items, currency) -> None:
    t = compute({"items": items}, currency, rounding="line")
    for g in t.vat:
        assert g.base == sum(ln.net for ln in t.lines if ln.vat_rate == g.rate)
    assert t.net == t.subtotal == sum(ln.net for ln in t.lines)


@settings(max_examples=150, deadline=None)
@given(items)
def test_line_and_total_rounding_differ_by_at_most_half_an_ore_per_line(items) -> None:
    by_line = compute({"items": items}, "SEK", rounding="line")
    by_total = compute({"items": items}, "SEK", rounding="total")
    assert abs(by_line.subtotal - by_total.subtotal) <= D("0.005") * len(items) + D("0.005")
