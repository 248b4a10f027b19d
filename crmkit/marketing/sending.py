"""Sending the outbox over SMTP, exactly once per message: each is marked "sending" (with
its email activity) and committed before SMTP, and leaves the outbox once the server has
accepted it. Templates and rendering into the outbox are marketing/mail.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import PartialFailure
from crmkit.marketing.mail import outbox_files

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace


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




def _logged_message_ids(ws: Workspace) -> dict[str, str]:
    """Message-ID -> delivery state ("sent", or "sending" while unconfirmed) of logged email."""
    return {str(a.get("message_id")): str(a.get("delivery") or "sent")
            for a in ws.records("activity") if a.get("message_id")}


def send_outbox(ws: Workspace, command: str, *, resend_unconfirmed: bool = False) -> SendResult:
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


def _send_one(ws: Workspace, tx: Transaction, conn: Any, path: Path, logged: dict[str, str], resend: bool,
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


def _mark_sending(ws: Workspace, tx: Transaction, rel: str, msg: Any, ref: str, kind: str) -> str:
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


def _unmark(ws: Workspace, tx: Transaction, rel: str, waiting: bytes | None, activity: str, why: str) -> None:
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


def _outgoing(ws: Workspace, msg: Any) -> Any:
    """What the server gets: crmkit's own headers say whom to log it on and its state; they
    are not the recipient's business."""
    import copy

    out = copy.deepcopy(msg)
    for header in {h for h in out.keys() if h.lower().startswith("x-crmkit-")}:
        del out[header]
    return out


def _delivered(doc: Any) -> None:
    doc["delivery"] = "sent"


def _drop(ws: Workspace, tx: Transaction, rel: str) -> None:
    """Take a message out of the outbox (one that was never in git leaves no trace in it)."""
    tx.remove_file(rel)


def _date_header(ws: Workspace) -> str:
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


def _log(ws: Workspace, tx: Transaction, msg: Any, ref: str, message_id: str) -> Any:
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


