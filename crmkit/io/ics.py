"""Follow-ups as iCalendar (RFC 5545), written with the icalendar library.

A follow-up is an activity with a ``due`` date or timestamp. It becomes a VTODO
(a task with DUE) or, for calendar programs that ignore tasks, a VEVENT (an
all-day entry for a date, a 30-minute entry for a timestamp). The UID is made
from the activity id alone (``crmkit:activity/<id>``), so importing a newer export
updates the same entries instead of duplicating them, even after the workspace's
firm is renamed. Times carry the workspace's TZID and a VTIMEZONE built from the
tz database (see vtimezone.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from crmkit.values import to_datetime

EVENT_LENGTH = dt.timedelta(minutes=30)


def _due(value: Any, tz: dt.tzinfo) -> dt.date | dt.datetime | None:
    """A date stays a date (an all-day follow-up); anything with a time becomes an aware datetime."""
    # Times go out in the workspace's named zone (TZID=Europe/Stockholm plus a VTIMEZONE):
    # a bare offset such as +01:00 is no TZID calendar programs understand.
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(tz)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                return None
        d = to_datetime(text, tz)
        return None if d is None else d.astimezone(tz)
    return None


def _is_done(a: Mapping[str, Any]) -> bool:
    d = a.get("done")
    return d is not None and d is not False and d != ""


def follow_ups_to_ics(
    activities: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    now: dt.datetime,
    tz: dt.tzinfo,
    calendar_name: str = "crmkit",
    component: str = "todo",
    include_done: bool = False,
    titles: Mapping[str, str] | None = None,
    users: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes:
    """An iCalendar file (bytes, CRLF line ends) with one VTODO or VEVENT per follow-up."""
    from icalendar import Calendar, Event, Todo, vCalAddress

    if component not in ("todo", "event"):
        raise ValueError("component must be todo or event")
    cal = Calendar()
    cal.add("prodid", "-//crmkit//follow-ups//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{calendar_name} follow-ups")
    stamp = now.astimezone(dt.UTC)
    items = []
    for aid, a in activities:
        due = _due(a.get("due"), tz)
        if due is None:
            continue
        done = _is_done(a)
        if done and not include_done:
            continue
        items.append((aid, a, due, done))
    # stable order: by due moment, then id
    items.sort(key=lambda t: (t[2] if isinstance(t[2], dt.datetime) else dt.datetime.combine(t[2], dt.time(), tz), t[0]))
    for aid, a, due, done in items:
        comp = Todo() if component == "todo" else Event()
        comp.add("uid", uid(aid))
        comp.add("dtstamp", stamp)
        kind = str(a.get("type") or "task")
        subject = str(a.get("subject") or kind)
        about = None
        for k in ("deal", "ticket", "lead", "contact", "company"):
            if a.get(k):
                about = f"{k}/{a[k]}"
                break
        summary = subject
        if about and titles and titles.get(about):
            summary = f"{subject} ({titles[about]})"
        comp.add("summary", summary)
        desc = [str(a.get("body")).strip()] if a.get("body") else []
        if about:
            desc.append(f"About: {about}" + (f" ({titles[about]})" if titles and titles.get(about) else ""))
        desc.append(f"crmkit activity: {aid}  (mark done: crmkit activity done {aid})")
        comp.add("description", "\n".join(desc))
        comp.add("categories", [kind])
        created = to_datetime(a.get("created") or a.get("at"), tz)
        if created is not None:
            comp.add("created", created.astimezone(dt.UTC))
        owner = a.get("owner")
        if owner:
            user = (users or {}).get(str(owner)) or {}
            email = user.get("email") if isinstance(user, Mapping) else None
            if email:
                who = vCalAddress(f"mailto:{email}")
                who.params["cn"] = str(user.get("name") or owner)
                comp.add("organizer" if component == "event" else "attendee", who)
            else:
                comp.add("x-crmkit-owner", str(owner))
        if component == "todo":
            comp.add("due", due)
            if done:
                comp.add("status", "COMPLETED")
                finished = to_datetime(a.get("done"), tz) if not isinstance(a.get("done"), bool) else None
                if finished is not None:
                    comp.add("completed", finished.astimezone(dt.UTC))
            else:
                comp.add("status", "NEEDS-ACTION")
        else:
            if isinstance(due, dt.datetime):
                comp.add("dtstart", due)
                comp.add("dtend", due + EVENT_LENGTH)
            else:
                comp.add("dtstart", due)
                comp.add("dtend", due + dt.timedelta(days=1))
            comp.add("transp", "TRANSPARENT")
        cal.add_component(comp)
    moments = [d for _i, _a, d, _d in items if isinstance(d, dt.datetime)]
    if moments and isinstance(tz, ZoneInfo) and tz.key in cal.get_used_tzids():
        from crmkit.io.vtimezone import vtimezone

        # the zone block goes first: some readers resolve a TZID only if it was defined before use
        cal.subcomponents.insert(0, vtimezone(tz, min(moments), max(moments)))
    return cal.to_ical()


def uid(activity_id: str) -> str:
    """The calendar UID of a follow-up: its record id, and nothing that can be renamed."""
    return f"crmkit:activity/{activity_id}"
