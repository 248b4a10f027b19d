"""Business calendars: hand-computed cases and properties of add/between."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CrmkitError
from crmkit.support.calendar import BusinessCalendar, format_duration, parse_duration

STO = ZoneInfo("Europe/Stockholm")
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)

OFFICE = {
    "timezone": "Europe/Stockholm",
    "hours": {
        "mon": ["08:00-12:00", "13:00-17:00"],
        "tue": ["08:00-12:00", "13:00-17:00"],
        "wed": ["08:00-12:00", "13:00-17:00"],
        "thu": ["08:00-12:00", "13:00-17:00"],
        "fri": ["08:00-12:00", "13:00-16:00"],
    },
    "holidays": ["SE"],
    "exceptions": {"2026-12-23": ["08:00-12:00"], "2026-12-24": [], "2026-12-31": []},
}


def t(*args: int) -> dt.datetime:
    """A Stockholm wall-clock time."""
    return dt.datetime(*args, tzinfo=STO)


@pytest.fixture(scope="module")
def office() -> BusinessCalendar:
    return BusinessCalendar.from_config("office", OFFICE)


@pytest.fixture(scope="module")
def always() -> BusinessCalendar:
    return BusinessCalendar.always(STO)


# -- durations ------------------------------------------------------------------------------


def test_parse_duration_units_and_business_day() -> None:
    assert parse_duration("4h") == 4 * H
    assert parse_duration("30m") == 30 * M
    assert parse_duration("1d 4h") == 12 * H  # default business day: 8h
    assert parse_duration("2d", dt.timedelta(hours=9)) == 18 * H
    assert parse_duration("1.5h") == 90 * M
    assert parse_duration(2) == 2 * H
    for bad in ("", "4", "4x", "h", "four hours", "4h tomorrow"):
        with pytest.raises(CrmkitError):
            parse_duration(bad)


def test_business_day_is_the_longest_weekday_unless_set(office: BusinessCalendar, always: BusinessCalendar) -> None:
    assert office.day == 8 * H
    assert office.duration("2d") == 16 * H
    assert always.day == 24 * H
    custom = BusinessCalendar.from_config("c", dict(OFFICE, day="7h 30m"))
    assert custom.duration("1d") == dt.timedelta(hours=7, minutes=30)


def test_format_duration() -> None:
    assert format_duration(dt.timedelta(hours=3, minutes=20)) == "3h 20m"
    assert format_duration(dt.timedelta(minutes=5)) == "5m"
    assert format_duration(-dt.timedelta(hours=1, minutes=5)) == "-1h 05m"


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize("cfg, message", [
    ({"hours": {"mon": ["17:00-08:00"]}}, "ends before it starts"),
    ({"hours": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "overlap"),
    ({"hours": {"funday": ["08:00-12:00"]}}, "not a weekday"),
    ({"hours": {"mon": ["8 to 5"]}}, "not opening hours"),
    ({"hours": {"mon": ["25:00-26:00"]}}, "not a time of day"),
    ({"hours": {}}, "never open"),
    ({"timezone": "Mars/Olympus", "hours": "24/7"}, "unknown time zone"),
    ({"hours": {"mon": ["08:00-17:00"]}, "exceptions": {"someday": []}}, "not a date"),
    ({"hours": {"mon": ["08:00-17:00"]}, "holidays": ["XX"]}, "no public holidays"),
])
def test_bad_calendars_are_refused(cfg: dict, message: str) -> None:
    with pytest.raises(CrmkitError, match=message):
        cal = BusinessCalendar.from_config("bad", cfg)
        cal.spans_on(dt.date(2026, 11, 23))  # holidays are looked up lazily


def test_hours_may_run_to_midnight_and_be_written_as_text() -> None:
    cal = BusinessCalendar.from_config("late", {"timezone": "UTC", "hours": {"mon": "18:00-24:00"}})
    start = dt.datetime(2026, 11, 23, 18, tzinfo=dt.UTC)
    assert cal.between(start, start + 10 * H) == 6 * H


# -- hand-computed cases in the office calendar -----------------------------------------------


def test_split_day(office: BusinessCalendar) -> None:
    assert office.add(t(2026, 11, 23, 11, 0), 2 * H) == t(2026, 11, 23, 14, 0)
    assert office.between(t(2026, 11, 23, 11, 30), t(2026, 11, 23, 13, 30)) == H
    # starting in the lunch break counts from 13:00
    assert office.add(t(2026, 11, 23, 12, 15), 30 * M) == t(2026, 11, 23, 13, 30)


def test_over_the_weekend(office: BusinessCalendar) -> None:
    # Friday closes at 16:00: one hour on Friday, three on Monday
    assert office.add(t(2026, 11, 20, 15, 0), 4 * H) == t(2026, 11, 23, 11, 0)
    assert office.between(t(2026, 11, 20, 15, 0), t(2026, 11, 23, 11, 0)) == 4 * H
    # a ticket written on Saturday starts its clock on Monday at 08:00
    assert office.add(t(2026, 11, 21, 10, 0), 30 * M) == t(2026, 11, 23, 8, 30)
    assert office.between(t(2026, 11, 21, 10, 0), t(2026, 11, 22, 23, 0)) == dt.timedelta(0)


def test_swedish_public_holidays(office: BusinessCalendar) -> None:
    # Epiphany, Tuesday 2026-01-06
    assert office.add(t(2026, 1, 5, 16, 0), 2 * H) == t(2026, 1, 7, 9, 0)
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are closed
    assert office.add(t(2026, 4, 2, 16, 0), 2 * H) == t(2026, 4, 7, 9, 0)
    assert office.between(t(2026, 4, 2, 8, 0), t(2026, 4, 7, 17, 0)) == 16 * H
    # Ascension Day, Thursday 14 May; National Day 6 June is a Saturday this year
    assert not office.is_open(t(2026, 5, 14, 10, 0))
    assert office.is_open(t(2026, 5, 15, 10, 0))


def test_exceptions_shorten_and_close_days(office: BusinessCalendar) -> None:
    # 23 Dec closes at noon, 24 Dec is closed, 25-26 Dec are holidays, then the weekend
    assert office.add(t(2026, 12, 22, 16, 0), 8 * H) == t(2026, 12, 28, 11, 0)
    assert office.between(t(2026, 12, 23, 8, 0), t(2026, 12, 24, 17, 0)) == 4 * H
    assert not office.is_open(t(2026, 12, 31, 9, 0))


def test_add_zero_from_closed_time_is_the_next_opening(office: BusinessCalendar) -> None:
    assert office.add(t(2026, 11, 23, 6, 0), dt.timedelta(0)) == t(2026, 11, 23, 8, 0)
    assert office.add(t(2026, 11, 23, 9, 0), dt.timedelta(0)) == t(2026, 11, 23, 9, 0)


def test_between_is_negative_backwards(office: BusinessCalendar) -> None:
    assert office.between(t(2026, 11, 23, 10, 0), t(2026, 11, 23, 9, 0)) == -H


def test_naive_times_and_negative_durations_are_refused(office: BusinessCalendar) -> None:
    with pytest.raises(CrmkitError, match="time zone"):
        office.add(dt.datetime(2026, 11, 23, 9), H)
    with pytest.raises(CrmkitError, match="negative"):
        office.add(t(2026, 11, 23, 9), -H)


def test_results_are_in_the_calendars_zone(office: BusinessCalendar) -> None:
    start = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # 08:00 in Stockholm
    due = office.add(start, H)
    assert due == t(2026, 11, 23, 9, 0)
    assert due.tzinfo == STO


# -- daylight saving time in Europe/Stockholm (2026-03-29 and 2026-10-25) -----------------------


def test_office_hours_across_the_spring_change(office: BusinessCalendar) -> None:
    # Friday 16:00 CET is 15:00 UTC; Monday 09:00 CEST is 07:00 UTC: one business hour apart
    friday, monday = t(2026, 3, 27, 15, 0), t(2026, 3, 30, 9, 0)
    assert office.add(friday, 2 * H) == monday
    assert office.between(friday, monday) == 2 * H
    assert monday.utcoffset() == 2 * H


def test_office_hours_across_the_autumn_change(office: BusinessCalendar) -> None:
    friday, monday = t(2026, 10, 23, 15, 0), t(2026, 10, 26, 9, 0)
    assert office.add(friday, 2 * H) == monday
    assert office.between(friday, monday) == 2 * H
    assert monday.utcoffset() == H


def test_round_the_clock_counts_real_hours_across_dst(always: BusinessCalendar) -> None:
    # the spring Sunday has 23 hours, the autumn Sunday 25
    assert always.between(t(2026, 3, 29, 0, 0), t(2026, 3, 30, 0, 0)) == 23 * H
    assert always.between(t(2026, 10, 25, 0, 0), t(2026, 10, 26, 0, 0)) == 25 * H
    # one business day of a 24/7 calendar is 24 real hours, so the wall clock moves by one hour
    assert always.add(t(2026, 3, 29, 0, 0), always.duration("1d")) == t(2026, 3, 30, 1, 0)
    assert always.add(t(2026, 10, 25, 0, 0), always.duration("1d")) == t(2026, 10, 25, 23, 0)
    assert always.add(t(2026, 3, 29, 1, 30), H) == t(2026, 3, 29, 3, 30)


def test_opening_hours_through_the_night_of_the_change() -> None:
    cal = BusinessCalendar.from_config("night", {"timezone": "Europe/Stockholm",
                                                 "hours": {"sun": ["01:00-05:00"]}})
    assert cal.between(t(2026, 3, 29, 0, 0), t(2026, 3, 29, 23, 0)) == 3 * H
    assert cal.between(t(2026, 10, 25, 0, 0), t(2026, 10, 25, 23, 0)) == 5 * H
    assert cal.add(t(2026, 3, 29, 1, 0), 2 * H) == t(2026, 3, 29, 4, 0)
    # 01:00 + 2h on the autumn night is 02:00 the second time (CET)
    due = cal.add(t(2026, 10, 25, 1, 0), 2 * H)
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)


def test_an_opening_inside_the_spring_gap_opens_when_the_clocks_move_on() -> None:
    cal = BusinessCalendar.from_config("gap", {"timezone": "Europe/Stockholm", "hours": {"sun": ["02:30-04:00"]}})
    (start, end), = cal.intervals_on(dt.date(2026, 3, 29))
    assert start.astimezone(STO) == t(2026, 3, 29, 3, 0)
    assert end - start == H


# -- properties -----------------------------------------------------------------------------

SPLIT = {
    "timezone": "Europe/Stockholm",
    "hours": {"mon": ["07:30-11:45", "12:30-16:00", "18:00-20:00"], "wed": ["00:00-03:00", "22:00-24:00"],
              "sat": ["10:00-14:00"], "sun": ["01:00-05:00"]},
    "holidays": ["SE"],
    "exceptions": {"2026-03-30": ["09:00-10:00"], "2026-10-26": []},
}
CALENDARS = [BusinessCalendar.from_config("office", OFFICE), BusinessCalendar.from_config("split", SPLIT),
             BusinessCalendar.always(STO),
             BusinessCalendar.from_config("utc", {"timezone": "UTC", "hours": {"tue": ["09:00-17:00"]}})]

instants = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 6, 30),
                        timezones=st.just(dt.UTC)).map(lambda d: d.replace(microsecond=0))
durations = st.integers(min_value=0, max_value=120 * 60).map(lambda m: dt.timedelta(minutes=m))
calendars_ = st.sampled_from(CALENDARS)


@settings(max_examples=150, deadline=None)
@given(cal=calendars_, start=instants, duration=durations)
def test_add_then_between_gives_the_duration_back(cal: BusinessCalendar, start: dt.datetime,
                                                  duration: dt.timedelta) -> None:
    end = cal.add(start, duration)
    assert end >= start
    assert cal.between(start, end) == duration


@settings(max_examples=150, deadline=None)
@given(cal=calendars_, start=instants, duration=durations)
def test_results_never_fall_outside_opening_hours(cal: BusinessCalendar, start: dt.datetime,
                                                  duration: dt.timedelta) -> None:
    end = cal.add(start, duration)
    # the due time is inside an opening, or exactly at its close
    assert cal.is_open(end) or cal.is_open(end - dt.timedelta(seconds=1))
    if duration:
        assert cal.is_open(end - dt.timedelta(seconds=1))


@settings(max_examples=100, deadline=None)
@given(cal=calendars_, a=instants, b=instants, c=instants)
def test_between_adds_up_and_never_exceeds_real_time(cal: BusinessCalendar, a: dt.datetime, b: dt.datetime,
                                                     c: dt.datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.between(a, b) + cal.between(b, c) == cal.between(a, c)
    assert dt.timedelta(0) <= cal.between(a, c) <= c - a


@pytest.mark.parametrize("start,hours,expected", [
    (t(2026, 11, 23, 9, 0), 2, t(2026, 11, 23, 11, 0)),        # Monday morning, no break
    (t(2026, 11, 23, 11, 0), 2, t(2026, 11, 23, 14, 0)),       # across the lunch break (split day)
    (t(2026, 11, 20, 15, 0), 4, t(2026, 11, 23, 11, 0)),       # Friday 15-16, then Monday 8-11
    (t(2026, 11, 21, 10, 0), 1, t(2026, 11, 23, 9, 0)),        # Saturday: starts Monday 08:00
    (t(2026, 11, 23, 18, 0), 0, t(2026, 11, 24, 8, 0)),        # after hours, zero: the next opening
    (t(2026, 12, 23, 11, 0), 2, t(2026, 12, 28, 9, 0)),        # short day, closed 24th, holidays 25th-26th
    (t(2026, 12, 30, 16, 30), 1, t(2027, 1, 4, 8, 30)),        # closed 31st, New Year's Day, then a weekend
    (t(2026, 1, 5, 16, 30), 1, t(2026, 1, 7, 8, 30)),          # Epiphany (trettondedag jul) is closed
    (t(2026, 3, 27, 15, 0), 2, t(2026, 3, 30, 9, 0)),          # across the spring DST change weekend
    (t(2026, 10, 23, 15, 0), 2, t(2026, 10, 26, 9, 0)),        # across the autumn DST change weekend
])
def test_add_hand_computed(office: BusinessCalendar, start: dt.datetime, hours: int, expected: dt.datetime) -> None:
    assert office.add(start, hours * H) == expected
    if hours:
        assert office.between(start, expected) == hours * H


@settings(max_examples=60, deadline=None)
@given(cal=calendars_, a=instants, b=instants)
def test_long_spans_from_prefix_sums_equal_day_by_day_counting(cal: BusinessCalendar, a: dt.datetime,
                                                              b: dt.datetime) -> None:
    a, b = sorted((a, b))
    first, last = a.astimezone(cal.tz).date(), b.astimezone(cal.tz).date()
    slow = cal._clipped(first - dt.timedelta(days=1), last + dt.timedelta(days=1), a, b)
    assert cal.between(a, b) == slow


def test_holidays_of_a_region_and_of_several_countries() -> None:
    bavaria = BusinessCalendar.from_config("by", {"timezone": "Europe/Berlin", "hours": "24/7", "holidays": ["DE-BY"]})
    assert bavaria.spans_on(dt.date(2026, 1, 6)) == []             # Epiphany is a holiday in Bavaria only
    nordic = BusinessCalendar.from_config("nordic", dict(OFFICE, holidays=["SE", "NO"]))
    assert nordic.spans_on(dt.date(2026, 5, 17)) == []             # Norway's Constitution Day (a Sunday anyway)
    assert nordic.spans_on(dt.date(2026, 5, 14)) == []             # Ascension Day in both
    assert nordic.spans_on(dt.date(2026, 5, 25)) == []             # Whit Monday: a holiday in Norway, not in Sweden
    assert BusinessCalendar.from_config("se", OFFICE).spans_on(dt.date(2026, 5, 25)) != []
