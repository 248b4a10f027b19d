"""Customer satisfaction: ratings, the survey after a solved ticket, and each contact's sentiment.

**Ratings** are `rated` events on a ticket (`rating` 1-5, an optional `comment`), written
by `crmkit ticket rate T 4 -m "..."` (and, once inbound mail exists, from survey replies).
`good` counts as 5 and `bad` as 1. A ticket's computed `rating` is its latest.

**The survey**: `crmkit ticket survey` renders the `survey` mail template into the outbox
for every solved ticket not yet surveyed or rated, and appends a `surveyed` event; `crmkit
mail send` delivers it. It is service mail, not marketing, but a contact who opted out
(`opted_out: true`) or declined surveys (`consent: {survey: false}`) gets none.

**Sentiment** per contact (upset, neutral, satisfied, loyal) is computed from the records'
signals in :mod:`crmkit.support.sentiment`; rating a ticket logs the rated contact's journey.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.errors import NotFound, UsageError
from crmkit.store.records import Record
from crmkit.support.sentiment import ACTOR, Change, _events, sentiment_value, sync_sentiment

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


RATING_WORDS = {"good": 5, "bad": 1}
SURVEY_TEMPLATE = "survey"


# --------------------------------------------------------------------------- ratings


def parse_rating(text: str) -> int:
    """1-5, or good (5) / bad (1); anything else is a usage error naming what is allowed."""
    t = str(text).strip().lower()
    if t in RATING_WORDS:
        return RATING_WORDS[t]
    try:
        n = int(t)
    except ValueError:
        n = 0
    if not 1 <= n <= 5 or str(n) != t.lstrip("+"):
        raise UsageError(f"a rating is 1 to 5, good or bad, not {text!r}")
    return n


def ratings(ticket: Record) -> list[dict[str, Any]]:
    """The ticket's `rated` events, oldest first."""
    return [e for e in _events(ticket) if e.get("type") == "rated" and isinstance(e.get("rating"), int)]


def rating_value(ws: Workspace, ticket: Record) -> int | None:
    """The ticket's latest rating (a computed field: `--where 'rating <= 2'`)."""
    found = ratings(ticket)
    return found[-1]["rating"] if found else None


def rate(doc: Any, rating: int, *, by: str, at: dt.datetime, comment: str | None = None,
         via: str = "hand") -> list[str]:
    """Append a `rated` event; returns what changed."""
    from crmkit.support.tickets import append_event

    event: dict[str, Any] = {"type": "rated", "at": at, "by": by, "rating": rating}
    if comment:
        event["comment"] = comment
    if via != "hand":
        event["via"] = via
    append_event(doc, event)
    return [f"rated {rating}"]


def rate_ticket(ws: Workspace, ref: str, rating_text: str, comment: str | None, by: str, command: str,
                via: str = "hand") -> dict[str, Any]:
    """`ticket rate`: check everything first, then one transaction (the rating and the journey)."""
    rating = parse_rating(rating_text)  # before reading anything: a bad rating writes nothing
    try:
        ticket = ws.get(ref, "ticket")
    except NotFound:
        raise NotFound(f"no ticket {ref!r} to rate") from None
    contact_id = ticket.get("contact")
    at = ws.now()
    with ws.transaction(f"rate {ticket.ref} {rating}", command) as tx:
        tx.update("ticket", ticket.id, lambda doc: rate(doc, rating, by=by, at=at, comment=comment, via=via))
        tx.note(f"rated {rating}" + (f": {comment}" if comment else ""))
        logged: list[tuple[str, Change]] = []
        contact = ws.index("contact").get(contact_id) if isinstance(contact_id, str) else None
        if contact is not None:
            logged = sync_sentiment(ws, tx, [contact])
            for _, c in logged:
                tx.note(f"{contact.ref}: sentiment {c.from_state} -> {c.to_state} ({c.reason})")
    state = sentiment_value(ws, contact) if contact is not None else None
    return {"ticket": ticket.id, "rating": rating, "contact": contact_id, "sentiment": state,
            "changes": [c.event() | {"contact": cid} for cid, c in logged]}


# --------------------------------------------------------------------------- the survey


@dataclass
class SurveyPlan:
    send: list[tuple[Record, Record]] = field(default_factory=list)  # (ticket, contact)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (ticket id, why)

    def to_dict(self) -> dict[str, Any]:
        return {"survey": [{"ticket": t.id, "contact": c.id, "to": c.get("email")} for t, c in self.send],
                "skipped": [{"ticket": t, "reason": r} for t, r in self.skipped]}


def _solved_at(ticket: Record) -> dt.datetime | None:
    at = None
    for e in _events(ticket):
        if e.get("type") == "status" and e.get("to") == "solved" and isinstance(e.get("at"), dt.datetime):
            at = e["at"]
    return at


def plan_survey(ws: Workspace, since: dt.datetime | None = None) -> SurveyPlan:
    """Solved tickets (solved or closed after being solved) that need a survey, and why others do not."""
    plan = SurveyPlan()
    contacts = ws.index("contact")
    for t in ws.records("ticket"):
        if t.get("status") not in ("solved", "closed"):
            continue
        solved = _solved_at(t)
        if solved is None or (since is not None and solved < since):
            continue
        kinds = {e.get("type") for e in _events(t)}
        if "surveyed" in kinds or "rated" in kinds:
            continue  # asked once, or already rated by hand: never twice
        contact = contacts.get(t.get("contact") or "")
        if contact is None:
            plan.skipped.append((t.id, "no contact"))
        elif not isinstance(contact.get("email"), str) or "@" not in contact.get("email"):
            plan.skipped.append((t.id, f"{contact.id} has no email address"))
        elif contact.get("opted_out") is True:
            plan.skipped.append((t.id, f"{contact.id} opted out"))
        elif (contact.get("consent") or {}).get("survey") is False:
            plan.skipped.append((t.id, f"{contact.id} declined surveys"))
        else:
            plan.send.append((t, contact))
    return plan


def run_survey(ws: Workspace, plan: SurveyPlan, command: str) -> list[str]:
    """Render each survey into the outbox and mark its ticket `surveyed`, in one transaction."""
    from crmkit.io import eml
    from crmkit.marketing.mail import OUTBOX, context_for, language_of, render_one, sender
    from crmkit.marketing.mailtemplate import load_template
    from crmkit.render.templating import LOCALES
    from crmkit.store.records import slugify

    if not plan.send:
        return []
    now = ws.now()
    me = sender(ws)
    from_addr = eml.address(me["name"], me["email"] or "crmkit@localhost")
    default_locale = str(ws.config.get("locale", "sv_SE"))
    written: list[str] = []
    with ws.transaction(f"survey {len(plan.send)} solved ticket(s)", command) as tx:
        for ticket, contact in plan.send:
            lang = language_of(ws, contact)
            template = load_template(ws, SURVEY_TEMPLATE, lang)
            locale = LOCALES.get(lang or "", default_locale) if lang else default_locale
            ctx = context_for(ws, contact, {"ticket": dict(ticket.data, id=ticket.id)})
            subject, text, html = render_one(ws, template, ctx, locale)
            msg = eml.build(sender=from_addr, to=eml.address(str(contact.get("name", "")), str(contact["email"])),
                            subject=subject, text=text, html=html, when=now,
                            headers={"X-Crmkit-Record": contact.ref, "X-Crmkit-Template": SURVEY_TEMPLATE,
                                     "X-Crmkit-Kind": "transactional", "X-Crmkit-Ticket": ticket.ref})
            rel = f"{OUTBOX}/{now:%Y%m%d-%H%M%S}-{SURVEY_TEMPLATE}-{slugify(ticket.id)}.eml"
            tx.write_file(rel, msg.as_bytes())
            written.append(rel)

            def mark(doc: Any, contact_id: str = contact.id) -> None:
                from crmkit.support.tickets import append_event

                append_event(doc, {"type": "surveyed", "at": now, "by": ACTOR, "to": contact_id})

            tx.update("ticket", ticket.id, mark)
            tx.note(f"{ticket.ref}: survey to {contact.ref}")
    return written

