"""Recurring activities (`repeat: quarterly`): tick makes the next of a series, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from crmkit.support.recurring import parse_repeat, shift
from tests.conftest import git

REVIEW = """\
type: meeting
subject: Quarterly review
due: 2026-11-30T10:00:00+01:00
owner: daniel
repeat: quarterly
"""


def test_periods() -> None:
    assert parse_repeat("quarterly") == (3, 0) and parse_repeat("weekly") == (0, 7)
    assert parse_repeat("14d") == (0, 14)
    assert shift(dt.date(2026, 11, 30), 3, 0) == dt.date(2027, 2, 28)      # the month's last day
    assert shift(dt.date(2027, 1, 31), 1, 0) == dt.date(2027, 2, 28)


def _acts(ws: Path) -> dict[str, dict]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted((ws / "activities").glob("*.yaml"))}


@pytest.fixture
def ws(make_ws) -> Path:
    return make_ws({"activities/act-20261101-aaaaa.yaml": REVIEW})


def test_the_next_one_comes_when_the_latest_is_done_once(run, ws) -> None:
    r = run(["--now", "2026-11-20T09:00", "tick", "--json"], ws)
    assert r.stdout == ""                                   # not done, next not due
    run(["--now", "2026-11-30T11:00", "activity", "done", "act-20261101-aaaaa"], ws)
    r = run(["--now", "2026-11-30T12:00", "tick"], ws)
    assert "next of series act-20261101-aaaaa, due 2027-02-28" in r.stdout, r.stderr
    (new,) = [a for k, a in _acts(ws).items() if k != "act-20261101-aaaaa"]
    assert new["due"].date() == dt.date(2027, 2, 28) and new["repeat_of"] == "act-20261101-aaaaa"
    assert new["subject"] == "Quarterly review" and new["owner"] == "daniel" and "done" not in new
    r = run(["--now", "2026-11-30T12:05", "tick"], ws)
    assert r.stdout == "" and len(_acts(ws)) == 2
    # not done, but its successor's date has come: the series goes on
    r = run(["--now", "2027-05-30T12:00", "tick", "--json"], ws)
    assert '"due": "2027-05-30T10:00:00+02:00"' in r.stdout    # from 30 Nov: the 30th, 10:00 summer time
    assert git(ws, "status", "--porcelain") == ""


def test_a_repeat_that_does_not_parse_is_reported(run, make_ws) -> None:
    root = make_ws({"activities/act-20261101-aaaaa.yaml": REVIEW.replace("quarterly", "sometimes")})
    r = run(["check"], root)
    assert r.exit_code == 1 and "activities/act-20261101-aaaaa.yaml:5: activity-repeat: repeat: 'sometimes'" in r.stdout
