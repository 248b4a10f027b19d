"""Satisfaction: the sentiment state machine, signals from the records, ratings, surveys over real SMTP."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crmkit.store import yamlio
from crmkit.store.workspace import Workspace
from crmkit.support import satisfaction as sat
from crmkit.support import sentiment
from tests.conftest import git

TZ = ZoneInfo("Europe/Stockholm")
NOW = "2026-11-23T10:00:00+01:00"


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=TZ)


# -- the state machine ------------------------------------------------------------------------

#: (signal, from, to) for every signal and state: the table in crmkit.support.sentiment
TABLE = [
    ("complaint", "upset", "upset"), ("complaint", "neutral", "upset"), ("complaint", "satisfied", "upset"),
    ("complaint", "loyal", "neutral"),
    ("low_rating", "upset", "upset"), ("low_rating", "neutral", "upset"), ("low_rating", "satisfied", "upset"),
    ("low_rating", "loyal", "neutral"),
    ("breach", "upset", "upset"), ("breach", "neutral", "upset"), ("breach", "satisfied", "neutral"),
    ("breach", "loyal", "satisfied"),
    ("reopened", "upset", "upset"), ("reopened", "neutral", "upset"), ("reopened", "satisfied", "neutral"),
    ("reopened", "loyal", "satisfied"),
    ("fair_rating", "upset", "neutral"), ("fair_rating", "neutral", "neutral"),
    ("fair_rating", "satisfied", "satisfied"), ("fair_rating", "loyal", "loyal"),
    ("high_rating", "upset", "satisfied"), ("high_rating", "neutral", "satisfied"),
    ("high_rating", "satisfied", "satisfied"), ("high_rating", "loyal", "loyal"),
    ("won", "upset", "neutral"), ("won", "neutral", "satisfied"), ("won", "satisfied", "loyal"),
    ("won", "loyal", "loyal"),
    ("renewal", "upset", "neutral"), ("renewal", "neutral", "satisfied"), ("renewal", "satisfied", "loyal"),
    ("renewal", "loyal", "loyal"),
]

#: signals that bring a neutral contact into each state first
REACH = {"neutral": [], "upset": ["complaint"], "satisfied": ["won"], "loyal": ["won", "won"]}


def test_the_table_covers_every_signal_and_state() -> None:
    assert {(s, a) for s, a, _ in TABLE} == {(s, a) for s in sentiment.TRANSITIONS for a in sentiment.STATES}


@pytest.mark.parametrize("signal, before, after", TABLE)
def test_each_signal_from_each_state(signal: str, before: str, after: str) -> None:
    sigs = [sentiment.Signal(at(1, h), s, f"reach {s}", "ticket/t0") for h, s in enumerate(REACH[before], 8)]
    sigs.append(sentiment.Signal(at(2), signal, f"the {signal} signal", "ticket/t1"))
    changes = sentiment.journey(sigs)
    assert sentiment.state_at(changes) == after
    assert sentiment.state_at(changes, at(1, 23)) == before
    last = changes[-1] if changes else None
    if before == after:
        assert last is None or last.at != at(2)  # no change, nothing logged
    else:
        assert (last.from_state, last.to_state, last.signal, last.reason, last.source) == (
            before, after, signal, f"the {signal} signal", "ticket/t1")


def test_ratings_map_to_signals_and_words() -> None:
    assert [sentiment._rating_signal(n) for n in range(1, 6)] == ["low_rating", "low_rating", "fair_rating",
                                                           "high_rating", "high_rating"]
    assert sat.parse_rating("good") == 5 and sat.parse_rating("bad") == 1 and sat.parse_rating(" 4 ") == 4
    for bad in ("0", "6", "4.5", "-1", "great", ""):
        with pytest.raises(Exception, match="a rating is 1 to 5, good or bad"):
            sat.parse_rating(bad)


# -- signals from records -----------------------------------------------------------------------

TICKET_BREACHED = """\
subject: Export fails
contact: eva
status: solved
priority: normal
created: 2026-11-02T09:00:00+01:00
events:
  - {type: created, at: 2026-11-02T09:00:00+01:00, by: eva}
  - {type: breached, at: 2026-11-03T09:05:00+01:00, by: crmkit, target: first_response}
  - {type: replied, at: 2026-11-03T10:00:00+01:00, by: daniel}
  - {type: status, at: 2026-11-03T10:00:00+01:00, by: daniel, from: new, to: solved}
  - {type: status, at: 2026-11-04T10:00:00+01:00, by: eva, from: solved, to: open}
  - {type: status, at: 2026-11-05T10:00:00+01:00, by: daniel, from: open, to: solved}
"""

TICKET_COMPLAINT = """\
subject: Invoice was wrong twice
contact: eva
status: open
tags: [complaint]
created: 2026-11-06T09:00:00+01:00
events:
  - {type: created, at: 2026-11-06T09:00:00+01:00, by: eva}
"""

DEAL_RENEWAL = """\
title: Support renewal 2027
contacts: [eva]
stage: won
value: 50000
tags: [renewal]
created: 2026-10-01T10:00:00+02:00
stage_history:
  - {stage: lead, at: 2026-10-01T10:00:00+02:00}
  - {stage: won, at: 2026-11-10T10:00:00+01:00, from: lead}
"""


@pytest.fixture
def story(make_ws) -> Path:
    return make_ws({
        "contacts/eva.yaml": "name: Eva Ek\nemail: eva@example.se\n",
        "contacts/bo.yaml": "name: Bo Berg\nemail: bo@example.se\n",
        "tickets/tk-20261102-aaaaa.yaml": TICKET_BREACHED,
        "tickets/tk-20261106-bbbbb.yaml": TICKET_COMPLAINT,
        "deals/eva-renewal.yaml": DEAL_RENEWAL,
    })


def test_signals_come_from_breaches_reopens_complaints_ratings_and_deals(story: Path) -> None:
    ws = Workspace(story, now="2026-11-20T10:00:00+01:00")
    sigs = sentiment.signals_by_contact(ws)["eva"]
    assert [(s.signal, s.at.day) for s in sigs] == [("breach", 3), ("reopened", 4), ("complaint", 6),
                                                   ("renewal", 10)]
    assert sigs[0].reason == "SLA first_response breached on Export fails"
    assert sigs[3].reason == "renewed: Support renewal 2027" and sigs[3].source == "deal/eva-renewal"
    changes = sentiment.contact_journey(ws, "eva")
    # neutral -breach-> upset (reopened and complaint keep it upset) -renewal-> neutral
    assert [(c.from_state, c.to_state, c.signal) for c in changes] == [("neutral", "upset", "breach"),
                                                                      ("upset", "neutral", "renewal")]
    assert sentiment.sentiment_value(ws, ws.get("eva", "contact")) == "neutral"
    assert sentiment.sentiment_value(ws, ws.get("bo", "contact")) == "neutral"  # no signal: the start
    # as of a past date: only the signals before it
    assert sentiment.state_at(sentiment.contact_journey(ws, "eva", at(7))) == "upset"


def test_rate_logs_the_change_with_its_reason_and_history_shows_it(story: Path, run) -> None:
    r = run(["--now", "2026-11-20T10:00:00+01:00", "ticket", "rate", "tk-20261102-aaaaa", "5",
             "-m", "Sorted in the end"], story)
    assert r.exit_code == 0, r.stderr
    # the renewal moved eva to neutral; the 5 makes her satisfied; the older changes are logged too
    assert r.stdout.strip() == ("ticket/tk-20261102-aaaaa: rated 5; contact/eva: sentiment neutral -> upset; "
                                "contact/eva: sentiment upset -> neutral; contact/eva: sentiment neutral -> satisfied")
    ticket = yamlio.load_fast(story / "tickets/tk-20261102-aaaaa.yaml")
    assert ticket["events"][-1] == {"type": "rated", "at": dt.datetime(2026, 11, 20, 10, tzinfo=dt.timezone(
        dt.timedelta(hours=1))), "by": ticket["events"][-1]["by"], "rating": 5, "comment": "Sorted in the end"}
    eva = yamlio.load_fast(story / "contacts/eva.yaml")
    last = eva["events"][-1]
    assert (last["type"], last["from"], last["to"], last["signal"], last["source"]) == (
        "sentiment", "neutral", "satisfied", "high_rating", "ticket/tk-20261102-aaaaa")
    assert last["reason"] == "rated 5 for Export fails: Sorted in the end"
    assert git(story, "status", "--porcelain") == ""
    log = git(story, "log", "-1", "--format=%B")
    assert "rate ticket/tk-20261102-aaaaa 5" in log and "contact/eva: sentiment neutral -> satisfied" in log
    r = run(["history", "eva"], story)
    assert r.exit_code == 0 and "rate ticket/tk-20261102-aaaaa 5" in r.stdout
    r = run(["--now", "2026-11-20T11:00:00+01:00", "show", "eva"], story)
    assert "sentiment: satisfied" in r.stdout and "to: satisfied" in r.stdout
    r = run(["--now", "2026-11-20T11:00:00+01:00", "contact", "list", "--where", "sentiment == satisfied",
             "--format", "json"], story)
    assert [c["id"] for c in json.loads(r.stdout)] == ["eva"]
    # a second sync finds everything logged already
    r = run(["--now", "2026-11-20T11:00:00+01:00", "contact", "sentiment"], story)
    assert r.exit_code == 0 and r.stdout.strip() == "every sentiment change is already logged"


def test_contact_sentiment_logs_each_change_once(story: Path, run) -> None:
    r = run(["--now", "2026-11-20T10:00:00+01:00", "contact", "sentiment", "--dry-run", "--json"], story)
    changes = json.loads(r.stdout)["changes"]
    assert [(c["contact"], c["from"], c["to"]) for c in changes] == [("eva", "neutral", "upset"),
                                                                     ("eva", "upset", "neutral")]
    assert git(story, "status", "--porcelain") == ""
    r = run(["--now", "2026-11-20T10:00:00+01:00", "contact", "sentiment"], story)
    assert r.exit_code == 0 and r.stdout.count("contact/eva") == 2
    first = (story / "contacts/eva.yaml").read_text()
    r = run(["--now", "2026-11-21T10:00:00+01:00", "contact", "sentiment"], story)
    assert "already logged" in r.stdout and (story / "contacts/eva.yaml").read_text() == first


@pytest.mark.parametrize("args, code, message", [
    (["ticket", "rate", "tk-20261102-aaaaa", "6"], 2, "a rating is 1 to 5, good or bad, not '6'"),
    (["ticket", "rate", "tk-20261102-aaaaa", "0"], 2, "a rating is 1 to 5, good or bad, not '0'"),
    (["ticket", "rate", "tk-20261102-aaaaa", "okay"], 2, "a rating is 1 to 5, good or bad, not 'okay'"),
    (["ticket", "rate", "tk-29990101-zzzzz", "4"], 1, "no ticket 'tk-29990101-zzzzz' to rate"),
])
def test_bad_ratings_are_one_line_and_write_nothing(story: Path, run, args, code, message) -> None:
    before = {p: p.read_bytes() for p in story.rglob("*.yaml")}
    head = git(story, "rev-parse", "HEAD")
    r = run(args, story)
    assert r.exit_code == code
    assert r.stdout == "" and r.stderr.strip().splitlines() == [f"crmkit: error: {message}"]
    assert {p: p.read_bytes() for p in story.rglob("*.yaml")} == before
    assert git(story, "rev-parse", "HEAD") == head and git(story, "status", "--porcelain") == ""


# -- the survey, over a real SMTP server on localhost ---------------------------------------------------


@pytest.fixture
def smtp(local_smtp):
    return local_smtp


def _solved(contact: str, subject: str, day: int) -> str:
    return (f"subject: {subject}\ncontact: {contact}\nstatus: solved\ncreated: 2026-11-{day:02d}T09:00:00+01:00\n"
            f"events:\n  - {{type: created, at: 2026-11-{day:02d}T09:00:00+01:00, by: {contact}}}\n"
            f"  - {{type: status, at: 2026-11-{day:02d}T11:00:00+01:00, by: daniel, from: open, to: solved}}\n")


def test_survey_mails_go_out_over_smtp_with_consent_respected(make_ws, run, smtp) -> None:
    handler, port = smtp
    root = make_ws({
        "contacts/eva.yaml": "name: Eva Ek\nemail: eva@example.se\nlanguage: sv\n",
        "contacts/john.yaml": "name: John Doe\nemail: john@example.com\nlanguage: en\n",
        "contacts/olle.yaml": "name: Olle Ut\nemail: olle@example.se\nopted_out: true\n",
        "contacts/stina.yaml": "name: Stina Nej\nemail: stina@example.se\nconsent: {survey: false}\n",
        "contacts/utan.yaml": "name: Utan Adress\n",
        "tickets/tk-20261110-aaaaa.yaml": _solved("eva", "Lösenordet fungerar inte", 10),
        "tickets/tk-20261111-bbbbb.yaml": _solved("john", "Report is empty", 11),
        "tickets/tk-20261112-ccccc.yaml": _solved("olle", "Fakturan", 12),
        "tickets/tk-20261113-ddddd.yaml": _solved("stina", "Exporten", 13),
        "tickets/tk-20261114-eeeee.yaml": _solved("utan", "Inloggning", 14),
        "tickets/tk-20261115-fffff.yaml": "subject: Still open\ncontact: eva\nstatus: open\n",
    })
    text = (root / "crmkit.yaml").read_text() + f"smtp: {{host: 127.0.0.1, port: {port}, security: none}}\n" \
        "mail: {from: 'Test AB <support@test.se>'}\n"
    (root / "crmkit.yaml").write_text(text)
    git(root, "commit", "-qam", "smtp")
    r = run(["--now", NOW, "ticket", "survey", "--json"], root)
    assert r.exit_code == 0, r.stderr
    plan = json.loads(r.stdout)
    assert [s["ticket"] for s in plan["survey"]] == ["tk-20261110-aaaaa", "tk-20261111-bbbbb"]
    assert {s["ticket"]: s["reason"] for s in plan["skipped"]} == {
        "tk-20261112-ccccc": "olle opted out", "tk-20261113-ddddd": "stina declined surveys",
        "tk-20261114-eeeee": "utan has no email address"}
    assert len(list((root / "outbox").glob("*.eml"))) == 2
    assert git(root, "status", "--porcelain") == ""
    ticket = yamlio.load_fast(root / "tickets/tk-20261110-aaaaa.yaml")
    assert ticket["events"][-1]["type"] == "surveyed" and ticket["events"][-1]["to"] == "eva"
    # a second run renders nothing: each solved ticket is asked once
    r = run(["--now", NOW, "ticket", "survey"], root)
    assert "no solved ticket waits for a survey" in r.stdout
    assert len(list((root / "outbox").glob("*.eml"))) == 2
    r = run(["--now", NOW, "mail", "send"], root)
    assert r.exit_code == 0, r.stderr
    got = {m["To"]: m for m in handler.messages}
    assert set(got) == {"Eva Ek <eva@example.se>", "John Doe <john@example.com>"}
    sv = got["Eva Ek <eva@example.se>"]
    assert sv["Subject"] == "Hur gick det? Lösenordet fungerar inte (tk-20261110-aaaaa)"
    assert "Betyg (1-5):" in sv.get_body(("plain",)).get_content()
    en = got["John Doe <john@example.com>"]
    assert en["Subject"] == "How did we do? Report is empty (tk-20261111-bbbbb)"
    assert "Rating (1-5):" in en.get_body(("plain",)).get_content()
    assert not any(h.lower().startswith("x-crmkit") for m in handler.messages for h in m.keys())
    assert list((root / "outbox").glob("*.eml")) == []
    # the response: rated by hand from the reply; the satisfaction report counts it
    assert run(["--now", "2026-11-23T11:00:00+01:00", "ticket", "rate", "tk-20261111-bbbbb", "good"],
               root).exit_code == 0
    r = run(["--now", "2026-11-23T12:00:00+01:00", "report", "satisfaction", "--period", "2026-11", "--json"], root)
    data = json.loads(r.stdout)
    assert data["surveys"] == {"sent": 2, "answered": 1, "response_rate": "50.0"}
    assert data["csat"] == {"ratings": 1, "satisfied": 1, "csat": "100.0"}


def test_survey_dry_run_writes_nothing(make_ws, run) -> None:
    root = make_ws({"contacts/eva.yaml": "name: Eva Ek\nemail: eva@example.se\n",
                    "tickets/tk-20261110-aaaaa.yaml": _solved("eva", "Lösenordet", 10)})
    r = run(["--now", NOW, "ticket", "survey", "--dry-run"], root)
    assert r.exit_code == 0 and "would survey ticket/tk-20261110-aaaaa -> eva@example.se" in r.stdout
    assert not (root / "outbox").exists() and git(root, "status", "--porcelain") == ""


# -- tick logs the moves its breaches cause ---------------------------------------------------------


def test_tick_logs_the_sentiment_a_breach_moves_once(sample_ws: Path, run) -> None:
    """Ulf (Södergran, satisfied since the CRM win) waits too long for a first answer: the tick
    that records the breach logs his move to neutral, with its reason, in the same commit."""
    r = run(["--now", "2026-11-23T09:00:00+01:00", "ticket", "add", "Login fails", "contact=ulf-sodergran",
             "company=sodergran-revision-ab", "priority=normal", "line=first", "owner=nora"], sample_ws)
    assert r.exit_code == 0, r.stderr
    tid = r.stdout.strip().split("/")[1]
    assert sentiment.sentiment_value(Workspace(sample_ws, now="2026-11-23T09:00:00+01:00"),
                               Workspace(sample_ws).get("ulf-sodergran", "contact")) == "satisfied"
    later = "2026-11-25T09:00:00+01:00"
    r = run(["--now", later, "tick"], sample_ws)
    assert r.exit_code == 0, r.stderr
    ulf = yamlio.load_fast(sample_ws / "contacts/ulf-sodergran.yaml")
    mine = [e for e in ulf["events"] if e["type"] == "sentiment" and e["source"] == f"ticket/{tid}"]
    assert [(e["from"], e["to"], e["signal"], e["reason"]) for e in mine] == [
        ("satisfied", "neutral", "breach", "SLA first_response breached on Login fails")]
    breach = [e for e in yamlio.load_fast(sample_ws / f"tickets/{tid}.yaml")["events"]
              if e["type"] == "breached" and e["target"] == "first_response"]
    assert mine[0]["at"] == breach[0]["at"]  # when it was breached, not when the tick noticed
    # one commit: the breach and the move, the move in its notes
    assert git(sample_ws, "status", "--porcelain") == ""
    log = git(sample_ws, "log", "-1", "--format=%B")
    assert log.startswith("crmkit: tick:") and "contact/ulf-sodergran:" in log and "satisfied -> neutral" in log
    assert "contacts/ulf-sodergran.yaml" in git(sample_ws, "show", "--name-only", "--format=", "HEAD")
    # once: a second tick at the same time writes nothing, and the sync has nothing left for him
    head = git(sample_ws, "rev-parse", "HEAD")
    before = (sample_ws / "contacts/ulf-sodergran.yaml").read_text()
    r = run(["--now", later, "tick"], sample_ws)
    assert r.exit_code == 0, r.stderr
    assert git(sample_ws, "rev-parse", "HEAD") == head
    assert (sample_ws / "contacts/ulf-sodergran.yaml").read_text() == before
    r = run(["--now", later, "contact", "sentiment", "ulf-sodergran", "--dry-run"], sample_ws)
    assert r.stdout.strip() == "every sentiment change is already logged"
