"""`crmkit activity done`."""

from __future__ import annotations

import json

TASK = """\
type: task
subject: Call back about the offer
due: 2026-11-20
owner: daniel
deal: nordvik-erp
"""


def test_done_sets_timestamp_and_commits(make_ws, run) -> None:
    ws = make_ws({"activities/act-20261101-abcde.yaml": TASK})
    r = run(["activity", "done", "act-20261101-abcde", "--note", "Offer accepted", "--now", "2026-11-23T10:00"], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "done activity/act-20261101-abcde\n"
    text = (ws / "activities/act-20261101-abcde.yaml").read_text()
    assert text == TASK + "done: 2026-11-23T10:00:00+01:00\nbody: Offer accepted\n"
    r = run(["activity", "done", "act-20261101-abcde", "--json"], ws)
    assert r.exit_code == 0 and json.loads(r.stdout)["already_done"] == ["act-20261101-abcde"]


def test_done_disappears_from_agenda(make_ws, run) -> None:
    ws = make_ws({"activities/act-20261101-abcde.yaml": TASK})
    r = run(["report", "agenda", "--json", "--now", "2026-11-23"], ws)
    assert json.loads(r.stdout)["counts"]["overdue"] == 1
    run(["activity", "done", "act-20261101-abcde"], ws)
    r = run(["report", "agenda", "--json", "--now", "2026-11-23"], ws)
    assert json.loads(r.stdout)["counts"]["overdue"] == 0


def test_unknown_activity(make_ws, run) -> None:
    ws = make_ws({})
    r = run(["activity", "done", "act-nope"], ws)
    assert r.exit_code == 1 and r.stdout == "" and "act-nope" in r.stderr
