"""Filing email that arrives (`crmkit inbox fetch`): each message once, by its Message-ID.

    inbox:
      maildir: mail/inbox            # a Maildir (relative to the workspace, or absolute)
      support: [support@fjordlys.se] # a new message to one of these opens a ticket
      sales: [sales@fjordlys.se]     # ... to one of these, a lead
      max_attachment_mb: 10          # a bigger attachment keeps the whole message unfiled
      create_contacts: always        # always | never: a contact for an unknown sender of a ticket
      imap: {host: ..., user: ...}   # support/imap.py; the password never lives here

The rules, first that applies wins (README "Email that arrives"):

1. a Message-ID already on an activity: filed before, nothing happens (`already`);
2. spam (`X-Spam-Flag: YES`, `X-Spam-Status: Yes...`): not filed (`spam`);
3. a bounce (RFC 3464 report): each failed address on a contact or lead is marked
   `bounced: {at, status, reason}` and the report is logged on it (`bounce`);
4. other automatic mail (`Auto-Submitted`, out-of-office): not filed (`automatic`);
5. a reply to a ticket (In-Reply-To/References name a message logged on the ticket, or
   the subject carries `[tk-...]`): a customer reply, with the clocks and reopening of
   `ticket reply --customer` (support/reopening.py) (`ticket-reply`);
6. a reply to other mail we logged (a campaign, a mail merge): logged on the same record (`reply`);
7. to a support address: a new ticket (channel email), then triage (`ticket`);
8. to a sales address: a new lead (source email), then routing (`lead`);
9. from a known contact: logged on the contact (`logged`); else not filed (`unknown-sender`).

Every filed message leaves an email activity (`direction: in`, `message_id`) whose id,
like a new ticket's or lead's, follows from the Message-ID, with times from the
message's Date: two clones that fetch the same message write the same files, and
their merge holds it once. Attachments are written under `attachments/<activity>/`
(never executed, never opened). A message that cannot be filed whole is not filed
at all and is reported; the rest are filed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.io.maildir import BadMessage, Inbound, parse
from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

#: How a commit names what a filed message became.
COMMIT_WORDS = {"ticket-reply": "customer reply on", "reply": "reply logged on", "ticket": "new",
                "lead": "new", "bounce": "bounce marked", "logged": "email logged on"}
CREATE_CONTACTS = ("always", "never")
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass
class Settings:
    support: set[str]
    sales: set[str]
    max_attachment: int
    create_contacts: str

    @classmethod
    def of(cls, ws: Workspace) -> Settings:
        cfg = ws.config.get("inbox") or {}
        if not isinstance(cfg, dict):
            raise CrmkitError("inbox: is a mapping (maildir, support, sales, ...)", path="crmkit.yaml")

        def addresses(key: str) -> set[str]:
            value = cfg.get(key) or []
            items = [value] if isinstance(value, str) else value
            return {str(a).strip().lower() for a in items if str(a).strip()}

        limit = cfg.get("max_attachment_mb", 10)
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit <= 0:
            raise CrmkitError(f"inbox.max_attachment_mb is a positive number, not {limit!r}", path="crmkit.yaml")
        create = str(cfg.get("create_contacts", "always"))
        if create not in CREATE_CONTACTS:
            raise CrmkitError(f"inbox.create_contacts is always or never, not {create!r}", path="crmkit.yaml")
        return cls(addresses("support"), addresses("sales"), int(limit * 1024 * 1024), create)


@dataclass
class Filed:
    """What became of one message."""

    name: str
    message_id: str
    action: str
    record: str | None = None
    detail: str = ""

    @property
    def filed(self) -> bool:
        return self.action not in ("already", "spam", "automatic", "unknown-sender", "refused")

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.name, "message_id": self.message_id, "action": self.action,
                "record": self.record, "detail": self.detail}


@dataclass
class FetchResult:
    messages: list[Filed] = field(default_factory=list)
    created: list[Record] = field(default_factory=list)   # new tickets and leads, for routing

    @property
    def refused(self) -> list[Filed]:
        return [m for m in self.messages if m.action == "refused"]


def stable_id(kind: str, message_id: str, day: dt.date) -> str:
    """`act-20261123-k3f9q`: the kind's date-and-random form, the random part from the Message-ID."""
    from crmkit.store.records import ID_PREFIX

    digest = hashlib.sha256(f"{kind}|{message_id}".encode()).digest()
    tail = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:5])
    return f"{ID_PREFIX[kind]}-{day:%Y%m%d}-{tail}"


def fetch(ws: Workspace, source: Iterable[tuple[str, bytes]], command: str) -> FetchResult:
    """File every message of `source` ((name, bytes) pairs), one commit per filed message."""
    settings = Settings.of(ws)
    result = FetchResult()
    with ws.transaction("inbox fetch", command) as tx:
        for name, data in source:
            try:
                msg = parse(data)
            except BadMessage as exc:
                result.messages.append(Filed(name, "", "refused", detail=exc.message))
                continue
            try:
                outcome = _file(ws, tx, name, msg, settings, result)
            except CrmkitError as exc:
                tx.rollback()  # this message only: the ones before it are committed
                result.messages.append(Filed(name, msg.message_id, "refused", detail=str(exc)))
                continue
            result.messages.append(outcome)
            if outcome.filed:
                tx.message = f"inbox: {COMMIT_WORDS[outcome.action]} {outcome.record} from {msg.sender}"
                tx.note(f"Message-ID: {msg.message_id}")
                if msg.subject:
                    tx.note(f"Subject: {msg.subject}")
                tx.commit_now()
    return result


# -- deciding ---------------------------------------------------------------------------------


def _logged(ws: Workspace) -> dict[str, Record]:
    return {str(a.get("message_id")): a for a in ws.records("activity") if a.get("message_id")}


def _ticket_token(ws: Workspace, subject: str) -> Record | None:
    import re

    tickets = ws.index("ticket")
    for token in re.findall(r"\[(?:ticket/|#)?([a-z0-9][a-z0-9-]*)\]", subject.lower()):
        if token in tickets:
            return tickets[token]
    return None


def _at(ws: Workspace, msg: Inbound) -> dt.datetime:
    """When it was written (its Date), never later than now; now when it has no usable Date."""
    now = ws.now()
    if msg.date is None or msg.date > now:
        return now
    return msg.date.astimezone(ws.tz)


def _file(ws: Workspace, tx: Transaction, name: str, msg: Inbound, settings: Settings, result: FetchResult) -> Filed:
    logged = _logged(ws)
    if msg.message_id in logged:
        return Filed(name, msg.message_id, "already", logged[msg.message_id].ref, "filed before")
    if msg.spam:
        return Filed(name, msg.message_id, "spam", detail="marked as spam by the mail server; not filed")
    if msg.bounce is not None:
        return _bounce(ws, tx, name, msg)
    if msg.automatic:
        return Filed(name, msg.message_id, "automatic", detail="an automatic message (Auto-Submitted); not filed")
    for a in msg.attachments:
        if a.size > settings.max_attachment:
            raise CrmkitError(f"attachment {a.name} is {a.size / 1048576:.1f} MB, over the "
                              f"{settings.max_attachment / 1048576:g} MB limit (inbox.max_attachment_mb)")
    earlier = [logged[m] for m in msg.refers_to if m in logged]
    ticket = next((ws.index("ticket").get(str(a.get("ticket"))) for a in earlier if a.get("ticket")), None) \
        or _ticket_token(ws, msg.subject)
    if ticket is not None:
        return _ticket_reply(ws, tx, name, msg, ticket)
    if earlier:
        return _reply(ws, tx, name, msg, earlier[0])
    to = set(msg.to)
    if to & settings.support:
        return _new_ticket(ws, tx, name, msg, settings, result)
    if to & settings.sales:
        return _new_lead(ws, tx, name, msg, result)
    contact = _contact(ws, msg.sender)
    if contact is not None:
        act = _activity(ws, tx, msg, {"contact": contact.id, **_company_of(contact)})
        return Filed(name, msg.message_id, "logged", contact.ref, f"email logged as activity/{act}")
    return Filed(name, msg.message_id, "unknown-sender",
                 detail=f"{msg.sender} is no contact, and the message is neither a reply nor to a "
                        "support or sales address; not filed")


# -- filing -----------------------------------------------------------------------------------


def _contact(ws: Workspace, email: str) -> Record | None:
    from crmkit.people.dedupe import find_by_email

    return find_by_email(ws, email)


def _company_of(contact: Record) -> dict[str, Any]:
    return {"company": contact.get("company")} if contact.get("company") else {}


def _activity(ws: Workspace, tx: Transaction, msg: Inbound, links: dict[str, Any], **extra: Any) -> str:
    """The email activity that logs the message (and is what makes it filed once)."""
    at = _at(ws, msg)
    aid = stable_id("activity", msg.message_id, at.date())
    data: dict[str, Any] = {"type": "email", "direction": "in", "subject": msg.subject or "(no subject)",
                            "at": at, "from": msg.sender, **{k: v for k, v in links.items() if v},
                            "message_id": msg.message_id, **extra}
    if msg.body:
        data["body"] = msg.body
    if msg.attachments:
        stored = []
        for a in msg.attachments:
            rel = f"attachments/{aid}/{a.name}"
            tx.write_file(rel, a.data)
            stored.append({"name": a.name, "path": rel, "type": a.content_type, "size": a.size})
        data["attachments"] = stored
    tx.create("activity", data, aid)
    return aid


def _ticket_reply(ws: Workspace, tx: Transaction, name: str, msg: Inbound, ticket: Record) -> Filed:
    from crmkit.support.reopening import record_reply

    contact = _contact(ws, msg.sender)
    by = contact.id if contact is not None else msg.sender
    landed, changes = record_reply(ws, tx, ticket, by=by, customer=True, body=msg.body or None, at=_at(ws, msg))
    links = {"ticket": landed, "contact": contact.id if contact else ticket.get("contact"),
             "company": ticket.get("company")}
    _activity(ws, tx, msg, links)
    return Filed(name, msg.message_id, "ticket-reply", f"ticket/{landed}", ", ".join(changes))


def _reply(ws: Workspace, tx: Transaction, name: str, msg: Inbound, earlier: Record) -> Filed:
    links = {k: earlier.get(k) for k in ("contact", "company", "lead", "deal")}
    if not links.get("contact"):
        contact = _contact(ws, msg.sender)
        links["contact"] = contact.id if contact else None
    _activity(ws, tx, msg, links, in_reply_to=earlier.id)
    target = next((f"{k}/{v}" for k, v in links.items() if v), earlier.ref)
    return Filed(name, msg.message_id, "reply", target, f"a reply to {earlier.ref} ({earlier.get('subject') or ''})")


def _new_contact(ws: Workspace, tx: Transaction, msg: Inbound) -> Record:
    """The documented rule: the sender's display name (else the address before @) and address;
    the company whose `domain` is the address's (free mail never matches)."""
    from crmkit.sales.leads import email_domain, find_company
    from crmkit.store.team import new_record_id

    data: dict[str, Any] = {"name": msg.sender_name or msg.sender.split("@", 1)[0], "email": msg.sender,
                            "created": _at(ws, msg), "source": "email"}
    company = find_company(ws, email_domain(msg.sender), None)
    if company is not None:
        data["company"] = company.id
    rec: Record = tx.create("contact", data, new_record_id(ws, "contact", data))
    return rec


def _new_ticket(ws: Workspace, tx: Transaction, name: str, msg: Inbound, settings: Settings, result: FetchResult) -> Filed:
    contact = _contact(ws, msg.sender)
    made = ""
    if contact is None and settings.create_contacts == "always":
        contact = _new_contact(ws, tx, msg)
        made = f", new contact/{contact.id}"
    at = _at(ws, msg)
    by = contact.id if contact is not None else msg.sender
    data: dict[str, Any] = {"subject": msg.subject or "(no subject)", "channel": "email", "status": "new",
                            "created": at}
    if contact is not None:
        data["contact"] = contact.id
        data.update(_company_of(contact))
    else:
        data["email"] = msg.sender
    data["events"] = [{"type": "created", "at": at, "by": by, "channel": "email"}]
    tid = stable_id("ticket", msg.message_id, at.date())
    ticket = tx.create("ticket", data, tid)
    _activity(ws, tx, msg, {"ticket": tid, "contact": data.get("contact"), "company": data.get("company")})
    result.created.append(ticket)
    return Filed(name, msg.message_id, "ticket", f"ticket/{tid}", f"opened from email{made}")


def _new_lead(ws: Workspace, tx: Transaction, name: str, msg: Inbound, result: FetchResult) -> Filed:
    from crmkit.sales.leads import email_domain, find_company

    at = _at(ws, msg)
    data: dict[str, Any] = {"name": msg.sender_name or msg.sender.split("@", 1)[0], "email": msg.sender,
                            "status": "prospect", "source": "email", "created": at}
    if msg.subject:
        data["interest"] = msg.subject
    company = find_company(ws, email_domain(msg.sender), None)
    if company is not None:
        data["company_name"] = company.get("name")
    lid = stable_id("lead", msg.message_id, at.date())
    lead = tx.create("lead", data, lid)
    contact = _contact(ws, msg.sender)
    _activity(ws, tx, msg, {"lead": lid, "contact": contact.id if contact else None})
    result.created.append(lead)
    return Filed(name, msg.message_id, "lead", f"lead/{lid}", "opened from email")


def _bounce(ws: Workspace, tx: Transaction, name: str, msg: Inbound) -> Filed:
    """Mark each failed address where it is a contact's or a lead's, and log the report there."""
    assert msg.bounce is not None
    at = _at(ws, msg)
    marked: list[Record] = []
    for address in msg.bounce.recipients:
        contact = _contact(ws, address)
        leads = [r for r in ws.records("lead") if str(r.get("email") or "").strip().lower() == address]
        for rec in ([contact] if contact else []) + leads:
            mark = {"address": address, "at": at, "status": msg.bounce.status or "5.0.0"}
            if msg.bounce.diagnostic:
                mark["reason"] = msg.bounce.diagnostic

            def edit(doc: Any, mark: dict[str, Any] = mark) -> None:
                doc["bounced"] = mark

            tx.update(rec.kind, rec.id, edit)
            marked.append(rec)
    if not marked:
        return Filed(name, msg.message_id, "unknown-sender",
                     detail=f"a bounce for {', '.join(msg.bounce.recipients)}, no contact or lead; not filed")
    first = marked[0]
    links = {first.kind: first.id, **(_company_of(first) if first.kind == "contact" else {})}
    _activity(ws, tx, msg, links, bounce=", ".join(msg.bounce.recipients))
    return Filed(name, msg.message_id, "bounce", first.ref,
                 f"{', '.join(msg.bounce.recipients)} bounced ({msg.bounce.status or 'no status'})")


def route_created(ws: Workspace, result: FetchResult, command: str) -> list[str]:
    """Triage the new tickets and route the new leads (the rules of `crmkit route`), in one
    commit of routing's own. Returns a line per assignment; off the router branch of a team
    (team.router_branch) nothing is routed here and the line says so."""
    if not result.created:
        return []
    from crmkit.sales import routing
    from crmkit.sales.rules import load_checked
    from crmkit.store.team import require_router

    try:
        require_router(ws, "routing")
    except CrmkitError as exc:
        return [f"not routed here: {exc.message}"]
    ws.invalidate()
    ruleset = load_checked(ws)
    fresh = [ws.index(r.kind)[r.id] for r in result.created if r.id in ws.index(r.kind)]
    the_plan = routing.plan(ws, ruleset, only=fresh)
    routing.apply(ws, the_plan, command)
    lines = [f"{a.ref} -> {a.owner}  rule {a.rule}" + "".join(f"; {n}" for n in a.notes if "partner" in n)
             for a in the_plan.assignments]
    lines += [f"{a.ref}: left without an owner: {'; '.join(a.notes)}" for a in the_plan.unassigned]
    return lines


def configured_maildir(ws: Workspace) -> Any:
    """inbox.maildir of crmkit.yaml, relative to the workspace."""
    from pathlib import Path

    value = (ws.config.get("inbox") or {}).get("maildir")
    if not value:
        raise CrmkitError("no Maildir: give --maildir DIR or set inbox.maildir in crmkit.yaml")
    path = Path(str(value)).expanduser()
    return path if path.is_absolute() else ws.root / path
