"""SLA clocks from ticket events: hand-computed cases with pauses, replies, reopening and calendars."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from crmkit.core.calendar import BusinessCalendar
from crmkit.core.sla import Policy, compute

TZ = ZoneInfo("Europe/Stockholm")
H = dt.timedelta(hours=1)
OFFICE = BusinessCalendar.from_config("office", {
    "timezone": "Europe/Stockholm",
    "hours": {d: ["08:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["SE"]})
POLICY = Policy("standard", None, "office",
                {"normal": {"first_response": 4 * H, "next_response": 4 * H, "resolution": 16 * H}},
                ("pending",))


def t(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=TZ)


def ev(kind: str, at: dt.datetime, **extra: object) -> dict:
    return {"type": kind, "at": at, "by": "x", **extra}


def states(ticket: dict, now: dt.datetime) -> dict:
    return {s.name: s for s in compute(ticket, POLICY, OFFICE, now, at_risk=0.75).targets}


BASE = {"priority": "normal", "status": "new", "created": t(2026, 11, 20, 15, 0)}  # a Friday afternoon


def test_first_response_runs_in_business_hours_and_is_met_by_our_reply() -> None:
    ticket = dict(BASE, events=[ev("created", t(2026, 11, 20, 15, 0))])
    s = states(ticket, t(2026, 11, 23, 9, 0))["first_response"]       # Fri 15-17 + Mon 8-9 = 3h
    assert s.elapsed == 3 * H and s.state == "at_risk" and s.due == t(2026, 11, 23, 10, 0)
    ticket["events"].append(ev("replied", t(2026, 11, 23, 9, 30)))
    s = states(ticket, t(2026, 11, 25, 9, 0))["first_response"]
    assert s.state == "met" and s.elapsed == dt.timedelta(hours=3, minutes=30)


def test_breach_and_when_it_happened() -> None:
    ticket = dict(BASE, events=[ev("created", t(2026, 11, 20, 15, 0))])
    s = states(ticket, t(2026, 11, 23, 14, 0))["first_response"]      # 2h + 4h (8-12) + 1h = 7h
    assert s.state == "breached" and s.elapsed == 7 * H
    assert s.due == t(2026, 11, 23, 10, 0)                            # the moment it ran out


def test_pending_pauses_every_clock_and_pauses_are_never_lost() -> None:
    ticket = dict(BASE, status="pending", events=[
        ev("created", t(2026, 11, 20, 15, 0)),
        ev("status", t(2026, 11, 20, 16, 0), to="pending"),
    ])
    s = states(ticket, t(2026, 11, 24, 16, 0))
    assert s["first_response"].state == "paused" and s["first_response"].elapsed == H
    assert s["resolution"].state == "paused" and s["resolution"].elapsed == H
    ticket["status"] = "open"
    ticket["events"].append(ev("status", t(2026, 11, 25, 8, 0), to="open"))
    s = states(ticket, t(2026, 11, 25, 10, 0))
    assert s["first_response"].elapsed == 3 * H and s["first_response"].state == "at_risk"


def test_next_response_runs_from_an_unanswered_customer_reply() -> None:
    ticket = dict(BASE, status="open", events=[
        ev("created", t(2026, 11, 20, 15, 0)), ev("replied", t(2026, 11, 20, 15, 30)),
        ev("customer_replied", t(2026, 11, 23, 8, 0))])
    s = states(ticket, t(2026, 11, 23, 11, 0))["next_response"]
    assert s.elapsed == 3 * H and s.state == "at_risk"
    ticket["events"].append(ev("replied", t(2026, 11, 23, 11, 30)))
    s = states(ticket, t(2026, 11, 24, 11, 0))["next_response"]
    assert s.state == "met" and s.elapsed == dt.timedelta(hours=3, minutes=30)


def test_resolution_stops_when_solved_and_goes_on_when_reopened() -> None:
    ticket = dict(BASE, status="solved", events=[
        ev("created", t(2026, 11, 20, 15, 0)), ev("replied", t(2026, 11, 20, 16, 0)),
        ev("status", t(2026, 11, 23, 10, 0), to="solved")])
    s = states(ticket, t(2026, 11, 30, 10, 0))["resolution"]
    assert s.state == "met" and s.elapsed == 4 * H                     # Fri 2h + Mon 2h
    ticket["status"] = "open"
    ticket["events"] += [ev("customer_replied", t(2026, 11, 24, 8, 0)), ev("status", t(2026, 11, 24, 8, 0), to="open")]
    s = states(ticket, t(2026, 11, 24, 12, 0))["resolution"]
    assert s.state == "running" and s.elapsed == 8 * H                 # 4h before + 4h since reopening


def test_changing_the_calendar_gives_a_new_deterministic_answer() -> None:
    ticket = dict(BASE, events=[ev("created", t(2026, 11, 20, 15, 0))])
    always = BusinessCalendar.always(TZ)
    a = compute(ticket, POLICY, always, t(2026, 11, 20, 18, 0)).targets[0]
    b = compute(ticket, POLICY, always, t(2026, 11, 20, 18, 0)).targets[0]
    assert a == b and a.elapsed == 3 * H and a.state == "at_risk" and a.due == t(2026, 11, 20, 19, 0)
