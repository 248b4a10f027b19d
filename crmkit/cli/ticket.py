"""`crmkit ticket reply|status|assign`."""

from __future__ import annotations

from typing import Any, Callable

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.records import complete_id
from crmkit.core import tickets
from crmkit.core.editing import actor


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
@click.argument("ref", shell_complete=complete_id)
@click.option("--customer", is_flag=True, help="The customer wrote (default: we answered).")
@click.option("-m", "--message", "body", help="What was said (kept on the ticket).")
@pass_app
def reply(app: App, ref: str, customer: bool, body: str | None) -> None:
    """Record a reply on a ticket. Our first reply stops the first-response clock; the
    customer's reply to a pending or solved ticket opens it again."""
    _change(app, ref, "reply on", lambda doc, ws: tickets.reply(
        doc, by=actor(ws), at=ws.now(), customer=customer, body=body))


@crmkit_command(name="status")
@click.argument("ref", shell_complete=complete_id)
@click.argument("status", type=click.Choice(tickets.STATUSES))
@pass_app
def status(app: App, ref: str, status: str) -> None:
    """Change a ticket's status (new, open, pending on the customer, solved, closed; reopen with open)."""
    _change(app, ref, f"status {status} for", lambda doc, ws: tickets.set_status(
        doc, status, by=actor(ws), at=ws.now()))


@crmkit_command(name="assign")
@click.argument("ref", shell_complete=complete_id)
@click.argument("owner")
@pass_app
def assign(app: App, ref: str, owner: str) -> None:
    """Assign a ticket to OWNER (a user in crmkit.yaml)."""
    _change(app, ref, f"assign {owner} to", lambda doc, ws: tickets.assign(
        doc, owner, by=actor(ws), at=ws.now(), users=ws.users))
