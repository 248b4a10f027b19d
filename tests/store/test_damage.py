"""Merge-damage checks in `crmkit check`, each on a workspace that shows it."""

from __future__ import annotations

from conftest import invoke

BREACH = """\
  - type: breached
    at: {at}
    by: crmkit
    target: first_response
    due: 2026-11-20T10:00:00+01:00
"""
TICKET = """\
subject: Export fails
status: open
owner: daniel
events:
  - type: created
    at: 2026-11-20T09:00:00+01:00
    by: daniel
""" + BREACH.format(at="2026-11-20T10:05:00+01:00") + BREACH.format(at="2026-11-20T10:35:00+01:00") + """\
  - type: escalated
    at: 2026-11-20T11:00:00+01:00
    by: crmkit
    rule: breached-to-karin
  - type: escalated
    at: 2026-11-20T11:30:00+01:00
    by: crmkit
    rule: breached-to-karin
"""
DEAL = """\
title: Big deal
owner: daniel
stage: proposal
value: 1000
stage_history:
  - {stage: lead, at: 2026-11-01T10:00:00+01:00, by: daniel}
  - {stage: negotiation, at: 2026-11-10T10:00:00+01:00, by: daniel, from: lead}
"""


def lead(name: str, turn: int, extra: str = "") -> str:
    return (f"name: {name}\nstatus: qualified\nowner: karin\nrouting:\n  rule: qualified-small\n"
            f"  at: 2026-11-20T10:00:00+01:00\n  status: qualified\n  owner: karin\n  pool: sellers\n"
            f"  turn: {turn}\n{extra}")


def mail(subject: str) -> str:
    return (f"type: email\nsubject: {subject}\nat: 2026-11-20T10:00:00+01:00\n"
            f"message_id: <crmkit.notify.x@example.se>\n")


def test_check_names_every_damaged_record(make_ws) -> None:  # type: ignore[no-untyped-def]
    ws = make_ws({
        "tickets/tk-20261120-aaaaa.yaml": TICKET,
        "deals/big-deal.yaml": DEAL,
        "leads/ld-20261120-bbbbb.yaml": lead("Eva Holm", 3, "routing_conflicts:\n  - rule: qualified-small\n"
                                             "    at: 2026-11-20T11:00:00+01:00\n    owner: alan\n"),
        "leads/ld-20261120-ccccc.yaml": lead("Nils Sund", 3),
        "leads/ld-20261120-ddddd.yaml": lead("Ida Vik", 4),
        "activities/act-20261120-eeeee.yaml": mail("Hej"),
        "activities/act-20261120-fffff.yaml": mail("Hej"),
    })
    res = invoke(["check"], ws)
    assert res.exit_code == 1
    found = {(line.split(":")[0], line.split(": ")[1]) for line in res.stdout.splitlines()}
    assert found == {
        ("tickets/tk-20261120-aaaaa.yaml", "event-twice"),
        ("deals/big-deal.yaml", "stage-history"),
        ("leads/ld-20261120-bbbbb.yaml", "routed-twice"),
        ("leads/ld-20261120-bbbbb.yaml", "turn-twice"),
        ("leads/ld-20261120-ccccc.yaml", "turn-twice"),
        ("activities/act-20261120-fffff.yaml", "message-twice"),
    }, res.stdout
    assert "fired 2 times" in res.stdout and "recorded 2 times" in res.stdout
    assert "deals/big-deal.yaml:3: stage-history: deal/big-deal: stage is proposal" in res.stdout
