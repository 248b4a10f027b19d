"""Notifications and emails print values as a person writes them, never Python reprs."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from zoneinfo import ZoneInfo

from crmkit.render.humane import human


def test_values_as_written() -> None:
    tz = ZoneInfo("Europe/Stockholm")
    assert human(["large", "nordic"]) == "large, nordic"
    assert human(dt.datetime(2026, 11, 22, 8, 30, tzinfo=dt.UTC), tz) == "2026-11-22 09:30"
    assert human(dt.date(2026, 11, 22)) == "2026-11-22"
    assert human(True) == "yes" and human(3) == 3 and human("x") == "x"
    assert human({"rule": "r1", "at": dt.datetime(2026, 11, 22, 9, 30, 5, tzinfo=tz)}, tz) == \
        "rule: r1, at: 2026-11-22 09:30:05"


def test_new_lead_notification_has_no_python_reprs(make_ws) -> None:
    from crmkit.marketing.mail import render_notification
    from crmkit.store.workspace import Workspace

    ws = make_ws({"leads/ld-20261122-abcde.yaml": (
        "name: Ingrid Solberg\ncompany_name: Fjellkraft AS\nusers: 100\ntags: [large, nordic]\n"
        "created: 2026-11-22T09:30:00+01:00\nconsent: {marketing: true}\n")})
    w = Workspace.find(str(ws))
    with w.transaction("route", "crmkit route") as tx:
        rel = render_notification(w, tx, "new-lead", w.get("lead/ld-20261122-abcde"), "daniel", rule="big")
    body = email.message_from_bytes((ws / rel).read_bytes(), policy=policy.default).get_content()
    assert "tags: large, nordic" in body
    assert "created: 2026-11-22 09:30" in body
    assert "consent: marketing: yes" in body
    assert "[" not in body and "datetime" not in body and "ZoneInfo" not in body and "{" not in body
    assert "  id: " not in body
