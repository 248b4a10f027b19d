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
    cal = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, users=USERS,
                                  titles={"deal/b": "Beta"}))
    todos = list(cal.walk("VTODO"))
    assert [str(t["uid"]) for t in todos] == ["crmkit:activity/act-1", "crmkit:activity/act-2"]
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
    allday = [e for e in events if str(e["uid"]).endswith("/act-1")][0]
    assert allday.decoded("dtstart") == dt.date(2026, 11, 20) and allday.decoded("dtend") == dt.date(2026, 11, 21)
    timed = [e for e in events if str(e["uid"]).endswith("/act-2")][0]
    assert (timed.decoded("dtend") - timed.decoded("dtstart")) == dt.timedelta(minutes=30)


def test_done_todo_is_completed() -> None:
    cal = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, include_done=True))
    done = [t for t in cal.walk("VTODO") if str(t["uid"]).endswith("/act-3")][0]
    assert str(done["status"]) == "COMPLETED" and "completed" in done


def test_same_input_same_output() -> None:
    a = follow_ups_to_ics(ACTS, now=NOW, tz=TZ)
    assert a == follow_ups_to_ics(list(reversed(ACTS)), now=NOW, tz=TZ)


def test_empty() -> None:
    cal = parse(follow_ups_to_ics([], now=NOW, tz=TZ))
    assert list(cal.walk("VTODO")) == []


# -- the VTIMEZONE as other calendar programs read it ------------------------------------------
#
# Readers such as vobject (and ical.js, Outlook) take a TZID's meaning from the file's
# VTIMEZONE, not from their own tz database, so these tests read the times through the
# VTIMEZONE only: vobject, and icalendar with its TZID lookup turned off.

SPRING = dt.datetime(2027, 3, 28, 3, 30, tzinfo=TZ)     # 30 minutes after the spring change (02:00 -> 03:00)
SUMMER_2040 = dt.datetime(2040, 7, 10, 10, 0, tzinfo=TZ)  # beyond 2037, where lists of change dates stop
WINTER = dt.datetime(2027, 1, 15, 9, 0, tzinfo=TZ)
AUTUMN = dt.datetime(2031, 10, 26, 3, 30, tzinfo=TZ)     # just after the autumn change (03:00 -> 02:00)
MOMENTS = {"spring": SPRING, "summer-2040": SUMMER_2040, "winter": WINTER, "autumn": AUTUMN}


def _calendar_of_moments() -> bytes:
    acts = [(name, {"type": "task", "subject": name, "due": when}) for name, when in MOMENTS.items()]
    return follow_ups_to_ics(acts, now=NOW, tz=TZ)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def test_vtimezone_read_by_vobject_gives_the_real_utc_times() -> None:
    import vobject

    cal = vobject.readOne(_calendar_of_moments().decode("utf-8"))
    got = {str(t.summary.value): _utc(t.due.value) for t in cal.vtodo_list}
    assert got == {name: _utc(when) for name, when in MOMENTS.items()}
    assert got["spring"] == dt.datetime(2027, 3, 28, 1, 30, tzinfo=dt.UTC)
    assert got["summer-2040"] == dt.datetime(2040, 7, 10, 8, 0, tzinfo=dt.UTC)


def test_vtimezone_read_by_icalendar_without_its_tz_database() -> None:
    cal = Calendar.from_ical(_calendar_of_moments())
    (vtz,) = cal.walk("VTIMEZONE")
    zone = vtz.to_tz(lookup_tzid=False)     # the VTIMEZONE's own rules, not Python's zoneinfo
    for todo in cal.walk("VTODO"):
        wall = todo.decoded("due").replace(tzinfo=None)
        assert _utc(wall.replace(tzinfo=zone)) == _utc(MOMENTS[str(todo["summary"])]), str(todo["summary"])


def test_vtimezone_follows_rfc5545() -> None:
    text = _calendar_of_moments().decode("utf-8")
    block = text[text.index("BEGIN:VTIMEZONE"):text.index("END:VTIMEZONE")]
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VTODO")
    # the onsets are wall-clock times in the offset before the change, and the rules never end
    assert "DTSTART:20260329T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in block
    assert "DTSTART:20261025T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in block
    assert "RDATE" not in block and "UNTIL" not in block


def test_uids_come_from_record_ids_not_the_firm_name() -> None:
    cal = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, calendar_name="Fjordlys"))
    renamed = parse(follow_ups_to_ics(ACTS, now=NOW, tz=TZ, calendar_name="Fjordlys Nordic AB"))
    uids = [str(t["uid"]) for t in cal.walk("VTODO")]
    assert uids == ["crmkit:activity/act-1", "crmkit:activity/act-2"]
    assert uids == [str(t["uid"]) for t in renamed.walk("VTODO")]


def test_a_zone_without_summer_time_and_one_that_changed_its_rules() -> None:
    import vobject

    for name, when in [("Asia/Tokyo", dt.datetime(2030, 7, 1, 9, 0)),
                       # Mexico City dropped summer time in 2022: a 2021 summer time and a 2023 one
                       ("America/Mexico_City", dt.datetime(2021, 7, 1, 9, 0)),
                       ("America/Mexico_City", dt.datetime(2023, 7, 1, 9, 0)),
                       ("America/New_York", dt.datetime(2045, 7, 4, 12, 0))]:
        zone = ZoneInfo(name)
        due = when.replace(tzinfo=zone)
        data = follow_ups_to_ics([("a", {"type": "task", "subject": "x", "due": due}),
                                  ("b", {"type": "task", "subject": "y", "due": dt.datetime(2020, 1, 1, tzinfo=zone)})],
                                 now=NOW, tz=zone)
        todo = [t for t in vobject.readOne(data.decode()).vtodo_list if t.summary.value == "x"][0]
        assert _utc(todo.due.value) == _utc(due), (name, when)
