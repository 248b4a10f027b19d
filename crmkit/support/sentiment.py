"""Each contact's sentiment: the signals the records hold, the journey they make, and its log.

**Sentiment** per contact is one of upset, neutral, satisfied, loyal. Everyone starts
neutral; signals from the records move it, oldest first:

=================  =========  =========  =========  =========
signal             upset      neutral    satisfied  loyal
=================  =========  =========  =========  =========
complaint          upset      upset      upset      neutral
rating 1-2         upset      upset      upset      neutral
breach             upset      upset      neutral    satisfied
reopened           upset      upset      neutral    satisfied
rating 3           neutral    neutral    satisfied  loyal
rating 4-5         satisfied  satisfied  satisfied  loyal
won / renewal      neutral    satisfied  loyal      loyal
=================  =========  =========  =========  =========

Signals: a `breached` event on one of the contact's tickets (breach); a ticket going from
solved or closed back to open (reopened); a ticket tagged `complaint` (complaint, when
created); a `rated` event (rating); a won deal listing the contact (won, or renewal when
the deal is tagged `renewal`). The state is computed on read (the `sentiment` field);
`crmkit contact sentiment` logs each change on the contact as a `sentiment` event with
its reason (`ticket rate` does it at once for the rated ticket's contact), so `show`
tells the journey and `history` shows when it moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

from crmkit.store.records import Record

if TYPE_CHECKING:
    from crmkit.store.transaction import Transaction
    from crmkit.store.workspace import Workspace


STATES = ("upset", "neutral", "satisfied", "loyal")
START = "neutral"


#: signal -> state before -> state after (the table in the module docstring)
TRANSITIONS: dict[str, dict[str, str]] = {
    "complaint": {"upset": "upset", "neutral": "upset", "satisfied": "upset", "loyal": "neutral"},
    "low_rating": {"upset": "upset", "neutral": "upset", "satisfied": "upset", "loyal": "neutral"},
    "breach": {"upset": "upset", "neutral": "upset", "satisfied": "neutral", "loyal": "satisfied"},
    "reopened": {"upset": "upset", "neutral": "upset", "satisfied": "neutral", "loyal": "satisfied"},
    "fair_rating": {"upset": "neutral", "neutral": "neutral", "satisfied": "satisfied", "loyal": "loyal"},
    "high_rating": {"upset": "satisfied", "neutral": "satisfied", "satisfied": "satisfied", "loyal": "loyal"},
    "won": {"upset": "neutral", "neutral": "satisfied", "satisfied": "loyal", "loyal": "loyal"},
    "renewal": {"upset": "neutral", "neutral": "satisfied", "satisfied": "loyal", "loyal": "loyal"},
}


ACTOR = "crmkit"


# Named tuples, not frozen dataclasses: a report over 10,000 tickets builds thousands of
# these, and a frozen dataclass costs several times as much to construct.
class Signal(NamedTuple):
    at: dt.datetime
    signal: str  # a key of TRANSITIONS
    reason: str
    source: str  # kind/id of the record it comes from


class Change(NamedTuple):
    at: dt.datetime
    from_state: str
    to_state: str
    signal: str
    reason: str
    source: str

    def event(self) -> dict[str, Any]:
        return {"type": "sentiment", "at": self.at, "by": ACTOR, "from": self.from_state, "to": self.to_state,
                "signal": self.signal, "reason": self.reason, "source": self.source}


def _aware(ws: Workspace, value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=ws.tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(12, 0), tzinfo=ws.tz)
    if isinstance(value, str):
        try:
            return _aware(ws, dt.datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _rating_signal(rating: int) -> str:
    return "low_rating" if rating <= 2 else "fair_rating" if rating == 3 else "high_rating"


#: What satisfaction reads of one ticket, cached per file by Workspace.derived (a plain
#: tuple unpickles fastest): (contact, company, owner, line, subject, signals, ratings,
#: surveyed) where signals are (at, signal, reason), ratings (at, rating, comment) and
#: surveyed the times a survey went out.
TicketRow = tuple[str | None, str | None, str | None, str | None, str,
                  tuple[tuple[dt.datetime, str, str], ...], tuple[tuple[dt.datetime, int, str | None], ...],
                  tuple[dt.datetime, ...]]


def ticket_row(data: Any, tz: Any) -> TicketRow | tuple[()]:
    def aware(value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=tz)
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time(12, 0), tzinfo=tz)
        return None

    def text(key: str) -> str | None:
        v = data.get(key)
        return v if isinstance(v, str) and v else None

    subject = str(data.get("subject") or "")
    signals: list[tuple[dt.datetime, str, str]] = []
    rated: list[tuple[dt.datetime, int, str | None]] = []
    surveyed: list[dt.datetime] = []
    tags = data.get("tags") if isinstance(data.get("tags"), list) else []
    if "complaint" in tags and (at := aware(data.get("created"))) is not None:
        signals.append((at, "complaint", f"complaint: {subject}"))
    for e in _events(data):
        kind = e.get("type")
        if kind not in ("breached", "status", "rated", "surveyed"):
            continue
        at = aware(e.get("at"))
        if at is None:
            continue
        if kind == "breached":
            signals.append((at, "breach", f"SLA {e.get('target', 'target')} breached on {subject}"))
        elif kind == "status" and e.get("from") in ("solved", "closed") and e.get("to") == "open":
            signals.append((at, "reopened", f"ticket reopened: {subject}"))
        elif kind == "rated" and isinstance(e.get("rating"), int) and not isinstance(e.get("rating"), bool):
            comment = e.get("comment")
            comment = str(comment) if comment else None
            note = f": {comment}" if comment else ""
            signals.append((at, _rating_signal(e["rating"]), f"rated {e['rating']} for {subject}{note}"))
            rated.append((at, int(e["rating"]), comment))
        elif kind == "surveyed":
            surveyed.append(at)
    if not signals and not rated and not surveyed:
        return ()  # most tickets: nothing for satisfaction (an empty tuple pickles to one byte)
    return (text("contact"), text("company"), text("owner"), text("line"), subject, tuple(signals),
            tuple(rated), tuple(surveyed))


def ticket_rows(ws: Workspace) -> list[tuple[str, TicketRow]]:
    """(id, TicketRow) of every ticket with a signal, a rating or a survey; from the derived
    cache when it is warm."""
    memo = ws.memo.get("ticket_rows")
    if memo is not None:
        return memo  # type: ignore[no-any-return]
    rows = ws.derived("ticket", "satisfaction", lambda _rid, d: ticket_row(d, ws.tz), key="satisfaction-2|"
                      + str(ws.tz))
    if rows is None:
        rows = [(t.id, ticket_row(t.data, ws.tz)) for t in ws.records("ticket")]
    rows = [(tid, row) for tid, row in rows if row]
    ws.memo["ticket_rows"] = rows
    return rows


def signals_by_contact(ws: Workspace) -> dict[str, list[Signal]]:
    """Every signal in the workspace, per contact id, oldest first (kept until the next write)."""
    cached = ws.memo.get("signals")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: dict[str, list[Signal]] = {}

    def add(contact: Any, sig: Signal) -> None:
        if isinstance(contact, str) and contact:
            out.setdefault(contact, []).append(sig)

    at: dt.datetime | None
    for tid, row in ticket_rows(ws):
        contact, found = row[0], row[5]
        if contact is None or not found:  # ticket_row's contact is a non-empty text or None
            continue
        src = f"ticket/{tid}"
        mine = out.setdefault(contact, [])
        for at, signal, reason in found:
            mine.append(Signal(at, signal, reason, src))
    from crmkit.sales.dealrows import deal_rows
    from crmkit.sales.pipeline import PipelineConfig

    cfg = PipelineConfig.from_config(ws.config, ws.tz)
    won = cfg.won_stage.name
    for rid, drow in deal_rows(ws, cfg):
        if drow[2] != won or not drow[8]:  # most deals: not won, or no contact listed
            continue
        closed, created, history, people, title, tags = drow[5], drow[6], drow[7], drow[8], drow[9], drow[10]
        at = None
        for h_at, h_stage, _ in history:  # timestamps (crmkit.sales.dealrows.DealRow)
            if h_stage == won:
                at = dt.datetime.fromtimestamp(h_at, ws.tz)
        if at is None and closed is not None:
            at = _aware(ws, dt.date.fromordinal(closed))
        if at is None and created is not None:
            at = dt.datetime.fromtimestamp(created, ws.tz)
        if at is None:
            continue
        signal = "renewal" if "renewal" in tags else "won"
        for c in people:
            add(c, Signal(at, signal, f"{'renewed' if signal == 'renewal' else 'won deal'}: {title or rid}",
                          f"deal/{rid}"))
    by_time = itemgetter(0)  # Signal.at
    for sigs in out.values():
        if len(sigs) > 1:
            sigs.sort(key=by_time)
    ws.memo["signals"] = out
    return out


def journey(signals: Iterable[Signal], until: dt.datetime | None = None) -> list[Change]:
    """The state changes the signals cause, oldest first (signals that change nothing are left out)."""
    state = START
    changes: list[Change] = []
    for s in signals:
        if until is not None and s.at > until:
            break
        new = TRANSITIONS[s.signal][state]
        if new != state:
            changes.append(Change(s.at, state, new, s.signal, s.reason, s.source))
            state = new
    return changes


def state_at(changes: list[Change], at: dt.datetime | None = None) -> str:
    state = START
    for c in changes:
        if at is not None and c.at > at:
            break
        state = c.to_state
    return state


def contact_journey(ws: Workspace, contact_id: str, until: dt.datetime | None = None) -> list[Change]:
    return journey(signals_by_contact(ws).get(contact_id, []), until or ws.now())


def sentiment_choices(ws: Workspace) -> list[str]:
    """The sentiment states (conditions/choices.py refuses others: `sentiment == happy`)."""
    return list(STATES)


def sentiment_value(ws: Workspace, contact: Record) -> str:
    """A contact's sentiment now (a computed field: `--where 'sentiment == upset'`)."""
    return state_at(contact_journey(ws, contact.id))


def _logged_keys(data: Any) -> set[tuple[str, str, str]]:
    keys = set()
    for e in _events(data):
        if e.get("type") == "sentiment":
            at = e.get("at")
            keys.add((at.isoformat() if isinstance(at, dt.datetime) else str(at), str(e.get("to")),
                      str(e.get("source"))))
    return keys


def unlogged(ws: Workspace, contact: Record) -> list[Change]:
    """Changes of the contact's journey not yet logged on it (a second run finds none)."""
    done = _logged_keys(contact.data)
    return [c for c in contact_journey(ws, contact.id)
            if (c.at.isoformat(), c.to_state, c.source) not in done]


def log_changes(doc: Any, changes: list[Change]) -> None:
    from crmkit.support.tickets import append_event

    for c in changes:
        append_event(doc, c.event())


def sync_sentiment(ws: Workspace, tx: Transaction, contacts: Iterable[Record]) -> list[tuple[str, Change]]:
    """Log every unlogged change on the given contacts inside `tx`; returns (contact id, change)."""
    written: list[tuple[str, Change]] = []
    # all planned before the first write: a write clears the workspace's memo, signals included
    pending = [(contact, unlogged(ws, contact)) for contact in contacts]
    for contact, changes in pending:
        if changes:
            tx.update("contact", contact.id, lambda doc, ch=changes: log_changes(doc, ch))
            written += [(contact.id, c) for c in changes]
    return written


def plan_sync(ws: Workspace, contacts: Iterable[Record] | None = None) -> list[tuple[str, Change]]:
    """What `crmkit contact sentiment` would log (for --dry-run)."""
    chosen = list(contacts) if contacts is not None else ws.records("contact")
    return [(c.id, ch) for c in chosen for ch in unlogged(ws, c)]


def change_note(ws: Workspace, contact_id: str, change: Change) -> str:
    """One line of a commit message: whose sentiment moved, when, and why."""
    return (f"contact/{contact_id}: {change.at.astimezone(ws.tz):%Y-%m-%d %H:%M} {change.from_state} -> "
            f"{change.to_state} ({change.reason})")


def log_journeys(ws: Workspace, command: str, contacts: Iterable[Record] | None = None,
                 summary: str | None = None) -> list[tuple[str, Change]]:
    """`crmkit contact sentiment` (and `init --sample`): every unlogged change of the contacts
    (default: all) in one commit, one note per change; nothing at all when none is left."""
    chosen = list(contacts) if contacts is not None else ws.records("contact")
    changes = plan_sync(ws, chosen)
    if changes:
        with ws.transaction(summary or f"sentiment of {len({c for c, _ in changes})} contact(s)", command) as tx:
            sync_sentiment(ws, tx, chosen)
            for cid, ch in changes:
                tx.note(change_note(ws, cid, ch))
    return changes


def log_for_tickets(ws: Workspace, tx: Transaction, ticket_ids: Iterable[str]) -> list[tuple[str, Change]]:
    """Inside a command's transaction (`tick`): log the sentiment changes of the contacts of the
    tickets it wrote, with a note each. Reads the tickets as written, so a breach the command
    just recorded is a signal already; a contact whose state did not move gets nothing."""
    tickets = ws.index("ticket")
    people = ws.index("contact")
    chosen: dict[str, Record] = {}
    for tid in ticket_ids:
        ticket = tickets.get(tid)
        cid = ticket.get("contact") if ticket is not None else None
        if isinstance(cid, str) and cid in people and cid not in chosen:
            chosen[cid] = people[cid]
    written = sync_sentiment(ws, tx, chosen.values())
    for cid, ch in written:
        tx.note(change_note(ws, cid, ch))
    return written


def _events(rec: Record | Any) -> list[dict[str, Any]]:
    data = rec.data if hasattr(rec, "data") else rec
    events = data.get("events") or []
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
