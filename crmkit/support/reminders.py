"""The reminder digest: once a day, each owner gets one email listing their overdue and today's
follow-ups (every open activity with a `due`, cadence-made or not).

`crmkit tick` writes it into the outbox (`outbox/digest-<day>-<owner>.eml`) and logs it as a
note activity (`digest: <day>` on the owner) whose id follows from the owner and the day. That
note is how the next tick that day knows the digest is written, here and in every clone the
commit reaches: once per owner per day, whenever and however often cron runs. The message's
Message-ID follows from owner and day too, so `mail send` sends it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.store.records import _RANDOM_ALPHABET
from crmkit.values import local_date, to_datetime

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

TEMPLATE = "follow-up-digest"
OUTBOX = "outbox"


@dataclass
class Digest:
    owner: str
    day: dt.date
    overdue: list[dict[str, Any]] = field(default_factory=list)
    due_today: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return digest_id(self.owner, self.day)

    @property
    def message_id(self) -> str:
        return f"crmkit.digest.{self.owner}.{self.day:%Y%m%d}"

    @property
    def path(self) -> str:
        return f"{OUTBOX}/digest-{self.day.isoformat()}-{self.owner}.eml"

    def to_line(self) -> dict[str, Any]:
        return {"action": "digest", "owner": self.owner, "day": self.day.isoformat(),
                "overdue": len(self.overdue), "today": len(self.due_today), "file": self.path}


def digest_id(owner: str, day: dt.date) -> str:
    digest = hashlib.sha256(f"digest|{owner}|{day.isoformat()}".encode()).digest()
    return f"act-{day:%Y%m%d}-" + "".join(_RANDOM_ALPHABET[b % len(_RANDOM_ALPHABET)] for b in digest[:5])


def _about(a: dict[str, Any]) -> str | None:
    for kind in ("deal", "ticket", "lead", "contact", "company"):
        if isinstance(a.get(kind), str):
            return f"{kind}/{a[kind]}"
    return None


def plan_digests(ws: Workspace, new: list[tuple[str, dict[str, Any]]] | None = None) -> list[Digest]:
    """Today's digests not yet written: per owner with an email address and something overdue or
    due today. `new` are (id, data) of follow-ups this tick is about to create."""
    now = ws.now()
    tz = ws.tz
    today = local_date(now, tz)
    index = ws.index("activity")
    items = [(a.id, a.data) for a in ws.records("activity")] + list(new or [])
    by_owner: dict[str, Digest] = {}
    for aid, a in sorted(items, key=lambda pair: pair[0]):
        if a.get("due") is None or a.get("done") not in (None, "", False) or not a.get("owner"):
            continue
        due = a.get("due")
        at = due if isinstance(due, dt.datetime) else to_datetime(due, tz)
        if at is None:
            continue
        day = due if isinstance(due, dt.date) and not isinstance(due, dt.datetime) else local_date(at, tz)
        if day > today:
            continue
        owner = str(a["owner"])
        d = by_owner.setdefault(owner, Digest(owner, today))
        item = {"activity": aid, "subject": str(a.get("subject") or ""), "due": day.isoformat(),
                "about": _about(a), "_at": at}
        (d.overdue if day < today else d.due_today).append(item)
    out = []
    for owner in sorted(by_owner):
        d = by_owner[owner]
        user = ws.users.get(owner)
        if not isinstance(user, dict) or not user.get("email") or d.id in index or (ws.root / d.path).exists():
            continue
        for items_ in (d.overdue, d.due_today):
            items_.sort(key=lambda i: (i["_at"], i["activity"]))
            for i in items_:
                i.pop("_at")
        out.append(d)
    return out


def apply_digests(ws: Workspace, tx: Transaction, digests: list[Digest]) -> list[str]:
    """Render each digest into the outbox and log it; returns the notes for the commit body."""
    from crmkit.io import eml
    from crmkit.marketing.mail import render_one, sender
    from crmkit.marketing.mailtemplate import load_template

    if not digests:
        return []
    template = load_template(ws, TEMPLATE)
    me = sender(ws)
    notes = []
    for d in digests:
        user = ws.users[d.owner]
        ctx = {"owner": dict(user, id=d.owner), "day": d.day.isoformat(), "overdue": d.overdue,
               "due_today": d.due_today, "sender": me, "unsubscribe": "", "today": d.day,
               "workspace": ws.config.get("name", "")}
        subject, text, html = render_one(ws, template, ctx, str(ws.config.get("locale", "sv_SE")))
        # dated at the start of its day, not the moment cron ran: two clones write the same bytes
        start = dt.datetime.combine(d.day, dt.time(), tzinfo=ws.tz)
        msg = eml.build(sender=eml.address(me["name"], me["email"] or "crmkit@localhost"),
                        to=eml.address(str(user.get("name", d.owner)), str(user["email"])),
                        subject=subject, text=text, html=html, when=start,
                        headers={"X-Crmkit-Template": template.name, "X-Crmkit-Kind": "notification"},
                        message_id=d.message_id)
        tx.write_file(d.path, msg.as_bytes())
        tx.create("activity", {"type": "note", "subject": subject, "at": start, "owner": d.owner,
                               "digest": d.day,
                               "body": "\n".join(f"{i['due']} {i['subject']} [{i['activity']}]"
                                                 for i in d.overdue + d.due_today)}, record_id=d.id)
        notes.append(f"digest to {d.owner}: {len(d.overdue)} overdue, {len(d.due_today)} today")
    return notes
