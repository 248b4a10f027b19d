"""`crmkit deal move ID STAGE`: move a deal through the pipeline."""

from __future__ import annotations

import datetime as dt

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.completion import complete_kind, complete_stage
from crmkit.errors import UsageError


@crmkit_command(name="move")
@click.argument("deal_id", metavar="ID", shell_complete=complete_kind("deal"))
@click.argument("stage", shell_complete=complete_stage)
@click.option("--reason", metavar="TEXT", default=None, help="Why (required for lost; kept in the stage history).")
@click.option("--close-date", "close_date", metavar="DATE", default=None,
              help="Close date for won or lost (default: today). Not in the future.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@pass_app
def move(app: App, deal_id: str, stage: str, reason: str | None, close_date: str | None, dry_run: bool) -> None:
    """Move deal ID to STAGE, appending to its stage history (stage, when, who).

    Won and lost set the close date and force the probability to 100 and 0; lost
    needs --reason. Moving a won or lost deal back to an open stage reopens it:
    the close date and lost reason go, the history keeps them. Moving a deal to
    the stage it is in changes nothing.

    \b
    Examples:
      crmkit deal move nordvik-erp-rollout proposal
      crmkit deal move nordvik-erp-rollout won --close-date 2026-11-20
      crmkit deal move acme-crm lost --reason "chose a competitor"
    """
    from crmkit.sales.moves import apply_move, plan_move
    from crmkit.sales.pipeline import PipelineConfig
    from crmkit.store import yamlio
    from crmkit.store.editing import actor

    ws = app.workspace()
    rec = ws.get(deal_id, "deal")
    cfg = PipelineConfig.from_config(ws.config, ws.tz)
    day = None
    if close_date is not None:
        try:
            day = dt.date.fromisoformat(close_date)
        except ValueError:
            raise UsageError(f"--close-date {close_date!r}: expected a date YYYY-MM-DD") from None
    now = app.now
    who = actor(ws)
    plan = plan_move(rec.id, rec.data, stage, cfg, now, by=who, reason=reason, close_date=day)
    if not plan.noop and not dry_run:
        target = cfg.stage(stage)
        verb = "won" if target.won else "lost" if target.lost else f"to {target.name}"
        message = f"crmkit: move deal/{rec.id} {verb}" if target.is_closed else f"crmkit: move deal/{rec.id} to {target.name}"
        with ws.transaction(message, app.command_line) as tx:
            def change(doc: object) -> None:
                # plan again on the file as it is now, under the lock
                nonlocal plan
                plan = plan_move(rec.id, yamlio.to_plain(doc), stage, cfg, now, by=who, reason=reason, close_date=day)
                apply_move(doc, plan)  # type: ignore[arg-type]

            tx.update("deal", rec.id, change)
            tx.note(f"{plan.from_stage or '(none)'} -> {plan.to_stage}")
            if reason:
                tx.note(f"Reason: {reason}")
            for n in plan.notes:
                tx.note(n)
    if app.json:
        echo_json({**plan.to_dict(), "changed": not plan.noop and not dry_run, "dry_run": dry_run})
        return
    if plan.noop:
        app.echo(f"deal/{rec.id} is already in {plan.to_stage}; nothing to do")
        return
    prefix = "would move" if dry_run else "moved"
    extra = ""
    if "closed" in plan.set:
        extra = f" (closed {plan.set['closed'].isoformat()})"
    app.echo(f"{prefix} deal/{rec.id}: {plan.from_stage or '(none)'} -> {plan.to_stage}{extra}")
    for n in plan.notes:
        app.echo(f"  {n}")
