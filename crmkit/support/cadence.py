"""Cadences: which follow-ups are due, as a pure function of records, rules/cadence.yaml and the clock.

A cadence follows up a record when its last touch is older than the cadence's
interval, counted in whole business days of the owner's calendar. A *touch* is a
logged call, meeting or email (`at`, not in the future) or anything marked done
(`done`) linked to the record. The follow-up is due at the opening of the n-th
business day after the day of the last touch; `crmkit tick` creates it once that
moment has come, as a task-like activity whose id and times follow from the
cadence, the record and the step, so two runs (or two clones) write the same file.

A series waits while one of its follow-ups is open (nothing piles up), ends after
its last step (`steps`), and with `stop_on` ends on a reply (an activity with
`direction: in` after the first follow-up) or on a change of the lead's status or
the deal's stage since the first follow-up. A record the `when` no longer matches
gets no new follow-ups.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from crmkit.store.records import _RANDOM_ALPHABET, Record
from crmkit.support.cadence_rules import Cadence, load_cadences, read_cadences
from crmkit.support.calendar import HORIZON_DAYS, BusinessCalendar
from crmkit.values import to_datetime

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

TOUCH_TYPES = ("call", "meeting", "email")
LINKS = ("lead", "deal", "contact", "company")
#: the field whose change `stop_on: [stage]` watches, per kind
STAGE_FIELD = {"lead": "status", "deal": "stage"}


@dataclass
class FollowUp:
    """One follow-up a cadence wants: created by `tick` when `due` has come."""

    cadence: Cadence
    record: Record
    step: int
    due: dt.datetime
    owner: str
    last_touch: dt.datetime
    stage: str | None

    @cached_property
    def id(self) -> str:
        return followup_id(self.cadence.id, self.record.ref, self.step, self.due)

    def to_line(self) -> dict[str, Any]:
        return {"action": "follow-up", "cadence": self.cadence.id, "record": self.record.ref, "step": self.step,
                "due": self.due.isoformat(), "owner": self.owner, "activity": self.id}


def followup_id(cadence: str, ref: str, step: int, due: dt.datetime) -> str:
    """`act-<due date>-<5 characters from cadence, record and step>`: the same in every clone."""
    digest = hashlib.sha256(f"cadence|{cadence}|{ref}|{step}".encode()).digest()
    return f"act-{due:%Y%m%d}-" + "".join(_RANDOM_ALPHABET[b % len(_RANDOM_ALPHABET)] for b in digest[:5])


def weekdays(tz: Any) -> BusinessCalendar:
    """The calendar of an owner who has none: Monday to Friday, no holidays."""
    full = [(dt.time(0, 0), None)]
    return BusinessCalendar("weekdays", tz, {d: list(full) for d in range(5)}, day=dt.timedelta(hours=24))


def owner_calendar(ws: Workspace, owner: str, cadence: Cadence) -> BusinessCalendar:
    """`users.<owner>.calendar`, else the cadence's `calendar`, else Monday to Friday."""
    from crmkit.support.calendar import calendars

    user = ws.users.get(owner)
    name = (user.get("calendar") if isinstance(user, dict) else None) or cadence.calendar
    if name:
        return calendars(ws)[str(name)]
    cached = ws.readers.get("cadence_weekdays")
    if cached is None:
        cached = ws.readers["cadence_weekdays"] = weekdays(ws.tz)
    return cached


def business_days_after(cal: BusinessCalendar, anchor: dt.datetime, days: int) -> dt.datetime:
    """The opening of the `days`-th business day after the (local) day of `anchor`."""
    start = anchor.astimezone(cal.tz).date()
    # thousands of records share a few hundred anchor days: remembered on the calendar itself
    memo = cal.__dict__.setdefault("_cadence_memo", {})
    found = memo.get((start, days))
    if found is not None:
        return found
    day = start
    seen = 0
    for _ in range(HORIZON_DAYS):
        day += dt.timedelta(days=1)
        intervals = cal.intervals_on(day)
        if intervals:
            seen += 1
            if seen == days:
                found = memo[(start, days)] = intervals[0][0].astimezone(cal.tz)
                return found
    raise AssertionError(f"calendar {cal.name}: no open day within {HORIZON_DAYS} days")  # pragma: no cover


@dataclass
class _Linked:
    """What the activities say about one record: its last touch, replies, its cadence follow-ups."""

    last_touch: dt.datetime | None = None
    replies: list[dt.datetime] | None = None
    series: dict[str, list[dict[str, Any]]] | None = None


class Touches:
    """Every activity read once, by the record it is linked to (tick looks up thousands of records)."""

    def __init__(self, ws: Workspace, now: dt.datetime) -> None:
        self.by_ref: dict[str, _Linked] = defaultdict(_Linked)
        tz = ws.tz
        for act in ws.records("activity"):
            a = act.data
            times = []
            at = to_datetime(a.get("at"), tz) if a.get("at") is not None else None
            if a.get("type") in TOUCH_TYPES and at is not None and at <= now:
                times.append(at)
            done = a.get("done")
            if done not in (None, "", False):
                d = to_datetime(done, tz)
                if d is not None and d <= now:
                    times.append(d)
            reply = at if a.get("direction") == "in" and at is not None and at <= now else None
            cad = a.get("cadence") if isinstance(a.get("cadence"), dict) else None
            for kind in LINKS:
                rid = a.get(kind)
                if not isinstance(rid, str):
                    continue
                linked = self.by_ref[f"{kind}/{rid}"]
                if times:
                    t = max(times)
                    linked.last_touch = t if linked.last_touch is None else max(linked.last_touch, t)
                if reply is not None:
                    linked.replies = (linked.replies or []) + [reply]
                if cad is not None:
                    linked.series = linked.series or {}
                    linked.series.setdefault(str(cad.get("rule")), []).append(
                        dict(cad, id=act.id, done=done not in (None, "", False), due=a.get("due")))

    def get(self, ref: str) -> _Linked:
        return self.by_ref.get(ref) or _Linked()


def owner_of(ws: Workspace, cadence: Cadence, rec: Record) -> str | None:
    """Who follows up: the cadence's `owner`, else the record's, else (a contact) its company's."""
    if cadence.owner:
        return cadence.owner
    owner = rec.get("owner")
    if not owner and rec.kind == "contact" and isinstance(rec.get("company"), str):
        company = ws.index("company").get(rec.get("company"))
        owner = company.get("owner") if company else None
    return str(owner) if owner else None


def next_for(ws: Workspace, cadence: Cadence, rec: Record, touches: Touches) -> FollowUp | None:
    """The next follow-up `cadence` wants for `rec` (due now or later), or None: waiting on an open
    one, finished, stopped, or nothing to count from."""
    linked = touches.get(rec.ref)
    series = sorted((linked.series or {}).get(cadence.id, []), key=lambda s: int(s.get("step") or 0))
    if any(not s["done"] for s in series):
        return None
    step = (max(int(s.get("step") or 0) for s in series) if series else 0) + 1
    days = cadence.interval(step)
    if days is None:
        return None
    stage_field = STAGE_FIELD.get(rec.kind)
    stage = str(rec.get(stage_field)) if stage_field and rec.get(stage_field) is not None else None
    if series:
        first_due = to_datetime(series[0].get("due"), ws.tz)
        if "reply" in cadence.stop_on and first_due is not None and any(r >= first_due for r in linked.replies or []):
            return None
        if "stage" in cadence.stop_on and stage_field and series[0].get("stage") is not None \
                and str(series[0].get("stage")) != stage:
            return None
    anchor = linked.last_touch
    if anchor is None:
        anchor = to_datetime(rec.get("created"), ws.tz) if rec.get("created") is not None else None
    if anchor is None:
        return None  # nothing to count the interval from
    owner = owner_of(ws, cadence, rec)
    if owner is None:
        return None
    due = business_days_after(owner_calendar(ws, owner, cadence), anchor, days)
    return FollowUp(cadence, rec, step, due, owner, anchor, stage)


def plan_followups(ws: Workspace, now: dt.datetime | None = None) -> list[FollowUp]:
    """Every follow-up whose time has come, in a stable order (cadence file order, then record id)."""
    from crmkit.conditions.views import view

    cadences = load_cadences(ws)
    if not cadences:
        return []
    now = now or ws.now()
    touches = Touches(ws, now)
    out = []
    for cadence in cadences:
        for rec in sorted(ws.records(cadence.kind), key=lambda r: r.id):
            if rec.get("merged_into"):
                continue
            if cadence.when is not None and not cadence.when.evaluate(view(ws, rec), ws.resolve):
                continue
            f = next_for(ws, cadence, rec, touches)
            if f is not None and f.due <= now:
                out.append(f)
    return out


def activity_data(ws: Workspace, f: FollowUp) -> dict[str, Any]:
    """The follow-up as an activity: every value from the cadence, the record and the step."""
    c = f.cadence
    of = None if c.repeat else len(c.intervals)
    subject = c.subject or (f"Check in with {f.record.title}" if c.repeat
                            else f"Follow up {f.record.title} ({f.step} of {of})")
    data: dict[str, Any] = {"type": c.type, "subject": subject, "at": f.due, "due": f.due, "owner": f.owner,
                            f.record.kind: f.record.id}
    company = f.record.get("company")
    if f.record.kind in ("contact", "deal") and isinstance(company, str):
        data["company"] = company
    cadence: dict[str, Any] = {"rule": c.id, "step": f.step}
    if of is not None:
        cadence["of"] = of
    if f.stage is not None:
        cadence["stage"] = f.stage
    data["cadence"] = cadence
    return data


def apply_followups(ws: Workspace, tx: Transaction, followups: list[FollowUp]) -> list[str]:
    """Create the follow-ups (one activity each) in `tx`; returns the notes for the commit body."""
    notes = []
    index = ws.index("activity")
    for f in followups:
        if f.id in index:  # made by another clone and merged in: the same file, already here
            continue
        tx.create("activity", activity_data(ws, f), record_id=f.id)
        notes.append(f"{f.record.ref}: follow-up {f.step} of cadence {f.cadence.id}, due {f.due:%Y-%m-%d}")
    return notes


def next_touch(ws: Workspace, rec: Record) -> dict[str, Any] | None:
    """A record's next planned touch for `show`: its earliest open follow-up, else the next one a
    cadence will create (with when it is due)."""
    tz = ws.tz
    best: tuple[dt.datetime, dict[str, Any]] | None = None
    for act in ws.records("activity"):
        a = act.data
        if a.get(rec.kind) != rec.id or a.get("due") is None or a.get("done") not in (None, "", False):
            continue
        due = to_datetime(a.get("due"), tz)
        if due is not None and (best is None or due < best[0]):
            best = (due, {"due": a.get("due"), "activity": act.id, "subject": a.get("subject") or "",
                          "cadence": (a.get("cadence") or {}).get("rule") if isinstance(a.get("cadence"), dict)
                          else None})
    if best is not None:
        return best[1]
    if rec.kind not in ("contact", "company", "lead", "deal"):
        return None
    from crmkit.conditions.views import view

    touches: Touches | None = None
    for cadence in read_cadences(ws):
        if cadence.kind != rec.kind or (cadence.when is not None
                                        and not cadence.when.evaluate(view(ws, rec), ws.resolve)):
            continue
        touches = touches or Touches(ws, ws.now())
        f = next_for(ws, cadence, rec, touches)
        if f is not None and (best is None or f.due < best[0]):
            best = (f.due, {"due": f.due, "activity": None, "subject": activity_data(ws, f)["subject"],
                            "cadence": cadence.id, "step": f.step})
    return best[1] if best else None
