"""SLA history stays put: targets fixed when a clock starts, recorded breaches never move,
and due times where no business time is left (zero targets, targets used up at closing)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from crmkit.support.calendar import BusinessCalendar
from crmkit.support.sla import Policy, compute

TZ = ZoneInfo("Europe/Stockholm")
H = dt.timedelta(hours=1)
OFFICE = BusinessCalendar.from_config("office", {
    "timezone": "Europe/Stockholm", "hours": {d: ["08:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}})
POLICY = Policy("standard", None, "office", {
    "normal": {"first_response": 4 * H, "next_response": 4 * H, "resolution": 16 * H},
    "high": {"first_response": 2 * H, "next_response": 1 * H, "resolution": 8 * H},
    "urgent": {"first_response": dt.timedelta(0), "next_response": dt.timedelta(0), "resolution": 4 * H}},
    ("pending",))


def t(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=TZ)


def ev(kind: str, at: dt.datetime, **extra: object) -> dict:
    return {"type": kind, "at": at, "by": "x", **extra}


def states(ticket: dict, now: dt.datetime) -> dict:
    return {s.name: s for s in compute(ticket, POLICY, OFFICE, now, at_risk=0.75).targets}


def test_raising_the_priority_does_not_rewrite_a_breach() -> None:
    # Monday 07:30 (before opening), normal: first response due 12:00; tick records the breach
    created = t(2026, 11, 23, 7, 30)
    ticket = {"priority": "normal", "status": "new", "created": created, "events": [
        ev("created", created),
        ev("breached", t(2026, 11, 23, 12, 5), target="first_response", due=t(2026, 11, 23, 12, 0)),
        ev("priority", t(2026, 11, 23, 12, 5), **{"from": "normal", "to": "high"}),
    ]}
    ticket["priority"] = "high"
    s = states(ticket, t(2026, 11, 23, 13, 0))
    assert s["first_response"].target == 4 * H
    assert s["first_response"].state == "breached" and s["first_response"].due == t(2026, 11, 23, 12, 0)
    assert s["resolution"].target == 16 * H                     # started at creation, as normal
    assert "since 2026-11-23 12:00" in compute(ticket, POLICY, OFFICE, t(2026, 11, 23, 13, 0)).describe(TZ)


def test_a_recorded_breach_keeps_its_recorded_due_even_if_the_policy_changes() -> None:
    created = t(2026, 11, 23, 8, 0)
    ticket = {"priority": "normal", "status": "open", "created": created, "events": [
        ev("created", created),
        ev("breached", t(2026, 11, 23, 12, 30), target="first_response", due=t(2026, 11, 23, 12, 0))]}
    looser = Policy("standard", None, "office", {"normal": {"first_response": 6 * H}}, ("pending",))
    [fr] = compute(ticket, looser, OFFICE, t(2026, 11, 23, 13, 0)).targets
    assert fr.state == "breached" and fr.due == t(2026, 11, 23, 12, 0)


def test_a_priority_change_applies_to_clocks_that_start_afterwards() -> None:
    created = t(2026, 11, 23, 8, 0)
    ticket = {"priority": "high", "status": "open", "created": created, "events": [
        ev("created", created),
        ev("replied", t(2026, 11, 23, 9, 0)),
        ev("customer_replied", t(2026, 11, 23, 10, 0)),          # normal then: 4h next response
        ev("priority", t(2026, 11, 23, 11, 0), **{"from": "normal", "to": "high"}),
    ]}
    s = states(ticket, t(2026, 11, 23, 12, 0))
    assert s["next_response"].target == 4 * H and s["next_response"].due == t(2026, 11, 23, 14, 0)
    ticket["events"] += [ev("replied", t(2026, 11, 23, 12, 30)), ev("customer_replied", t(2026, 11, 23, 13, 0))]
    s = states(ticket, t(2026, 11, 23, 13, 30))
    assert s["next_response"].target == 1 * H and s["next_response"].due == t(2026, 11, 23, 14, 0)
    assert s["first_response"].target == 4 * H and s["first_response"].state == "met"


def test_a_zero_target_created_outside_hours_is_due_at_the_next_opening() -> None:
    created = t(2026, 11, 28, 12, 33)                           # a Saturday
    ticket = {"priority": "urgent", "status": "new", "created": created, "events": [ev("created", created)]}
    for now in (t(2026, 11, 28, 12, 33), t(2026, 11, 28, 18, 0), t(2026, 11, 30, 7, 59)):
        fr = states(ticket, now)["first_response"]
        assert fr.due == t(2026, 11, 30, 8, 0), now              # Monday 08:00, not "now"
        assert fr.state == "at_risk"
    fr = states(ticket, t(2026, 11, 30, 8, 1))["first_response"]
    assert fr.state == "breached" and fr.due == t(2026, 11, 30, 8, 0)
    # an answer before the office opens is in time
    ticket["events"].append(ev("replied", t(2026, 11, 29, 10, 0)))
    assert states(ticket, t(2026, 11, 30, 9, 0))["first_response"].state == "met"


def test_a_target_used_up_at_closing_has_a_fixed_due() -> None:
    created = t(2026, 11, 23, 13, 0)                            # Monday 13:00, 4h: due 17:00 sharp
    ticket = {"priority": "normal", "status": "new", "created": created, "events": [ev("created", created)]}
    assert states(ticket, t(2026, 11, 23, 16, 0))["first_response"].due == t(2026, 11, 23, 17, 0)
    for now in (t(2026, 11, 23, 18, 30), t(2026, 11, 23, 23, 0), t(2026, 11, 24, 7, 0)):
        fr = states(ticket, now)["first_response"]
        assert fr.due == t(2026, 11, 23, 17, 0), now
        assert fr.state == "breached", now
    # an answer at 17:00 sharp is in time; one after closing is not
    met = dict(ticket, events=ticket["events"] + [ev("replied", t(2026, 11, 23, 17, 0))])
    assert states(met, t(2026, 11, 24, 9, 0))["first_response"].state == "met"
    late = dict(ticket, events=ticket["events"] + [ev("replied", t(2026, 11, 23, 18, 0))])
    assert states(late, t(2026, 11, 24, 9, 0))["first_response"].state == "breached"


def test_due_of_a_running_clock_does_not_move_while_the_office_is_closed() -> None:
    created = t(2026, 11, 20, 15, 0)                            # Friday 15:00, 4h: Monday 10:00
    ticket = {"priority": "normal", "status": "new", "created": created, "events": [ev("created", created)]}
    dues = {states(ticket, now)["first_response"].due for now in (
        t(2026, 11, 20, 15, 30), t(2026, 11, 20, 17, 0), t(2026, 11, 21, 12, 0), t(2026, 11, 23, 9, 0))}
    assert dues == {t(2026, 11, 23, 10, 0)}
