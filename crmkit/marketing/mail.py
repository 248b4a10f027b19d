"""Email: mail merge into the outbox (the templates are marketing/mailtemplate.py, sending
the outbox over SMTP is marketing/sending.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import TemplateError
from crmkit.marketing.mailtemplate import MailTemplate, load_template
from crmkit.render.templating import render_string
from crmkit.store.records import Record, slugify

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace

DEFAULT_UNSUBSCRIBE = {
    "sv": "Vill du inte få fler utskick? Svara med ordet AVREGISTRERA.",
    "nb": "Vil du ikke få flere utsendelser? Svar med ordet AVMELD.",
    "hu": "Ha nem szeretne több levelet kapni, válaszoljon LEIRATKOZÁS szöveggel.",
    "en": "To stop receiving these emails, reply UNSUBSCRIBE.",
}
OUTBOX = "outbox"


# -- recipients ---------------------------------------------------------------------------


@dataclass
class Skipped:
    id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "reason": self.reason}


def choose_recipients(ws: Workspace, records: list[Record], marketing: bool) -> tuple[list[Record], list[Skipped]]:
    """Drop those without an address or already on the list, and for marketing those who
    opted out or gave no consent."""
    from crmkit.people.dedupe import normal_email

    chosen: list[Record] = []
    skipped: list[Skipped] = []
    seen: dict[str, str] = {}
    for rec in records:
        email = rec.get("email")
        if not isinstance(email, str) or "@" not in email:
            skipped.append(Skipped(rec.id, "no email address"))
            continue
        # opting out and consent are about marketing; an answer to a customer's own
        # question (transactional) still reaches them
        bounced = rec.get("bounced")  # marked by `crmkit inbox fetch` (support/inbound.py)
        if isinstance(bounced, dict) and str(bounced.get("address") or "").lower() == email.strip().lower():
            skipped.append(Skipped(rec.id, f"address bounced ({bounced.get('status') or 'undeliverable'})"))
            continue
        if marketing and rec.get("opted_out") is True:
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


def sender(ws: Workspace) -> dict[str, str]:
    smtp = ws.config.get("smtp") or {}
    mail = ws.config.get("mail") or {}
    text = mail.get("from") or smtp.get("from") or f"{ws.config.get('name', 'crmkit')} <crmkit@localhost>"
    from email.utils import parseaddr

    name, email = parseaddr(str(text))
    return {"name": name or str(ws.config.get("name", "")), "email": email}


def unsubscribe_line(ws: Workspace, lang: str | None) -> str:
    """`mail.unsubscribe` from crmkit.yaml: one text, or one per language ({sv: ..., en: ...})."""
    from crmkit.render.templating import lang_of

    configured = (ws.config.get("mail") or {}).get("unsubscribe")
    lang = lang or lang_of(str(ws.config.get("locale", "sv_SE")))
    if isinstance(configured, str) and configured.strip():
        return configured
    if isinstance(configured, dict):
        for key in (lang, "default", "en"):
            if isinstance(configured.get(key), str):
                return str(configured[key])
    return DEFAULT_UNSUBSCRIBE.get(lang, DEFAULT_UNSUBSCRIBE["en"])


def context_for(ws: Workspace, rec: Record, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a template sees: the contact (or lead), its company, the sender, the unsubscribe line."""
    company = ws.index("company").get(rec.get("company") or "")
    person = dict(rec.data, id=rec.id)
    ctx = {"contact": person, rec.kind: person,
           "company": dict(company.data, id=company.id) if company else {},
           "sender": sender(ws), "unsubscribe": unsubscribe_line(ws, language_of(ws, rec)),
           "today": ws.today(), "workspace": ws.config.get("name", "")}
    ctx.update(extra or {})
    return ctx


@dataclass
class Rendered:
    record: Record
    subject: str
    text: str
    html: str | None
    template: MailTemplate | None = None


@dataclass
class Failure:
    id: str
    error: str
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "error": self.error, "missing": self.missing}


def render_one(ws: Workspace, template: MailTemplate, ctx: dict[str, Any], locale: str) -> tuple[str, str, str | None]:
    """Subject, text and HTML for one context. Raises MissingVariable naming every missing
    variable of all three parts, or TemplateError for anything else."""
    from crmkit.render.templating import MissingVariable

    out: list[str | None] = []
    missing: list[str] = []
    html_line = template.front_line + template.text.count("\n") + 1
    parts = ((template.subject, False, 2), (template.text, False, template.front_line), (template.html, True, html_line))
    for source, html, first_line in parts:
        if source is None:
            out.append(None)
            continue
        try:
            out.append(render_string(ws, source, ctx, html=html, locale=locale, name=template.name))
        except MissingVariable as exc:
            missing += [n for n in exc.names if n not in missing]
            out.append("")
        except TemplateError as exc:
            if exc.line is None:
                raise
            # a line of the part is a line of the file, counted from where the part starts
            raise TemplateError(exc.message, path=ws.rel(template.path), line=first_line + exc.line - 1) from None
    if missing:
        raise MissingVariable(template.name, missing)
    subject, text, html_body = out
    return str(subject).strip(), str(text), html_body


def language_of(ws: Workspace, rec: Record) -> str | None:
    lang = rec.get("language")
    return str(lang) if isinstance(lang, str) and lang else None


def render_all(ws: Workspace, template: MailTemplate, records: list[Record]) -> tuple[list[Rendered], list[Failure]]:
    """Render for every recipient, in the recipient's language where the template has one.
    A missing variable is a failure naming it, never a blank."""
    from crmkit.render.templating import LOCALES, MissingVariable

    done: list[Rendered] = []
    failed: list[Failure] = []
    default_locale = str(ws.config.get("locale", "sv_SE"))
    variants: dict[str | None, MailTemplate] = {}
    for rec in records:
        lang = language_of(ws, rec)
        try:
            if lang not in variants:
                variants[lang] = load_template(ws, template.name, lang) if lang else template
            variant = variants[lang]
            locale = LOCALES.get(lang or "", default_locale) if variant is not template else default_locale
            subject, text, html = render_one(ws, variant, context_for(ws, rec), locale)
        except MissingVariable as exc:
            failed.append(Failure(rec.id, exc.message, exc.names))
            continue
        except TemplateError as exc:
            if exc.path:   # the template itself is broken (syntax): that is nobody's record's fault
                raise
            failed.append(Failure(rec.id, exc.message))
            continue
        if "\n" in subject or "\r" in subject:
            failed.append(Failure(rec.id, "the subject would contain a line break"))
            continue
        if not _one_line_ok(str(rec.get("name", ""))):
            failed.append(Failure(rec.id, "the name contains a line break; it cannot go into a To: header"))
            continue
        done.append(Rendered(rec, subject, text, html, variant))
    return done, failed


def _one_line_ok(text: str) -> bool:
    return not any(c in text for c in "\r\n\x00")


def pending(ws: Workspace) -> set[tuple[str, str]]:
    """(record ref, template) of every message waiting in the outbox."""
    from crmkit.io import eml

    out = set()
    for path in outbox_files(ws):
        headers = eml.read_headers(path)
        out.add((str(headers.get("X-Crmkit-Record", "")), str(headers.get("X-Crmkit-Template", ""))))
    return out


def drop_pending(ws: Workspace, template: MailTemplate, records: list[Record]) -> tuple[list[Record], list[Skipped]]:
    """Leave out recipients who already have this template waiting in the outbox."""
    waiting = pending(ws)
    keep, skipped = [], []
    for rec in records:
        if (rec.ref, template.name) in waiting:
            skipped.append(Skipped(rec.id, "already waiting in the outbox"))
        else:
            keep.append(rec)
    return keep, skipped


def write_outbox(ws: Workspace, tx: Transaction, template: MailTemplate, rendered: list[Rendered],
                 headers: dict[str, str] | None = None) -> list[str]:
    """One .eml per recipient in outbox/; returns the relative paths. `headers` are crmkit's own
    extra headers (a campaign's and its variant), kept on the activity and never sent."""
    from crmkit.io import eml

    me = sender(ws)
    from_addr = eml.address(me["name"], me["email"] or "crmkit@localhost")
    now = ws.now()
    paths = []
    for r in rendered:
        to = eml.address(str(r.record.get("name", "")), str(r.record["email"]))
        msg = eml.build(sender=from_addr, to=to, subject=r.subject, text=r.text, html=r.html, when=now,
                        headers={"X-Crmkit-Record": r.record.ref, "X-Crmkit-Template": template.name,
                                 "X-Crmkit-Kind": template.kind, **(headers or {})})
        if template.kind == "marketing":
            # lets mail clients offer their own unsubscribe button (RFC 2369)
            from crmkit.marketing.consent import list_unsubscribe

            for header, value in list_unsubscribe(ws, from_addr.addr_spec, r.record).items():
                msg[header] = value
        rel = f"{OUTBOX}/{now:%Y%m%d-%H%M%S}-{slugify(template.name)}-{r.record.kind}-{r.record.id}.eml"
        tx.write_file(rel, msg.as_bytes())
        paths.append(rel)
    return paths


def render_notification(ws: Workspace, tx: Transaction, template_name: str, record: Record, owner_id: str,
                        rule: str = "", when: dt.datetime | None = None) -> str | None:
    """Routing's `notify` action: the named template, to the new owner, into the outbox.

    The template sees `record` (with `id`; also by its kind: `lead`, `ticket`...), `kind`, `owner` (the user from crmkit.yaml,
    with `id`), `rule`, `sender` and `today`. Returns the outbox path written, or None
    when the owner has no email address in crmkit.yaml. Raises TemplateError (a
    missing template or variable): the caller decides whether that stops it. `when` is
    the message's Date: the time of the event it announces (routing's decision, the
    escalation's firing), so that two clones write the same bytes.
    """
    from crmkit.io import eml

    owner = ws.users.get(owner_id) or {}
    if not owner.get("email"):
        return None
    template = load_template(ws, template_name)
    data = dict(record.data, id=record.id)
    ctx = {"record": data, record.kind: data, "kind": record.kind, "owner": dict(owner, id=owner_id),
           "rule": rule, "sender": sender(ws), "unsubscribe": "", "today": ws.today(),
           "workspace": ws.config.get("name", "")}
    subject, text, html = render_one(ws, template, ctx, str(ws.config.get("locale", "sv_SE")))
    me = sender(ws)
    from crmkit.marketing.notify_ids import notification_id

    message_id = notification_id(record, template.name, owner_id, rule)
    msg = eml.build(sender=eml.address(me["name"], me["email"] or "crmkit@localhost"),
                    to=eml.address(str(owner.get("name", owner_id)), str(owner["email"])),
                    subject=subject, text=text, html=html, when=when or ws.now(),
                    headers={"X-Crmkit-Record": record.ref, "X-Crmkit-Template": template.name,
                             "X-Crmkit-Kind": "notification"}, message_id=message_id)
    # Named by what it is about, not when it was written: the same notification written
    # on two clones is one file (the merge driver keeps the earlier).
    rel = f"{OUTBOX}/notify-{record.id}-{owner_id}-{slugify(template.name)}-{message_id.rsplit('.', 1)[-1]}.eml"
    tx.write_file(rel, msg.as_bytes())
    return rel


def outbox_files(ws: Workspace) -> list[Path]:
    """The messages waiting in outbox/; a link there (or an outbox that is one) is refused
    before anything is sent: it could mail a file from outside the workspace."""
    from crmkit.store import paths

    folder = ws.root / OUTBOX
    paths.guard(folder)
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    for path in files:
        paths.guard(path)
    return files


