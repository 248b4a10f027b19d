"""The SLA report's figures on a small hand-made workspace."""

from __future__ import annotations

import datetime as dt

from conftest import MINIMAL_CONFIG

from crmkit.reports.sla import _p90, sla_report
from crmkit.store.workspace import Workspace

CONFIG = MINIMAL_CONFIG + """
sla:
  policies:
    - id: all
      calendar: 24/7
      targets:
        normal: {first_response: 1h, resolution: 8h}
"""


def ticket(created: str, *events: str, status: str = "open", line: str = "first") -> str:
    lines = [f"subject: T\npriority: normal\nstatus: {status}\nline: {line}\ncreated: {created}\nevents:",
             f"  - {{type: created, at: {created}, by: x}}"]
    lines += [f"  - {e}" for e in events]
    return "\n".join(lines) + "\n"


def test_figures(make_ws) -> None:
    root = make_ws({
        "crmkit.yaml": CONFIG,
        # answered in 30 minutes, solved after 2 hours
        "tickets/tk-20261120-aaaaa.yaml": ticket("2026-11-20T09:00:00+01:00",
                                                 "{type: replied, at: 2026-11-20T09:30:00+01:00, by: y}",
                                                 "{type: status, at: 2026-11-20T11:00:00+01:00, by: y, to: solved}",
                                                 status="solved"),
        # answered after 3 hours (breached), still open, escalated by a rule
        "tickets/tk-20261121-bbbbb.yaml": ticket("2026-11-21T09:00:00+01:00",
                                                 "{type: replied, at: 2026-11-21T12:00:00+01:00, by: y}",
                                                 "{type: escalated, at: 2026-11-21T12:00:00+01:00, by: crmkit, "
                                                 "rule: r, changes: [line=second]}", line="second"),
        # not answered yet, 45 minutes in: at risk
        "tickets/tk-20261123-ccccc.yaml": ticket("2026-11-23T09:15:00+01:00"),
        # created before the period
        "tickets/tk-20261001-ddddd.yaml": ticket("2026-10-01T09:00:00+02:00",
                                                 "{type: replied, at: 2026-10-01T09:10:00+02:00, by: y}",
                                                 status="pending"),
    })
    ws = Workspace(root, now="2026-11-23T10:00:00+01:00")
    report = sla_report(ws, ws.records("ticket"), dt.date(2026, 11, 1), dt.date(2026, 11, 30), "2026-11")
    data = report.data
    assert data["period"]["tickets"] == 3
    rows = {r["target"]: r for r in data["attainment"]}
    assert (rows["first_response"]["met"], rows["first_response"]["breached"], rows["first_response"]["open"]) == (1, 1, 1)
    assert (rows["resolution"]["met"], rows["resolution"]["breached"], rows["resolution"]["open"]) == (1, 1, 1)
    assert data["attainment_total"] == "50.0"
    now = {(r["ticket"][-5:], r["target"], r["state"]) for r in data["at_risk_now"]}
    assert now == {("bbbbb", "resolution", "breached"), ("ccccc", "first_response", "at_risk")}
    backlog = {(r["by"], r["value"]): r["tickets"] for r in data["backlog"]}
    assert backlog[("status", "open")] == 2 and backlog[("status", "pending")] == 1
    assert backlog[("age", "< 1 day")] == 1 and backlog[("age", "1-3 days")] == 1 and backlog[("age", "> 7 days")] == 1
    assert data["business_hours"]["first_response"] == {"tickets": 2, "median_hours": "1.8", "p90_hours": "3.0"}
    assert data["business_hours"]["resolution"] == {"tickets": 1, "median_hours": "2.0", "p90_hours": "2.0"}
    assert data["escalated"] == {"tickets": 1, "share": "33.3"}


def test_p90_is_nearest_rank() -> None:
    assert _p90([1.0]) == 1.0
    assert _p90([float(i) for i in range(1, 11)]) == 9.0
    assert _p90([float(i) for i in range(1, 12)]) == 10.0
