"""`report satisfaction` against hand-counted CSAT, journey and survey figures."""

from __future__ import annotations

import json

NOW = "2026-12-10T12:00:00+01:00"


def _ticket(contact: str, company: str, owner: str, line: str, events: str) -> str:
    return (f"subject: Case of {contact}\ncontact: {contact}\ncompany: {company}\nowner: {owner}\nline: {line}\n"
            f"status: solved\ncreated: 2026-10-01T09:00:00+02:00\nevents:\n"
            f"  - {{type: created, at: 2026-10-01T09:00:00+02:00, by: {contact}}}\n{events}")


def _rated(day: str, rating: int) -> str:
    return f"  - {{type: rated, at: {day}T10:00:00+01:00, by: x, rating: {rating}}}\n"


FILES = {
    "rules/value.yaml": "tiers:\n  gold: won_deals >= 1\ndefault: standard\n",
    "companies/big.yaml": "name: Big AB\n",
    "companies/small.yaml": "name: Small AB\n",
    "contacts/ann.yaml": "name: Ann\ncompany: big\n",
    "contacts/ben.yaml": "name: Ben\ncompany: small\n",
    "deals/big-1.yaml": "title: Big deal\ncompany: big\ncontacts: [ann]\nstage: won\nvalue: 1000\nclosed: 2026-09-01\n"
                        "created: 2026-08-01T10:00:00+02:00\n",
    # October: ann 5 (first line, daniel), ben 2 (first line, karin); November: ann 4 (second line, daniel),
    # ben 3 and 5 (second line, karin)
    "tickets/tk-20261001-aaaaa.yaml": _ticket("ann", "big", "daniel", "first", _rated("2026-10-05", 5)),
    "tickets/tk-20261001-bbbbb.yaml": _ticket(
        "ben", "small", "karin", "first",
        "  - {type: surveyed, at: 2026-10-06T09:00:00+02:00, by: crmkit, to: ben}\n" + _rated("2026-10-07", 2)),
    "tickets/tk-20261001-ccccc.yaml": _ticket("ann", "big", "daniel", "second", _rated("2026-11-05", 4)),
    "tickets/tk-20261001-ddddd.yaml": _ticket(
        "ben", "small", "karin", "second",
        "  - {type: surveyed, at: 2026-11-02T09:00:00+01:00, by: crmkit, to: ben}\n"
        + _rated("2026-11-10", 3) + _rated("2026-11-20", 5)),
    "tickets/tk-20261001-eeeee.yaml": _ticket(
        "ben", "small", "karin", "first", "  - {type: surveyed, at: 2026-11-03T09:00:00+01:00, by: crmkit, to: ben}\n"),
}


def test_csat_by_month_agent_line_tier_journey_and_response(make_ws, run) -> None:
    root = make_ws(FILES)
    r = run(["--now", NOW, "report", "satisfaction", "--period", "2026-10-01..2026-11-30", "--json"], root)
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["csat"] == {"ratings": 5, "satisfied": 3, "csat": "60.0"}
    rows = {k: {row[k[3:] if k != "by_month" else "month"]: (row["ratings"], row["csat"], row["average"])
                for row in d[k]} for k in ("by_month", "by_agent", "by_line", "by_tier")}
    assert rows["by_month"] == {"2026-10": (2, "50.0", "3.5"), "2026-11": (3, "66.7", "4.0")}
    assert rows["by_agent"] == {"daniel": (2, "100.0", "4.5"), "karin": (3, "33.3", "3.3")}
    assert rows["by_line"] == {"first": (2, "50.0", "3.5"), "second": (3, "66.7", "4.0")}
    assert rows["by_tier"] == {"gold": (2, "100.0", "4.5"), "standard": (3, "33.3", "3.3")}
    # ann: won deal (Sep) satisfied before the period; 5 and 4 keep her satisfied
    # ben: 2 -> upset (Oct 7), 3 -> neutral (Nov 10), 5 -> satisfied (Nov 20)
    assert d["journey"]["matrix"]["satisfied"]["satisfied"] == 1
    assert d["journey"]["matrix"]["neutral"]["satisfied"] == 1
    assert {(m["from"], m["to"]): m["contacts"] for m in d["journey"]["moves"]} == {
        ("neutral", "upset"): 1, ("upset", "neutral"): 1, ("neutral", "satisfied"): 1}
    assert [c["reason"] for c in d["journey"]["changes"]] == [
        "rated 2 for Case of ben", "rated 3 for Case of ben", "rated 5 for Case of ben"]
    # three surveys sent; two rated after the survey
    assert d["surveys"] == {"sent": 3, "answered": 2, "response_rate": "66.7"}
    # one month: only November's ratings; --where narrows the tickets
    r = run(["--now", NOW, "report", "satisfaction", "--period", "2026-11", "--where", "line == second",
             "--json"], root)
    d = json.loads(r.stdout)
    assert d["csat"] == {"ratings": 3, "satisfied": 2, "csat": "66.7"}
    html = run(["--now", NOW, "report", "satisfaction", "--period", "2026-11", "--format", "html"], root).stdout
    assert "<svg" in html and "CSAT by tier" in html
    csv = run(["--now", NOW, "report", "satisfaction", "--period", "2026-11", "--format", "csv"], root).stdout
    assert csv.splitlines()[0] == "month,ratings,satisfied,csat,average"
