"""SLA clocks from ticket events: hand-computed cases with pauses, replies, reopening and calendars."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from crmkit.support.calendar import BusinessCalendar
from crmkit.support.sla import Policy, compute

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


# -- more hand-computed clocks ----------------------------------------------------------------

import pytest  # noqa: E402

from crmkit.store.workspace import Workspace  # noqa: E402
from crmkit.support.sla import policy_for, sla_state, sla_summary, waiting_hours  # noqa: E402
from crmkit.support.sla_checks import check_config  # noqa: E402


def test_first_response_across_the_autumn_dst_change() -> None:
    ticket = dict(BASE, created=t(2026, 10, 23, 15, 30), events=[ev("created", t(2026, 10, 23, 15, 30))])
    s = states(ticket, t(2026, 10, 23, 17, 0))["first_response"]        # 1.5h used on Friday (CEST)
    assert s.due == t(2026, 10, 26, 10, 30) and s.due.utcoffset() == H  # Monday, CET: 2.5h more
    s = states(ticket, t(2026, 10, 26, 11, 0))["first_response"]
    assert s.state == "breached" and s.elapsed == dt.timedelta(hours=4, minutes=30)


def test_first_response_across_the_spring_dst_change() -> None:
    ticket = dict(BASE, created=t(2026, 3, 27, 16, 0), events=[ev("created", t(2026, 3, 27, 16, 0))])
    s = states(ticket, t(2026, 3, 28, 12, 0))["first_response"]
    assert s.due == t(2026, 3, 30, 11, 0) and s.due.utcoffset() == 2 * H


def test_swedish_holidays_stop_the_clock() -> None:
    # Maundy Thursday 16:00; Good Friday and Easter Monday are holidays
    ticket = dict(BASE, created=t(2026, 4, 2, 16, 0), events=[ev("created", t(2026, 4, 2, 16, 0))])
    s = states(ticket, t(2026, 4, 6, 12, 0))["first_response"]
    assert s.elapsed == H and s.state == "running" and s.due == t(2026, 4, 7, 11, 0)


def test_a_ticket_solved_without_a_reply_stops_the_response_clock() -> None:
    ticket = dict(BASE, status="solved", events=[
        ev("created", t(2026, 11, 23, 9, 0)), ev("status", t(2026, 11, 23, 10, 0), to="solved")],
        created=t(2026, 11, 23, 9, 0))
    s = states(ticket, t(2026, 11, 30, 9, 0))
    assert s["first_response"].state == "met" and s["first_response"].elapsed == H
    assert s["resolution"].state == "met"


def test_resolution_counts_from_solving_not_from_closing() -> None:
    ticket = dict(BASE, status="closed", created=t(2026, 11, 23, 9, 0), events=[
        ev("created", t(2026, 11, 23, 9, 0)), ev("replied", t(2026, 11, 23, 9, 30)),
        ev("status", t(2026, 11, 23, 11, 0), to="solved"), ev("status", t(2026, 11, 27, 11, 0), to="closed")])
    s = states(ticket, t(2026, 12, 1, 9, 0))["resolution"]
    assert s.state == "met" and s.elapsed == 2 * H and s.stopped_at == t(2026, 11, 23, 11, 0)


def test_pause_in_the_middle_of_a_next_response_wait() -> None:
    ticket = dict(BASE, status="open", created=t(2026, 11, 23, 8, 0), events=[
        ev("created", t(2026, 11, 23, 8, 0)), ev("replied", t(2026, 11, 23, 8, 30)),
        ev("customer_replied", t(2026, 11, 23, 9, 0)),
        ev("status", t(2026, 11, 23, 10, 0), to="pending"), ev("status", t(2026, 11, 24, 10, 0), to="open")])
    s = states(ticket, t(2026, 11, 24, 11, 0))["next_response"]
    assert s.elapsed == 2 * H and s.state == "running"   # 9-10 Monday, 10-11 Tuesday


def test_second_round_of_next_response() -> None:
    ticket = dict(BASE, status="open", created=t(2026, 11, 23, 8, 0), events=[
        ev("created", t(2026, 11, 23, 8, 0)), ev("replied", t(2026, 11, 23, 8, 30)),
        ev("customer_replied", t(2026, 11, 23, 9, 0)), ev("replied", t(2026, 11, 23, 9, 30)),
        ev("customer_replied", t(2026, 11, 23, 13, 0))])
    s = states(ticket, t(2026, 11, 23, 16, 30))["next_response"]
    assert s.elapsed == dt.timedelta(hours=3, minutes=30) and s.state == "at_risk"
    assert s.due == t(2026, 11, 23, 17, 0)


def test_at_risk_threshold_is_configurable() -> None:
    ticket = dict(BASE, created=t(2026, 11, 23, 8, 0), events=[ev("created", t(2026, 11, 23, 8, 0))])
    now = t(2026, 11, 23, 10, 30)                                          # 2.5 of 4 hours: 62.5%
    assert compute(ticket, POLICY, OFFICE, now, at_risk=0.75).targets[0].state == "running"
    assert compute(ticket, POLICY, OFFICE, now, at_risk=0.6).targets[0].state == "at_risk"


def test_event_times_in_other_zones_are_the_same_instants() -> None:
    utc = dt.UTC
    ticket = dict(BASE, created=dt.datetime(2026, 11, 23, 7, 0, tzinfo=utc),
                  events=[ev("created", dt.datetime(2026, 11, 23, 7, 0, tzinfo=utc)),
                          ev("replied", dt.datetime(2026, 11, 23, 8, 0, tzinfo=utc))])
    s = states(ticket, t(2026, 11, 24, 9, 0))["first_response"]
    assert s.state == "met" and s.elapsed == H


# -- policies from crmkit.yaml ------------------------------------------------------------------

SLA_CONFIG = """
calendars:
  office:
    timezone: Europe/Stockholm
    hours: {mon: [08:00-12:00, 13:00-17:00], tue: [08:00-17:00], wed: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-16:00]}
    holidays: [SE]
sla:
  at_risk: 0.5
  policies:
    - id: outage
      when: '"outage" in tags'
      calendar: 24/7
      pause_on: []
      targets:
        normal: {first_response: 30m, resolution: 4h}
    - id: gold
      when: company.agreement == gold
      calendar: office
      targets:
        normal: {first_response: 1h, resolution: 1d}
    - id: standard
      calendar: office
      targets:
        default: {first_response: 1d, resolution: 5d}
"""


@pytest.fixture
def sla_ws(make_ws):
    from conftest import MINIMAL_CONFIG

    root = make_ws({
        "crmkit.yaml": MINIMAL_CONFIG + SLA_CONFIG,
        "companies/gold-ab.yaml": "name: Gold AB\nagreement: gold\n",
        "companies/plain-ab.yaml": "name: Plain AB\n",
        "tickets/tk-20261123-aaaaa.yaml": "subject: Down\ncompany: gold-ab\npriority: normal\nstatus: new\n"
                                          "tags: [outage]\ncreated: 2026-11-23T09:00:00+01:00\nevents:\n"
                                          "  - {type: created, at: 2026-11-23T09:00:00+01:00, by: x}\n",
        "tickets/tk-20261123-bbbbb.yaml": "subject: Gold\ncompany: gold-ab\npriority: normal\nstatus: new\n"
                                          "created: 2026-11-23T09:00:00+01:00\nevents:\n"
                                          "  - {type: created, at: 2026-11-23T09:00:00+01:00, by: x}\n",
        "tickets/tk-20261123-ccccc.yaml": "subject: Plain\ncompany: plain-ab\npriority: low\nstatus: open\n"
                                          "created: 2026-11-23T09:00:00+01:00\nevents:\n"
                                          "  - {type: created, at: 2026-11-23T09:00:00+01:00, by: x}\n",
    })
    return Workspace(root, now="2026-11-23T09:40:00+01:00")


def test_the_first_matching_policy_applies(sla_ws) -> None:
    picked = {r.id[-5:]: policy_for(sla_ws, r).id for r in sla_ws.records("ticket")}
    assert picked == {"aaaaa": "outage", "bbbbb": "gold", "ccccc": "standard"}


def test_summary_for_conditions_json_and_people(sla_ws) -> None:
    gold = sla_ws.get("tk-20261123-bbbbb")
    summary = sla_summary(sla_ws, gold)
    assert summary["policy"] == "gold" and summary["state"] == "at_risk"    # 40 of 60 minutes, threshold 50%
    assert summary["next"] == "first_response" and summary["left"] == "20m"
    assert summary["first_response"]["due"] == "2026-11-23T10:00:00+01:00"
    assert summary["waiting_hours"] == pytest.approx(0.67)
    assert str(summary).startswith("at_risk (gold/office): first_response at_risk, 20m left (due 2026-11-23 10:00)")
    assert json.loads(json.dumps(summary))["policy"] == "gold"
    plain = sla_state(sla_ws, sla_ws.get("tk-20261123-ccccc"))
    assert [t.name for t in plain.targets] == ["first_response", "resolution"]  # `default` targets
    assert plain.targets[0].target == 9 * H                                      # 1d: the longest weekday (tue)
    assert waiting_hours(sla_ws, sla_ws.get("tk-20261123-aaaaa")) == pytest.approx(0.67)


@pytest.mark.parametrize("bad, message", [
    ("    - id: broken\n      calendar: nowhere\n", "unknown calendar 'nowhere'"),
    ("    - id: broken\n      when: 'tags =>'\n", "sla.policies[4].when"),
    ("    - id: broken\n      targets: {normal: {first_response: soon}}\n", "not a duration"),
    ("    - id: broken\n      targets: {normal: {answer: 1h}}\n", "unknown target 'answer'"),
    ("    - targets: {normal: {first_response: 1h}}\n", "needs an id"),
])
def test_check_reports_bad_sla_config(make_ws, bad: str, message: str) -> None:
    from conftest import MINIMAL_CONFIG

    problems = check_config(Workspace(make_ws({"crmkit.yaml": MINIMAL_CONFIG + SLA_CONFIG + bad}, git=False)))
    assert len(problems) == 1 and problems[0].code == "sla-config" and message in problems[0].message
    assert problems[0].path == "crmkit.yaml" and problems[0].line is not None


def test_a_good_sla_config_has_no_problems(sla_ws) -> None:
    assert check_config(sla_ws) == []


@pytest.mark.parametrize("bad, message", [
    ("    - id: broken\n      targets: {critical: {first_response: 1h}}\n", "'critical' is not a priority"),
    ("    - id: broken\n      pause_on: [waiting]\n", "'waiting' is not a status"),
])
def test_check_reports_unknown_priorities_and_statuses(make_ws, bad: str, message: str) -> None:
    from conftest import MINIMAL_CONFIG

    problems = check_config(Workspace(make_ws({"crmkit.yaml": MINIMAL_CONFIG + SLA_CONFIG + bad}, git=False)))
    assert [p.code for p in problems] == ["sla-config"] and message in problems[0].message


def test_at_risk_may_be_a_percentage(make_ws) -> None:
    from conftest import MINIMAL_CONFIG

    from crmkit.support.sla import load_policies

    ws = Workspace(make_ws({"crmkit.yaml": MINIMAL_CONFIG + SLA_CONFIG.replace("at_risk: 0.5", "at_risk: 80%")},
                           git=False))
    assert load_policies(ws)[1] == pytest.approx(0.8)


def test_a_status_edited_by_hand_is_believed_from_the_last_event() -> None:
    ticket = dict(BASE, status="pending", created=t(2026, 11, 23, 8, 0), events=[
        ev("created", t(2026, 11, 23, 8, 0)), ev("replied", t(2026, 11, 23, 9, 0)),
        ev("status", t(2026, 11, 23, 9, 0), to="open")])
    s = states(ticket, t(2026, 11, 24, 12, 0))["resolution"]
    assert s.state == "paused" and s.elapsed == H


def test_check_warns_about_a_status_without_its_event(make_ws) -> None:
    from conftest import MINIMAL_CONFIG

    root = make_ws({"crmkit.yaml": MINIMAL_CONFIG + SLA_CONFIG,
                    "tickets/tk-20261123-ddddd.yaml": "subject: X\nstatus: solved\npriority: normal\nevents:\n"
                    "  - {type: created, at: 2026-11-23T08:00:00+01:00, by: x}\n"
                    "  - {type: status, at: 2026-11-23T09:00:00+01:00, by: x, to: open}\n"}, git=False)
    problems = check_config(Workspace(root))
    assert [(p.path, p.line, p.code) for p in problems] == [("tickets/tk-20261123-ddddd.yaml", 2, "ticket-status")]
    assert "crmkit ticket status tk-20261123-ddddd solved" in problems[0].message


# -- properties of the clocks ------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_steps = st.lists(st.tuples(st.integers(min_value=1, max_value=60 * 60),
                            st.sampled_from(["open", "pending", "solved", "closed", "replied", "customer_replied"])),
                  max_size=8)


def _history(steps: list[tuple[int, str]]) -> tuple[dict, list[dt.datetime]]:
    created = t(2026, 3, 20, 9, 0)  # the spring DST change falls inside most histories
    at, events, status, times = created, [ev("created", created)], "new", []
    for minutes, what in steps:
        at = at + dt.timedelta(minutes=minutes)
        times.append(at)
        if what in ("replied", "customer_replied"):
            events.append(ev(what, at))
        elif not (status == "closed" and what != "open"):
            events.append(ev("status", at, to=what))
            status = what
    return dict(BASE, created=created, status=status, events=events), times


@settings(max_examples=80, deadline=None)
@given(steps=_steps, later=st.integers(min_value=0, max_value=60 * 60))
def test_elapsed_business_time_never_goes_back_and_never_exceeds_the_calendar(steps, later) -> None:
    ticket, times = _history(steps)
    end = (times[-1] if times else ticket["created"]) + dt.timedelta(minutes=1)
    a = {s.name: s for s in compute(ticket, POLICY, OFFICE, end).targets}
    b = {s.name: s for s in compute(ticket, POLICY, OFFICE, end + dt.timedelta(minutes=later)).targets}
    for name, s in a.items():
        assert dt.timedelta(0) <= s.elapsed <= OFFICE.between(ticket["created"], end)
        if name in b and name != "next_response":
            assert b[name].elapsed >= s.elapsed
            if s.state in ("met", "breached") and s.stopped_at is not None:
                assert (b[name].state, b[name].elapsed) == (s.state, s.elapsed)   # decided targets stay decided


@settings(max_examples=80, deadline=None)
@given(steps=_steps, pause=st.integers(min_value=1, max_value=60 * 24 * 3))
def test_a_pending_pause_takes_exactly_its_business_time_off_the_resolution_clock(steps, pause) -> None:
    ticket, times = _history([s for s in steps if s[1] in ("replied", "customer_replied")])
    last = times[-1] if times else ticket["created"]
    start, stop = last + dt.timedelta(minutes=5), last + dt.timedelta(minutes=5 + pause)
    now = stop + dt.timedelta(hours=30)
    paused = dict(ticket, status="open",
                  events=ticket["events"] + [ev("status", start, to="pending"), ev("status", stop, to="open")])
    plain = dict(ticket, status="open", events=ticket["events"] + [ev("status", start, to="open")])
    with_pause = {s.name: s for s in compute(paused, POLICY, OFFICE, now).targets}["resolution"].elapsed
    without = {s.name: s for s in compute(plain, POLICY, OFFICE, now).targets}["resolution"].elapsed
    assert without - with_pause == OFFICE.between(start, stop)


def test_no_target_for_the_priority_means_no_sla(sla_ws) -> None:
    outage = sla_ws.get("tk-20261123-aaaaa")
    outage.data["priority"] = "urgent"          # the outage policy has targets for normal only
    assert sla_state(sla_ws, outage) is None and sla_summary(sla_ws, outage) is None
