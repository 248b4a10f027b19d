"""The condition language: grammar, semantics, errors with columns, properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.conditions.language import parse
from crmkit.errors import ConditionError

LEAD = {"name": "Anna", "users": 100, "country": "NO", "tags": ["erp", "outage"], "owner": "karin",
        "email": "anna@example.com", "created": dt.date(2026, 11, 2), "zip": "01234", "value": "120000",
        "address": {"city": "Oslo"}, "company": "nordvik-as"}
COMPANIES = {"nordvik-as": {"name": "Nordvik AS", "industry": "retail", "employees": 80}}


def resolve(field: str, value: object) -> dict | None:
    return COMPANIES.get(value) if field == "company" else None  # type: ignore[arg-type]


@pytest.mark.parametrize("text,expected", [
    ("users > 50", True),
    ("users > 50 and country in [SE, NO]", True),
    ("users >= 100 and users <= 100", True),
    ("users < 50 or country == NO", True),
    ("not exists(owner) or owner == \"daniel\"", False),
    ("not exists(phone)", True),
    ('"outage" in tags or priority == "urgent"', True),
    ('"erp" in tags', True),
    ("erp in tags", False),               # left of an operator a bare word is a field (missing here)
    ("tags contains erp", True),
    ("name contains ann", True),
    ("company.industry == \"retail\"", True),
    ("company.employees > 50", True),
    ("company.missing == 1", False),
    ("address.city == Oslo", True),
    ('email matches ".*@example\\.com$"', True),
    ('email matches "^bob"', False),
    ("created < 2026-12-01", True),
    ("created >= 2026-11-02", True),
    ("zip == \"01234\"", True),
    ("value > 100000", True),            # numeric text compares as a number
    ("country not in [SE, DK]", True),
    ("(users > 500 or country == NO) and not (owner == alan)", True),
    ("USERS > 5", False),                 # field names are case-sensitive; a missing field is false
    ("users > 50 AND country == NO", True),  # keywords are not
    ("phone == null", False),
    ("missing != 3", False),              # a missing field is false for every comparison
])
def test_semantics(text: str, expected: bool) -> None:
    assert parse(text).evaluate(LEAD, resolve) is expected, text


def test_text_where_a_number_is_counted_does_not_match_and_explain_says_why() -> None:
    cond = parse("users > 50")
    rec = {"users": "many"}
    assert cond.evaluate(rec) is False
    assert parse("users <= 50").evaluate(rec) is False
    notes = cond.explain(rec)
    assert "users is 'many' (text)" in notes[0] and "not a number" in notes[0] and notes[-1] == "=> false"


def test_explain_lists_each_comparison() -> None:
    notes = parse("users > 50 and country in [SE, NO]").explain(LEAD)
    assert notes == [
        "users > 50: users is 100 (number) -> true",
        'country in ["SE", "NO"]: country is \'NO\' (text) -> true',
        "=> true",
    ]
    assert parse("exists(phone)").explain(LEAD)[0] == "exists(phone): no -> false"
    assert "owner2 is missing" in parse("owner2 == karin").explain(LEAD)[0]


@pytest.mark.parametrize("text,column,fragment", [
    ("value => 5", 7, "unknown operator '=>'"),
    ("users > ", 9, "ends too early"),
    ("users 50", 7, "expected an operator"),
    ("(users > 5", 11, "expected ')'"),
    ("users > 5 and", 14, "ends too early"),
    ("email matches \"[\"", 15, "invalid regular expression"),
    ("users > 5 )", 11, "unexpected ')'"),
    ("", 1, "empty condition"),
    ("users ~ 5", 7, "unexpected character '~'"),
    ("created > 2026-13-45", 11, "invalid date"),
])
def test_errors_point_at_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ConditionError) as err:
        parse(text)
    assert err.value.column == column, str(err.value)
    assert fragment in str(err.value)
    assert f"column {column}" in str(err.value)


def test_paths_lists_every_field_used() -> None:
    assert parse("a > 1 and (b.c == x or not exists(d)) and e in [f, g]").paths() == {"a", "b.c", "d", "e"}


# -- properties ------------------------------------------------------------------

fields = st.sampled_from(["users", "country", "tags", "owner", "value", "missing"])
values = st.one_of(st.integers(-1000, 1000), st.sampled_from(["SE", "NO", "karin", "many", "ERP"]))


def _lit(v: object) -> str:
    return str(v) if isinstance(v, int) else f'"{v}"'


atoms = st.one_of(
    st.builds(lambda f, op, v: f"{f} {op} {_lit(v)}", fields, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), values),
    st.builds(lambda f, vs: f"{f} in [{', '.join(_lit(v) for v in vs)}]", fields, st.lists(values, max_size=3)),
    st.builds(lambda f: f"exists({f})", fields),
)
exprs = st.recursive(atoms, lambda inner: st.one_of(
    st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
    st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    st.builds(lambda a: f"not ({a})", inner),
), max_leaves=6)
records = st.fixed_dictionaries({}, optional={
    "users": st.one_of(st.integers(-1000, 1000), st.just("many"), st.none()),
    "country": st.sampled_from(["SE", "NO", "HU"]),
    "tags": st.lists(st.sampled_from(["ERP", "vip"]), max_size=2),
    "owner": st.sampled_from(["karin", "alan"]),
    "value": st.one_of(st.integers(), st.text(max_size=5)),
})


@settings(max_examples=200, deadline=None)
@given(exprs, records)
def test_never_raises_and_render_round_trips(text: str, rec: dict) -> None:
    cond = parse(text)
    result = cond.evaluate(rec)
    assert isinstance(result, bool)
    again = parse(cond.render())
    assert again.evaluate(rec) == result
    assert parse(f"not ({text})").evaluate(rec) == (not result)


@settings(max_examples=100, deadline=None)
@given(exprs, exprs, records)
def test_and_or_are_boolean(a: str, b: str, rec: dict) -> None:
    ra, rb = parse(a).evaluate(rec), parse(b).evaluate(rec)
    assert parse(f"({a}) and ({b})").evaluate(rec) == (ra and rb)
    assert parse(f"({a}) or ({b})").evaluate(rec) == (ra or rb)
