"""Follow-ups as iCalendar: parseable, stable UIDs, dates vs times, done items."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar

from crmkit.io.ics import follow_ups_to_ics

TZ = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
ACTS = [
    ("act-2", {"type": "call", "subject": "Demo", "due": "2026-11-23T15:00:00+01:00", "owner": "karin", "deal": "b"}),
    ("act-1", {"type": "task", "subject": "Call back", "due": dt.date(2026, 11, 20), "owner": "daniel",
               "body": "Ask about the budget"}),
    ("act-3", {"type": "task", "subject": "Old", "due": "2026-11-01", "done": "2026-11-02T08:00:00+01:00"}),
    ("act-4", {"type": "note", "subject": "No due date"}),
]
USERS = {"karin": {"name": "Karin Lind", "email": "karin@example.se"}}


def parse(data: bytes) -> Calendar:
    assert b"\r\n" in data
    return Calendar.from_ical(data)


def test_todos() -> None:
    cal = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, uid_domain="fjordlys.crmkit", users=USERS,
                                  titles={"deal/b": "Beta"}))
    todos = list(cal.walk("VTODO"))
    assert [str(t["uid"]) for t in todos] == ["act-1@fjordlys.crmkit", "act-2@fjordlys.crmkit"]
    first, second = todos
    assert first.decoded("due") == dt.date(2026, 11, 20)
    assert "Ask about the budget" in str(first["description"])
    assert str(first["status"]) == "NEEDS-ACTION"
    assert second.decoded("due") == dt.datetime(2026, 11, 23, 15, 0, tzinfo=TZ)
    assert "TZID=Europe/Stockholm" in second.to_ical().decode()
    assert str(second["summary"]) == "Demo (Beta)"
    assert "karin@example.se" in str(second["attendee"])


def test_events_and_done() -> None:
    cal = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, component="event", include_done=True))
    events = list(cal.walk("VEVENT"))
    assert len(events) == 3
    allday = [e for e in events if str(e["uid"]).startswith("act-1@")][0]
    assert allday.decoded("dtstart") == dt.date(2026, 11, 20) and allday.decoded("dtend") == dt.date(2026, 11, 21)
    timed = [e for e in events if str(e["uid"]).startswith("act-2@")][0]
    assert (timed.decoded("dtend") - timed.decoded("dtstart")) == dt.timedelta(minutes=30)


def test_done_todo_is_completed() -> None:
    cal = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, include_done=True))
    done = [t for t in cal.walk("VTODO") if str(t["uid"]).startswith("act-3@")][0]
    assert str(done["status"]) == "COMPLETED" and "completed" in done


def test_same_input_same_output() -> None:
    a = follow_ups_to_ics(ACTS, now=NOW, tz=TZ)
    assert a == follow_ups_to_ics(list(reversed(ACTS)), now=NOW, tz=TZ)


def test_empty() -> None:
    cal = parse(follow_ups_to_ics([], now=NOW, tz=TZ))
    assert list(cal.walk("VTODO")) == []
