"""Business calendars: opening hours, public holidays and exceptions, and time measured in them.

    calendars:
      office:
        timezone: Europe/Stockholm
        hours:                       # per weekday; split days allowed; a missing day is closed
          mon: [08:00-12:00, 13:00-17:00]
          tue: [08:00-17:00]
          ...
        holidays: [SE]               # public holidays of these countries (the `holidays` library;
                                     # a region as DE-BY)
        exceptions:
          2026-12-23: [08:00-12:00]  # a shorter day
          2026-12-28: []             # closed
        day: 8h                      # what "1d" means in SLA targets (default: the longest weekday)
      always:
        hours: 24/7                  # round the clock, every day

Opening hours are wall-clock times in the calendar's zone, so they follow the
changes to and from daylight saving time; durations are measured in real time
(a 24/7 day across the October change is 25 hours long).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crmkit.errors import CrmkitError

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

UTC = dt.UTC
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhm])")
#: How far ahead a calendar is searched for open time before giving up (a calendar that
#: is never open would otherwise loop for ever).
HORIZON_DAYS = 3 * 366

Span = tuple[dt.time, dt.time | None]  # None as the end means midnight at the end of the day


def _parse_span(text: Any, where: str) -> Span:
    m = _SPAN.match(str(text))
    if not m:
        raise CrmkitError(f"{where}: {text!r} is not opening hours like 08:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise CrmkitError(f"{where}: {text!r} is not a time of day")
    start = dt.time(h1, m1)
    end = None if h2 == 24 else dt.time(h2, m2)
    if end is not None and end <= start:
        raise CrmkitError(f"{where}: {text!r} ends before it starts")
    return start, end


def _parse_spans(value: Any, where: str) -> list[Span]:
    if value in (None, "", "closed"):
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise CrmkitError(f"{where}: expected a list of opening hours like [08:00-12:00, 13:00-17:00]")
    spans = sorted((_parse_span(v, where) for v in value), key=lambda s: s[0])
    for (_s1, e1), (s2, _e2) in zip(spans, spans[1:]):
        if e1 is None or e1 > s2:
            raise CrmkitError(f"{where}: opening hours overlap")
    return spans


def parse_duration(text: Any, day: dt.timedelta = dt.timedelta(hours=8)) -> dt.timedelta:
    """'4h', '30m', '2d', '1d 4h' -> business time; a day is the calendar's business day."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return dt.timedelta(hours=float(text))
    s = str(text).strip().lower()
    parts = _DURATION.findall(s)
    if not parts or _DURATION.sub("", s).strip():
        raise CrmkitError(f"{text!r} is not a duration like 4h, 30m or 2d")
    total = dt.timedelta()
    for amount, unit in parts:
        n = float(amount)
        total += day * n if unit == "d" else dt.timedelta(hours=n) if unit == "h" else dt.timedelta(minutes=n)
    return total


def format_duration(td: dt.timedelta) -> str:
    """A business duration for people: '3h 20m', '-1h 5m' when overdue."""
    seconds = int(td.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rest = divmod(seconds, 3600)
    m = rest // 60
    return f"{sign}{h}h {m:02d}m" if h else f"{sign}{m}m"


@lru_cache(maxsize=32)
def _holidays(countries: tuple[str, ...], year: int) -> frozenset[dt.date]:
    import holidays

    days: set[dt.date] = set()
    for code in countries:
        country, _, subdiv = code.partition("-")  # "DE-BY": a country's region
        try:
            days.update(holidays.country_holidays(country, subdiv=subdiv or None, years=year).keys())
        except NotImplementedError:
            raise CrmkitError(f"no public holidays are known for country {code!r}") from None
    return frozenset(days)


@dataclass
class BusinessCalendar:
    name: str
    tz: ZoneInfo
    week: dict[int, list[Span]] = field(default_factory=dict)     # weekday (0 = Monday) -> spans
    holiday_countries: tuple[str, ...] = ()
    exceptions: dict[dt.date, list[Span]] = field(default_factory=dict)
    day: dt.timedelta = dt.timedelta(hours=8)
    #: open intervals per local date; reports measure thousands of spans over the same days
    _cache: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict, repr=False,
                                                                         compare=False)
    #: cumulative open time of whole days from _cum_start (see _whole_days)
    _cum_start: dt.date | None = field(default=None, repr=False, compare=False)
    _cum: list[dt.timedelta] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def always(cls, tz: ZoneInfo, name: str = "24/7") -> BusinessCalendar:
        full = [(dt.time(0, 0), None)]
        return cls(name, tz, {d: list(full) for d in range(7)}, day=dt.timedelta(hours=24))

    @classmethod
    def from_config(cls, name: str, cfg: Any, default_tz: str = "UTC") -> BusinessCalendar:
        where = f"calendars.{name}"
        if not isinstance(cfg, dict):
            raise CrmkitError(f"{where}: expected a mapping with hours (and timezone, holidays, exceptions)")
        try:
            tz = ZoneInfo(str(cfg.get("timezone", default_tz)))
        except (ZoneInfoNotFoundError, ValueError):
            raise CrmkitError(f"{where}: unknown time zone {cfg.get('timezone')!r}") from None
        hours = cfg.get("hours")
        if hours in ("24/7", "always"):
            cal = cls.always(tz, name)
        else:
            if not isinstance(hours, dict):
                raise CrmkitError(f"{where}.hours: expected opening hours per weekday (mon: [08:00-17:00]) or 24/7")
            unknown = [k for k in hours if str(k).lower()[:3] not in DAYS]
            if unknown:
                raise CrmkitError(f"{where}.hours: {unknown[0]!r} is not a weekday (mon, tue, ... sun)")
            week = {DAYS.index(str(k).lower()[:3]): _parse_spans(v, f"{where}.hours.{k}") for k, v in hours.items()}
            cal = cls(name, tz, week)
        countries = cfg.get("holidays") or []
        if isinstance(countries, str):
            countries = [countries]
        cal.holiday_countries = tuple(str(c).upper() for c in countries)
        for key, value in (cfg.get("exceptions") or {}).items():
            try:
                day = key if isinstance(key, dt.date) else dt.date.fromisoformat(str(key))
            except ValueError:
                raise CrmkitError(f"{where}.exceptions: {key!r} is not a date") from None
            cal.exceptions[day] = _parse_spans(value, f"{where}.exceptions.{key}")
        if "day" in cfg:
            cal.day = parse_duration(cfg["day"], dt.timedelta(hours=24))
        elif cal.week and hours not in ("24/7", "always"):
            cal.day = max((cal._span_length(d, spans) for d, spans in cal.week.items()), default=dt.timedelta(hours=8))
        if not any(cal.week.values()) and not any(cal.exceptions.values()):
            raise CrmkitError(f"{where}: the calendar is never open")
        return cal

    @staticmethod
    def _span_length(_weekday: int, spans: list[Span]) -> dt.timedelta:
        total = dt.timedelta()
        base = dt.date(2001, 1, 1)
        for start, end in spans:
            e = dt.datetime.combine(base, end) if end else dt.datetime.combine(base + dt.timedelta(days=1), dt.time())
            total += e - dt.datetime.combine(base, start)
        return total

    def duration(self, text: Any) -> dt.timedelta:
        """A target such as '4h', '30m' or '2d' in this calendar ('d' is its business day)."""
        return parse_duration(text, self.day)

    # -- opening hours -----------------------------------------------------------------

    def spans_on(self, day: dt.date) -> list[Span]:
        if day in self.exceptions:
            return self.exceptions[day]
        if self.holiday_countries and day in _holidays(self.holiday_countries, day.year):
            return []
        return self.week.get(day.weekday(), [])

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Open intervals of a local calendar day, in UTC.

        UTC on purpose: Python compares and subtracts two datetimes that share a tzinfo by
        their wall-clock times, which is wrong across a daylight saving change."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        out = []
        for start, end in self.spans_on(day):
            s = dt.datetime.combine(day, start, tzinfo=self.tz)
            e = (dt.datetime.combine(day, end, tzinfo=self.tz) if end
                 else dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=self.tz))
            # wall-clock times that do not exist (02:30 on the spring change) fold forward
            s, e = _real(s).astimezone(UTC), _real(e).astimezone(UTC)
            if e > s:
                out.append((s, e))
        self._cache[day] = out
        return out

    def is_open(self, when: dt.datetime) -> bool:
        when = when.astimezone(UTC)
        local = when.astimezone(self.tz)
        return any(s <= when < e for s, e in self.intervals_on(local.date()))

    def _days_from(self, when: dt.datetime, backwards: bool = False) -> Any:
        day = when.astimezone(self.tz).date() - dt.timedelta(days=1 if not backwards else -1)
        step = dt.timedelta(days=-1 if backwards else 1)
        for _ in range(HORIZON_DAYS):
            yield day
            day += step
        raise CrmkitError(f"calendar {self.name}: no open time within {HORIZON_DAYS} days")

    # -- arithmetic ----------------------------------------------------------------------

    def add(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The moment `duration` of business time after `start` (start itself may be outside hours)."""
        _aware(start)
        start = start.astimezone(UTC)
        if duration < dt.timedelta(0):
            raise CrmkitError("cannot add a negative business duration")
        left = duration
        for day in self._days_from(start):
            for s, e in self.intervals_on(day):
                if e <= start:
                    continue
                begin = max(s, start)
                room = e - begin
                if left <= room:
                    return (begin + left).astimezone(self.tz)
                left -= room
        raise AssertionError("unreachable")  # pragma: no cover

    def between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Business time from a to b (negative when b is before a)."""
        _aware(a)
        _aware(b)
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        if b < a:
            return -self.between(b, a)
        first, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        if (last - first).days <= 2:
            return self._clipped(first - dt.timedelta(days=1), last + dt.timedelta(days=1), a, b)
        # Opening hours never cross local midnight, so a long span is its first day from a,
        # the whole days in between (prefix sums) and its last day up to b.
        return (self._clipped(first, first, a, b) + self._whole_days(first + dt.timedelta(days=1), last)
                + self._clipped(last, last, a, b))

    def _clipped(self, first: dt.date, last: dt.date, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        total = dt.timedelta()
        day = first
        while day <= last:
            for s, e in self.intervals_on(day):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total

    def _whole_days(self, first: dt.date, end: dt.date) -> dt.timedelta:
        """Open time of the days first .. end-1, from cumulative sums built on demand: reports
        measure thousands of tickets over months of history."""
        if first >= end:
            return dt.timedelta()
        self._extend(first, end)
        base, cum = self._cum_start, self._cum
        assert base is not None and cum is not None  # _extend has set both
        return cum[(end - base).days] - cum[(first - base).days]

    def _open_time(self, day: dt.date) -> dt.timedelta:
        return sum((e - s for s, e in self.intervals_on(day)), dt.timedelta())

    def _extend(self, first: dt.date, end: dt.date) -> None:
        if self._cum is None or self._cum_start is None:
            self._cum_start, self._cum = first, [dt.timedelta()]
        if first < self._cum_start:
            start = first - dt.timedelta(days=366)
            prefix = [dt.timedelta()]
            day = start
            while day < self._cum_start:
                prefix.append(prefix[-1] + self._open_time(day))
                day += dt.timedelta(days=1)
            shift = prefix[-1]
            self._cum = prefix[:-1] + [c + shift for c in self._cum]
            self._cum_start = start
        top = self._cum_start + dt.timedelta(days=len(self._cum) - 1)
        if end > top:
            end = max(end, top + dt.timedelta(days=366))
            while top < end:
                self._cum.append(self._cum[-1] + self._open_time(top))
                top += dt.timedelta(days=1)


def _aware(when: dt.datetime) -> None:
    if not isinstance(when, dt.datetime) or when.tzinfo is None:
        raise CrmkitError(f"{when!r} has no time zone")


def _real(local: dt.datetime) -> dt.datetime:
    """A wall-clock time as a real instant. A time skipped by the spring change (02:30 in
    Stockholm on 2026-03-29) becomes the first real moment after the gap (03:00), so an
    opening hour that starts inside the gap opens when the clocks have moved on."""
    if _exists(local):
        return local
    probe = local
    for _ in range(24 * 60):  # gaps are at most a few hours long
        probe = (probe.replace(tzinfo=None) + dt.timedelta(minutes=1)).replace(tzinfo=local.tzinfo)
        if _exists(probe):
            # the first existing minute: step back over any seconds past the gap's end
            return probe.replace(second=0, microsecond=0)
    return local.astimezone(dt.UTC).astimezone(local.tzinfo)  # pragma: no cover


def _exists(local: dt.datetime) -> bool:
    back = local.astimezone(dt.UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def calendars(ws: Workspace) -> dict[str, BusinessCalendar]:
    """Every calendar in crmkit.yaml plus `24/7` in the workspace zone, cached per workspace."""
    cached: dict[str, BusinessCalendar] | None = ws.readers.get("calendars")
    if cached is not None:
        return cached
    out = {"24/7": BusinessCalendar.always(ws.tz)}
    for name, cfg in (ws.config.get("calendars") or {}).items():
        out[str(name)] = BusinessCalendar.from_config(str(name), cfg, str(ws.tz.key))
    ws.readers["calendars"] = out
    return out
