"""Business time: hand-computed cases across weekends, holidays, split days and DST, and properties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.core.calendar import BusinessCalendar, format_duration, parse_duration
from crmkit.core.errors import CrmkitError

TZ = ZoneInfo("Europe/Stockholm")
H = dt.timedelta(hours=1)
OFFICE = BusinessCalendar.from_config("office", {
    "timezone": "Europe/Stockholm",
    "hours": {"mon": ["08:00-12:00", "13:00-17:00"], "tue": ["08:00-12:00", "13:00-17:00"],
              "wed": ["08:00-12:00", "13:00-17:00"], "thu": ["08:00-12:00", "13:00-17:00"],
              "fri": ["08:00-12:00", "13:00-16:00"]},
    "holidays": ["SE"],
    "exceptions": {"2026-12-23": ["08:00-12:00"], "2026-12-24": []},
})
ALWAYS = BusinessCalendar.always(TZ)


def t(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.mark.parametrize("start,hours,expected", [
    (t(2026, 11, 23, 9, 0), 2, t(2026, 11, 23, 11, 0)),        # Monday morning, no break
    (t(2026, 11, 23, 11, 0), 2, t(2026, 11, 23, 14, 0)),       # across the lunch break (split day)
    (t(2026, 11, 20, 15, 0), 4, t(2026, 11, 23, 11, 0)),       # Friday 15-16, then Monday 8-11
    (t(2026, 11, 21, 10, 0), 1, t(2026, 11, 23, 9, 0)),        # Saturday: starts Monday 08:00
    (t(2026, 11, 23, 18, 0), 0, t(2026, 11, 24, 8, 0)),        # after hours, zero: the next opening
    (t(2026, 12, 23, 11, 0), 2, t(2026, 12, 28, 9, 0)),        # short day, closed 24th, holidays 25th-26th
    (t(2026, 12, 31, 16, 30), 1, t(2027, 1, 4, 8, 30)),        # New Year's Day is a holiday, then a weekend
    (t(2026, 1, 5, 16, 30), 1, t(2026, 1, 7, 8, 30)),          # Epiphany (trettondedag jul) is closed
    (t(2026, 3, 27, 15, 0), 2, t(2026, 3, 30, 9, 0)),          # across the spring DST change weekend
])
def test_add_hand_computed(start, hours, expected) -> None:
    assert OFFICE.add(start, hours * H) == expected
    if hours:
        assert OFFICE.between(start, expected) == hours * H


def test_between_counts_only_open_time() -> None:
    assert OFFICE.between(t(2026, 11, 20, 8, 0), t(2026, 11, 23, 17, 0)) == 15 * H    # Fri 7h + Mon 8h
    assert OFFICE.between(t(2026, 11, 21, 0, 0), t(2026, 11, 22, 23, 0)) == dt.timedelta(0)
    assert OFFICE.between(t(2026, 11, 23, 17, 0), t(2026, 11, 20, 8, 0)) == -15 * H


def test_round_the_clock_across_daylight_saving_changes() -> None:
    # 2026-03-29: clocks go from 02:00 to 03:00 (a 23-hour day); 2026-10-25: back from 03:00 to 02:00 (25 hours)
    assert ALWAYS.between(t(2026, 3, 29, 0, 0), t(2026, 3, 30, 0, 0)) == 23 * H
    assert ALWAYS.between(t(2026, 10, 25, 0, 0), t(2026, 10, 26, 0, 0)) == 25 * H
    assert ALWAYS.add(t(2026, 3, 29, 1, 0), 2 * H) == t(2026, 3, 29, 4, 0)
    assert ALWAYS.add(t(2026, 10, 24, 12, 0), 24 * H) == t(2026, 10, 25, 11, 0)
    night = BusinessCalendar.from_config("night", {"timezone": "Europe/Stockholm",
                                                   "hours": {d: ["01:00-04:00"] for d in ("sat", "sun")}})
    assert night.between(t(2026, 3, 29, 0, 0), t(2026, 3, 29, 6, 0)) == 2 * H   # 02:00-03:00 does not exist
    assert night.between(t(2026, 10, 25, 0, 0), t(2026, 10, 25, 6, 0)) == 4 * H  # 02:00-03:00 happens twice


def test_durations() -> None:
    assert parse_duration("4h") == 4 * H
    assert parse_duration("30m") == dt.timedelta(minutes=30)
    assert parse_duration("2d", OFFICE.day) == 16 * H
    assert parse_duration("1d 4h", 8 * H) == 12 * H
    assert format_duration(-dt.timedelta(minutes=65)) == "-1h 05m"
    for bad in ("4 hours", "x", "", "4h x"):
        with pytest.raises(CrmkitError):
            parse_duration(bad)


@pytest.mark.parametrize("cfg,fragment", [
    ({"hours": {"mon": ["17:00-08:00"]}}, "ends before it starts"),
    ({"hours": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "overlap"),
    ({"hours": {"funday": ["08:00-12:00"]}}, "not a weekday"),
    ({"hours": {"mon": ["8-12"]}}, "not opening hours"),
    ({"hours": {}}, "never open"),
    ({"timezone": "Mars/Olympus", "hours": "24/7"}, "unknown time zone"),
])
def test_bad_calendars_are_refused(cfg, fragment) -> None:
    with pytest.raises(CrmkitError, match=fragment):
        BusinessCalendar.from_config("x", cfg)


instants = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31),
                        timezones=st.just(TZ))
durations = st.integers(min_value=0, max_value=60 * 80).map(lambda m: dt.timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(instants, durations, st.sampled_from([OFFICE, ALWAYS]))
def test_add_then_between_gives_it_back_and_lands_in_opening_hours(start, duration, cal) -> None:
    end = cal.add(start, duration)
    assert cal.between(start, end) == duration
    if duration:
        # the end is inside opening hours or exactly at the close of an interval
        assert cal.is_open(end - dt.timedelta(seconds=1))
    assert end >= start


@settings(max_examples=100, deadline=None)
@given(instants, instants, instants)
def test_between_is_additive(a, b, c) -> None:
    a, b, c = sorted([a, b, c])
    assert OFFICE.between(a, c) == OFFICE.between(a, b) + OFFICE.between(b, c)
