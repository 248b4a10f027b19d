"""Events (`events/<id>.yaml`): seminars, fairs, webinars; invitees, registrations, attendance, leads.

    name: Nordic ERP Days 2026
    type: fair
    date: 2026-11-12
    location: Stockholmsmässan, Älvsjö
    segment: erp-without-support      # the invitees (invitations: a campaign with `campaign:`)
    owner: karin                      # who follows up the leads it brings
    registrations:                    # appended by `crmkit event register` / `attend`
      - {contact: johan-sjostrom, registered: 2026-10-20T10:00:00+02:00, attended: 2026-11-12T10:30:00+01:00}
      - {name: Sanna Ek, email: sanna@example.se, company_name: Ek Bygg AB, attended: ...}

`crmkit event leads E` makes a lead of every attendee who is not one yet, with
`source: event/<id>`, the event's owner and the attendee's name, email and company;
the lead's id goes back into the registration (`lead:`), so a second run makes none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem, UsageError
from crmkit.store import yamlio
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace


def source_of(event_id: str) -> str:
    return f"event/{event_id}"


def check_events(ws: Workspace) -> list[Problem]:
    """`crmkit check`: an event's segment and campaign exist, and nobody is registered twice."""
    from crmkit.marketing.segments import get_segment

    out: list[Problem] = []
    for rec in ws.records("event"):
        rel = ws.rel(rec.path)
        lines = yamlio.key_lines(rec.path)
        seg = rec.get("segment")
        if seg:
            try:
                get_segment(ws, str(seg))
            except CrmkitError as exc:
                out.append(Problem(rel, lines.get("segment"), "event", f"segment: {exc.message}"))
        seen: set[str] = set()
        regs = rec.get("registrations") or []
        for i, reg in enumerate(regs):
            keys = _keys(reg) if isinstance(reg, dict) else set()
            line = yamlio.item_line(_raw_list(rec), i) or lines.get("registrations")
            if not keys:
                out.append(Problem(rel, line, "event", f"registrations[{i + 1}]: name a contact, a lead, or an email"))
            elif keys & seen:
                out.append(Problem(rel, line, "event",
                                   f"registrations[{i + 1}]: {sorted(keys & seen)[0]} is registered twice"))
            seen |= keys
    return out


def _raw_list(rec: Record) -> Any:
    try:
        doc = yamlio.load_roundtrip(rec.path)
    except CrmkitError:
        return None
    return doc.get("registrations") if isinstance(doc, dict) else None


def _keys(reg: dict[str, Any]) -> set[str]:
    """Everything that names the person: contact, lead, email (a visitor who became a lead has two)."""
    out = {f"{kind}/{reg[kind]}" for kind in ("contact", "lead") if isinstance(reg.get(kind), str)}
    email = reg.get("email")
    if isinstance(email, str) and "@" in email:
        out.add(f"email/{email.strip().lower()}")
    return out


def _key(reg: dict[str, Any]) -> str | None:
    """The one name a message uses for the person."""
    keys = sorted(_keys(reg))
    return next((k for k in keys if k.startswith("contact/")), None) or next(
        (k for k in keys if k.startswith("email/")), None) or (keys[0] if keys else None)


def who(ws: Workspace, ref: str | None, name: str | None, email: str | None, company: str | None) -> dict[str, Any]:
    """A registration's person: a contact or lead by id, or a new person by name and email."""
    if ref:
        if name or email or company:
            raise UsageError("give a contact or lead id, or --name and --email (not both)")
        rec = ws.get(ref)
        if rec.kind not in ("contact", "lead"):
            raise UsageError(f"{rec.ref} is a {rec.kind}; register contacts, leads or new people")
        return {rec.kind: rec.id}
    if not name or not email or "@" not in email:
        raise UsageError("a new person needs --name and --email")
    out: dict[str, Any] = {"name": name, "email": email}
    if company:
        out["company_name"] = company
    return out


def register(doc: Any, person: dict[str, Any], at: dt.datetime, attended: bool) -> str:
    """Add the registration (or mark the existing one attended); returns what happened."""
    if doc.get("registrations") is None:
        doc["registrations"] = []
    regs = doc["registrations"]
    keys = _keys(person)
    for reg in regs:
        if isinstance(reg, dict) and _keys(reg) & keys:
            if attended and not reg.get("attended"):
                reg["attended"] = at
                return "attended"
            return "already " + ("attended" if attended else "registered")
    entry = dict(person)
    entry["attended" if attended else "registered"] = at
    regs.append(entry)
    return "attended (walk-in)" if attended else "registered"


@dataclass
class NewLead:
    index: int          # the registration it comes from
    data: dict[str, Any]
    id: str | None = None


def lead_id(ws: Workspace, event_id: str, person: str, attended: Any) -> str | None:
    """`ld-<day attended>-` plus five characters made from event and person: two clones
    make the same lead of one attendee, so a pull holds it once. None when that id is taken."""
    import hashlib

    from crmkit.store.records import _RANDOM_ALPHABET
    from crmkit.values import to_datetime

    when = to_datetime(attended, ws.tz)
    if when is None:
        return None
    digest = hashlib.sha256(f"event|{event_id}|{person}".encode()).digest()
    rid = f"ld-{when.astimezone(ws.tz):%Y%m%d}-" + "".join(_RANDOM_ALPHABET[b % len(_RANDOM_ALPHABET)]
                                                            for b in digest[:5])
    return None if rid in ws.index("lead") else rid


#: Why an attendee whose registration names its lead is left alone: done, not a problem.
MADE_BEFORE = "already a lead: lead/"


def plan_leads(ws: Workspace, event: Record) -> tuple[list[NewLead], list[tuple[str, str]]]:
    """Leads to create for attendees, and (who, why) for attendees left alone (those made
    before say MADE_BEFORE)."""
    from crmkit.people.dedupe import normal_email

    source = source_of(event.id)
    have = {normal_email(str(ld.get("email"))) for ld in ws.records("lead")
            if ld.get("source") == source and ld.get("email")}
    owner = event.get("owner")
    out: list[NewLead] = []
    left: list[tuple[str, str]] = []
    for i, reg in enumerate(event.get("registrations") or []):
        if not isinstance(reg, dict) or not reg.get("attended"):
            continue
        label = _key(reg) or f"registrations[{i + 1}]"
        if reg.get("lead"):
            left.append((label, f"{MADE_BEFORE}{reg['lead']}"))
            continue
        person = dict(reg)
        if isinstance(reg.get("contact"), str):
            contact = ws.index("contact").get(reg["contact"])
            if contact is None:
                left.append((label, "no such contact"))
                continue
            company = ws.index("company").get(str(contact.get("company") or ""))
            person = {"name": contact.get("name"), "email": contact.get("email"),
                      "company_name": company.get("name") if company else None}
        if normal_email(str(person.get("email") or "")) in have:
            left.append((label, "already a lead from this event"))
            continue
        data: dict[str, Any] = {"name": person.get("name") or person.get("email"), "status": "prospect",
                                "source": source}
        for key in ("email", "company_name"):
            if person.get(key):
                data[key] = person[key]
        if isinstance(reg.get("contact"), str):
            data["contact"] = reg["contact"]
        if owner:
            data["owner"] = owner
        if event.get("campaign"):
            data["campaign"] = event.get("campaign")
        data["created"] = reg["attended"]   # when they met us, the same wherever this runs
        out.append(NewLead(i, data, lead_id(ws, event.id, label, reg["attended"])))
    return out, left


def apply_leads(ws: Workspace, tx: Transaction, event: Record, new: list[NewLead]) -> list[str]:
    """Create the leads and note each one's id in its registration (so a rerun makes none)."""
    made = []
    for n in new:
        lead = tx.create("lead", n.data, n.id)
        made.append(lead.id)

        def link(doc: Any, i: int = n.index, lid: str = lead.id) -> None:
            doc["registrations"][i]["lead"] = lid

        tx.update("event", event.id, link)
    return made
