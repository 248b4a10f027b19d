"""VTIMEZONE blocks (RFC 5545 §3.6.5) that calendar programs read the same way Python does.

A calendar file names its zone (``DUE;TZID=Europe/Stockholm:20270328T033000``) and
must describe it in a VTIMEZONE, because many readers (ical.js, vobject, Outlook)
use that description instead of their own tz database. The description is built
here from the tz database itself:

* the zone's current rules come from the POSIX TZ string at the end of its TZif
  file (``CET-1CEST,M3.5.0,M10.5.0/3``) and are written as open-ended RRULEs, so a
  follow-up in 2040 is as right as one next week (a list of dates would end);
* each observance's DTSTART is the local time *before* the change, in the offset
  it changes from (02:00 for the Swedish spring change, 03:00 for the autumn one),
  as RFC 5545 defines it;
* the RRULEs start in a year the zone already followed them, checked against
  zoneinfo; any change inside the calendar's span that the rules do not cover
  (a zone that changed its rules) is written as its own dated observance.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_DAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]
_UTC = dt.UTC


@dataclass(frozen=True)
class _Change:
    """One yearly change of the POSIX rule: month, week (5 = last), weekday (0 = Sunday), seconds after midnight."""

    month: int
    week: int
    weekday: int
    seconds: int

    def rrule(self) -> dict[str, Any]:
        ordinal = -1 if self.week == 5 else self.week
        return {"freq": "yearly", "bymonth": self.month, "byday": f"{ordinal}{_DAYS[self.weekday]}"}

    def local(self, year: int) -> dt.datetime:
        """The wall-clock moment of the change in `year`, in the offset before it."""
        if self.week == 5:
            nxt = dt.date(year + (self.month == 12), self.month % 12 + 1, 1)
            day = nxt - dt.timedelta(days=1)
            day -= dt.timedelta(days=(day.isoweekday() % 7 - self.weekday) % 7)
        else:
            first = dt.date(year, self.month, 1)
            day = first + dt.timedelta(days=(self.weekday - first.isoweekday() % 7) % 7 + 7 * (self.week - 1))
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class _Rule:
    std_offset: dt.timedelta
    dst_offset: dt.timedelta
    to_dst: _Change
    to_std: _Change


def _tzif_bytes(key: str) -> bytes | None:
    """The TZif file zoneinfo reads for `key`: the first on TZPATH, else the tzdata package's."""
    for base in zoneinfo.TZPATH:
        path = Path(base) / key
        if path.is_file():
            try:
                return path.read_bytes()
            except OSError:
                break
    try:
        import importlib.resources

        return importlib.resources.files("tzdata.zoneinfo").joinpath(key).read_bytes()
    except (ImportError, OSError, ValueError):
        return None


_NAME = r"(?:[A-Za-z]{3,}|<[^>]+>)"
_OFFSET = r"[+-]?\d{1,2}(?::\d{2}(?::\d{2})?)?"
_DATE = r"M(\d{1,2})\.(\d)\.(\d)(?:/(" + _OFFSET + r"))?"
_POSIX = re.compile(rf"^{_NAME}({_OFFSET})(?:{_NAME}({_OFFSET})?,{_DATE},{_DATE})?$")


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def posix_rule(key: str) -> _Rule | None:
    """The yearly DST rule in the zone's TZif footer, or None (no DST now, no footer, or a form RRULE cannot say)."""
    data = _tzif_bytes(key)
    if not data or not data.startswith(b"TZif"):
        return None
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("ascii", "replace")
    m = _POSIX.match(footer)
    if not m or m.group(3) is None:
        return None
    std, dst_text, m1, w1, d1, t1, m2, w2, d2, t2 = m.groups()
    std_offset = dt.timedelta(seconds=-_seconds(std))   # POSIX counts west of Greenwich as positive
    dst_offset = dt.timedelta(seconds=-_seconds(dst_text)) if dst_text else std_offset + dt.timedelta(hours=1)
    t_on = _seconds(t1) if t1 else 7200
    t_off = _seconds(t2) if t2 else 7200
    if not (0 <= t_on < 86400 and 0 <= t_off < 86400):
        return None   # a change at 25:00 or -1:00 shifts the day; BYDAY cannot say that
    return _Rule(std_offset, dst_offset, _Change(int(m1), int(w1), int(d1), t_on),
                 _Change(int(m2), int(w2), int(d2), t_off))


def _utc_of(local: dt.datetime, offset: dt.timedelta) -> dt.datetime:
    return (local - offset).replace(tzinfo=_UTC)


def _rule_holds(tz: dt.tzinfo, rule: _Rule, year: int) -> bool:
    """Whether the zone changed exactly as `rule` says in `year` (checked just before and at each change)."""
    one = dt.timedelta(seconds=1)
    for change, before, after in ((rule.to_dst, rule.std_offset, rule.dst_offset),
                                  (rule.to_std, rule.dst_offset, rule.std_offset)):
        at = _utc_of(change.local(year), before)
        if (at - one).astimezone(tz).utcoffset() != before or at.astimezone(tz).utcoffset() != after:
            return False
    return True


def transitions(tz: dt.tzinfo, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.timedelta, dt.timedelta]]:
    """Every offset change of `tz` in [start, end): (UTC instant, offset before, offset after)."""
    found = []
    step = dt.timedelta(days=1)
    t = start.astimezone(_UTC)
    end = end.astimezone(_UTC)
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        nxt = min(t + step, end)
        off = nxt.astimezone(tz).utcoffset()
        if off != prev:
            lo, hi = t, nxt     # the change is in (lo, hi]: halve to the second
            while hi - lo > dt.timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(tz).utcoffset() == prev:
                    lo = mid
                else:
                    hi = mid
            assert prev is not None and off is not None
            found.append((hi, prev, off))
            prev = off
        t = nxt
    return found


def _observance(tz: dt.tzinfo, at_utc: dt.datetime, before: dt.timedelta, after: dt.timedelta) -> Any:
    from icalendar.cal import TimezoneDaylight, TimezoneStandard

    local = at_utc.astimezone(tz)
    comp = TimezoneDaylight() if local.dst() else TimezoneStandard()
    # DTSTART is the wall-clock time the change happens at, read in the offset before it
    comp.add("dtstart", (at_utc + before).replace(tzinfo=None))
    comp.add("tzoffsetfrom", before)
    comp.add("tzoffsetto", after)
    name = local.tzname()
    if name:
        comp.add("tzname", name)
    return comp


def vtimezone(tz: zoneinfo.ZoneInfo, first: dt.datetime, last: dt.datetime) -> Any:
    """An icalendar Timezone for `tz`, right for every moment from `first` on (and beyond `last`)."""
    from icalendar import Timezone
    from icalendar.cal import TimezoneDaylight, TimezoneStandard

    key = tz.key
    out = Timezone()
    out.add("tzid", key)
    rule = posix_rule(key)
    floor = first.year - 1
    rule_from: int | None = None
    if rule is not None:
        year = last.year + 1
        if _rule_holds(tz, rule, year):
            while year - 1 >= floor and _rule_holds(tz, rule, year - 1):
                year -= 1
            rule_from = year
    window_start = dt.datetime(floor, 1, 1, tzinfo=_UTC)
    window_end = dt.datetime(rule_from, 1, 1, tzinfo=_UTC) if rule_from else \
        dt.datetime(max(last.year, floor) + 2, 1, 1, tzinfo=_UTC)
    # What the zone is at the start of the window, so every moment after it has an observance.
    base = window_start.astimezone(tz)
    offset = base.utcoffset() or dt.timedelta()
    comp = TimezoneDaylight() if base.dst() else TimezoneStandard()
    comp.add("dtstart", dt.datetime(1970, 1, 1))
    comp.add("tzoffsetfrom", offset)
    comp.add("tzoffsetto", offset)
    if base.tzname():
        comp.add("tzname", base.tzname())
    out.add_component(comp)
    for at, before, after in transitions(tz, window_start, window_end):
        out.add_component(_observance(tz, at, before, after))
    if rule is not None and rule_from is not None:
        for change, before, after, cls in ((rule.to_dst, rule.std_offset, rule.dst_offset, TimezoneDaylight),
                                           (rule.to_std, rule.dst_offset, rule.std_offset, TimezoneStandard)):
            comp = cls()
            onset = change.local(rule_from)
            comp.add("dtstart", onset)
            comp.add("rrule", change.rrule())
            comp.add("tzoffsetfrom", before)
            comp.add("tzoffsetto", after)
            name = _utc_of(onset, before).astimezone(tz).tzname()
            if name:
                comp.add("tzname", name)
            out.add_component(comp)
    return out
