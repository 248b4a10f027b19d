"""`crmkit ticket rate|survey` and `crmkit contact sentiment`."""

from __future__ import annotations

import datetime as dt

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.completion import complete_record_id
from crmkit.store.editing import actor


@crmkit_command(name="rate")
@click.argument("ref", shell_complete=complete_record_id)
@click.argument("rating")
@click.option("-m", "--message", "comment", help="The customer's comment (kept with the rating).")
@pass_app
def rate(app: App, ref: str, rating: str, comment: str | None) -> None:
    """Record the customer's rating of a ticket: 1 (very dissatisfied) to 5 (very satisfied),
    or good (5) / bad (1). The contact's sentiment moves at once and the change is logged
    on the contact with its reason.

    \b
      crmkit ticket rate tk-20261125-r8tm2 5 -m "Fixed within the hour, thanks"
    """
    from crmkit.support.satisfaction import rate_ticket

    ws = app.workspace()
    result = rate_ticket(ws, ref, rating, comment, actor(ws), app.command_line)
    if app.json:
        echo_json(result)
        return
    line = f"ticket/{result['ticket']}: rated {result['rating']}"
    for c in result["changes"]:
        line += f"; contact/{c['contact']}: sentiment {c['from']} -> {c['to']}"
    if not result["changes"] and result["sentiment"]:
        line += f"; contact/{result['contact']} stays {result['sentiment']}"
    click.echo(line)


@crmkit_command(name="survey")
@click.option("--dry-run", is_flag=True, help="Say which tickets would get a survey; write nothing.")
@click.option("--since", metavar="DATE", default=None, help="Only tickets solved on or after DATE.")
@pass_app
def survey(app: App, dry_run: bool, since: str | None) -> None:
    """Render the `survey` email into the outbox for every solved ticket not yet surveyed or
    rated (send it with `crmkit mail send`). Contacts who opted out or declined surveys
    (consent.survey: false) are skipped. For cron: a second run renders nothing.
    """
    from crmkit.errors import UsageError
    from crmkit.support.satisfaction import plan_survey, run_survey

    ws = app.workspace()
    start = None
    if since:
        try:
            start = dt.datetime.combine(dt.date.fromisoformat(since), dt.time(0, 0), tzinfo=ws.tz)
        except ValueError:
            raise UsageError(f"--since {since!r}: expected a date YYYY-MM-DD") from None
    plan = plan_survey(ws, start)
    written = [] if dry_run else run_survey(ws, plan, app.command_line)
    if app.json:
        echo_json(plan.to_dict() | {"outbox": written, "dry_run": dry_run})
        return
    verb = "would survey" if dry_run else "survey"
    for ticket, contact in plan.send:
        click.echo(f"{verb} ticket/{ticket.id} -> {contact.get('email')}")
    for tid, why in plan.skipped:
        click.echo(f"skip ticket/{tid}: {why}")
    if not plan.send:
        click.echo("no solved ticket waits for a survey")


@crmkit_command(name="sentiment")
@click.argument("refs", nargs=-1, shell_complete=complete_record_id)
@click.option("--dry-run", is_flag=True, help="Show the changes that would be logged; write nothing.")
@pass_app
def sentiment(app: App, refs: tuple[str, ...], dry_run: bool) -> None:
    """Log each contact's sentiment changes (upset, neutral, satisfied, loyal) as events on the
    contact, with the signal and reason: breaches, reopened tickets, complaints, ratings,
    won deals and renewals. Without REFS, every contact. For cron: a second run logs nothing.
    """
    from crmkit.support.sentiment import log_journeys, plan_sync

    ws = app.workspace()
    contacts = [ws.get(r, "contact") for r in refs] if refs else ws.records("contact")
    changes = plan_sync(ws, contacts) if dry_run else log_journeys(ws, app.command_line, contacts)
    if app.json:
        echo_json({"dry_run": dry_run, "changes": [ch.event() | {"contact": cid} for cid, ch in changes]})
        return
    for cid, ch in changes:
        click.echo(f"contact/{cid}: {ch.at.astimezone(ws.tz):%Y-%m-%d %H:%M} {ch.from_state} -> {ch.to_state}"
                   f" ({ch.reason})")
    if not changes:
        click.echo("every sentiment change is already logged")
