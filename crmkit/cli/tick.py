"""`crmkit tick`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, dumps_json, pass_app
from crmkit.support.tick import plan_tick, run_tick


@crmkit_command(name="tick")
@click.option("--dry-run", is_flag=True, help="Say what would happen; change nothing.")
@click.option("--only-if-branch", metavar="BRANCH",
              help="Refuse (exit 1, nothing changed) unless on BRANCH (also team.router_branch in crmkit.yaml).")
@pass_app
def tick(app: App, dry_run: bool, only_if_branch: str | None) -> None:
    """Time-driven work for cron: SLA breaches, escalation rules, cadence follow-ups, reminder digests.

    Idempotent: a rule fires once per ticket (or again after its `repeat`), a breach
    is recorded once, a cadence follow-up is created once, each owner's reminder digest is
    written once a day, so running it every few minutes is safe. One commit per run.
    With --json, one JSON object per line for each thing done.
    """
    ws = app.workspace()
    if not dry_run:
        from crmkit.store.team import require_router

        require_router(ws, "tick", only_if_branch)
    plan = plan_tick(ws) if dry_run else run_tick(ws, app.command_line)
    lines = plan.to_lines()
    if app.json:
        if lines:
            click.echo(dumps_json(lines, lines=True))
        return
    verb = "would " if dry_run else ""
    for line in lines:
        if line["action"] == "breached":
            click.echo(f"{verb}record ticket/{line['ticket']}: {line['target']} breached")
        elif line["action"] == "follow-up":
            click.echo(f"{verb}create activity/{line['activity']}: follow-up {line['step']} of cadence "
                       f"{line['cadence']} for {line['record']}, due {line['due'][:10]}, owner {line['owner']}")
        elif line["action"] == "repeat":
            click.echo(f"{verb}create activity/{line['activity']}: next of series {line['series']}, "
                       f"due {line['due'][:10]}")
        elif line["action"] == "digest":
            click.echo(f"{verb}write {line['file']}: {line['overdue']} overdue, {line['today']} today")
        else:
            click.echo(f"{verb}escalate ticket/{line['ticket']}: rule {line['rule']} ({line['why']})")
    if not lines:
        click.echo("nothing to do", err=True)
