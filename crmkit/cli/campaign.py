"""`crmkit campaign send` and `crmkit report campaign`."""

from __future__ import annotations

import click

from crmkit.cli.common import App, crmkit_command, echo_json, pass_app
from crmkit.cli.report import emit_report, opt_format, opt_output


@crmkit_command(name="send")
@click.argument("campaign")
@click.option("--dry-run", is_flag=True, help="Say who would get which variant, who not and why; write nothing.")
@pass_app
def send(app: App, campaign: str, dry_run: bool) -> None:
    """Render CAMPAIGN's variants for its segment into outbox/, one commit; `mail send` sends them.

    Each recipient gets the variant the documented split gives them (seeded by
    campaign and record id), the holdout gets nothing. Each message carries the
    campaign and variant (X-Crmkit-Campaign, X-Crmkit-Variant), and so does the
    email activity `mail send` logs. Consent is checked now and again at sending;
    nobody gets the campaign twice. A broken campaign (segment or template
    missing, shares not adding up to 100 %) is refused before anything is written.
    """
    from crmkit.marketing.campaigns import load, plan_send, write_send

    ws = app.workspace()
    camp = load(ws, campaign)
    plan = plan_send(ws, camp)
    report = dict(plan.to_dict(), dry_run=dry_run, written=[])
    count = sum(len(r) for r in plan.rendered.values())
    if not dry_run and not plan.failed and count:
        with ws.transaction(f"campaign {camp.id}: {count} message{'s' if count != 1 else ''} into the outbox",
                            app.command_line) as tx:
            report["written"] = write_send(ws, tx, plan)
            for vid, rendered in plan.rendered.items():
                tx.note(f"variant {vid}: {len(rendered)}")
            if plan.holdout:
                tx.note(f"holdout: {len(plan.holdout)}")
    if app.json:
        echo_json(report)
    else:
        verb = "would write" if dry_run or plan.failed else "wrote"
        for vid, rendered in plan.rendered.items():
            for r in rendered:
                click.echo(f"{verb} variant {vid} to {r.record.id} <{r.record.get('email')}>")
        for rid in plan.holdout:
            click.echo(f"holdout: {rid}")
    for s in plan.skipped:
        app.warn(f"left out {s.id}: {s.reason}")
    for f in plan.failed:
        app.warn(f"failed {f.id}: {f.error}")
    if plan.failed:
        from crmkit.errors import CrmkitError

        raise CrmkitError(f"{len(plan.failed)} recipient(s) failed to render; nothing was written")


@crmkit_command(name="campaign")
@click.argument("campaign")
@opt_format
@opt_output
@pass_app
def report(app: App, campaign: str, fmt: str | None, out: str | None) -> None:
    """A campaign's results per variant: sent, bounced, replied, leads, deals opened and won, value,
    cost per lead and return on budget; a note says a variant is better only when p < 0.05.

    Attribution is by the documented rule (README: Campaigns)."""
    from crmkit.reports.campaign import report_for

    emit_report(app, report_for(app.workspace(), campaign), fmt, out)
