"""Email: templates with front matter, mail merge into the outbox, sending over SMTP.

An email template is one file under templates/mail/:

    ---
    subject: "Nyhet för {{ contact.name }}"
    kind: marketing            # marketing mail needs consent and an unsubscribe line
    ---
    Hej {{ contact.name }}, ...      (the text body)
    {{ unsubscribe }}
    === html ===
    <p>Hej {{ contact.name }}</p>    (an optional HTML body)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmkit.core import yamlio
from crmkit.core.errors import PartialFailure, TemplateError
from crmkit.core.records import Record, slugify
from crmkit.core.templating import find_template, render_string

HTML_SEPARATOR = re.compile(r"^=== html ===\s*$", re.MULTILINE)
OUTBOX = "outbox"


@dataclass
class MailTemplate:
    name: str
    path: Path
    subject: str
    kind: str
    text: str
    html: str | None
    front_line: int  # line where the body starts, for messages


def load_template(ws: Any, name: str) -> MailTemplate:
    """Find templates/mail/NAME(.md.j2) in the workspace or the defaults and split it."""
    candidates = [name] if name.endswith(".j2") else [f"{name}.md.j2", f"{name}.txt.j2"]
    path = None
    for candidate in candidates:
        try:
            path = find_template(ws, f"mail/{candidate}")
            break
        except TemplateError:
            continue
    if path is None:
        raise TemplateError(f"no email template {name!r} in templates/mail/ (workspace or crmkit's defaults)")
    source = path.read_text(encoding="utf-8")
    rel = str(path)
    if not source.startswith("---"):
        raise TemplateError("an email template starts with front matter (---, subject: ..., ---)", path=rel, line=1)
    parts = source.split("\n---", 1)
    if len(parts) != 2:
        raise TemplateError("the front matter is not closed with ---", path=rel, line=1)
    front = yamlio.loads_fast(parts[0][3:], rel) or {}
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    if not isinstance(front, dict) or not front.get("subject"):
        raise TemplateError("the front matter needs a subject", path=rel, line=1)
    kind = str(front.get("kind", "transactional"))
    if kind not in ("marketing", "transactional"):
        raise TemplateError(f"kind is marketing or transactional, not {kind!r}", path=rel, line=2)
    text, html = body, None
    m = HTML_SEPARATOR.search(body)
    if m:
        text, html = body[: m.start()], body[m.end():].lstrip("\n")
    if kind == "marketing":
        for part, label in ((text, "text"), (html, "HTML")):
            if part is not None and "unsubscribe" not in part:
                raise TemplateError(f"a marketing template needs an unsubscribe line ({{{{ unsubscribe }}}}) "
                                    f"in its {label} body", path=rel)
    return MailTemplate(name, path, str(front["subject"]), kind, text, html, source[: len(parts[0]) + 4].count("\n") + 1)


# -- recipients ---------------------------------------------------------------------------


@dataclass
class Skipped:
    id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "reason": self.reason}


def choose_recipients(ws: Any, records: list[Record], marketing: bool) -> tuple[list[Record], list[Skipped]]:
    """Drop those without an address, without consent (marketing), opted out, or already on the list."""
    from crmkit.core.dedupe import normal_email

    chosen: list[Record] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for rec in records:
        email = rec.get("email")
        if not isinstance(email, str) or "@" not in email:
            skipped.append(Skipped(rec.id, "no email address"))
            continue
        if rec.get("opted_out") is True:
            skipped.append(Skipped(rec.id, "opted out"))
            continue
        if marketing and (rec.get("consent") or {}).get("marketing") is not True:
            skipped.append(Skipped(rec.id, "no consent to marketing"))
            continue
        key = normal_email(email) or email
        if key in seen:
            skipped.append(Skipped(rec.id, f"same address as {seen[key]}"))
            continue
        seen[key] = rec.id
        chosen.append(rec)
    return chosen, skipped


def sender(ws: Any) -> dict[str, str]:
    smtp = ws.config.get("smtp") or {}
    mail = ws.config.get("mail") or {}
    text = mail.get("from") or smtp.get("from") or f"{ws.config.get('name', 'crmkit')} <crmkit@localhost>"
    from email.utils import parseaddr

    name, email = parseaddr(str(text))
    return {"name": name or str(ws.config.get("name", "")), "email": email}


def context_for(ws: Any, rec: Record, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a template sees: the contact, its company, the sender, the unsubscribe line."""
    company = ws.index("company").get(rec.get("company") or "")
    mail = ws.config.get("mail") or {}
    unsub = str(mail.get("unsubscribe", "Reply STOP to stop receiving these emails."))
    ctx = {"contact": dict(rec.data, id=rec.id), "company": dict(company.data, id=company.id) if company else {},
           "sender": sender(ws), "unsubscribe": unsub, "today": ws.today(), "workspace": ws.config.get("name", "")}
    ctx.update(extra or {})
    return ctx


@dataclass
class Rendered:
    record: Record
    subject: str
    text: str
    html: str | None


@dataclass
class Failure:
    id: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "error": self.error}


def render_all(ws: Any, template: MailTemplate, records: list[Record]) -> tuple[list[Rendered], list[Failure]]:
    """Render for every recipient; a missing variable is a failure naming it, never a blank."""
    done: list[Rendered] = []
    failed: list[Failure] = []
    locale = str(ws.config.get("locale", "sv_SE"))
    for rec in records:
        ctx = context_for(ws, rec)
        try:
            subject = render_string(ws, template.subject, ctx, html=False, locale=locale, name=template.name)
            text = render_string(ws, template.text, ctx, html=False, locale=locale, name=template.name)
            html = (render_string(ws, template.html, ctx, html=True, locale=locale, name=template.name)
                    if template.html is not None else None)
        except TemplateError as exc:
            failed.append(Failure(rec.id, exc.message))
            continue
        if "\n" in subject.strip() or "\r" in subject:
            failed.append(Failure(rec.id, "the subject would contain a line break"))
            continue
        done.append(Rendered(rec, subject.strip(), text, html))
    return done, failed


def write_outbox(ws: Any, tx: Any, template: MailTemplate, rendered: list[Rendered]) -> list[str]:
    """One .eml per recipient in outbox/; returns the relative paths."""
    from crmkit.formats import eml

    me = sender(ws)
    from_addr = eml.address(me["name"], me["email"] or "crmkit@localhost")
    now = ws.now()
    paths = []
    for r in rendered:
        to = eml.address(str(r.record.get("name", "")), str(r.record["email"]))
        msg = eml.build(sender=from_addr, to=to, subject=r.subject, text=r.text, html=r.html, when=now,
                        headers={"X-Crmkit-Record": r.record.ref, "X-Crmkit-Template": template.name})
        rel = f"{OUTBOX}/{now:%Y%m%d-%H%M%S}-{slugify(template.name)}-{r.record.id}.eml"
        tx.write_file(rel, msg.as_bytes())
        paths.append(rel)
    return paths


def render_notification(ws: Any, tx: Any, template_name: str, record: Record, owner_id: str,
                        rule: str = "") -> str | None:
    """Routing's `notify` action: the named template, to the new owner, into the outbox."""
    from crmkit.formats import eml

    owner = ws.users.get(owner_id) or {}
    if not owner.get("email"):
        return None
    template = load_template(ws, template_name)
    ctx = {"record": dict(record.data, id=record.id), "kind": record.kind, "owner": dict(owner, id=owner_id),
           "rule": rule, "sender": sender(ws), "unsubscribe": ""}
    locale = str(ws.config.get("locale", "sv_SE"))
    subject = render_string(ws, template.subject, ctx, html=False, locale=locale, name=template.name)
    text = render_string(ws, template.text, ctx, html=False, locale=locale, name=template.name)
    html = render_string(ws, template.html, ctx, html=True, locale=locale, name=template.name) if template.html else None
    me = sender(ws)
    msg = eml.build(sender=eml.address(me["name"], me["email"] or "crmkit@localhost"),
                    to=eml.address(str(owner.get("name", owner_id)), str(owner["email"])),
                    subject=subject, text=text, html=html, when=ws.now(),
                    headers={"X-Crmkit-Record": record.ref, "X-Crmkit-Template": template.name})
    rel = f"{OUTBOX}/{ws.now():%Y%m%d-%H%M%S}-notify-{record.id}-{owner_id}.eml"
    tx.write_file(rel, msg.as_bytes())
    return rel


# -- sending --------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)


def outbox_files(ws: Any) -> list[Path]:
    folder = ws.root / OUTBOX
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


def _logged_message_ids(ws: Any) -> set[str]:
    return {str(a.get("message_id")) for a in ws.records("activity") if a.get("message_id")}


def send_outbox(ws: Any, command: str, *, dry_run: bool = False) -> SendResult:
    """Send every message in the outbox. Each one sent leaves the outbox and is logged as an
    email activity; a failure stops nothing already done, and the next run sends only the rest."""
    from crmkit.core import smtp
    from crmkit.formats import eml

    result = SendResult()
    files = outbox_files(ws)
    if dry_run or not files:
        result.sent = [ws.rel(p) for p in files] if dry_run else []
        return result
    logged = _logged_message_ids(ws)
    with ws.transaction(f"send {len(files)} email{'s' if len(files) != 1 else ''}", command) as tx:
        with smtp.connect(ws.config.get("smtp") or {}) as conn:
            for path in files:
                msg = eml.read(path)
                message_id = str(msg["Message-ID"] or "")
                rel = ws.rel(path)
                if message_id and message_id in logged:
                    # sent by an earlier run that stopped before it could clear the outbox
                    tx.remove_file(rel)
                    result.already.append(rel)
                    continue
                try:
                    conn.send_message(msg)
                except smtp.SendError as exc:
                    result.failed.append((rel, str(exc)))
                    if exc.fatal:
                        result.failed += [(ws.rel(p), "not tried after the connection failed")
                                          for p in files[files.index(path) + 1:]]
                        break
                    continue
                tx.remove_file(rel)
                _log(ws, tx, msg, message_id)
                result.sent.append(rel)
        tx.message = f"sent {len(result.sent)} email{'s' if len(result.sent) != 1 else ''}"
        if result.failed:
            tx.note(f"failed, still in the outbox: {', '.join(f for f, _ in result.failed)}")
    if result.failed:
        raise PartialFailure(
            f"sent {len(result.sent)}, failed {len(result.failed)} (still in the outbox; run `crmkit mail send` "
            f"again): {result.failed[0][0]}: {result.failed[0][1]}"
        )
    return result


def _log(ws: Any, tx: Any, msg: Any, message_id: str) -> None:
    """An email activity on the recipient's record: what was said, to whom, when."""
    from crmkit.formats import eml

    ref = str(msg["X-Crmkit-Record"] or "")
    kind, _, rid = ref.partition("/")
    data: dict[str, Any] = {"type": "email", "direction": "out", "subject": str(msg["Subject"] or ""),
                            "at": ws.now(), "to": str(msg["To"] or ""), "message_id": message_id,
                            "body": eml.text_body(msg).strip()}
    if kind in ("contact", "lead", "deal", "ticket", "company") and rid:
        data[kind] = rid
        if kind == "contact":
            contact = ws.index("contact").get(rid)
            if contact and contact.get("company"):
                data["company"] = contact.get("company")
    tx.create("activity", data)

