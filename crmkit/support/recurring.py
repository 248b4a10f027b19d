"""Recurring activities: `repeat: quarterly` on a follow-up makes a series, one at a time.

    type: meeting
    subject: Quarterly review with Nordvik
    due: 2026-12-15T10:00:00+01:00
    owner: lars
    company: nordvik-as
    repeat: quarterly          # weekly, monthly, quarterly, yearly, or every N days: 14d

`crmkit tick` creates the next activity of the series once the latest is done or the
next one's due date has come: the same fields, `due` (and `at`) moved by the period
(counted from the first of the series: months keep its day, or the month's last), and `repeat_of:` the series' first
activity. Its id follows from the series and the new due date, so tick run twice or
in two clones makes one. Remove `repeat` from the latest to end the series.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store.records import _RANDOM_ALPHABET, Record
from crmkit.values import to_datetime

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12, "annually": 12}
_DAYS = re.compile(r"^\s*(\d+)\s*d(ays?)?\s*$")
#: what a new activity of a series takes from the one before it
COPIED = ("type", "subject", "owner", "contact", "company", "deal", "lead", "ticket", "body", "repeat")


def parse_repeat(value: Any) -> tuple[int, int]:
    """(months, days) of a `repeat:` value; CrmkitError for anything else."""
    text = str(value).strip().lower()
    if text == "weekly":
        return 0, 7
    if text in MONTHS:
        return MONTHS[text], 0
    m = _DAYS.match(text)
    if m and int(m.group(1)) >= 1:
        return 0, int(m.group(1))
    raise CrmkitError(f"repeat: {value!r} is not weekly, monthly, quarterly, yearly or a number of days (14d)")


def shift(when: dt.datetime | dt.date, months: int, days: int) -> Any:
    """`when` moved by whole months (the same day, or the month's last) and days."""
    if months:
        y, mo = divmod(when.month - 1 + months, 12)
        year, month = when.year + y, mo + 1
        when = when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))
    return when + dt.timedelta(days=days)


@dataclass
class Next:
    previous: Record
    origin: str
    data: dict[str, Any]

    @property
    def id(self) -> str:
        digest = hashlib.sha256(f"repeat|{self.origin}|{self.data['due']}".encode()).digest()
        due = self.data["due"]
        return f"act-{due:%Y%m%d}-" + "".join(_RANDOM_ALPHABET[b % len(_RANDOM_ALPHABET)] for b in digest[:5])

    def to_line(self) -> dict[str, Any]:
        return {"action": "repeat", "series": self.origin, "activity": self.id, "due": self.data["due"].isoformat(),
                "owner": self.data.get("owner")}


def plan_repeats(ws: Workspace, now: dt.datetime) -> list[Next]:
    """The next activity of every series whose latest is done or whose next one is due."""
    latest: dict[str, Record] = {}
    count: dict[str, int] = {}
    for act in ws.records("activity"):
        if act.get("due") is None or (act.get("repeat") is None and not act.get("repeat_of")):
            continue
        origin = str(act.get("repeat_of") or act.id)
        count[origin] = count.get(origin, 0) + 1
        best = latest.get(origin)
        if best is None or str(act.get("due")) > str(best.get("due")):
            latest[origin] = act
    out = []
    for origin in sorted(latest):
        act = latest[origin]
        if act.get("repeat") is None:
            continue      # the series was ended
        try:
            months, days = parse_repeat(act.get("repeat"))
        except CrmkitError:
            continue      # check reports it
        # counted from the first of the series, so a 31st stays the 31st where months have one
        first = ws.index("activity").get(origin) or act
        n = count[origin] if first is not act or count[origin] == 1 else 1
        due = first.get("due")
        if isinstance(due, str):
            due = to_datetime(due, ws.tz)
        if not isinstance(due, (dt.date, dt.datetime)):
            continue
        if isinstance(due, dt.datetime):
            due = due.astimezone(ws.tz)   # wall-clock time in the zone: 10:00 stays 10:00 in summer
        nxt = shift(due, months * n, days * n)
        moment = nxt if isinstance(nxt, dt.datetime) else dt.datetime.combine(nxt, dt.time(), tzinfo=ws.tz)
        if act.get("done") in (None, "", False) and moment > now:
            continue
        data = {k: act.get(k) for k in COPIED if act.get(k) is not None}
        data["at"] = moment
        data["due"] = nxt
        data["repeat_of"] = origin
        out.append(Next(act, origin, data))
    return [n for n in out if n.id not in ws.index("activity")]


def apply_repeats(ws: Workspace, tx: Transaction, repeats: list[Next]) -> list[str]:
    for n in repeats:
        tx.create("activity", n.data, record_id=n.id)
    return [f"activity/{n.id}: next of series {n.origin}, due {str(n.data['due'])[:10]}" for n in repeats]


def check_repeats(ws: Workspace) -> list[Problem]:
    """`crmkit check`: every `repeat:` parses."""
    from crmkit.store import yamlio

    out = []
    for act in ws.records("activity"):
        if act.get("repeat") is None:
            continue
        try:
            parse_repeat(act.get("repeat"))
        except CrmkitError as exc:
            out.append(Problem(ws.rel(act.path), yamlio.key_lines(act.path).get("repeat"), "activity-repeat",
                               exc.message))
    return out
