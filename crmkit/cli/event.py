"""`crmkit event register|attend|leads`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app


def _person_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--company", metavar="NAME", help="A new person's company.")(f)
    f = click.option("--email", metavar="ADDRESS", help="A new person's email.")(f)
    return click.option("--name", metavar="NAME", help="A new person (not a contact or lead yet).")(f)


def _log(app: App, event_ref: str, who_ref: str | None, name: str | None, email: str | None,
         company: str | None, attended: bool) -> None:
    from crmkit.marketing.events import register, who

    ws = app.workspace()
    event = ws.get(event_ref, "event")
    person = who(ws, who_ref, name, email, company)
    label = who_ref or email
    outcome: list[str] = []
    with ws.transaction(f"event {event.id}: {'attended' if attended else 'registered'} {label}",
                        app.command_line) as tx:
        tx.update("event", event.id, lambda doc: outcome.append(register(doc, person, app.now, attended)))
    if app.json:
        echo_json({"event": event.id, "who": label, "result": outcome[0]})
    else:
        click.echo(f"event/{event.id}: {label} {outcome[0]}")


@crmkit_command(name="register")
@click.argument("event")
@click.argument("who", required=False)
@_person_options
@pass_app
def register(app: App, event: str, who: str | None, name: str | None, email: str | None,
             company: str | None) -> None:
    """Register WHO (a contact or lead id) for EVENT, or a new person with --name and --email."""
    _log(app, event, who, name, email, company, attended=False)


@crmkit_command(name="attend")
@click.argument("event")
@click.argument("who", required=False)
@_person_options
@pass_app
def attend(app: App, event: str, who: str | None, name: str | None, email: str | None,
           company: str | None) -> None:
    """Log that WHO (a contact or lead id, or --name and --email) attended EVENT (`--now` backdates).

    Someone who did not register is added as a walk-in."""
    _log(app, event, who, name, email, company, attended=True)


@crmkit_command(name="leads")
@click.argument("event")
@click.option("--dry-run", is_flag=True, help="Say which leads would be made; write nothing.")
@pass_app
def leads(app: App, event: str, dry_run: bool) -> None:
    """Make a lead of every attendee of EVENT who is not one yet: `source: event/ID`, status
    prospect, the event's owner; the lead's id is noted in the registration. One commit."""
    from crmkit.marketing.events import MADE_BEFORE, apply_leads, plan_leads

    ws = app.workspace()
    ev = ws.get(event, "event")
    new, left = plan_leads(ws, ev)
    made: list[str] = []
    if new and not dry_run:
        with ws.transaction(f"event {ev.id}: {len(new)} lead{'s' if len(new) != 1 else ''} from attendees",
                            app.command_line) as tx:
            made = apply_leads(ws, tx, ev, new)
    if app.json:
        echo_json({"event": ev.id, "dry_run": dry_run, "leads": made,
                   "planned": [n.data for n in new], "left": [{"who": w, "reason": r} for w, r in left]})
        return
    ids: list[str | None] = list(made) if made else [n.id for n in new]
    for n, lead_id in zip(new, ids):
        click.echo(f"{'would make' if dry_run else 'made'} lead{'/' + lead_id if lead_id else ''}: "
                   f"{n.data['name']} <{n.data.get('email', '')}>")
    problems = [(w, r) for w, r in left if not r.startswith(MADE_BEFORE)]  # made before: a rerun says nothing
    for w, r in problems:
        app.warn(f"left {w}: {r}")
    if not new and not problems:
        click.echo("no attendee left to make a lead of", err=True)
