"""Cadences: business-day intervals, stop conditions, and `crmkit tick` creating follow-ups
idempotently and deterministically (two runs, two clones), with the daily reminder digest."""

from __future__ import annotations

import datetime as dt
import email
import socket
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiosmtpd.controller import Controller

from crmkit.support.cadence import business_days_after, weekdays
from crmkit.support.cadence_rules import parse_interval
from crmkit.support.calendar import BusinessCalendar
from tests.conftest import MINIMAL_CONFIG, git

STHLM = ZoneInfo("Europe/Stockholm")
OFFICE = {"timezone": "Europe/Stockholm", "holidays": ["SE"],
          "hours": {d: ["08:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
          "exceptions": {"2026-12-24": []}}

CONFIG = MINIMAL_CONFIG.replace("daniel: {name: Daniel Berg, email: daniel@example.se}",
                                "daniel: {name: Daniel Berg, email: daniel@example.se, calendar: office}") + """\
calendars:
  office:
    timezone: Europe/Stockholm
    holidays: [SE]
    hours:
      mon: [08:00-12:00, 13:00-17:00]
      tue: [08:00-12:00, 13:00-17:00]
      wed: [08:00-12:00, 13:00-17:00]
      thu: [08:00-12:00, 13:00-17:00]
      fri: [08:00-12:00, 13:00-17:00]
    exceptions:
      2026-12-24: []
"""

CADENCES = """\
- id: qualified-follow-up
  kind: lead
  when: status in [prospect, qualified]
  steps: [2d, 5d]
  stop_on: [reply, stage]
- id: customer-check-in
  kind: contact
  when: '"customer" in tags'
  every: 10d
  type: call
  subject: Check-in call
"""

LEAD = """\
name: Henrik Dahl
email: henrik@example.se
status: qualified
owner: daniel
created: 2026-12-18T09:30:00+01:00
"""

CONTACT = """\
name: Karin Berg
email: karin@example.se
owner: karin
tags: [customer]
created: 2026-01-05T10:00:00+01:00
"""


def office() -> BusinessCalendar:
    return BusinessCalendar.from_config("office", OFFICE, "Europe/Stockholm")


def test_business_days_skip_the_weekend() -> None:
    friday = dt.datetime(2026, 12, 11, 15, 0, tzinfo=STHLM)
    assert business_days_after(office(), friday, 1) == dt.datetime(2026, 12, 14, 8, 0, tzinfo=STHLM)
    assert business_days_after(office(), friday, 2) == dt.datetime(2026, 12, 15, 8, 0, tzinfo=STHLM)


def test_business_days_skip_holidays_and_closed_days() -> None:
    # 24 Dec closed (exception), 25 and 26 Dec Swedish holidays, 27 a Sunday
    wednesday = dt.datetime(2026, 12, 23, 11, 0, tzinfo=STHLM)
    assert business_days_after(office(), wednesday, 1) == dt.datetime(2026, 12, 28, 8, 0, tzinfo=STHLM)
    assert business_days_after(office(), wednesday, 2) == dt.datetime(2026, 12, 29, 8, 0, tzinfo=STHLM)
    # without a calendar: Monday to Friday, no holidays
    assert business_days_after(weekdays(STHLM), wednesday, 2) == dt.datetime(2026, 12, 25, 0, 0, tzinfo=STHLM)


@pytest.mark.parametrize("text,days", [("2d", 2), ("5 days", 5), ("10 business days", 10), (3, 3)])
def test_intervals_parse(text, days) -> None:
    assert parse_interval(text) == days


@pytest.mark.parametrize("text", ["2x", "two weeks", "0d", "-1d", True, "2h"])
def test_intervals_that_do_not_parse(text) -> None:
    from crmkit.errors import CrmkitError

    with pytest.raises(CrmkitError):
        parse_interval(text)


@pytest.fixture
def ws(make_ws) -> Path:
    return make_ws({"crmkit.yaml": CONFIG, "rules/cadence.yaml": CADENCES,
                    "leads/ld-20261218-aaaaa.yaml": LEAD, "contacts/karin-berg.yaml": CONTACT})


def _activities(ws: Path) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((ws / "activities").glob("*.yaml"))}


def _made(ws: Path, rule: str) -> list[str]:
    return [k for k, v in _activities(ws).items() if (v.get("cadence") or {}).get("rule") == rule]


def _commits(ws: Path) -> int:
    return int(git(ws, "rev-list", "--count", "HEAD"))


def test_tick_creates_a_follow_up_when_it_is_due_and_only_once(run, ws) -> None:
    r = run(["--now", "2026-12-21T12:00:00+01:00", "tick", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if '"lead/' in line]
    assert lines == []     # two business days after Friday 18 Dec: Tuesday 22 Dec, 08:00
    r = run(["--now", "2026-12-22T09:00:00+01:00", "tick"], ws)
    assert r.exit_code == 0, r.stderr
    assert "follow-up 1 of cadence qualified-follow-up for lead/ld-20261218-aaaaa, due 2026-12-22" in r.stdout
    made = {k: v for k, v in _activities(ws).items() if v.get("cadence", {}).get("rule") == "qualified-follow-up"}
    assert len(made) == 1
    (aid, act), = made.items()
    assert aid.startswith("act-20261222-")
    assert act["due"] == dt.datetime(2026, 12, 22, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert act["owner"] == "daniel" and act["lead"] == "ld-20261218-aaaaa" and act["type"] == "task"
    assert act["cadence"] == {"rule": "qualified-follow-up", "step": 1, "of": 2, "stage": "qualified"}
    assert git(ws, "status", "--porcelain") == ""
    before = _commits(ws)
    r = run(["--now", "2026-12-22T09:05:00+01:00", "tick"], ws)
    assert r.exit_code == 0 and r.stdout == "" and "nothing to do" in r.stderr
    assert _commits(ws) == before
    # the agenda lists it, `show` names it as the next planned touch
    r = run(["--now", "2026-12-22T09:05:00+01:00", "report", "agenda", "--json"], ws)
    assert aid in r.stdout
    r = run(["--now", "2026-12-22T09:05:00+01:00", "show", "ld-20261218-aaaaa", "--json"], ws)
    import json

    assert json.loads(r.stdout)["next_touch"]["activity"] == aid
    r = run(["--now", "2026-12-22T09:05:00+01:00", "show", "ld-20261218-aaaaa"], ws)
    assert f"next touch: 2026-12-22 activity/{aid}" in r.stdout


def test_the_next_step_counts_from_the_done_follow_up_and_the_series_ends(run, ws) -> None:
    run(["--now", "2026-12-22T09:00:00+01:00", "tick"], ws)
    first = _made(ws, "qualified-follow-up")[0]
    assert run(["--now", "2026-12-22T10:00:00+01:00", "activity", "done", first], ws).exit_code == 0
    # `show` projects step 2: five business days after 22 Dec (23, 28, 29, 30, 31 Dec)
    r = run(["--now", "2026-12-22T10:05:00+01:00", "show", "ld-20261218-aaaaa", "--json"], ws)
    import json

    touch = json.loads(r.stdout)["next_touch"]
    assert touch["cadence"] == "qualified-follow-up" and touch["step"] == 2
    assert touch["due"].startswith("2026-12-31T08:00")
    r = run(["--now", "2026-12-31T08:30:00+01:00", "tick", "--json"], ws)
    assert '"step": 2' in r.stdout
    second = next(k for k in _made(ws, "qualified-follow-up") if _activities(ws)[k]["cadence"]["step"] == 2)
    run(["--now", "2026-12-31T09:00:00+01:00", "activity", "done", second], ws)
    r = run(["--now", "2027-03-01T09:00:00+01:00", "tick", "--json"], ws)
    assert "qualified-follow-up" not in r.stdout   # two steps, both done: the series is over


def test_a_reply_stops_the_series(run, ws) -> None:
    run(["--now", "2026-12-22T09:00:00+01:00", "tick"], ws)
    first = _made(ws, "qualified-follow-up")[0]
    run(["--now", "2026-12-22T10:00:00+01:00", "activity", "done", first], ws)
    (ws / "activities" / "act-20261223-reply.yaml").write_text(
        "type: email\ndirection: in\nsubject: 'Re: ERP'\nat: 2026-12-23T09:00:00+01:00\nlead: ld-20261218-aaaaa\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "reply")
    r = run(["--now", "2027-02-01T09:00:00+01:00", "tick", "--json"], ws)
    assert "qualified-follow-up" not in r.stdout


def test_a_stage_change_stops_the_series(run, ws) -> None:
    run(["--now", "2026-12-22T09:00:00+01:00", "tick"], ws)
    first = _made(ws, "qualified-follow-up")[0]
    run(["--now", "2026-12-22T10:00:00+01:00", "activity", "done", first], ws)
    # still matched by `when`, but no longer in the status the series started in
    assert run(["set", "ld-20261218-aaaaa", "status=prospect"], ws).exit_code == 0
    r = run(["--now", "2027-02-01T09:00:00+01:00", "tick", "--json"], ws)
    assert "qualified-follow-up" not in r.stdout


def test_recurring_cadence_waits_for_the_open_follow_up_then_recurs(run, ws) -> None:
    r = run(["--now", "2026-12-21T09:00:00+01:00", "tick", "--json"], ws)
    assert '"cadence": "customer-check-in"' in r.stdout and '"owner": "karin"' in r.stdout
    calls = [k for k, v in _activities(ws).items() if (v.get("cadence") or {}).get("rule") == "customer-check-in"]
    assert len(calls) == 1
    # karin has no calendar: Monday to Friday; 10 weekdays after 5 Jan 2026 is 19 Jan
    assert _activities(ws)[calls[0]]["due"].date() == dt.date(2026, 1, 19)
    assert _activities(ws)[calls[0]]["type"] == "call"
    r = run(["--now", "2027-06-01T09:00:00+01:00", "tick", "--json"], ws)
    assert "customer-check-in" not in r.stdout            # the first one is still open
    run(["--now", "2027-01-04T11:00:00+01:00", "activity", "done", calls[0]], ws)
    r = run(["--now", "2027-01-18T09:00:00+01:00", "tick", "--json"], ws)
    assert '"step": 2' in r.stdout and '"due": "2027-01-18T00:00:00+01:00"' in r.stdout


def test_two_clones_make_the_same_files(run, ws, tmp_path) -> None:
    other = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(ws), str(other))
    for root, now in ((ws, "2026-12-22T09:00:00+01:00"), (other, "2026-12-22T14:40:00+01:00")):
        assert run(["--now", now, "tick"], root).exit_code == 0
    ours = sorted(p.relative_to(ws) for p in ws.rglob("*") if p.is_file() and ".git" not in p.parts
                  and ".crmkit" not in p.parts)
    theirs = sorted(p.relative_to(other) for p in other.rglob("*") if p.is_file() and ".git" not in p.parts
                    and ".crmkit" not in p.parts)
    assert ours == theirs
    assert any(str(p).startswith("outbox/digest-2026-12-22-") for p in ours)
    for rel in ours:
        assert (ws / rel).read_bytes() == (other / rel).read_bytes(), rel
    # and merging the two is a no-op
    git(ws, "pull", "-q", "--no-rebase", str(other), "main")
    assert git(ws, "status", "--porcelain") == ""


def test_broken_cadences_are_refused_by_check_and_by_tick(run, make_ws) -> None:
    bad = CADENCES.replace("steps: [2d, 5d]", "steps: [2d, 5x]").replace("every: 10d", "every: often")
    root = make_ws({"crmkit.yaml": CONFIG, "rules/cadence.yaml": bad, "leads/ld-20261218-aaaaa.yaml": LEAD})
    r = run(["check"], root)
    assert r.exit_code == 1
    assert "rules/cadence.yaml:4: cadence-interval: cadence qualified-follow-up: steps[2]: '5x' is not" in r.stdout
    assert "rules/cadence.yaml:9: cadence-interval: cadence customer-check-in: every: 'often'" in r.stdout
    before = _commits(root)
    r = run(["--now", "2026-12-22T09:00:00+01:00", "tick"], root)
    assert r.exit_code == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("crmkit: error: rules/cadence.yaml:4:") and "nothing was changed" in r.stderr
    assert _commits(root) == before and not (root / "activities").exists()


def test_unknown_keys_owner_and_missing_interval_are_reported(run, make_ws) -> None:
    bad = "- id: x\n  kind: lead\n  evry: 5d\n  owner: nobody\n"
    root = make_ws({"crmkit.yaml": CONFIG, "rules/cadence.yaml": bad})
    r = run(["check"], root)
    assert "rules/cadence.yaml:3: rule-field: cadence x: unknown key 'evry'" in r.stdout
    assert "rules/cadence.yaml:4: rule-owner: cadence x: owner 'nobody' is not a user" in r.stdout
    assert "cadence x: give either `every: 90d` or `steps: [2d, 5d, 10d]`" in r.stdout


# -- the reminder digest, over a real local SMTP server ------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_digest_once_a_day_per_owner_over_smtp(run, make_ws, smtp) -> None:
    handler, port = smtp
    config = CONFIG + f"smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n"
    task = ("type: task\nsubject: Send the offer\nat: 2026-12-01T09:00:00+01:00\nowner: daniel\n"
            "due: 2026-12-18\nlead: ld-20261218-aaaaa\n")
    root = make_ws({"crmkit.yaml": config, "rules/cadence.yaml": CADENCES,
                    "leads/ld-20261218-aaaaa.yaml": LEAD, "activities/act-20261201-offer.yaml": task})
    r = run(["--now", "2026-12-22T09:00:00+01:00", "tick", "--json"], root)
    assert r.exit_code == 0, r.stderr
    assert '"action": "digest", "owner": "daniel", "day": "2026-12-22", "overdue": 1, "today": 1' in r.stdout
    assert '"owner": "karin"' not in r.stdout.split('"action": "digest"')[-1]   # karin has nothing due
    assert run(["--now", "2026-12-22T09:01:00+01:00", "mail", "send"], root).exit_code == 0
    assert len(handler.messages) == 1
    rcpt, msg = handler.messages[0]
    assert rcpt == ["daniel@example.se"]
    assert msg["Subject"] == "Follow-ups for 2026-12-22: 1 overdue, 1 today"
    body = msg.get_body(("plain",)).get_content()
    assert "2026-12-18  Send the offer  (lead/ld-20261218-aaaaa)  [act-20261201-offer]" in body
    assert "Follow up Henrik Dahl (1 of 2)" in body
    assert "X-Crmkit-Kind" not in msg
    # later the same day: no second digest, though the first one has left the outbox
    for now in ("2026-12-22T13:00:00+01:00", "2026-12-22T23:59:00+01:00"):
        r = run(["--now", now, "tick", "--json"], root)
        assert '"digest"' not in r.stdout
    run(["--now", "2026-12-22T23:59:30+01:00", "mail", "send"], root)
    assert len(handler.messages) == 1
    # the next day: a new digest (both are overdue now)
    r = run(["--now", "2026-12-23T07:00:00+01:00", "tick", "--json"], root)
    assert '"day": "2026-12-23", "overdue": 2, "today": 0' in r.stdout
    run(["--now", "2026-12-23T07:01:00+01:00", "mail", "send"], root)
    assert len(handler.messages) == 2
    assert run(["check"], root).exit_code == 0



def test_no_cadence_file_no_digest_and_digest_false_turns_it_off(run, make_ws) -> None:
    task = "type: task\nsubject: Call\nat: 2026-12-01T09:00:00+01:00\nowner: daniel\ndue: 2026-12-18\n"
    root = make_ws({"crmkit.yaml": CONFIG, "activities/act-20261201-aaaaa.yaml": task})
    r = run(["--now", "2026-12-22T09:00:00+01:00", "tick", "--json"], root)
    assert r.stdout == "" and not (root / "outbox").exists()
    root = make_ws({"crmkit.yaml": CONFIG, "activities/act-20261201-aaaaa.yaml": task,
                    "leads/ld-20261218-aaaaa.yaml": LEAD, "rules/cadence.yaml": "digest: false\ncadences:\n" + "".join("  " + ln + "\n" for ln in
                                                                                CADENCES.splitlines())})
    r = run(["--now", "2026-12-22T09:00:00+01:00", "tick", "--json"], root)
    assert '"follow-up"' in r.stdout and '"digest"' not in r.stdout
    assert run(["check"], root).exit_code == 0
