"""Money: exact amounts from YAML values and text, half-up rounding, CLDR formatting (exact strings)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import CrmkitError
from crmkit.values import format_money, format_number, format_percent, minor_unit, round_money, to_decimal

D = Decimal
NBSP = "\u00a0"


@pytest.mark.parametrize("value,expected", [
    ("12 345,50", "12345.50"),          # Swedish, Norwegian, Hungarian spreadsheets
    ("12\u00a0345,50 kr", "12345.50"),  # pasted from a formatted offer
    ("12\u202f345,50", "12345.50"),     # narrow no-break space
    ("12.345,50", "12345.50"),
    ("12,345.50", "12345.50"),
    ("12'345.50", "12345.50"),
    ("1234", "1234"),
    ("−500", "-500"),                   # a real minus sign
    ("0,5", "0.5"),
    (".5", "0.5"),
    ("120000.00", "120000.00"),
    (12345.5, "12345.5"),               # a YAML float: its shortest text, not its binary value
    (0.1, "0.1"),
    (100, "100"),
    (D("3.14"), "3.14"),
])
def test_amounts_are_read_exactly(value, expected) -> None:
    result = to_decimal(value)
    assert result == D(expected) and str(result) == expected


@pytest.mark.parametrize("bad", ["many", "", True, None, "1,2,3.4.5", "NaN", "inf", float("nan"),
                                 float("inf"), D("NaN"), "1_000", "12 kr 50", [1]])
def test_what_is_not_an_amount_is_refused_with_its_text(bad) -> None:
    with pytest.raises(CrmkitError, match="price: .* is not an amount"):
        to_decimal(bad, "price")


def test_minor_units_come_from_babel() -> None:
    assert minor_unit("SEK") == D("0.01")
    assert minor_unit("eur") == D("0.01")
    assert minor_unit("JPY") == D("1")
    assert round_money(D("1234.5"), "JPY") == D("1235")


@pytest.mark.parametrize("amount,rounded", [
    ("0.125", "0.13"), ("0.135", "0.14"), ("0.145", "0.15"), ("2.675", "2.68"),
    ("-0.125", "-0.13"), ("0.124999", "0.12"), ("10", "10.00"),
])
def test_rounding_is_half_up_not_bankers(amount, rounded) -> None:
    assert str(round_money(D(amount), "SEK")) == rounded


# Babel writes CLDR's no-break spaces (U+00A0) between thousands and before the
# currency; crmkit keeps them (an amount never wraps). These strings are exact.
@pytest.mark.parametrize("amount,currency,locale,expected", [
    ("12345.5", "SEK", "sv_SE", f"12{NBSP}345,50{NBSP}kr"),
    ("12345.5", "NOK", "nb_NO", f"12{NBSP}345,50{NBSP}kr"),
    # CLDR 48 gives the forint no decimals (CLDR-11586), as Hungarians write prices
    ("12345.5", "HUF", "hu_HU", f"12{NBSP}346{NBSP}Ft"),
    ("12345.49", "HUF", "hu_HU", f"12{NBSP}345{NBSP}Ft"),
    ("12345.5", "EUR", "en_GB", "€12,345.50"),
    ("12345.5", "EUR", "sv_SE", f"12{NBSP}345,50{NBSP}€"),
    ("-99.995", "SEK", "sv_SE", f"-100,00{NBSP}kr"),   # Babel writes a hyphen-minus
    ("0", "SEK", "sv_SE", f"0,00{NBSP}kr"),
    ("1234567.891", "SEK", "en_GB", "SEK1,234,567.89"),
])
def test_format_money_exact_strings(amount, currency, locale, expected) -> None:
    assert format_money(D(amount), currency, locale) == expected


def test_the_issue_example_reads_as_written_once_spaces_are_plain() -> None:
    assert format_money(D("12345.5"), "SEK", "sv_SE").replace(NBSP, " ") == "12 345,50 kr"


def test_numbers_and_percents() -> None:
    assert format_number(D("2.5"), "sv_SE") == "2,5"
    assert format_number(D("80.00"), "sv_SE") == "80"
    assert format_number(D("1500"), "sv_SE") == f"1{NBSP}500"
    assert format_percent(D("25"), "sv_SE") == f"25{NBSP}%"
    assert format_percent(D("12.5"), "sv_SE") == f"12,5{NBSP}%"
    assert format_percent(D("25"), "en_GB") == "25%"
    assert format_percent(D("27"), "hu_HU") == "27%"


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_swedish_text_round_trips(amount) -> None:
    """What crmkit prints, crmkit reads back to the same amount."""
    printed = format_money(amount, "SEK", "sv_SE")
    assert to_decimal(printed) == amount


@given(st.decimals(min_value=-10**6, max_value=10**6, places=6, allow_nan=False, allow_infinity=False))
def test_rounding_is_within_half_an_ore_and_idempotent(amount) -> None:
    rounded = round_money(amount, "SEK")
    assert abs(rounded - amount) <= D("0.005")
    assert round_money(rounded, "SEK") == rounded


# -- the one decimal parser ------------------------------------------------------------

from crmkit.values import parse_decimal  # noqa: E402


@pytest.mark.parametrize("text,locale,expected", [
    ("1234.5", "de_DE", "1234.5"),        # the plain form is read as it is in every locale
    ("1234.5", "sv_SE", "1234.5"),
    ("12,345", None, "12.345"),           # a lone comma is a decimal comma by default
    ("12,345", "sv_SE", "12.345"),
    ("12,345", "en_US", "12345"),         # ... and a grouping comma in English
    ("1.234,5", "de_DE", "1234.5"),
    ("12,5", "en_US", "12.5"),            # what the locale cannot read: the spreadsheet rule
    ("12\u00a0345,50 kr", "sv_SE", "12345.50"),
])
def test_parse_decimal_with_and_without_a_locale(text: str, locale: str | None, expected: str) -> None:
    assert parse_decimal(text, locale) == D(expected)


@pytest.mark.parametrize("value", [None, "", " ", True, "-", ",", "1_000", "NaN", "inf", float("nan"), [1], "12 kr 50"])
def test_parse_decimal_says_none_instead_of_guessing(value: object) -> None:
    assert parse_decimal(value) is None


def test_ambiguous_grouping_is_refused_only_when_asked() -> None:
    assert parse_decimal("1,234") == D("1.234")
    assert parse_decimal("1,234", refuse_ambiguous=True) is None
    assert parse_decimal("1 234,567", refuse_ambiguous=True) is None
    assert parse_decimal("1,25", refuse_ambiguous=True) == D("1.25")
    assert parse_decimal("1,234.50", refuse_ambiguous=True) == D("1234.50")


def test_every_reader_of_amounts_agrees() -> None:
    """Reports, conditions and sorting read an amount the same way; `crmkit check` (and the
    editor schemas, which must agree with it) accepts a stricter stored form, never one the
    readers cannot read."""
    from crmkit.conditions.language import parse
    from crmkit.sales.facts import amount_of
    from crmkit.sales.pipeline import parse_amount
    from crmkit.store.schema import type_problem

    for text in ["12 345,50", "12,345.50", "1_000", "12 kr", "many", "0,5", "1e5"]:
        number = parse_decimal(text)
        assert parse_amount(text) == amount_of(text) == number
        if type_problem(text, "amount") is None:
            assert number is not None
        assert parse("value > 0").evaluate({"value": text}, lambda *_: None) is (number is not None and number > 0)
