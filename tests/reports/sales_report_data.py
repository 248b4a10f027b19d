"""The hand-computed sales workspace shared by the report tests.

The deals (SEK workspace, 1 EUR = 11.50 SEK, 1 NOK = 1.02 SEK, today 2026-11-23):

    a  lead         100 000 SEK  expected 2026-12-15  daniel  web_form     weighted 10%  = 10 000
    b  proposal       2 000 EUR  expected 2026-10-01  karin   referral     = 23 000 SEK, 50% = 11 500  (overdue)
    c  negotiation   no value    no expected close   daniel  prob 90
    d  negotiation   10 000 NOK  expected 2027-02-10  karin                = 10 200 SEK, 75% = 7 650
    e  won           50 000 SEK  closed 2026-11-02, created 2026-08-01 (93 days)   daniel web_form
    f  lost          30 000 SEK  closed 2026-10-02   karin referral
    g  won           20 000 SEK  closed 2025-06-01 (outside the default periods)
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from crmkit.sales.pipeline import PipelineConfig

TZ = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
CFG = PipelineConfig.from_config(
    {"currency": "SEK", "timezone": "Europe/Stockholm", "pipeline": {"rates": {"EUR": 11.50, "NOK": "1.02"}}}
)

DEALS = [
    ("a", {"title": "A", "stage": "lead", "value": 100000, "expected_close": dt.date(2026, 12, 15),
           "owner": "daniel", "source": "web_form", "created": "2026-10-01T09:00:00+02:00"}),
    ("b", {"title": "B", "stage": "proposal", "value": "2000.00", "currency": "EUR", "expected_close": "2026-10-01",
           "owner": "karin", "source": "referral", "created": "2026-09-15T09:00:00+02:00"}),
    ("c", {"title": "C", "stage": "negotiation", "probability": 90, "owner": "daniel",
           "created": dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ)}),
    ("d", {"title": "D", "stage": "negotiation", "value": 10000, "currency": "NOK",
           "expected_close": dt.date(2027, 2, 10), "owner": "karin", "created": "2026-10-10T09:00:00+02:00"}),
    ("e", {"title": "E", "stage": "won", "value": 50000, "closed": dt.date(2026, 11, 2), "owner": "daniel",
           "source": "web_form", "created": "2026-08-01T10:00:00+02:00",
           "stage_history": [
               {"stage": "lead", "at": "2026-08-01T10:00:00+02:00"},
               {"stage": "proposal", "at": "2026-09-01T10:00:00+02:00", "from": "lead"},
               {"stage": "won", "at": "2026-11-02T10:00:00+01:00", "from": "proposal"},
           ]}),
    ("f", {"title": "F", "stage": "lost", "value": 30000, "closed": "2026-10-02", "lost_reason": "price",
           "owner": "karin", "source": "referral", "created": "2026-09-01"}),
    ("g", {"title": "G", "stage": "won", "value": 20000, "closed": "2025-06-01", "created": "2025-05-01",
           "owner": "alan"}),
]

ACTIVITIES = [
    ("act-1", {"type": "task", "subject": "Call back", "due": dt.date(2026, 11, 20), "owner": "daniel", "deal": "a"}),
    ("act-2", {"type": "call", "at": "2026-11-01T09:00:00+01:00", "done": "2026-11-01T10:00:00+01:00",
               "owner": "daniel", "deal": "a"}),
    ("act-3", {"type": "meeting", "at": "2026-11-25T13:00:00+01:00", "owner": "karin", "deal": "b"}),
    ("act-4", {"type": "note", "at": "2026-11-20T09:00:00+01:00", "done": "2026-11-20T09:00:00+01:00", "deal": "d"}),
    ("act-5", {"type": "task", "subject": "Chase", "due": "2026-12-01", "owner": "karin", "deal": "d"}),
    ("act-6", {"type": "call", "subject": "Demo", "due": "2026-11-23T15:00:00+01:00", "owner": "karin", "deal": "b"}),
    ("act-7", {"type": "task", "subject": "Old", "due": "2026-11-01", "done": "2026-11-02T08:00:00+01:00",
               "owner": "daniel"}),
    ("act-8", {"type": "task", "subject": "Prepare", "due": "2026-11-30", "owner": "alan", "company": "acme"}),
]


def by_key(rows: list[dict], key: str) -> dict:
    return {r[key]: r for r in rows}

