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

from crmkit.errors import PartialFailure, TemplateError
from crmkit.render.templating import find_template, render_string
from crmkit.store import yamlio
from crmkit.store.records import Record, slugify

HTML_SEPARATOR = re.compile(r"^=== html ===\s*$", re.MULTILINE)
UNSUBSCRIBE = re.compile(r"\{\{-?\s*unsubscribe\b")
DEFAULT_UNSUBSCRIBE = {
    "sv": "Vill du inte få fler utskick? Svara med ordet AVREGISTRERA.",
    "nb": "Vil du ikke få flere utsendelser? Svar med ordet AVMELD.",
    "hu": "Ha nem szeretne több levelet kapni, válaszoljon LEIRATKOZÁS szöveggel.",
    "en": "To stop receiving these emails, reply UNSUBSCRIBE.",
}
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


def load_template(ws: Any, name: str, lang: str | None = None) -> MailTemplate:
    """Find templates/mail/NAME(.LANG).md.j2 in the workspace or the defaults and split it.

    With `lang` (a recipient's `language`), NAME.LANG.md.j2 is preferred when it exists.
    """
    from crmkit.render.templating import check_name

    check_name(name)
    if name.endswith(".j2"):
        candidates = [name]
    else:
        base = [f"{name}.md.j2", f"{name}.txt.j2"]
        candidates = ([f"{name}.{lang}.md.j2", f"{name}.{lang}.txt.j2"] if lang else []) + base
    try:
        path = find_template(ws, *[f"mail/{c}" for c in candidates])
    except TemplateError:
        raise TemplateError(f"no email template {name!r} in templates/mail/ (workspace or crmkit's defaults)") from None
    from crmkit.store import paths

    source = paths.read_text(path)  # never through a link (store/paths.py)
    rel = ws.rel(path)
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
    body_line = source[: len(parts[0]) + 4].count("\n") + 2
    if kind == "marketing":
        for part, label in ((text, "text"), (html, "HTML")):
            if part is not None and not UNSUBSCRIBE.search(part):
                line = body_line if label == "text" else body_line + text.count("\n") + 1
                raise TemplateError(f"a marketing template needs the unsubscribe line {{{{ unsubscribe }}}} "
                                    f"in its {label} body", path=rel, line=line)
    return MailTemplate(name, path, str(front["subject"]), kind, text, html, body_line)


# -- recipients ---------------------------------------------------------------------------


@dataclass
class Skipped:
    id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "reason": self.reason}


def choose_recipients(ws: Any, records: list[Record], marketing: bool) -> tuple[list[Record], list[Skipped]]:
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


def sender(ws: Any) -> dict[str, str]:
    smtp = ws.config.get("smtp") or {}
    mail = ws.config.get("mail") or {}
    text = mail.get("from") or smtp.get("from") or f"{ws.config.get('name', 'crmkit')} <crmkit@localhost>"
    from email.utils import parseaddr

    name, email = parseaddr(str(text))
    return {"name": name or str(ws.config.get("name", "")), "email": email}


def unsubscribe_line(ws: Any, lang: str | None) -> str:
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


def context_for(ws: Any, rec: Record, extra: dict[str, Any] | None = None) -> dict[str, Any]:
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


def render_one(ws: Any, template: MailTemplate, ctx: dict[str, Any], locale: str) -> tuple[str, str, str | None]:
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


def language_of(ws: Any, rec: Record) -> str | None:
    lang = rec.get("language")
    return str(lang) if isinstance(lang, str) and lang else None


def render_all(ws: Any, template: MailTemplate, records: list[Record]) -> tuple[list[Rendered], list[Failure]]:
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


def pending(ws: Any) -> set[tuple[str, str]]:
    """(record ref, template) of every message waiting in the outbox."""
    from crmkit.io import eml

    out = set()
    for path in outbox_files(ws):
        headers = eml.read_headers(path)
        out.add((str(headers.get("X-Crmkit-Record", "")), str(headers.get("X-Crmkit-Template", ""))))
    return out


def drop_pending(ws: Any, template: MailTemplate, records: list[Record]) -> tuple[list[Record], list[Skipped]]:
    """Leave out recipients who already have this template waiting in the outbox."""
    waiting = pending(ws)
    keep, skipped = [], []
    for rec in records:
        if (rec.ref, template.name) in waiting:
            skipped.append(Skipped(rec.id, "already waiting in the outbox"))
        else:
            keep.append(rec)
    return keep, skipped


def write_outbox(ws: Any, tx: Any, template: MailTemplate, rendered: list[Rendered],
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


def render_notification(ws: Any, tx: Any, template_name: str, record: Record, owner_id: str,
                        rule: str = "") -> str | None:
    """Routing's `notify` action: the named template, to the new owner, into the outbox.

    The template sees `record` (with `id`; also by its kind: `lead`, `ticket`...), `kind`, `owner` (the user from crmkit.yaml,
    with `id`), `rule`, `sender` and `today`. Returns the outbox path written, or None
    when the owner has no email address in crmkit.yaml. Raises TemplateError (a
    missing template or variable): the caller decides whether that stops it.
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
                    subject=subject, text=text, html=html, when=ws.now(),
                    headers={"X-Crmkit-Record": record.ref, "X-Crmkit-Template": template.name,
                             "X-Crmkit-Kind": "notification"}, message_id=message_id)
    # Named by what it is about, not when it was written: the same notification written
    # on two clones is one file (the merge driver keeps the earlier).
    rel = f"{OUTBOX}/notify-{record.id}-{owner_id}-{slugify(template.name)}-{message_id.rsplit('.', 1)[-1]}.eml"
    tx.write_file(rel, msg.as_bytes())
    return rel


# -- sending --------------------------------------------------------------------------------


@dataclass
class SendResult:
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    #: messages a killed run left in the "sending" state: perhaps delivered, perhaps not
    unconfirmed: list[str] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)   # consent.Held: not sent, moved to outbox/held/

    def to_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "already_sent": self.already, "unconfirmed": self.unconfirmed,
                "held": [h.to_dict() for h in self.held],
                "failed": [{"file": f, "error": e} for f, e in self.failed]}


#: Headers crmkit keeps in an outbox message while it is being sent (never sent themselves).
STATE_HEADER = "X-Crmkit-State"
ACTIVITY_HEADER = "X-Crmkit-Activity"


def outbox_files(ws: Any) -> list[Path]:
    """The messages waiting in outbox/; a link there (or an outbox that is one) is refused
    before anything is sent: it could mail a file from outside the workspace."""
    from crmkit.store import paths

    folder = ws.root / OUTBOX
    paths.guard(folder)
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    for path in files:
        paths.guard(path)
    return files


def _logged_message_ids(ws: Any) -> dict[str, str]:
    """Message-ID -> delivery state ("sent", or "sending" while unconfirmed) of logged email."""
    return {str(a.get("message_id")): str(a.get("delivery") or "sent")
            for a in ws.records("activity") if a.get("message_id")}


def send_outbox(ws: Any, command: str, *, resend_unconfirmed: bool = False) -> SendResult:
    """Send every message in the outbox over SMTP, each exactly once.

    Per message, two commits: before SMTP, the message's fixed Message-ID and the state
    "sending" (and its email activity, `delivery: sending`, on the recipient); after the
    server accepts it, the message leaves the outbox and the activity says `delivery: sent`.
    A message the server refuses goes back to waiting (its activity removed). A run killed
    in between leaves the message "sending": the next run reports it as unconfirmed and
    sends it again only with `resend_unconfirmed` (it may have been delivered). A message
    whose Message-ID is logged as sent is dropped from the outbox, not sent again. When the
    connection is lost, the rest are not tried; `raise_if_partial` gives exit code 4.
    """
    from crmkit.marketing import consent, smtp

    # consent is checked again now, per message, against the records as they are now
    result = SendResult(held=consent.hold_back(ws, command, outbox_files(ws)))
    files = outbox_files(ws)
    if not files:
        return result
    with ws.transaction("send email", command) as tx:
        logged = _logged_message_ids(ws)
        with smtp.connect(ws.config.get("smtp") or {}) as conn:
            for n, path in enumerate(files):
                outcome = _send_one(ws, tx, conn, path, logged, resend_unconfirmed, result)
                if outcome == "stop":
                    result.failed += [(ws.rel(p), "not tried after the connection failed") for p in files[n + 1:]]
                    break
    return result


def _send_one(ws: Any, tx: Any, conn: Any, path: Path, logged: dict[str, str], resend: bool,
              result: SendResult) -> str:
    """One message through its states; returns "ok" or "stop" (the connection is gone)."""
    from crmkit.io import eml
    from crmkit.marketing import smtp
    from crmkit.store.faults import fault

    rel = ws.rel(path)
    tx.adopt(rel)  # the outbox is the command's input: a message put there by hand is fine
    msg = eml.read(path)
    message_id = str(msg["Message-ID"] or "")
    state = str(msg[STATE_HEADER] or "")
    if message_id and logged.get(message_id) == "sent":
        _drop(ws, tx, rel)
        tx.message = f"outbox: drop {rel}, already sent"
        tx.commit_now()
        result.already.append(rel)
        return "ok"
    if state == "sending" and not resend:
        result.unconfirmed.append(rel)
        return "ok"
    ref, kind = str(msg["X-Crmkit-Record"] or ""), str(msg["X-Crmkit-Kind"] or "")
    if state != "sending":
        waiting = msg.as_bytes()
        message_id = _mark_sending(ws, tx, rel, msg, ref, kind)
    else:
        waiting = None
    activity = str(msg[ACTIVITY_HEADER] or "")
    fault("mail-before-smtp")
    try:
        conn.send_message(_outgoing(ws, msg))
    except smtp.SendError as exc:
        if exc.unknown:
            # lost mid-conversation: perhaps delivered; it stays "sending" for a person to decide
            result.failed.append((rel, f"{exc} (unconfirmed: it may have been delivered; "
                                       "`crmkit mail send --resend-unconfirmed` sends it again)"))
        else:
            _unmark(ws, tx, rel, waiting, activity, str(exc))
            result.failed.append((rel, str(exc)))
        return "stop" if exc.fatal else "ok"
    fault("mail-after-smtp")
    _drop(ws, tx, rel)
    if activity:
        tx.update("activity", activity, _delivered)
    logged[message_id] = "sent"
    tx.message = f"email to {ref or msg['To']}: {msg['Subject']}"
    tx.commit_now()
    result.sent.append(rel)
    return "ok"


def _mark_sending(ws: Any, tx: Any, rel: str, msg: Any, ref: str, kind: str) -> str:
    """Commit the message's fixed Message-ID and Date, the "sending" state and (for customer
    mail) the activity that logs it, before a byte goes to the server."""
    from email.utils import make_msgid

    message_id = str(msg["Message-ID"] or "")
    if not message_id:
        # a message put in the outbox by hand: give it an id so it is sent only once
        message_id = make_msgid()
        msg["Message-ID"] = message_id
    # the Date is when it really leaves, not when it was rendered
    del msg["Date"]
    msg["Date"] = _date_header(ws)
    del msg[STATE_HEADER]
    msg[STATE_HEADER] = "sending"
    if kind != "notification":  # a note to a colleague is not customer correspondence
        act = _log(ws, tx, msg, ref, message_id)
        del msg[ACTIVITY_HEADER]
        msg[ACTIVITY_HEADER] = act.id
    tx.write_file(rel, msg.as_bytes())
    tx.message = f"sending email to {ref or msg['To']}: {msg['Subject']}"
    tx.commit_now()
    return message_id


def _unmark(ws: Any, tx: Any, rel: str, waiting: bytes | None, activity: str, why: str) -> None:
    """The server refused it (so it was not delivered): back to waiting, the activity gone."""
    from crmkit.io import eml

    if waiting is None:  # a resend of an unconfirmed one: keep it as it was, drop the state
        msg = eml.read(ws.root / rel)
        del msg[STATE_HEADER]
        waiting = msg.as_bytes()
    tx.write_file(rel, waiting)
    if activity and ws.index("activity").get(activity) is not None:
        tx.delete("activity", activity)
    tx.message = f"outbox: {rel} not sent: {why}"
    tx.commit_now()


def _outgoing(ws: Any, msg: Any) -> Any:
    """What the server gets: crmkit's own headers say whom to log it on and its state; they
    are not the recipient's business."""
    import copy

    out = copy.deepcopy(msg)
    for header in {h for h in out.keys() if h.lower().startswith("x-crmkit-")}:
        del out[header]
    return out


def _delivered(doc: Any) -> None:
    doc["delivery"] = "sent"


def _drop(ws: Any, tx: Any, rel: str) -> None:
    """Take a message out of the outbox (one that was never in git leaves no trace in it)."""
    tx.remove_file(rel)


def _date_header(ws: Any) -> str:
    from email.utils import format_datetime

    return format_datetime(ws.now())


def raise_if_partial(result: SendResult) -> None:
    """PartialFailure (exit code 4) naming the first failure, when anything was left."""
    if result.failed:
        first_file, first_error = result.failed[0]
        raise PartialFailure(
            f"sent {len(result.sent)}, failed {len(result.failed)} (still in the outbox; run `crmkit mail send` "
            f"again to send only those): {first_file}: {first_error}"
        )
    if result.unconfirmed:
        raise PartialFailure(
            f"sent {len(result.sent)}; {len(result.unconfirmed)} unconfirmed left in the outbox "
            f"(an interrupted run was sending them): {result.unconfirmed[0]}; "
            "`crmkit mail send --resend-unconfirmed` sends them again")


def _log(ws: Any, tx: Any, msg: Any, ref: str, message_id: str) -> Any:
    """An email activity on the recipient's record (`ref`): what was said, to whom, when."""
    from crmkit.io import eml

    kind, _, rid = ref.partition("/")
    data: dict[str, Any] = {"type": "email", "direction": "out", "subject": str(msg["Subject"] or ""),
                            "at": ws.now(), "to": str(msg["To"] or ""), "message_id": message_id,
                            "delivery": "sending", "body": eml.text_body(msg).strip()}
    for header, key in (("X-Crmkit-Campaign", "campaign"), ("X-Crmkit-Variant", "variant")):
        if msg[header]:   # a campaign's mail: its results are counted from these (reports/campaign.py)
            data[key] = str(msg[header])
    if kind in ("contact", "lead", "deal", "ticket", "company") and rid:
        data[kind] = rid
        if kind == "contact":
            contact = ws.index("contact").get(rid)
            if contact and contact.get("company"):
                data["company"] = contact.get("company")
    return tx.create("activity", data)



def check_templates(ws: Any) -> list[Any]:
    """`crmkit check`: the workspace's own templates parse; email templates have front matter,
    a known kind, and (marketing) the unsubscribe line. Reported with file and line."""
    import jinja2

    from crmkit.errors import Problem
    from crmkit.render.templating import environment
    from crmkit.store import paths

    problems: list[Any] = []
    folder = ws.root / "templates"
    if not folder.is_dir():
        return problems
    env = environment(ws, html=False, locale=str(ws.config.get("locale", "sv_SE")))
    for path in sorted(folder.rglob("*.j2")):
        rel = ws.rel(path)
        name = path.relative_to(folder).as_posix()
        parts: list[tuple[str, int]] = []
        try:
            if name.startswith("mail/"):
                tpl = load_template(ws, name[len("mail/"):])
                source = paths.read_text(path)
                parts = [(tpl.subject, 2), (tpl.text, tpl.front_line)]
                if tpl.html is not None:
                    parts.append((tpl.html, source[: source.find(tpl.html)].count("\n") + 1))
            else:
                parts = [(paths.read_text(path), 1)]
            for source, first in parts:
                try:
                    env.parse(source)
                except jinja2.TemplateSyntaxError as exc:
                    problems.append(Problem(rel, first + (exc.lineno or 1) - 1, "template", exc.message or "syntax error"))
        except paths.UnsafePath:
            continue  # a link: reported once by the paths check
        except TemplateError as exc:
            problems.append(Problem(rel, exc.line, "template", exc.message))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, None, "template", f"cannot read: {exc}"))
    return problems
