"""`crmkit ticket list|reply|status|assign|escalate` (`ticket add` is the generic add)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from crmkit.cli.common import App, crmkit_command, echo_json, output, pass_app
from crmkit.cli.completion import complete_kind, complete_user
from crmkit.cli.records import list_options
from crmkit.store.editing import actor
from crmkit.support import tickets

#: Columns of `ticket list` on a terminal: the ticket, then its SLA at a glance.
LIST_COLUMNS = ["id", "subject", "status", "priority", "line", "owner", "sla", "next", "due", "left"]


@crmkit_command(name="list")
@list_options
@pass_app
def list_(app: App, where: str | None, sort: str | None, limit: int | None, fields: str | None,
          fmt: str | None) -> None:
    """List tickets with their SLA state: the worst state of their targets, the target to act
    on next, when it is due (or was breached) and the business time left.

    --where and --sort take the condition language; the computed `sla` field is there too:
    `--where "sla.state in [breached, at_risk]"`, `--sort sla.due`.
    """
    from crmkit.conditions.listing import get_path, project, select

    ws = app.workspace()
    views = select(ws, "ticket", where=where, sort=sort, limit=limit)
    columns = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
    fmt = fmt or ("json" if app.json else "table")
    if columns:
        output(app, [project(v, columns) for v in views], columns, fmt)
        return
    if fmt == "json":
        rows = []
        for v in views:
            row = project(v, None)
            sla = v.get("sla")
            if sla is not None:
                row["sla"] = dict(sla)
            rows.append(row)
        echo_json(rows)
        return
    rows = []
    for v in views:
        row = {c: get_path(v, c) for c in LIST_COLUMNS[:6]}
        sla = v.get("sla") or {}
        due = sla.get("due")
        if due:
            import datetime as dt

            due = dt.datetime.fromisoformat(due).astimezone(ws.tz).strftime("%Y-%m-%d %H:%M")
        row.update({"sla": sla.get("state"), "next": sla.get("next"), "due": due, "left": sla.get("left")})
        rows.append(row)
    output(app, rows, LIST_COLUMNS, fmt)


def _change(app: App, ref: str, what: str, fn: Callable[[Any, Any], list[str]]) -> None:
    ws = app.workspace()
    rec = ws.get(ref, "ticket")
    changes: list[str] = []
    with ws.transaction(f"{what} {rec.ref}", app.command_line) as tx:
        tx.update("ticket", rec.id, lambda doc: changes.extend(fn(doc, ws)))
        if changes:
            tx.note(", ".join(changes))
    if app.json:
        echo_json({"ticket": rec.id, "changes": changes})
    else:
        click.echo(f"{rec.ref}: {', '.join(changes) if changes else 'unchanged'}")


@crmkit_command(name="reply")
@click.argument("ref", shell_complete=complete_kind("ticket"))
@click.option("--customer", is_flag=True, help="The customer wrote (default: we answered).")
@click.option("-m", "--message", "body", help="What was said (kept on the ticket).")
@pass_app
def reply(app: App, ref: str, customer: bool, body: str | None) -> None:
    """Record a reply on a ticket. Our first reply stops the first-response clock; the
    customer's reply to a pending or solved ticket reopens it (its clocks run again).
    A customer's reply to a closed ticket opens a follow-up ticket linked to it
    (`tickets.reply_to_closed: follow_up`, the default) or reopens it (`reopen`)."""
    from crmkit.support.reopening import record_reply

    ws = app.workspace()
    rec = ws.get(ref, "ticket")
    with ws.transaction(f"reply on {rec.ref}", app.command_line) as tx:
        landed, changes = record_reply(ws, tx, rec, by=actor(ws), customer=customer, body=body)
        if landed != rec.id:
            tx.message = f"follow-up ticket/{landed} for closed {rec.ref}"
        tx.note(", ".join(changes))
    if app.json:
        echo_json({"ticket": landed, "replied_to": rec.id, "changes": changes})
    else:
        click.echo(f"ticket/{landed}: {', '.join(changes)}")


@crmkit_command(name="status")
@click.argument("ref", shell_complete=complete_kind("ticket"))
@click.argument("status", type=click.Choice(tickets.STATUSES))
@pass_app
def status(app: App, ref: str, status: str) -> None:
    """Change a ticket's status (new, open, pending on the customer, solved, closed; reopen with open)."""
    _change(app, ref, f"status {status} for", lambda doc, ws: tickets.set_status(
        doc, status, by=actor(ws), at=ws.now()))


@crmkit_command(name="assign")
@click.argument("ref", shell_complete=complete_kind("ticket"))
@click.argument("owner", shell_complete=complete_user)
@pass_app
def assign(app: App, ref: str, owner: str) -> None:
    """Assign a ticket to OWNER (a user in crmkit.yaml)."""
    _change(app, ref, f"assign {owner} to", lambda doc, ws: tickets.assign(
        doc, owner, by=actor(ws), at=ws.now(), users=ws.users))


@crmkit_command(name="escalate")
@click.argument("ref", shell_complete=complete_kind("ticket"))
@click.option("--to", "owner", metavar="OWNER", shell_complete=complete_user, help="Assign it to this user on second line.")
@click.option("-r", "--reason", help="Why (kept on the ticket).")
@pass_app
def escalate(app: App, ref: str, owner: str | None, reason: str | None) -> None:
    """Move a ticket to second line by hand (escalation rules do it from `crmkit tick`)."""
    _change(app, ref, "escalate", lambda doc, ws: tickets.escalate(
        doc, by=actor(ws), at=ws.now(), owner=owner, reason=reason, users=ws.users))
